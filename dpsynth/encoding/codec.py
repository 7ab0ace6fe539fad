"""What every column codec shares: the code layout and the missing code.

A column with ``k`` values (categories, bins, or False/True) takes the codes
``0 .. k-1`` for them, in the schema's order. Then come, in this order and
only where the schema asks for them:

- the **other** code ``k`` (categorical columns with ``on_unknown: other``):
  every value outside the declared categories;
- the **missing** code, always the last one (nullable columns): every missing
  value (``None``, ``NaN``, ``pd.NA``, ``NaT``).

A codec encodes one validated raw column to codes and decodes codes back to a
column of the raw dtype. It never reads categories or bounds from the data.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dpsynth.encoding.dtypes import TargetDtype
from dpsynth.schema import ColumnSpec

#: label of the missing code in reports
MISSING_LABEL = "<missing>"
#: label of the other code in reports
OTHER_LABEL = "<other>"


def smallest_uint(n_codes: int) -> np.dtype:
    """The smallest unsigned integer dtype that holds the codes ``0 .. n_codes - 1``."""
    for dtype in (np.uint8, np.uint16, np.uint32):
        if n_codes - 1 <= np.iinfo(dtype).max:
            return np.dtype(dtype)
    return np.dtype(np.uint64)


@dataclass(frozen=True)
class ColumnEncoding:
    """Codes of one column and the number of values moved into the domain.

    ``clipped`` and ``other`` are computed from the private data (see
    :class:`dpsynth.encoding.report.EncodingReport`).
    """

    codes: np.ndarray
    clipped: int = 0
    other: int = 0


class ColumnCodec(ABC):
    """Encode one raw column to codes and back.

    Parameters
    ----------
    spec : ColumnSpec
        The column's complete public specification.
    target : TargetDtype
        The dtype decoded values are restored to.
    """

    has_other: bool = False

    def __init__(self, spec: ColumnSpec, target: TargetDtype):
        self.spec = spec
        self.target = target

    # -- layout ---------------------------------------------------------------------
    @property
    @abstractmethod
    def value_labels(self) -> tuple[str, ...]:
        """Human-readable label of each value code (before other and missing)."""

    @property
    def n_values(self) -> int:
        """Number of value codes."""
        return len(self.value_labels)

    @property
    def other_code(self) -> int | None:
        """The code of values outside the declared categories, if any."""
        return self.n_values if self.has_other else None

    @property
    def missing_code(self) -> int | None:
        """The code of missing values (the last one), if the column is nullable."""
        return self.n_values + int(self.has_other) if self.spec.nullable else None

    @property
    def n_codes(self) -> int:
        """Number of codes of the column."""
        return self.n_values + int(self.has_other) + int(self.spec.nullable)

    @property
    def labels(self) -> tuple[str, ...]:
        """Label of every code, in code order."""
        extra = (OTHER_LABEL,) * self.has_other + (MISSING_LABEL,) * self.spec.nullable
        return self.value_labels + extra

    # -- transforms -----------------------------------------------------------------
    def encode(self, series: pd.Series) -> ColumnEncoding:
        """Codes of a raw column already checked by :meth:`Schema.check_frame`."""
        missing = series.isna().to_numpy(dtype=bool)
        codes = np.empty(len(series), dtype=smallest_uint(self.n_codes))
        if missing.any():
            codes[missing] = self.missing_code
            present = self._encode_present(series[~missing])
            codes[~missing] = present.codes
        else:
            present = self._encode_present(series)
            codes[:] = present.codes
        return ColumnEncoding(codes, present.clipped, present.other)

    def decode(self, codes: np.ndarray, rng: np.random.Generator) -> pd.Series:
        """Raw values of ``codes`` (validated to lie in ``0 .. n_codes - 1``)."""
        codes = np.asarray(codes, dtype=np.int64)
        missing = codes == self.missing_code if self.spec.nullable else np.zeros(len(codes), bool)
        # Missing rows get code 0 for the value draw; their value is replaced afterwards.
        natural = self._decode_values(np.where(missing, 0, codes), rng)
        return self.target.cast(natural, missing)

    @abstractmethod
    def _encode_present(self, present: pd.Series) -> ColumnEncoding:
        """Codes of the non-missing values."""

    @abstractmethod
    def _decode_values(self, codes: np.ndarray, rng: np.random.Generator) -> pd.Series:
        """Values of non-missing codes in their natural representation."""
