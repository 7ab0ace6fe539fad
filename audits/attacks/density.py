"""Density ratio attack in the manner of DOMIAS (van Breugel et al., 2023).

A mechanism that overfits its input puts more synthetic density at the
records it saw than the population does there. The score is the log of the
synthetic density at the target over the reference density at the target;
dividing by the reference density discounts records that are merely typical.
Densities are Gaussian kernel estimates (scikit-learn) on the shared encoding.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.neighbors import KernelDensity

from audits._encoding import Encoder
from audits.attacks.base import BlackBoxAttack, check_target_columns
from audits.errors import parameter_error


def _log_density(points: np.ndarray, rows: np.ndarray, bandwidth: float) -> np.ndarray:
    if len(rows) == 0:
        return np.full(len(points), -np.inf)
    return KernelDensity(bandwidth=bandwidth).fit(rows).score_samples(points)


class DensityRatio(BlackBoxAttack):
    """Score = log p_synthetic(target) - log p_reference(target).

    Without a reference the score is ``log p_synthetic(target)`` alone.

    Parameters
    ----------
    bandwidth : float, default 0.3
        Kernel width on the encoding (a category mismatch is at distance
        sqrt(2), numeric columns span [0, 1]).
    """

    name = "density_ratio"

    def __init__(self, bandwidth: float = 0.3):
        if not bandwidth > 0:
            raise parameter_error("bandwidth", bandwidth, "positive")
        self.bandwidth = bandwidth

    def log_densities(
        self, targets: pd.DataFrame, synthetic: pd.DataFrame, reference: pd.DataFrame | None
    ) -> dict[str, np.ndarray]:
        """Log densities at every target row, on one encoding shared by all of them.

        Parameters
        ----------
        targets : pandas.DataFrame
            Records to score.
        synthetic : pandas.DataFrame
            The synthetic table.
        reference : pandas.DataFrame or None
            Data the attacker holds.

        Returns
        -------
        dict of str to numpy.ndarray
            ``log_syn`` and ``log_ref`` (0 without a reference), one entry per target.
        """
        frames = [targets, synthetic] + ([reference] if reference is not None else [])
        encoder = Encoder(frames, list(targets.columns))
        points = encoder.transform(targets)
        log_syn = _log_density(points, encoder.transform(synthetic), self.bandwidth)
        log_ref = (
            _log_density(points, encoder.transform(reference), self.bandwidth)
            if reference is not None
            else np.zeros(len(points))
        )
        # Floors keep empty or far-away tables comparable instead of -inf.
        return {"log_syn": np.maximum(log_syn, -1e6), "log_ref": np.maximum(log_ref, -1e6)}

    def features(
        self, target: pd.DataFrame, synthetic: pd.DataFrame, reference: pd.DataFrame | None
    ) -> dict[str, float]:
        return {k: float(v[0]) for k, v in self.log_densities(target, synthetic, reference).items()}

    def score(
        self,
        target_rows: pd.DataFrame,
        synthetic_df: pd.DataFrame,
        reference_df: pd.DataFrame | None = None,
    ) -> np.ndarray:
        """Scores of all target rows at once, on one encoding (so they can be ranked together)."""
        check_target_columns(target_rows, synthetic_df, "synthetic_df")
        if reference_df is not None:
            check_target_columns(target_rows, reference_df, "reference_df")
        return self.score_features(pd.DataFrame(self.log_densities(target_rows, synthetic_df, reference_df)))

    def score_features(self, features: pd.DataFrame) -> np.ndarray:
        return features["log_syn"].to_numpy(dtype=float) - features["log_ref"].to_numpy(dtype=float)
