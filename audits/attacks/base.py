"""What every membership attack offers.

An attack works in two steps so that a game keeps what it needs and no more:
``features`` turns one output of the mechanism into a few named numbers (done
once per run, in the worker that ran the mechanism), and ``score_features``
turns those numbers into a membership score (higher means "the target was in
the input"). The game stores the features of every run, so an attack can be
scored again, or a trainable one trained, without running the mechanism again.

On plain tables, ``score(target_rows, synthetic_df, reference_df)`` does both
steps for each target row.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

import numpy as np
import pandas as pd

from audits.errors import parameter_error


def check_target_columns(target_rows: pd.DataFrame, other: pd.DataFrame, name: str) -> None:
    """Raise when ``other`` lacks a column of the targets."""
    missing = [c for c in target_rows.columns if c not in other.columns]
    if missing:
        raise parameter_error(
            f"{name} columns", missing, "present: give a table with every column of the target rows"
        )


class Attack(ABC):
    """Base of black-box and white-box attacks.

    Attributes
    ----------
    name : str
        Short identifier; prefixes this attack's features in a game's table.
    """

    name: str = "attack"

    def fit_validation(self, features: pd.DataFrame, labels: np.ndarray) -> np.ndarray:
        """Fit on validation runs and return honest validation scores.

        Fixed attacks have nothing to fit and return their scores; trainable
        attacks override this to return out-of-fold scores, so that the
        threshold chosen on them is not chosen on the fitted data.

        Parameters
        ----------
        features : pandas.DataFrame
            This attack's features, one row per validation run.
        labels : numpy.ndarray
            1 for runs with the canary, 0 without.

        Returns
        -------
        numpy.ndarray
            One score per validation run.
        """
        return self.score_features(features)

    @abstractmethod
    def score_features(self, features: pd.DataFrame) -> np.ndarray:
        """Membership scores from features, one per row (higher: more likely a member)."""


class BlackBoxAttack(Attack):
    """An attack that sees only the synthetic table (and, optionally, a reference)."""

    @abstractmethod
    def features(
        self, target: pd.DataFrame, synthetic: pd.DataFrame, reference: pd.DataFrame | None
    ) -> dict[str, float]:
        """Named numbers from one synthetic table about one target row.

        Parameters
        ----------
        target : pandas.DataFrame
            One row: the record whose membership is in question.
        synthetic : pandas.DataFrame
            The mechanism's output.
        reference : pandas.DataFrame or None
            Data the attacker knows (in a game: the dataset without the canary).

        Returns
        -------
        dict of str to float
            The same keys for every call.
        """

    def score(
        self,
        target_rows: pd.DataFrame,
        synthetic_df: pd.DataFrame,
        reference_df: pd.DataFrame | None = None,
    ) -> np.ndarray:
        """Membership score of each target row against one synthetic table.

        Parameters
        ----------
        target_rows : pandas.DataFrame
            Records whose membership is in question.
        synthetic_df : pandas.DataFrame
            The released synthetic table.
        reference_df : pandas.DataFrame, optional
            Data from the same population that the attacker holds.

        Returns
        -------
        numpy.ndarray
            One score per target row; higher means more likely a member.
        """
        check_target_columns(target_rows, synthetic_df, "synthetic_df")
        if reference_df is not None:
            check_target_columns(target_rows, reference_df, "reference_df")
        rows = [
            self.features(target_rows.iloc[[i]], synthetic_df, reference_df)
            for i in range(len(target_rows))
        ]
        return np.asarray(self.score_features(pd.DataFrame(rows)), dtype=float)


class WhiteBoxAttack(Attack):
    """An attack that sees the fitted model's noisy measurements."""

    @abstractmethod
    def features(
        self, target: pd.DataFrame, measurements: Sequence, reference: pd.DataFrame | None
    ) -> dict[str, float]:
        """Named numbers from one run's noisy measurements about one target row."""

    def score(
        self,
        target_rows: pd.DataFrame,
        measurements: Sequence,
        reference_df: pd.DataFrame | None = None,
    ) -> np.ndarray:
        """Membership score of each target row against one fitted model's measurements.

        Parameters
        ----------
        target_rows : pandas.DataFrame
            Records whose membership is in question.
        measurements : sequence of NoisyMarginal
            The model's noisy marginal tables.
        reference_df : pandas.DataFrame, optional
            Data the attacker knows; its counts are the expected cell values
            without the target.

        Returns
        -------
        numpy.ndarray
            One score per target row.
        """
        rows = [
            self.features(target_rows.iloc[[i]], measurements, reference_df)
            for i in range(len(target_rows))
        ]
        return np.asarray(self.score_features(pd.DataFrame(rows)), dtype=float)
