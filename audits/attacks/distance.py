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
from audits.attacks.base import BlackBoxAttack, check_target_columns


def _nearest(points: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Distance from each point to its nearest row, in blocks of a few million numbers."""
    if len(rows) == 0:
        return np.full(len(points), np.sqrt(points.shape[1]))
    step = max(1, 2**22 // max(rows.size, 1))
    nearest = np.empty(len(points))
    for start in range(0, len(points), step):
        block = points[start : start + step]
        nearest[start : start + step] = ((block[:, None, :] - rows[None, :, :]) ** 2).sum(axis=2).min(axis=1)
    return np.sqrt(nearest)


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

    def distances(
        self, targets: pd.DataFrame, synthetic: pd.DataFrame, reference: pd.DataFrame | None
    ) -> dict[str, np.ndarray]:
        """Distances of every target row on one encoding shared by all of them.

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
            ``d_syn`` and ``d_ref`` (NaN without a reference), one entry per target.
        """
        frames = [targets, synthetic] + ([reference] if reference is not None else [])
        encoder = Encoder(frames, list(targets.columns))
        points = encoder.transform(targets)
        d_ref = (
            _nearest(points, encoder.transform(reference))
            if reference is not None
            else np.full(len(points), np.nan)
        )
        return {"d_syn": _nearest(points, encoder.transform(synthetic)), "d_ref": d_ref}

    def features(
        self, target: pd.DataFrame, synthetic: pd.DataFrame, reference: pd.DataFrame | None
    ) -> dict[str, float]:
        return {k: float(v[0]) for k, v in self.distances(target, synthetic, reference).items()}

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
        return self.score_features(pd.DataFrame(self.distances(target_rows, synthetic_df, reference_df)))

    def score_features(self, features: pd.DataFrame) -> np.ndarray:
        d_syn = features["d_syn"].to_numpy(dtype=float)
        d_ref = features["d_ref"].to_numpy(dtype=float)
        ratio = np.log((d_ref + self.smoothing) / (d_syn + self.smoothing))
        return np.where(np.isnan(d_ref), -d_syn, ratio)
