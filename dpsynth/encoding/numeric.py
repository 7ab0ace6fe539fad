"""Integer and continuous columns: bins over the declared range.

Bins are half-open, ``[e_i, e_{i+1})``, except the last, which is closed, so
that the upper bound belongs to it. Where the edges come from:

- ``bin_edges`` in the schema: used as given.
- Continuous: ``bins`` (default 16) equal-width bins over ``[lower, upper]``.
- Integer: at most one bin per whole number. The ``n = upper - lower + 1``
  whole numbers are split into ``k = min(bins, n)`` runs of consecutive
  numbers whose lengths differ by at most one, with edges half-way between
  numbers (``lower - 0.5``, ..., ``upper + 0.5``). When ``n <= bins`` every
  number has a bin of its own and decoding is exact.

Out of range values (possible only under ``on_unknown: clip``; under
``error`` the table was refused) are clipped into the first or last bin and
counted. Decoding draws uniformly within the bin: a real number for a
continuous column, a whole number for an integer column; either way the
value re-encodes to the same bin and lies within the bounds.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from dpsynth.encoding.codec import ColumnCodec, ColumnEncoding
from dpsynth.encoding.dtypes import TargetDtype
from dpsynth.errors import Problem, SchemaError
from dpsynth.schema import DEFAULT_BINS, ColumnKind, ColumnSpec

#: integers beyond this magnitude are not exact in float64, where bins are computed
MAX_EXACT_INTEGER = 2**53


def _schema_error(spec: ColumnSpec, message: str, fix: str) -> SchemaError:
    return SchemaError([Problem(spec.name, message, fix)])


def numeric_edges(spec: ColumnSpec) -> np.ndarray:
    """Bin edges of an integer or continuous column (see the module docstring).

    Raises
    ------
    SchemaError
        If the bins are not representable: an integer bin that holds no whole
        number, integer bounds beyond 2**53, or a range too narrow for
        ``bins`` distinct floating-point edges.
    """
    if spec.bin_edges is not None:
        edges = np.array([float(e) for e in spec.bin_edges])
    elif spec.kind is ColumnKind.INTEGER:
        lower, upper = int(spec.lower), int(spec.upper)
        if max(abs(lower), abs(upper)) > MAX_EXACT_INTEGER:
            raise _schema_error(
                spec, f"bounds [{lower}, {upper}] exceed 2**53 in magnitude",
                "declare the column continuous or categorical",
            )
        n = upper - lower + 1
        k = min(spec.bins or DEFAULT_BINS, n)
        edges = lower - 0.5 + np.array([(j * n) // k for j in range(k + 1)], dtype=float)
    else:
        lower, upper = float(spec.lower), float(spec.upper)
        t = np.arange((spec.bins or DEFAULT_BINS) + 1) / (spec.bins or DEFAULT_BINS)
        # A convex combination cannot overflow, even for bounds near the float limits.
        edges = lower * (1 - t) + upper * t
        edges[0], edges[-1] = lower, upper
    if not np.all(np.diff(edges) > 0):
        raise _schema_error(
            spec, f"{len(edges) - 1} bins do not fit in floating point between {edges[0]} and {edges[-1]}",
            "use fewer bins or a wider range",
        )
    if spec.kind is ColumnKind.INTEGER:
        lows, highs = _integer_span(edges)
        if np.any(lows > highs):
            i = int(np.argmax(lows > highs))
            raise _schema_error(
                spec, f"bin [{edges[i]}, {edges[i + 1]}) holds no whole number",
                "give bin edges at least one whole number apart",
            )
    return edges


def _integer_span(edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Smallest and largest whole number of each bin (the last bin is closed)."""
    lows = np.ceil(edges[:-1])
    highs = np.ceil(edges[1:]) - 1
    highs[-1] = np.floor(edges[-1])
    return lows, highs


def _format(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))


class NumericCodec(ColumnCodec):
    """Bins of an integer or continuous column."""

    def __init__(self, spec: ColumnSpec, target: TargetDtype):
        super().__init__(spec, target)
        self.edges = numeric_edges(spec)
        self.is_integer = spec.kind is ColumnKind.INTEGER

    @property
    def value_labels(self) -> tuple[str, ...]:
        """``"17"`` or ``"17-20"`` (integer), ``"[0, 12.5)"`` (continuous, last bin closed)."""
        e = self.edges
        if self.is_integer:
            lows, highs = _integer_span(e)
            return tuple(
                _format(lo) if lo == hi else f"{_format(lo)}-{_format(hi)}"
                for lo, hi in zip(lows, highs, strict=True)
            )
        last = len(e) - 2
        return tuple(
            f"[{_format(e[i])}, {_format(e[i + 1])}{']' if i == last else ')'}" for i in range(last + 1)
        )

    def _encode_present(self, present: pd.Series) -> ColumnEncoding:
        x = pd.to_numeric(present).to_numpy(dtype=float)
        lo, hi = self.edges[0], self.edges[-1]
        outside = (x < lo) | (x > hi)
        x = np.clip(x, lo, hi)
        codes = np.minimum(np.searchsorted(self.edges, x, side="right") - 1, self.n_values - 1)
        return ColumnEncoding(codes, clipped=int(outside.sum()))

    def _decode_values(self, codes: np.ndarray, rng: np.random.Generator) -> pd.Series:
        if self.is_integer:
            lows, highs = _integer_span(self.edges)
            drawn = rng.integers(lows[codes].astype(np.int64), highs[codes].astype(np.int64), endpoint=True)
            return pd.Series(drawn, dtype=np.int64)
        a, b = self.edges[codes], self.edges[codes + 1]
        u = rng.random(len(codes))
        x = a * (1 - u) + b * u
        # Half-open bins: stay strictly below the upper edge, except in the last bin.
        top = np.where(codes == self.n_values - 1, b, np.nextafter(b, -math.inf))
        x = np.clip(x, a, top)
        # A narrower float dtype (float32) rounds; step back inside the bin where it rounded out.
        y = x.astype(self._float_dtype)
        y = np.where(y < a, np.nextafter(y, np.inf, dtype=y.dtype), y)
        y = np.where(y > top, np.nextafter(y, -np.inf, dtype=y.dtype), y)
        return pd.Series(y)

    @property
    def _float_dtype(self) -> np.dtype:
        """The numpy float type of the raw dtype (float64 unless it is a narrower float)."""
        dtype = getattr(self.target.pandas_dtype, "numpy_dtype", self.target.pandas_dtype)
        return dtype if isinstance(dtype, np.dtype) and dtype.kind == "f" else np.dtype(np.float64)

    def bin_edges(self) -> np.ndarray:
        """A copy of the bin edges."""
        return self.edges.copy()
