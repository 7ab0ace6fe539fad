"""Query-based black-box attacks: count the synthetic rows that look like the target.

A mechanism that fits the target's values (its marginals, its exact record)
tends to produce more rows that match it, exactly or on some columns, when the
target was in the input. These attacks ask those counting queries of the
synthetic table. A third one, :class:`RowCount`, asks only how many rows were
released, which catches an output size copied from the input.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from audits._encoding import as_category_strings, is_numeric
from audits.attacks.base import BlackBoxAttack
from audits.errors import parameter_error


def column_matches(
    target: pd.DataFrame,
    synthetic: pd.DataFrame,
    reference: pd.DataFrame | None,
    tolerance: float,
) -> np.ndarray:
    """Which synthetic cells equal the target's, column by column.

    Parameters
    ----------
    target : pandas.DataFrame
        One row.
    synthetic : pandas.DataFrame
        Table to compare with.
    reference : pandas.DataFrame or None
        Widens the range used to scale the numeric tolerance.
    tolerance : float
        Numeric values match when within ``tolerance`` times the column's range.

    Returns
    -------
    numpy.ndarray
        Boolean matrix, synthetic rows by target columns.
    """
    out = np.zeros((len(synthetic), target.shape[1]), dtype=bool)
    for j, col in enumerate(target.columns):
        value, column = target[col].iloc[0], synthetic[col]
        if is_numeric(column) and is_numeric(target[col]):
            parts = [synthetic[col], target[col]] + ([reference[col]] if reference is not None else [])
            pooled = np.concatenate([p.to_numpy(dtype=float) for p in parts])
            span = float(np.nanmax(pooled) - np.nanmin(pooled)) if np.isfinite(pooled).any() else 0.0
            values = column.to_numpy(dtype=float)
            if pd.isna(value):
                out[:, j] = np.isnan(values)
            else:
                out[:, j] = np.abs(values - float(value)) <= tolerance * span
        else:
            out[:, j] = as_category_strings(column) == as_category_strings(target[col])[0]
    return out


def _check_tolerance(tolerance: float) -> None:
    if not 0.0 <= tolerance < 1.0:
        raise parameter_error("tolerance", tolerance, "in [0, 1): a share of each numeric column's range")


class ExactMatch(BlackBoxAttack):
    """Share of synthetic rows equal to the target on every column.

    Parameters
    ----------
    tolerance : float, default 0.0
        Numeric values within this share of the column's range count as equal.
    """

    name = "exact_match"

    def __init__(self, tolerance: float = 0.0):
        _check_tolerance(tolerance)
        self.tolerance = tolerance

    def features(
        self, target: pd.DataFrame, synthetic: pd.DataFrame, reference: pd.DataFrame | None
    ) -> dict[str, float]:
        matches = column_matches(target, synthetic, reference, self.tolerance)
        return {
            "count": float(matches.all(axis=1).sum()),
            "rows": float(len(synthetic)),
        }

    def score_features(self, features: pd.DataFrame) -> np.ndarray:
        rows = features["rows"].to_numpy(dtype=float)
        return np.divide(features["count"].to_numpy(dtype=float), rows, out=np.zeros(len(rows)), where=rows > 0)


class PartialMatch(BlackBoxAttack):
    """Mean over columns of the share of synthetic rows that match the target there.

    Each column's share is kept as a feature (``share[col]``), so other scoring
    rules (a shadow model, a single column) can reuse a game's runs.

    Parameters
    ----------
    tolerance : float, default 0.05
        Numeric values within this share of the column's range count as equal.
    """

    name = "partial_match"

    def __init__(self, tolerance: float = 0.05):
        _check_tolerance(tolerance)
        self.tolerance = tolerance

    def features(
        self, target: pd.DataFrame, synthetic: pd.DataFrame, reference: pd.DataFrame | None
    ) -> dict[str, float]:
        matches = column_matches(target, synthetic, reference, self.tolerance)
        shares = matches.mean(axis=0) if len(synthetic) else np.zeros(target.shape[1])
        out = {f"share[{col}]": float(s) for col, s in zip(target.columns, shares, strict=True)}
        near = (matches.sum(axis=1) >= target.shape[1] - 1).mean() if len(synthetic) else 0.0
        out["near_share"] = float(near)
        return out

    def score_features(self, features: pd.DataFrame) -> np.ndarray:
        shares = features[[c for c in features.columns if c.startswith("share[")]]
        return shares.to_numpy(dtype=float).mean(axis=1)


class RowCount(BlackBoxAttack):
    """Number of synthetic rows: one more input row should not change it."""

    name = "row_count"

    def features(
        self, target: pd.DataFrame, synthetic: pd.DataFrame, reference: pd.DataFrame | None
    ) -> dict[str, float]:
        return {"rows": float(len(synthetic))}

    def score_features(self, features: pd.DataFrame) -> np.ndarray:
        return features["rows"].to_numpy(dtype=float)
