"""Turn mixed tables into numeric matrices on which distances mean something.

Categorical columns are one-hot coded over the union of the categories seen in
every table given (each mismatch then counts sqrt(2) in Euclidean distance);
numeric columns are scaled to [0, 1] by the range over those tables, with a
missing-value indicator. The encoder is fitted on everything an attack looks at
together, so the target, the synthetic table and the reference share one space.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


def is_numeric(column: pd.Series | np.dtype) -> bool:
    """Whether a column (or dtype) is treated as numeric (booleans are categories)."""
    return pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)


def as_category_strings(column: pd.Series | np.ndarray) -> np.ndarray:
    """Values of a categorical column as a numpy string array, missing values as '<NA>'."""
    values = column.to_numpy(dtype=object) if isinstance(column, pd.Series) else column
    missing = pd.isna(values)
    if missing.any():
        values = values.copy()
        values[missing] = "<NA>"
    return values.astype(str)


def _columns(frame: pd.DataFrame, columns: Sequence[str]) -> np.ndarray:
    """The columns of a table as one object matrix (column access is cheap, row takes are not)."""
    if not len(columns):
        return np.empty((len(frame), 0), dtype=object)
    # Numbers as floats, missing as NaN: a nullable column (Int64, Float64) holds pd.NA.
    return np.column_stack([
        frame[c].to_numpy(dtype=float, na_value=np.nan).astype(object) if is_numeric(frame[c])
        else frame[c].to_numpy(dtype=object)
        for c in columns
    ])


class Encoder:
    """One-hot and range scaling shared by every table of one comparison.

    Parameters
    ----------
    frames : sequence of pandas.DataFrame
        Tables with the same columns; the encoding covers all of their values.
    columns : sequence of str
        Columns to encode, in order.
    """

    def __init__(self, frames: Sequence[pd.DataFrame], columns: Sequence[str]):
        self.columns = list(columns)
        dtypes = [f.dtypes for f in frames if len(f)]
        self._numeric = [
            all(is_numeric(d[c]) for d in dtypes) for c in self.columns
        ]
        matrices = [_columns(f, self.columns) for f in frames if len(f)]
        self._categories: dict[int, np.ndarray] = {}
        self._ranges: dict[int, tuple[float, float]] = {}
        for j, numeric in enumerate(self._numeric):
            if numeric:
                values = np.concatenate([m[:, j].astype(float) for m in matrices])
                finite = values[~np.isnan(values)]
                self._ranges[j] = (float(finite.min()), float(finite.max())) if len(finite) else (0.0, 0.0)
            else:
                self._categories[j] = np.unique(np.concatenate([as_category_strings(m[:, j]) for m in matrices]))

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        """Encode a table.

        Parameters
        ----------
        frame : pandas.DataFrame
            A table with the encoder's columns.

        Returns
        -------
        numpy.ndarray
            Float matrix, one row per row of ``frame``.
        """
        matrix = _columns(frame, self.columns)
        blocks = []
        for j, numeric in enumerate(self._numeric):
            if numeric:
                low, high = self._ranges[j]
                values = matrix[:, j].astype(float)
                missing = np.isnan(values)
                span = high - low if high > low else 1.0
                blocks.append(np.where(missing, 0.0, (values - low) / span)[:, None])
                blocks.append(missing.astype(float)[:, None])
            else:
                strings = as_category_strings(matrix[:, j])
                blocks.append((strings[:, None] == self._categories[j][None, :]).astype(float))
        if not blocks:
            return np.zeros((len(frame), 0))
        return np.hstack(blocks)
