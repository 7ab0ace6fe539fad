"""Categorical and boolean columns: one code per declared value.

Categorical: the codes ``0 .. k-1`` are the schema's categories in their
declared order. A raw value matches a category by
:func:`dpsynth.schema.category_key` (``1``, ``1.0`` and ``"1"`` all match the
category ``1``). A value matching none goes to the "other" code under
``on_unknown: other`` (and is counted); under ``on_unknown: error`` the table
was refused before encoding. Decoding returns the declared category itself,
cast to the raw dtype; the "other" code decodes to the encoder's
``other_label``.

Boolean: ``False`` is code 0 and ``True`` code 1; ``"true"``/``"false"`` text
and ``0``/``1`` are accepted on input.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from dpsynth.encoding.codec import ColumnCodec, ColumnEncoding
from dpsynth.encoding.dtypes import TargetDtype
from dpsynth.errors import InputDataError, Problem
from dpsynth.schema import ColumnSpec, category_key


class CategoricalCodec(ColumnCodec):
    """Codes in the schema's category order, plus other and missing codes.

    Parameters
    ----------
    spec : ColumnSpec
        A categorical column with its categories.
    target : TargetDtype
        The raw dtype.
    other_label : object
        The value the "other" code decodes to.
    """

    def __init__(self, spec: ColumnSpec, target: TargetDtype, other_label: Any):
        super().__init__(spec, target)
        self.categories: tuple[Any, ...] = tuple(spec.categories or ())
        self.has_other = spec.on_unknown == "other"
        self.other_label = other_label
        self._index = {category_key(c): i for i, c in enumerate(self.categories)}

    @property
    def value_labels(self) -> tuple[str, ...]:
        """The categories as text."""
        return tuple(str(c) for c in self.categories)

    def _encode_present(self, present: pd.Series) -> ColumnEncoding:
        # Match the distinct values only, then broadcast: no Python loop over rows.
        row_codes, uniques = pd.factorize(present)
        unmatched = -1 if self.other_code is None else self.other_code
        unique_codes = np.array(
            [self._index.get(category_key(u), unmatched) for u in uniques], dtype=np.int64
        )
        codes = unique_codes[row_codes]
        if (codes < 0).any():
            bad = next(u for u, c in zip(uniques, unique_codes, strict=True) if c < 0)
            raise InputDataError(
                [Problem(self.spec.name, f"value {bad!r} is not among the declared categories",
                         "add it to the category list or set on_unknown: other", bad)]
            )
        other = int((codes == self.other_code).sum()) if self.has_other else 0
        return ColumnEncoding(codes, other=other)

    def _decoded_categories(self) -> list[Any]:
        return list(self.categories) + ([self.other_label] if self.has_other else [])

    def _decode_values(self, codes: np.ndarray, rng: np.random.Generator) -> pd.Series:
        table = np.empty(self.n_values + int(self.has_other), dtype=object)
        table[:] = self._decoded_categories()
        return pd.Series(table[codes], dtype=object)

    def decode(self, codes: np.ndarray, rng: np.random.Generator) -> pd.Series:
        """Raw values of ``codes``; a ``category`` dtype keeps the declared categories."""
        if not self.target.is_categorical:
            return super().decode(codes, rng)
        codes = np.asarray(codes, dtype=np.int64)
        if self.spec.nullable:
            codes = np.where(codes == self.missing_code, -1, codes)
        dtype = pd.CategoricalDtype(self._decoded_categories(), ordered=self.target.ordered)
        return pd.Series(pd.Categorical.from_codes(codes, dtype=dtype), name=self.spec.name)


def _is_true(value: Any) -> bool:
    if isinstance(value, str):
        return value.lower() == "true"
    return bool(value)


class BooleanCodec(ColumnCodec):
    """``False`` -> 0, ``True`` -> 1, plus a missing code if nullable."""

    @property
    def value_labels(self) -> tuple[str, ...]:
        """``("False", "True")``."""
        return ("False", "True")

    def _encode_present(self, present: pd.Series) -> ColumnEncoding:
        row_codes, uniques = pd.factorize(present)
        unique_codes = np.array([int(_is_true(u)) for u in uniques], dtype=np.int64)
        return ColumnEncoding(unique_codes[row_codes])

    def _decode_values(self, codes: np.ndarray, rng: np.random.Generator) -> pd.Series:
        return pd.Series(codes == 1, dtype=bool)
