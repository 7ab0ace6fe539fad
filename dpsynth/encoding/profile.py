"""The per-column aggregates DP discovery needs, and the profiler of an in-memory table.

DP discovery (:mod:`dpsynth.encoding.discovery`) never needs raw rows:

* a categorical column's thresholded histogram needs the number of rows of
  each distinct value, keyed as the encoder matches values
  (:func:`~dpsynth.schema.category_key`);
* a DP quantile over a public grid of candidates ``c_0 < ... < c_{k-1}``
  scores each candidate by how many values lie below and above it, so the
  counts of the ``2k + 1`` regions
  ``x < c_0, x = c_0, c_0 < x < c_1, x = c_1, ..., x = c_{k-1}, x > c_{k-1}``
  determine it exactly (:func:`~dpsynth.privacy.mechanisms.quantile_scores`).

A :class:`ColumnProfiler` computes those aggregates where the data lives:
:class:`PandasProfiler` here, in memory; :class:`~dpsynth.engines.DuckDBProfiler`
and :class:`~dpsynth.engines.SparkProfiler` as one ``GROUP BY`` query per
column, so only one row per distinct value or per region reaches Python.
Numbers are compared as doubles, datetimes as float seconds since the epoch,
UTC (:func:`utc_seconds`), by every profiler, so all give the same counts for
the same table. The counts are exact and private: only a DP mechanism may see
them. Released categories are read back from their keys and the column's
type (:meth:`ColumnProfiler.category_values`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np
import pandas as pd

from dpsynth.errors import InputDataError, Problem, parameter_error
from dpsynth.schema import ColumnKind, ColumnSpec, Schema, category_key, infer_schema


@runtime_checkable
class ColumnProfiler(Protocol):
    """Exact per-column aggregates of one private table, for DP discovery only."""

    @property
    def columns(self) -> tuple[str, ...]:
        """The table's column names."""

    def kinds(self) -> Schema:
        """A kinds-only schema proposed from the column types (no value is read)."""

    def problems(self, specs: Sequence[ColumnSpec]) -> list[Problem]:
        """What stops discovering ``specs`` on this table (absent columns, wrong types)."""

    def category_counts(self, column: str) -> dict[str, int]:
        """Rows per distinct present value, keyed by :func:`~dpsynth.schema.category_key`."""

    def category_values(self, column: str, keys: Iterable[str]) -> list[Any]:
        """The category each released key stands for, from the key and the column's type."""

    def interval_counts(self, column: str, kind: ColumnKind, candidates: np.ndarray) -> np.ndarray:
        """Rows in each of the ``2k + 1`` regions of ``k`` increasing candidates (see the module).

        Missing and non-finite values are not counted; a present value that
        cannot be read as ``kind`` raises :class:`~dpsynth.errors.InputDataError`.
        """

    def midnight_counts(self, column: str) -> np.ndarray:
        """Present values of a datetime column at midnight UTC and off it: ``[at, off]``."""


def profiler_of(data: Any) -> ColumnProfiler:
    """``data`` itself if it is a :class:`ColumnProfiler`, a :class:`PandasProfiler` of a DataFrame."""
    if isinstance(data, pd.DataFrame):
        return PandasProfiler(data)
    if isinstance(data, ColumnProfiler):
        return data
    raise parameter_error(
        "data", type(data).__name__, "a pandas DataFrame or a ColumnProfiler (dpsynth.engines.DuckDBProfiler, ...)"
    )


def utc_seconds(values: Any) -> np.ndarray:
    """Datetimes as float seconds since the epoch, UTC (naive times are taken as UTC)."""
    stamps = pd.to_datetime(pd.Series(values), utc=True).dt.tz_localize(None)
    return stamps.astype("datetime64[ns]").to_numpy().astype(np.int64) / 1e9


#: nanoseconds in a day
NS_PER_DAY = 86_400 * 10**9


def midnight_split(nanoseconds: np.ndarray) -> np.ndarray:
    """``[at, off]``: how many of ``nanoseconds`` (UTC, since the epoch) fall at midnight."""
    off = int(np.count_nonzero(np.mod(nanoseconds, NS_PER_DAY) != 0))
    return np.array([nanoseconds.size - off, off], dtype=np.int64)


def unreadable(column: str, kind: ColumnKind, detail: str) -> InputDataError:
    """The refusal of a column whose present values cannot be read as ``kind``."""
    return InputDataError(
        [Problem(column, f"the values cannot be read as {kind.value} ({detail})", "clean the column")]
    )


def absent(specs: Sequence[ColumnSpec], columns: Iterable[str]) -> list[Problem]:
    """A problem for each of ``specs`` whose column is not among ``columns``."""
    present = set(columns)
    return [
        Problem(s.name, "the column is not in the table", "add it or fix the schema")
        for s in specs
        if s.name not in present
    ]


def region_counts(values: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """Counts of finite ``values`` in the ``2k + 1`` regions of increasing ``candidates``."""
    values = values[np.isfinite(values)]
    cands = np.asarray(candidates, dtype=float)
    # #(c < x) + #(c <= x) is the index of x's region
    regions = np.searchsorted(cands, values, "left") + np.searchsorted(cands, values, "right")
    return np.bincount(regions, minlength=2 * cands.size + 1).astype(np.int64)


class PandasProfiler:
    """Aggregates of a pandas DataFrame held in memory.

    Parameters
    ----------
    df : pandas.DataFrame
        The private table.
    """

    def __init__(self, df: pd.DataFrame):
        if not isinstance(df, pd.DataFrame):
            raise parameter_error("df", type(df).__name__, "a pandas DataFrame")
        self._df = df

    @property
    def columns(self) -> tuple[str, ...]:
        """The table's column names."""
        return tuple(str(c) for c in self._df.columns)

    def kinds(self) -> Schema:
        """``infer_schema(df, kinds_only=True)``: kinds and nullability from the dtypes."""
        return infer_schema(self._df, kinds_only=True)

    def problems(self, specs: Sequence[ColumnSpec]) -> list[Problem]:
        """Columns of ``specs`` that the table lacks (values are checked when aggregated)."""
        return absent(specs, self.columns)

    def category_counts(self, column: str) -> dict[str, int]:
        """Rows per key, the distinct values matched as the encoder matches them."""
        present = self._df[column].dropna()
        codes, uniques = pd.factorize(present)
        counts = np.bincount(codes, minlength=len(uniques))
        totals: dict[str, int] = {}
        for value, count in zip(uniques, counts, strict=True):
            key = category_key(value)
            totals[key] = totals.get(key, 0) + int(count)
        return totals

    def category_values(self, column: str, keys: Iterable[str]) -> list[Any]:
        """The category of each released key, by the column's dtype alone.

        Numbers, booleans and times by a numeric, boolean or datetime dtype (of
        the column, or of a ``category`` column's categories); the key's text
        otherwise. An ``object`` column may hold ``1`` and ``"1"`` under one
        key, and which of them the table holds is private: the released
        category is the text, which both match.
        """
        dtype = self._df[column].dtype
        if isinstance(dtype, pd.CategoricalDtype):
            dtype = dtype.categories.dtype
        keys = list(keys)
        if pd.api.types.is_bool_dtype(dtype):
            return [k == "True" for k in keys]
        if pd.api.types.is_integer_dtype(dtype):
            return [int(k) for k in keys]
        if pd.api.types.is_float_dtype(dtype):
            return [float(k) for k in keys]
        if pd.api.types.is_datetime64_any_dtype(dtype):
            return [pd.Timestamp(k) for k in keys]
        return keys

    def interval_counts(self, column: str, kind: ColumnKind, candidates: np.ndarray) -> np.ndarray:
        """Region counts of the present, finite values (datetimes in UTC seconds)."""
        present = self._df[column].dropna()
        try:
            if kind is ColumnKind.DATETIME:
                values = utc_seconds(present)
            else:
                values = pd.to_numeric(present).to_numpy(dtype=float)
        except (TypeError, ValueError) as exc:
            raise unreadable(column, kind, str(exc)) from None
        return region_counts(values, candidates)

    def midnight_counts(self, column: str) -> np.ndarray:
        """Present values at midnight UTC and off it (naive times taken as UTC)."""
        present = self._df[column].dropna()
        try:
            stamps = pd.to_datetime(present, utc=True).dt.tz_localize(None)
        except (TypeError, ValueError) as exc:
            raise unreadable(column, ColumnKind.DATETIME, str(exc)) from None
        return midnight_split(stamps.astype("datetime64[ns]").to_numpy().astype(np.int64))
