"""The table encoder: a raw DataFrame <-> a compact integer-coded table.

:class:`TableEncoder` is driven by a COMPLETE schema: every category list,
bound and bin comes from it, never from the data, so encoding spends no
privacy budget and leaks nothing through the domain. Fitting
(:meth:`TableEncoder.fit`) records only structure: the raw dtypes the schema
leaves open and the kind of missing value of ``object`` columns.

Each column is encoded by its kind (see :mod:`~dpsynth.encoding.codec` for
the code layout with the "other" and missing codes,
:mod:`~dpsynth.encoding.categorical`, :mod:`~dpsynth.encoding.numeric`,
:mod:`~dpsynth.encoding.temporal` for the rules). Codes are stored per column
in the smallest unsigned dtype that holds them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from dpsynth.domain import Domain
from dpsynth.encoding.categorical import BooleanCodec, CategoricalCodec
from dpsynth.encoding.codec import ColumnCodec, smallest_uint
from dpsynth.encoding.dtypes import TargetDtype, default_dtype, marker_name
from dpsynth.encoding.numeric import NumericCodec
from dpsynth.encoding.report import ColumnReport, EncodingReport
from dpsynth.encoding.temporal import DatetimeCodec
from dpsynth.errors import InputDataError, ParameterError, Problem, SchemaError, parameter_error
from dpsynth.schema import ColumnKind, ColumnSpec, Schema, category_key, check_column

#: the value the "other" code decodes to, unless the encoder is given another
DEFAULT_OTHER_LABEL = "<other>"


@dataclass(frozen=True)
class EncodedTable:
    """An integer-coded table.

    Attributes
    ----------
    columns : mapping of str to numpy.ndarray
        Read-only code array of each attribute, in domain order; codes of
        attribute ``a`` lie in ``0 .. domain[a] - 1``, stored in the smallest
        unsigned dtype. Engines count on these arrays.
    domain : Domain
        Attribute -> number of codes.
    report : EncodingReport
        PRIVATE per-column counts of values clipped or mapped to "other".

    ``len(table)`` is the exact number of rows: private as well.
    """

    columns: Mapping[str, np.ndarray]
    domain: Domain
    report: EncodingReport = field(default_factory=EncodingReport)

    def __post_init__(self) -> None:
        object.__setattr__(self, "columns", MappingProxyType({a: _read_only(c) for a, c in self.columns.items()}))

    def __reduce__(self) -> tuple[Any, ...]:
        # A mapping proxy does not pickle; rebuild from a plain dict.
        return (type(self), (dict(self.columns), self.domain, self.report))

    def __getitem__(self, attribute: str) -> np.ndarray:
        return self.columns[attribute]

    def __len__(self) -> int:
        return len(next(iter(self.columns.values())))

    def to_array(self) -> np.ndarray:
        """The codes as one 2-D array (rows x attributes, domain order)."""
        dtype = smallest_uint(max(self.domain.shape))
        return np.column_stack([self.columns[a].astype(dtype) for a in self.domain.attributes])


class TableEncoder:
    """Invertible transform between a raw table and integer codes.

    Parameters
    ----------
    schema : Schema
        A complete schema (every categorical column has its categories, every
        numeric and datetime column its bounds or bin edges). Its ``dtype``
        fields are the dtypes decoding restores.
    other_label : object
        What the "other" code of a categorical column decodes to. It must
        match no declared category and fit the column's dtype.

    Raises
    ------
    SchemaError
        If the schema is incomplete, or a column's dtype cannot hold what its
        codes decode to (a missing value in ``int64``, a category in the wrong
        type, a datetime bin narrower than the dtype's resolution, ...).

    Notes
    -----
    The encoder uses whatever the schema declares. Refusing a schema read
    from the private data without DP (``source="data"``) unless the user
    acknowledged it is the caller's job (:meth:`Schema.require_public`), done
    where the acknowledgement is recorded for the release.

    Examples
    --------
    >>> from dpsynth.datasets import adult_schema, load_adult
    >>> encoder = TableEncoder(adult_schema())
    >>> encoded = encoder.encode(load_adult())
    >>> synthetic = encoder.decode(encoded, rng=0)
    """

    def __init__(self, schema: Schema, *, other_label: Any = DEFAULT_OTHER_LABEL):
        if not isinstance(schema, Schema):
            raise parameter_error("schema", type(schema).__name__, "a dpsynth.schema.Schema")
        incomplete = schema.incomplete_columns
        if incomplete:
            raise SchemaError(
                [Problem(name, "its categories or bounds are not declared",
                         "declare them from a public source or discover them with DP first "
                         "(dpsynth.encoding.discovery)") for name in incomplete]
            )
        self.schema = schema
        self.other_label = other_label
        self._codecs = self._build({spec.name: _target(spec) for spec in schema})

    # -- fitting ----------------------------------------------------------------------
    def fit(self, df: pd.DataFrame) -> TableEncoder:
        """Record the structure of ``df`` that decoding restores.

        Read: the dtype of each column whose schema entry gives none, whether
        a ``category`` dtype is ordered, and which missing value (``None``,
        ``NaN``, ``pd.NA``, ``NaT``) an ``object`` column uses. No category,
        bound or count is read, but the missing value is the first missing
        row's, a fact about the rows (one row's ``NaN`` among ``None`` decides
        it): the synthesizers never call ``fit`` (an ``object`` column decodes
        its missing values to ``None``), and a release must not either.

        Parameters
        ----------
        df : pandas.DataFrame
            The raw table, with the schema's columns.

        Returns
        -------
        TableEncoder
            ``self``.
        """
        _check_columns(self.schema, df)
        targets = {}
        for spec in self.schema:
            series = df[spec.name]
            dtype = spec.dtype or str(series.dtype)
            missing = "None"
            if series.dtype == np.dtype(object):
                first = series.isna().to_numpy().argmax() if series.isna().any() else None
                missing = marker_name(series.iloc[first]) if first is not None else "None"
            ordered = bool(getattr(series.dtype, "ordered", False))
            targets[spec.name] = TargetDtype(spec.name, dtype, missing, ordered)
        self._codecs = self._build(targets)
        return self

    def _build(self, targets: Mapping[str, TargetDtype]) -> dict[str, ColumnCodec]:
        codecs, problems = {}, []
        for spec in self.schema:
            try:
                codec = self._codec(spec, targets[spec.name])
                _probe(codec)
            except SchemaError as exc:
                problems.extend(exc.problems)
                continue
            codecs[spec.name] = codec
        if problems:
            raise SchemaError(problems)
        return codecs

    def _codec(self, spec: ColumnSpec, target: TargetDtype) -> ColumnCodec:
        if spec.kind is ColumnKind.CATEGORICAL:
            if spec.on_unknown == "other":
                clash = [c for c in spec.categories or () if category_key(c) == category_key(self.other_label)]
                if clash:
                    raise SchemaError(
                        [Problem(spec.name, f"other_label {self.other_label!r} matches the category {clash[0]!r}",
                                 "pass TableEncoder(..., other_label=...) a value that is no category")]
                    )
            return CategoricalCodec(spec, target, self.other_label)
        if spec.kind is ColumnKind.BOOLEAN:
            return BooleanCodec(spec, target)
        if spec.kind is ColumnKind.DATETIME:
            return DatetimeCodec(spec, target)
        return NumericCodec(spec, target)

    # -- what the codes mean -------------------------------------------------------
    @property
    def domain(self) -> Domain:
        """Attribute -> number of codes, in schema order."""
        return Domain(self.schema.names, tuple(c.n_codes for c in self._codecs.values()))

    def _codec_of(self, column: str) -> ColumnCodec:
        try:
            return self._codecs[column]
        except KeyError:
            raise parameter_error("column", column, f"one of {list(self.schema.names)}") from None

    def code_labels(self, column: str) -> tuple[str, ...]:
        """Human-readable label of every code of ``column``, in code order."""
        return self._codec_of(column).labels

    def missing_code(self, column: str) -> int | None:
        """The code of missing values of ``column`` (its last code), or None if not nullable."""
        return self._codec_of(column).missing_code

    def other_code(self, column: str) -> int | None:
        """The "other" code of a categorical ``column`` with ``on_unknown: other``, else None."""
        return self._codec_of(column).other_code

    def undeclared_codes(self) -> dict[str, tuple[int, ...]]:
        """Codes of each column that stand for nothing the user declared.

        * The "other" code of a categorical column: no declared category is
          behind it (DP discovery adds it for the values it did not release;
          ``on_unknown: other`` for values outside the declared list).
        * The missing code of a column whose nullability was assumed from its
          dtype rather than declared (``ColumnSpec.nullable_assumed``, set by
          ``infer_schema(df, kinds_only=True)``, what a synthesizer fitted
          without a schema uses).

        A synthesizer may leave such a code out of its model when its noisy
        count shows no rows; declared categories, bins and missing codes stay.

        Returns
        -------
        dict of str to tuple of int
            Column -> its undeclared codes; columns with none are left out.
        """
        out = {}
        for name, codec in self._codecs.items():
            codes = [codec.other_code]
            if self.schema[name].nullable_assumed:
                codes.append(codec.missing_code)
            present = tuple(int(c) for c in codes if c is not None)
            if present:
                out[name] = present
        return out

    def code_of(self, column: str, value: Any) -> int:
        """The code of one raw value of ``column`` (to condition on it, for example).

        Unlike :meth:`encode`, a value outside the declared domain is refused
        whatever the column's ``on_unknown`` policy: it has no code of its own.

        Parameters
        ----------
        column : str
            A column of the schema.
        value : object
            A raw value, matched as :meth:`encode` matches it (``"1"`` matches
            the category ``1``); a missing value gives the missing code.

        Returns
        -------
        int

        Raises
        ------
        InputDataError
            If the value is missing in a column that is not nullable, of the
            wrong type, or outside the declared domain.
        """
        codec = self._codec_of(column)
        if pd.api.types.is_scalar(value) and pd.isna(value):
            if codec.missing_code is None:
                raise InputDataError(
                    [Problem(column, "a missing value has no code: the column is not nullable",
                             "give a value, or declare the column nullable")]
                )
            return codec.missing_code
        spec = codec.spec
        strict = spec if spec.on_unknown == "error" else replace(spec, on_unknown="error")
        series = pd.Series([value], dtype=object, name=column)
        problems = check_column(strict, series)
        if problems:
            fix = f"pass a value of the column's domain: {', '.join(codec.labels)}"
            raise InputDataError([replace(p, fix=fix) for p in problems])
        return int(codec.encode(series).codes[0])

    def dtype(self, column: str) -> str:
        """The raw dtype ``column`` decodes to."""
        return self._codec_of(column).target.dtype

    def bin_edges(self, column: str) -> np.ndarray:
        """Bin edges of a numeric (float64) or datetime (naive UTC datetime64[ns]) column.

        Bin ``i`` is ``[edges[i], edges[i+1])``; the last bin is closed.
        """
        codec = self._codec_of(column)
        if not isinstance(codec, (NumericCodec, DatetimeCodec)):
            raise ParameterError(
                f"column {column!r} is {codec.spec.kind.value} and has no bins; "
                "use code_labels() for its codes"
            )
        return codec.bin_edges()

    # -- transforms -----------------------------------------------------------------
    def encode(self, df: pd.DataFrame) -> EncodedTable:
        """Encode a raw table.

        The table is first checked against the schema
        (:meth:`Schema.validate_frame`); every problem is raised at once, before
        anything is encoded. Values outside the declared domain are then
        clipped or mapped to "other" as the schema's ``on_unknown`` says,
        counted in the PRIVATE :class:`EncodingReport` and announced by an
        :class:`OutOfDomainWarning`.

        Parameters
        ----------
        df : pandas.DataFrame
            The raw table; its column order does not matter.

        Returns
        -------
        EncodedTable

        Raises
        ------
        InputDataError
            Listing every problem of the table.
        """
        _require_frame(df)
        self.schema.validate_frame(df)
        columns, reports = {}, {}
        for name, codec in self._codecs.items():
            encoded = codec.encode(df[name])
            columns[name] = encoded.codes
            reports[name] = ColumnReport(clipped=encoded.clipped, other=encoded.other)
        report = EncodingReport(reports)
        report.warn()
        return EncodedTable(columns, self.domain, report)

    def decode(
        self,
        codes: EncodedTable | Mapping[str, Any] | np.ndarray,
        *,
        rng: np.random.Generator | int | None = None,
    ) -> pd.DataFrame:
        """Decode codes back to a raw table.

        Categorical and boolean codes decode to their value; numeric and
        datetime codes to a value drawn uniformly within the bin.

        Parameters
        ----------
        codes : EncodedTable, mapping of str to array, or 2-D array
            Codes of every attribute (a 2-D array has the attributes as
            columns, in domain order).
        rng : numpy.random.Generator, int or None
            Randomness for the draws within bins (a seed makes decoding
            reproducible).

        Returns
        -------
        pandas.DataFrame
            The schema's columns, in schema order, with their raw dtypes.

        Raises
        ------
        ParameterError
            If an attribute is missing, the columns differ in length, or a
            code lies outside its attribute's range.
        """
        columns = self._code_columns(codes)
        generator = np.random.default_rng(rng)
        decoded = {name: codec.decode(columns[name], generator) for name, codec in self._codecs.items()}
        return pd.DataFrame(decoded)

    def _code_columns(self, codes: EncodedTable | Mapping[str, Any] | np.ndarray) -> dict[str, np.ndarray]:
        names = self.schema.names
        if isinstance(codes, EncodedTable):
            codes = codes.columns
        if isinstance(codes, Mapping):
            lacking = [n for n in names if n not in codes]
            if lacking:
                raise parameter_error("codes", f"<no {lacking}>", f"codes for every attribute {list(names)}")
            columns = {n: np.asarray(codes[n]) for n in names}
        else:
            array = np.asarray(codes)
            if array.ndim != 2 or array.shape[1] != len(names):
                raise parameter_error(
                    "codes", f"<array of shape {array.shape}>",
                    f"a 2-D array with {len(names)} columns (the attributes {list(names)})",
                )
            columns = {n: array[:, i] for i, n in enumerate(names)}
        lengths = {len(c) for c in columns.values()}
        if len(lengths) > 1:
            raise ParameterError(f"code columns have different lengths: {sorted(lengths)}")
        for name, column in columns.items():
            n_codes = self._codecs[name].n_codes
            if column.ndim != 1 or (column.size and column.dtype.kind not in "iu"):
                raise parameter_error(f"codes[{name!r}]", f"<{column.dtype} array>", "a 1-D integer array")
            if column.size and (column.min() < 0 or column.max() >= n_codes):
                raise parameter_error(
                    f"codes[{name!r}]", f"<range {column.min()}..{column.max()}>",
                    f"within 0..{n_codes - 1}",
                )
        return columns


def _read_only(codes: Any) -> np.ndarray:
    """A read-only view, so that the caller's own array stays writable."""
    view = np.asarray(codes).view()
    view.setflags(write=False)
    return view


def _target(spec: ColumnSpec) -> TargetDtype:
    return TargetDtype(spec.name, spec.dtype or default_dtype(spec))


def _require_frame(df: Any) -> None:
    if not isinstance(df, pd.DataFrame):
        raise parameter_error("df", type(df).__name__, "a pandas DataFrame")


def _check_columns(schema: Schema, df: pd.DataFrame) -> None:
    """Refuse a table that lacks a column of the schema, or holds one twice."""
    _require_frame(df)
    names = [str(c) for c in df.columns]
    problems = [
        Problem(n, "the table has more than one column of this name", "rename one")
        for n in sorted({n for n in names if names.count(n) > 1})
    ]
    problems += [
        Problem(n, "the schema declares it but the table lacks it", "add the column or remove it from the schema")
        for n in schema.names if n not in names
    ]
    if problems:
        raise InputDataError(problems)


def _probe(codec: ColumnCodec) -> None:
    """Check that every code survives decoding to the raw dtype and encoding back."""
    spec, dtype = codec.spec, codec.target.dtype
    codes = np.arange(codec.n_codes)
    try:
        values = codec.decode(codes, np.random.default_rng(0))
        back = codec.encode(values).codes
    except (TypeError, ValueError, OverflowError) as exc:
        raise SchemaError(
            [Problem(spec.name, f"dtype {dtype!r} cannot hold the decoded values ({exc})",
                     _dtype_fix(spec))]
        ) from None
    bad = np.flatnonzero(back != codes)
    if bad.size:
        label = codec.labels[bad[0]]
        raise SchemaError(
            [Problem(spec.name, f"code {bad[0]} ({label}) does not survive decoding to dtype {dtype!r}",
                     _dtype_fix(spec))]
        )


def _dtype_fix(spec: ColumnSpec) -> str:
    holds = {
        ColumnKind.CATEGORICAL: "every category (and the other_label)",
        ColumnKind.BOOLEAN: "True and False",
        ColumnKind.INTEGER: "every whole number between the bounds",
        ColumnKind.CONTINUOUS: "real numbers (a float dtype)",
        ColumnKind.DATETIME: "datetimes",
    }[spec.kind]
    missing = " and a missing value (e.g. Int64, float64, boolean, string, object)" if spec.nullable else ""
    return f"declare a dtype that holds {holds}{missing}"
