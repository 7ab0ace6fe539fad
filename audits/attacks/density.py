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
from audits.attacks.base import BlackBoxAttack
from audits.errors import parameter_error


def _log_density(point: np.ndarray, rows: np.ndarray, bandwidth: float) -> float:
    if len(rows) == 0:
        return float("-inf")
    model = KernelDensity(bandwidth=bandwidth).fit(rows)
    return float(model.score_samples(point[None, :])[0])


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

    def features(
        self, target: pd.DataFrame, synthetic: pd.DataFrame, reference: pd.DataFrame | None
    ) -> dict[str, float]:
        frames = [target, synthetic] + ([reference] if reference is not None else [])
        encoder = Encoder(frames, list(target.columns))
        point = encoder.transform(target)[0]
        log_syn = _log_density(point, encoder.transform(synthetic), self.bandwidth)
        log_ref = (
            _log_density(point, encoder.transform(reference), self.bandwidth)
            if reference is not None
            else 0.0
        )
        # Floors keep empty or far-away tables comparable instead of -inf.
        return {"log_syn": max(log_syn, -1e6), "log_ref": max(log_ref, -1e6)}

    def score_features(self, features: pd.DataFrame) -> np.ndarray:
        return features["log_syn"].to_numpy(dtype=float) - features["log_ref"].to_numpy(dtype=float)
