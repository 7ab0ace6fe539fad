"""Attribute inference: the attacker knows some columns of a record and guesses a secret one.

Two attacks guess the secret from the known columns:

- ``"nearest"``: the synthetic records closest to the target on the known
  columns (Gower-like distance; all records tied at the smallest distance, up
  to ``max_matches``) vote: the secret they hold most often (categorical) or
  their median (numeric);
- ``"model"``: a random forest (scikit-learn's ``RandomForestClassifier`` /
  ``RandomForestRegressor``, 100 trees) trained on the synthetic table to
  predict the secret from the known columns.

A numeric guess counts as right within ``tolerance`` of the truth,
``tolerance`` being a fraction of the secret's range in the synthetic table.

The correct attribution probability (CAP, Taub et al. 2018) of a target is the
share of those closest synthetic records whose secret is right for it: the
probability that an attacker who picks one of them at random attributes the
right value.

The same attack on holdout records is the control: what anyone learns about
the population from the release. The naive baseline guesses, for every target,
the one value that is right for the most synthetic records.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

from audits.disclosure.encoding import Encoded, GowerEncoder, category_labels, numeric_values
from audits.disclosure.neighbours import nearest
from audits.disclosure.stats import RiskEstimate


@dataclass(frozen=True)
class AttributeInferenceResult:
    """Attribute inference of one secret column.

    Attributes
    ----------
    secret : str
        The guessed column.
    method : {"nearest", "model"}
        How the attacker guesses.
    known : tuple of str
        The columns the attacker knows.
    tolerance : float or None
        Absolute tolerance for a numeric secret; None for a categorical one.
    estimate : RiskEstimate
        Attack on training records, control on holdout records, naive baseline.
    cap_train, cap_control : tuple of float
        Correct attribution probability of each training and holdout target.
    """

    secret: str
    method: str
    known: tuple[str, ...]
    tolerance: float | None
    estimate: RiskEstimate
    cap_train: tuple[float, ...]
    cap_control: tuple[float, ...]

    @property
    def mean_cap_train(self) -> float:
        """Mean correct attribution probability over training targets."""
        return float(np.mean(self.cap_train))

    @property
    def mean_cap_control(self) -> float:
        """Mean correct attribution probability over holdout targets."""
        return float(np.mean(self.cap_control))

    def to_dict(self) -> dict:
        """JSON-ready dictionary."""
        return {
            "secret": self.secret,
            "method": self.method,
            "known": list(self.known),
            "tolerance": self.tolerance,
            "estimate": self.estimate.to_dict(),
            "mean_cap_train": self.mean_cap_train,
            "mean_cap_control": self.mean_cap_control,
            "cap_train": list(self.cap_train),
            "cap_control": list(self.cap_control),
        }


class _Judge:
    """Decides whether guessed secret values are right, for one secret column."""

    def __init__(self, synthetic: pd.Series, numeric: bool, relative_tolerance: float):
        self.numeric = numeric
        if numeric:
            values = numeric_values(synthetic)
            present = values[~np.isnan(values)]
            spread = float(present.max() - present.min()) if present.size else 0.0
            self.tolerance: float | None = relative_tolerance * spread
        else:
            self.tolerance = None

    def values(self, column: pd.Series) -> np.ndarray:
        return numeric_values(column) if self.numeric else category_labels(column)

    def right(self, guess: np.ndarray, truth: np.ndarray) -> np.ndarray:
        """Elementwise; ``truth`` broadcasts against ``guess``. Missing is right only for missing."""
        if not self.numeric:
            return guess == truth
        both_missing = np.isnan(guess) & np.isnan(truth)
        with np.errstate(invalid="ignore"):
            close = np.abs(guess - truth) <= self.tolerance
        return both_missing | close

    def best_constant(self, synthetic: np.ndarray) -> object:
        """The single guess that is right for the most synthetic records."""
        if not self.numeric:
            labels, counts = np.unique(synthetic.astype(str), return_counts=True)
            return labels[int(np.argmax(counts))]
        present = np.sort(synthetic[~np.isnan(synthetic)])
        missing = int(len(synthetic) - len(present))
        if present.size == 0:
            return np.nan
        # A guess g is right for values in [g - tol, g + tol]: slide a window of width 2 tol.
        ends = np.searchsorted(present, present + 2.0 * self.tolerance, side="right")
        start = int(np.argmax(ends - np.arange(len(present))))
        covered = int(ends[start] - start)
        if missing > covered:
            return np.nan
        return float(present[start] + self.tolerance)

    def consensus(self, neighbours: np.ndarray, tied: np.ndarray) -> np.ndarray:
        """Per row, the guess from the tied closest records (mode, or median for numbers)."""
        rows = len(neighbours)
        if self.numeric:
            values = np.where(tied, neighbours, np.nan)
            present = (~np.isnan(values)).sum(axis=1)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # all-missing rows: NaN, as wanted
                median = np.nanmedian(values, axis=1)
            # Guess "missing" when most of the tied records lack the value.
            return np.where(2 * present > tied.sum(axis=1), median, np.nan)
        codes, uniques = pd.factorize(neighbours.ravel())
        codes = codes.reshape(neighbours.shape)
        counts = np.zeros((rows, len(uniques)))
        np.add.at(counts, (np.repeat(np.arange(rows), codes.shape[1]), codes.ravel()), tied.ravel())
        return np.asarray(uniques, dtype=object)[np.argmax(counts, axis=1)]


def _fit_model(synthetic: Encoded, secrets: np.ndarray, judge: _Judge, random_state: int):
    """Train a tree model on the synthetic table; return a function from encoded rows to guesses."""
    # Category codes enter as ordered numbers: deep trees still isolate single codes.
    features = np.hstack([synthetic.numeric, synthetic.codes])
    if judge.numeric:
        known = ~np.isnan(secrets)
        if not known.any():
            return lambda rows: np.full(len(rows), np.nan)
        model = RandomForestRegressor(random_state=random_state)
        model.fit(features[known], secrets[known])
    else:
        labels = secrets.astype(str)
        if len(np.unique(labels)) == 1:
            return lambda rows: np.full(len(rows), labels[0], dtype=object)
        model = RandomForestClassifier(random_state=random_state)
        model.fit(features, labels)
    return lambda rows: model.predict(np.hstack([rows.numeric, rows.codes])).astype(secrets.dtype)


def attribute_inference(
    train_targets: pd.DataFrame,
    control_targets: pd.DataFrame,
    synthetic: pd.DataFrame,
    *,
    secret: str,
    known: Sequence[str],
    numeric: Sequence[str],
    relative_tolerance: float,
    confidence: float,
    ci_method: str,
    method: str = "nearest",
    random_state: int = 0,
    max_matches: int = 32,
) -> AttributeInferenceResult:
    """Run the attribute attack on training and holdout targets.

    Parameters
    ----------
    train_targets, control_targets : pandas.DataFrame
        Training records attacked, and holdout records attacked as the control.
    synthetic : pandas.DataFrame
        The release.
    secret : str
        Column to guess.
    known : sequence of str
        Columns the attacker knows (not containing ``secret``), at least one.
    numeric : sequence of str
        Columns treated as numeric.
    relative_tolerance : float
        Numeric guesses within ``relative_tolerance`` times the secret's synthetic range count as right.
    confidence : float
        Confidence of the risk interval.
    ci_method : {"exact", "wilson"}
        Binomial interval.
    method : {"nearest", "model"}, default "nearest"
        The attack (see the module docstring). The CAP always comes from the
        closest synthetic records.
    random_state : int, default 0
        Seed of the model.
    max_matches : int, default 32
        Most tied closest records looked at per target.

    Returns
    -------
    AttributeInferenceResult
    """
    judge = _Judge(synthetic[secret], secret in numeric, relative_tolerance)
    encoder = GowerEncoder(synthetic, known, numeric)
    k = min(max_matches, len(synthetic))
    encoded_synthetic = encoder.transform(synthetic)
    secrets = judge.values(synthetic[secret])

    model = (
        _fit_model(encoded_synthetic, secrets, judge, random_state) if method == "model" else None
    )

    def attack(targets: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        encoded = encoder.transform(targets)
        distances, rows = nearest(encoded, encoded_synthetic, k)
        # Ties up to rounding in the summed distances.
        tied = distances <= distances[:, :1] + 1e-9 * np.maximum(1.0, distances[:, :1])
        neighbours = secrets[rows]
        truth = judge.values(targets[secret])[:, None]
        cap = (judge.right(neighbours, truth) & tied).sum(axis=1) / tied.sum(axis=1)
        guess = judge.consensus(neighbours, tied) if model is None else model(encoded)
        return judge.right(guess, truth[:, 0]), cap

    success_train, cap_train = attack(train_targets)
    success_control, cap_control = attack(control_targets)
    constant = judge.best_constant(secrets)
    truth_train = judge.values(train_targets[secret])
    baseline = judge.right(
        np.full(len(truth_train), constant, dtype=truth_train.dtype), truth_train
    )
    estimate = RiskEstimate.from_counts(
        int(success_train.sum()),
        int(success_control.sum()),
        int(baseline.sum()),
        trials=len(train_targets),
        control_trials=len(control_targets),
        baseline_trials=len(train_targets),
        confidence=confidence,
        ci_method=ci_method,
    )
    return AttributeInferenceResult(
        secret=secret,
        method=method,
        known=tuple(known),
        tolerance=judge.tolerance,
        estimate=estimate,
        cap_train=tuple(float(c) for c in cap_train),
        cap_control=tuple(float(c) for c in cap_control),
    )
