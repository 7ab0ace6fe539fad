"""The raw pandas dtype a decoded column is restored to, with its kind of missing value.

The schema's ``dtype`` field names the dtype of the raw column (``int64``,
``Int64``, ``float64``, ``str``, ``string``, ``object``, ``category``, ``bool``,
``boolean``, ``datetime64[ns]``, ``datetime64[us, UTC]``, ...). A decoded column
gets exactly that dtype, and its missing values are the ones the dtype uses:
``NaN`` for floats and pandas' ``str``, ``pd.NA`` for the nullable extension
dtypes (``Int64``, ``boolean``, ``string``), ``NaT`` for datetimes. An ``object``
column may hold any of ``None``, ``NaN``, ``pd.NA`` or ``NaT``; which one is
structure, like the dtype, and :meth:`TableEncoder.fit` records it.

When the schema gives no dtype and nothing was fitted, a column decodes to
the default of its kind (:func:`default_dtype`), one that can hold a missing
value whenever the column is nullable.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from dpsynth.errors import Problem, SchemaError
from dpsynth.schema import ColumnKind, ColumnSpec

#: the missing-value markers an ``object`` column may hold, by name
MISSING_MARKERS: dict[str, Any] = {"None": None, "NaN": np.nan, "NA": pd.NA, "NaT": pd.NaT}


def default_dtype(spec: ColumnSpec) -> str:
    """The dtype a column decodes to when neither the schema nor a fit names one."""
    nullable = spec.nullable
    return {
        ColumnKind.CATEGORICAL: "object",
        ColumnKind.INTEGER: "Int64" if nullable else "int64",
        ColumnKind.CONTINUOUS: "float64",
        ColumnKind.DATETIME: "datetime64[ns]",
        ColumnKind.BOOLEAN: "boolean" if nullable else "bool",
    }[spec.kind]


def marker_name(value: Any) -> str:
    """Name (a key of :data:`MISSING_MARKERS`) of one missing value."""
    if value is None:
        return "None"
    if value is pd.NA:
        return "NA"
    if value is pd.NaT or isinstance(value, np.datetime64):
        return "NaT"
    return "NaN"


@dataclass(frozen=True)
class TargetDtype:
    """The dtype a decoded column is cast to.

    Parameters
    ----------
    name : str
        Column name, for messages.
    dtype : str
        A pandas dtype string.
    missing : str
        Key of :data:`MISSING_MARKERS`: the missing value of an ``object`` column.
    ordered : bool
        Whether a ``category`` dtype is ordered.
    """

    name: str
    dtype: str
    missing: str = "None"
    ordered: bool = False

    def __post_init__(self) -> None:
        try:
            pd.api.types.pandas_dtype(self.dtype)
        except TypeError as exc:
            raise SchemaError(
                [Problem(self.name, f"dtype {self.dtype!r} is not a pandas dtype ({exc})",
                         "use a dtype such as int64, Int64, float64, str, string, object, "
                         "category, bool, boolean or datetime64[ns]")]
            ) from None

    @property
    def pandas_dtype(self) -> Any:
        """The dtype object."""
        return pd.api.types.pandas_dtype(self.dtype)

    @property
    def is_categorical(self) -> bool:
        """True for the ``category`` dtype."""
        return isinstance(self.pandas_dtype, pd.CategoricalDtype)

    @property
    def is_object(self) -> bool:
        """True for the ``object`` dtype."""
        return self.pandas_dtype == np.dtype(object)

    @property
    def datetime_unit(self) -> str | None:
        """Resolution (``s``, ``ms``, ``us``, ``ns``) of a datetime dtype, else None."""
        dtype = self.pandas_dtype
        if isinstance(dtype, pd.DatetimeTZDtype):
            return dtype.unit
        if isinstance(dtype, np.dtype) and dtype.kind == "M":
            return np.datetime_data(dtype)[0]
        return None

    @property
    def timezone(self) -> Any:
        """Time zone of a tz-aware datetime dtype, else None."""
        dtype = self.pandas_dtype
        return dtype.tz if isinstance(dtype, pd.DatetimeTZDtype) else None

    def cast(self, values: pd.Series, missing: np.ndarray) -> pd.Series:
        """Cast decoded values to this dtype, with this dtype's missing value.

        Parameters
        ----------
        values : pandas.Series
            Decoded values in their natural representation (object, int64,
            float64, bool or naive UTC datetime64[ns]); entries where
            ``missing`` is True are ignored.
        missing : numpy.ndarray of bool
            Where the decoded value is missing.

        Returns
        -------
        pandas.Series
            Named after the column, with a fresh RangeIndex.
        """
        if self.is_object:
            out = values.astype(object)
            if missing.any():
                out = out.copy()
                out[missing] = MISSING_MARKERS[self.missing]
            return out.rename(self.name)
        if missing.any():
            values = values.astype(object) if values.dtype.kind in "biu" else values.copy()
            values[missing] = None
        if self.timezone is not None:
            values = pd.to_datetime(values).dt.tz_localize("UTC").dt.tz_convert(self.timezone)
        return values.astype(self.pandas_dtype).rename(self.name)
