"""Gower-like numeric encoding of mixed tables, fitted on the synthetic table only.

The release-risk attacker sees the synthetic table and the records they target,
so every scale and category list here comes from the synthetic table. With the
encoding below the Manhattan (L1) distance between two rows is a Gower-like
distance: each column contributes a number in [0, 1] (more for numeric values
outside the synthetic range):

- numeric: ``|x - y| / range``, with ``range`` taken over the synthetic
  values, plus 1 when exactly one of the two values is missing;
- categorical: 1 when the values differ, 0 when they are equal. Missing is a
  category of its own, and a value absent from the synthetic table differs from
  every synthetic value.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

#: Label of a missing categorical value; never equal to a real label.
MISSING = "\x00<missing>"


def is_numeric(column: pd.Series) -> bool:
    """Whether a column is treated as numeric (booleans are categories)."""
    return pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)


def category_labels(column: pd.Series) -> np.ndarray:
    """Values of a categorical column as strings, missing values as :data:`MISSING`.

    Parameters
    ----------
    column : pandas.Series
        Any column.

    Returns
    -------
    numpy.ndarray
        Object array of str.
    """
    missing = column.isna().to_numpy()
    labels = column.astype(object).to_numpy().astype(str).astype(object)
    labels[missing] = MISSING
    return labels


def numeric_values(column: pd.Series) -> np.ndarray:
    """Values of a numeric column as float64, missing values as NaN."""
    return column.astype("float64").to_numpy(dtype=float, na_value=np.nan)


@dataclass(frozen=True)
class _NumericColumn:
    low: float
    span: float
    fill: float


class GowerEncoder:
    """Encode rows so that L1 distance is a Gower-like distance (see module docstring).

    Parameters
    ----------
    synthetic : pandas.DataFrame
        The table the scales and category lists come from.
    columns : sequence of str
        Columns to encode, in order.
    numeric : collection of str
        Which of ``columns`` are numeric; the others are categorical.
    """

    def __init__(self, synthetic: pd.DataFrame, columns: Sequence[str], numeric: Sequence[str]):
        self.columns = list(columns)
        self._numeric: dict[str, _NumericColumn] = {}
        self._categories: dict[str, pd.Index] = {}
        numeric = set(numeric)
        for col in self.columns:
            if col in numeric:
                values = numeric_values(synthetic[col])
                present = values[~np.isnan(values)]
                if present.size:
                    low, high = float(present.min()), float(present.max())
                    fill = float(np.median(present))
                else:
                    low, high, fill = 0.0, 0.0, 0.0
                # A constant column still needs a unit; 1 keeps distances in raw units.
                self._numeric[col] = _NumericColumn(low, high - low if high > low else 1.0, fill)
            else:
                self._categories[col] = pd.Index(pd.unique(category_labels(synthetic[col])))

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        """Encode a table.

        Parameters
        ----------
        frame : pandas.DataFrame
            A table with the encoder's columns.

        Returns
        -------
        numpy.ndarray
            Float matrix with one row per row of ``frame``.
        """
        blocks = []
        for col in self.columns:
            if col in self._numeric:
                spec = self._numeric[col]
                values = numeric_values(frame[col])
                missing = np.isnan(values)
                scaled = (np.where(missing, spec.fill, values) - spec.low) / spec.span
                blocks += [scaled[:, None], missing.astype(float)[:, None]]
            else:
                labels = self._categories[col]
                codes = labels.get_indexer(category_labels(frame[col]))
                # Unseen labels get the extra last slot, so they differ from every synthetic label.
                codes[codes < 0] = len(labels)
                onehot = np.zeros((len(frame), len(labels) + 1))
                onehot[np.arange(len(frame)), codes] = 0.5
                blocks.append(onehot)
        if not blocks:
            return np.zeros((len(frame), 0))
        return np.hstack(blocks)
