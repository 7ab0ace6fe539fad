"""Encoding of mixed tables for a Gower-like distance, fitted on the synthetic table only.

The release-risk attacker sees the synthetic table and the records they target,
so every scale and category list here comes from the synthetic table. The
distance between two rows is a sum over columns, each contributing a number in
[0, 1] (more for numeric values outside the synthetic range):

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
class Encoded:
    """Rows of a table ready for :func:`audits.disclosure.neighbours.gower_distances`.

    Attributes
    ----------
    numeric : numpy.ndarray
        ``(n, 2 q)`` floats: each numeric column scaled by its synthetic range,
        then its missing indicator.
    codes : numpy.ndarray
        ``(n, r)`` category codes (as floats), one column per categorical column.
    """

    numeric: np.ndarray
    codes: np.ndarray

    def __len__(self) -> int:
        return len(self.numeric)

    def take(self, rows: np.ndarray) -> Encoded:
        """The given rows, in the given order."""
        return Encoded(self.numeric[rows], self.codes[rows])

    @staticmethod
    def concat(parts: Sequence[Encoded]) -> Encoded:
        """Rows of ``parts`` one after the other."""
        return Encoded(np.vstack([p.numeric for p in parts]), np.vstack([p.codes for p in parts]))


@dataclass(frozen=True)
class _NumericColumn:
    low: float
    span: float
    fill: float


class GowerEncoder:
    """Encode rows for the Gower-like distance described in the module docstring.

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
        self._codes: dict[str, dict[str, int]] = {}
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
                labels = pd.unique(category_labels(synthetic[col]))
                self._codes[col] = {label: i for i, label in enumerate(labels)}

    def _code(self, col: str, labels: np.ndarray) -> np.ndarray:
        codes = self._codes[col]
        unseen = [label for label in pd.unique(labels) if label not in codes]
        # Labels absent from the synthetic table get new codes, kept for later calls, so that
        # they differ from every synthetic label and equal labels of other real records agree.
        codes.update({label: len(codes) + i for i, label in enumerate(unseen)})
        return pd.Series(labels, dtype=object).map(codes).to_numpy(dtype=float)

    def transform(self, frame: pd.DataFrame) -> Encoded:
        """Encode a table.

        Parameters
        ----------
        frame : pandas.DataFrame
            A table with the encoder's columns.

        Returns
        -------
        Encoded
            One row per row of ``frame``.
        """
        numeric, codes = [], []
        for col in self.columns:
            if col in self._numeric:
                spec = self._numeric[col]
                values = numeric_values(frame[col])
                missing = np.isnan(values)
                numeric += [(np.where(missing, spec.fill, values) - spec.low) / spec.span, missing]
            else:
                codes.append(self._code(col, category_labels(frame[col])))
        n = len(frame)
        return Encoded(
            np.column_stack(numeric).astype(float) if numeric else np.zeros((n, 0)),
            np.column_stack(codes) if codes else np.zeros((n, 0)),
        )
