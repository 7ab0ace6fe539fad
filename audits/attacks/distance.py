"""Distance to closest record (DCR): how near the nearest synthetic row is to the target.

A small distance is weak evidence of membership: a good synthesizer produces
rows near typical records whether or not they were in its input, and a large
distance does not show that nothing leaked (a mechanism can leak through a
marginal without ever copying a row). With a reference table the attack
compares the distance to the synthetic table with the distance to the
reference, which removes some of the "typical record" effect.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from audits._encoding import Encoder
from audits.attacks.base import BlackBoxAttack


def _nearest(point: np.ndarray, rows: np.ndarray) -> float:
    if len(rows) == 0:
        return float(np.sqrt(point.shape[0]))
    return float(np.sqrt(((rows - point) ** 2).sum(axis=1).min()))


class DistanceToClosestRecord(BlackBoxAttack):
    """Score = log((d_ref + c) / (d_syn + c)), or -d_syn without a reference.

    ``d_syn`` is the Euclidean distance from the target to the nearest synthetic
    row and ``d_ref`` to the nearest reference row, on the shared encoding
    (one-hot categories, numeric columns scaled to [0, 1]).

    Parameters
    ----------
    smoothing : float, default 0.1
        The constant ``c`` that keeps the ratio finite on exact copies.
    """

    name = "dcr"

    def __init__(self, smoothing: float = 0.1):
        self.smoothing = smoothing

    def features(
        self, target: pd.DataFrame, synthetic: pd.DataFrame, reference: pd.DataFrame | None
    ) -> dict[str, float]:
        frames = [target, synthetic] + ([reference] if reference is not None else [])
        encoder = Encoder(frames, list(target.columns))
        point = encoder.transform(target)[0]
        out = {"d_syn": _nearest(point, encoder.transform(synthetic))}
        out["d_ref"] = (
            _nearest(point, encoder.transform(reference))
            if reference is not None
            else float("nan")
        )
        return out

    def score_features(self, features: pd.DataFrame) -> np.ndarray:
        d_syn = features["d_syn"].to_numpy(dtype=float)
        d_ref = features["d_ref"].to_numpy(dtype=float)
        ratio = np.log((d_ref + self.smoothing) / (d_syn + self.smoothing))
        return np.where(np.isnan(d_ref), -d_syn, ratio)
