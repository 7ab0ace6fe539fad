"""Datetime columns: bins over a declared time range.

The bounds and edges are ISO strings in the schema. Times are compared in
UTC: a time-zone-aware value is converted to UTC, a naive one (and a naive
bound) is taken as UTC already. Edges are whole nanoseconds: ``bin_edges``
as given, otherwise ``bins`` (default 16) equal-width bins over
``[lower, upper]``. Bins are half-open except the last, which is closed.

Out of range values (under ``on_unknown: clip``) are clipped into the first
or last bin and counted. Decoding draws a time uniformly within the bin at
the resolution of the raw dtype (seconds, milliseconds, microseconds or
nanoseconds), or at the column's coarser ``resolution`` (``"D"``: whole days,
midnight UTC), so the value is representable exactly, lies within the bin
and re-encodes to it; a tz-aware dtype gets its time zone back.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dpsynth.encoding.codec import ColumnCodec, ColumnEncoding
from dpsynth.encoding.dtypes import TargetDtype
from dpsynth.encoding.profile import NS_PER_DAY
from dpsynth.errors import Problem, SchemaError
from dpsynth.schema import DEFAULT_BINS, ColumnSpec

_NS_PER_UNIT = {"D": NS_PER_DAY, "s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}


def datetime_edges(spec: ColumnSpec) -> np.ndarray:
    """Bin edges of a datetime column as int64 nanoseconds since the epoch (UTC)."""
    if spec.bin_edges is not None:
        edges = [pd.Timestamp(e).value for e in spec.bin_edges]
    else:
        lower, upper = pd.Timestamp(spec.lower).value, pd.Timestamp(spec.upper).value
        k = spec.bins or DEFAULT_BINS
        # Python integers: exact, no overflow of (upper - lower) * j.
        edges = [lower + ((upper - lower) * j) // k for j in range(k + 1)]
    edges_arr = np.array(edges, dtype=np.int64)
    if not np.all(np.diff(edges_arr) > 0):
        raise SchemaError(
            [Problem(spec.name, f"{len(edges) - 1} bins are narrower than a nanosecond",
                     "use fewer bins or a wider range")]
        )
    return edges_arr


def to_utc(series: pd.Series) -> pd.Series:
    """Raw datetimes (datetime dtype, Timestamps or ISO text) as tz-aware UTC."""
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return pd.to_datetime(series, utc=True)
    return pd.to_datetime(series, utc=True, format="mixed")


class DatetimeCodec(ColumnCodec):
    """Bins of a datetime column."""

    def __init__(self, spec: ColumnSpec, target: TargetDtype):
        super().__init__(spec, target)
        self.edges = datetime_edges(spec)
        self.unit = target.datetime_unit or "ns"
        # values are drawn in steps of the coarser of the dtype's unit and the declared resolution
        self.step = max(_NS_PER_UNIT[self.unit], _NS_PER_UNIT[spec.resolution or "ns"])
        lows, highs = self._span()
        if np.any(lows > highs):
            i = int(np.argmax(lows > highs))
            what = "day" if self.step == _NS_PER_UNIT["D"] else f"instant at the resolution of dtype {target.dtype!r}"
            raise SchemaError(
                [Problem(spec.name,
                         f"bin {self.value_labels[i]} holds no {what} ({self.step} ns)",
                         "use wider bins or a finer datetime resolution")]
            )

    def _span(self) -> tuple[np.ndarray, np.ndarray]:
        """First and last step of each bin, in steps since the epoch."""
        step = self.step
        lows = -(-self.edges[:-1] // step)
        highs = -(-self.edges[1:] // step) - 1
        highs[-1] = self.edges[-1] // step
        return lows, highs

    @property
    def value_labels(self) -> tuple[str, ...]:
        """``"[2020-01-01T00:00:00, 2020-02-01T00:00:00)"``, the last bin closed."""
        times = [pd.Timestamp(int(e)).isoformat() for e in self.edges]
        last = len(times) - 2
        return tuple(
            f"[{times[i]}, {times[i + 1]}{']' if i == last else ')'}" for i in range(last + 1)
        )

    def _encode_present(self, present: pd.Series) -> ColumnEncoding:
        times = to_utc(present)
        lo, hi = (pd.Timestamp(int(e), tz="UTC") for e in (self.edges[0], self.edges[-1]))
        outside = ((times < lo) | (times > hi)).to_numpy(dtype=bool)
        ns = times.clip(lo, hi).dt.tz_localize(None).astype("datetime64[ns]").to_numpy().view(np.int64)
        codes = np.minimum(np.searchsorted(self.edges, ns, side="right") - 1, self.n_values - 1)
        return ColumnEncoding(codes, clipped=int(outside.sum()))

    def _decode_values(self, codes: np.ndarray, rng: np.random.Generator) -> pd.Series:
        lows, highs = self._span()
        drawn = rng.integers(lows[codes], highs[codes], endpoint=True)
        per_step = self.step // _NS_PER_UNIT[self.unit]
        return pd.Series((drawn * per_step).astype(f"datetime64[{self.unit}]"))

    def bin_edges(self) -> np.ndarray:
        """The bin edges as naive UTC ``datetime64[ns]``."""
        return self.edges.astype("datetime64[ns]")
