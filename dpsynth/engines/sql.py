"""The table encoder's coding rules as SQL expressions, for engines that count in place.

:func:`code_expression` turns one column of a :class:`~dpsynth.encoding.TableEncoder`
into a SQL expression that gives every raw row exactly the code
``TableEncoder.encode`` gives it:

- categorical: the raw value's :func:`~dpsynth.schema.category_key`, computed
  in SQL from the source type, matched against the declared categories; no
  match gives the "other" code;
- boolean: ``False``/``True`` (also ``true``/``false`` text and 0/1);
- integer, continuous and datetime: the bin, found by a binary tree of
  comparisons with the encoder's own edges (for whole numbers: a lookup in a
  list of codes when the inner edges span few values, one integer division
  for the encoder's evenly spread integer bins), so the code equals numpy's
  ``searchsorted`` on the same edges; out-of-range values fall in the first
  or last bin (clipping); datetimes are compared as UTC nanoseconds;
- missing values (``NULL``, and ``NaN`` in a float column): the missing code.

A value that ``Schema.check_frame`` refuses gets a negative sentinel code
(:class:`Refusal`) instead, so one aggregation both counts and validates.

The expressions use the SQL that DuckDB and Spark share; the few differences
(quoting, string literals, datetimes) live in :class:`Dialect`.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from enum import Enum, IntEnum

import numpy as np
import pandas as pd

from dpsynth.encoding import TableEncoder
from dpsynth.encoding.formats import BOOLEAN_TEXT, DECIMAL_TEXT, FORMATS
from dpsynth.encoding.profile import NS_PER_DAY
from dpsynth.errors import Problem
from dpsynth.io import ISO_DATETIME
from dpsynth.schema import ColumnKind, ColumnSpec, category_key

#: largest magnitude below which a whole float converts to BIGINT exactly (under 2**63)
_BIGINT_SAFE = "9.2e18"
#: integer columns compare with integer literals when every edge and bound is below this
_EXACT_INTEGER = 2**53
#: integer bins spanning at most this many values are one list lookup (measured: a list of 88
#: codes is about 2x faster than a 16-bin bisection in DuckDB; one of 4,377 is slower)
_LOOKUP_SPAN = 256

# ISO text whose time has no seconds (2024-01-31 09:00, 09:00Z, 09:00+09:00), and an offset
# written +hhmm: Spark's parser needs both written out
_SPARK_NO_SECONDS = r"^(\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2})(?![:0-9])"
_SPARK_BARE_OFFSET = r"([+-]\d{2})(\d{2})$"

# An ISO time followed by a UTC offset: such text is an instant, other text is naive UTC.
_OFFSET_PATTERN = r"[0-9]:[0-9][0-9](:[0-9][0-9](\.[0-9]+)?)?\s*(Z|[+-][0-9][0-9](:?[0-9][0-9])?)$"


class SourceType(str, Enum):
    """What a source column holds, as far as the coding rules care."""

    STRING = "string"
    INTEGER = "integer"
    FLOAT = "float"
    BOOLEAN = "boolean"
    #: an instant, or a naive time taken as UTC
    TIMESTAMP = "timestamp"
    DATE = "date"
    OTHER = "other"


class Refusal(IntEnum):
    """Sentinel codes of values the schema refuses; negative, so never a real code."""

    MISSING = -1  # missing in a column that is not nullable
    UNKNOWN = -2  # not a declared category (on_unknown: error)
    NOT_NUMBER = -3
    NOT_BOOLEAN = -4
    NOT_DATETIME = -5
    NOT_FINITE = -6
    NOT_WHOLE = -7
    OUTSIDE = -8  # outside the bounds (on_unknown: error)


@dataclass(frozen=True)
class ColumnPlan:
    """What the SQL needs of one encoded column.

    Attributes
    ----------
    spec : ColumnSpec
        The column's public specification.
    n_values : int
        Number of value codes (before "other" and missing).
    other_code, missing_code : int or None
        As :meth:`TableEncoder.other_code` and :meth:`TableEncoder.missing_code`.
    edges : tuple or None
        Bin edges: floats (numeric) or int nanoseconds since the epoch, UTC (datetime).
    """

    spec: ColumnSpec
    n_values: int
    other_code: int | None
    missing_code: int | None
    edges: tuple[float, ...] | tuple[int, ...] | None

    @property
    def name(self) -> str:
        """The column name."""
        return self.spec.name

    @property
    def null_code(self) -> int:
        """The code of a missing value: the missing code, or the refusal where none may occur."""
        return self.missing_code if self.missing_code is not None else int(Refusal.MISSING)

    @property
    def unknown_code(self) -> int:
        """The code of a value outside the categories: "other", or the refusal where none may occur."""
        return self.other_code if self.other_code is not None else int(Refusal.UNKNOWN)

    @property
    def range(self) -> tuple[float, float] | tuple[int, int]:
        """The bounds ``on_unknown: error`` checks: the declared ends, not the bin edges."""
        spec = self.spec
        ends = (spec.lower, spec.upper) if spec.bin_edges is None else (spec.bin_edges[0], spec.bin_edges[-1])
        if spec.kind is ColumnKind.DATETIME:
            return _utc_ns(ends[0]), _utc_ns(ends[1])
        return float(ends[0]), float(ends[1])


def _utc_ns(value: object) -> int:
    return int(pd.Timestamp(value).value)


def column_plans(encoder: TableEncoder) -> list[ColumnPlan]:
    """One :class:`ColumnPlan` per column of ``encoder``, in schema order."""
    plans = []
    for spec in encoder.schema:
        name = spec.name
        missing, other = encoder.missing_code(name), encoder.other_code(name)
        n_values = encoder.domain[name] - (missing is not None) - (other is not None)
        edges: tuple[float, ...] | tuple[int, ...] | None = None
        if spec.kind.is_numeric:
            edges = tuple(float(e) for e in encoder.bin_edges(name))
        elif spec.kind is ColumnKind.DATETIME:
            edges = tuple(int(e) for e in encoder.bin_edges(name).view("int64"))
        plans.append(ColumnPlan(spec, n_values, other, missing, edges))
    return plans


@dataclass(frozen=True)
class Dialect:
    """The differences between the SQL of two engines.

    Parameters
    ----------
    name : str
        ``"duckdb"`` or ``"spark"``.
    """

    name: str

    def identifier(self, name: str) -> str:
        """A quoted column name."""
        if self.name == "spark":
            return "`" + name.replace("`", "``") + "`"
        return '"' + name.replace('"', '""') + '"'

    def string(self, text: str) -> str:
        """A string literal."""
        if self.name == "spark":
            return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"
        return "'" + text.replace("'", "''") + "'"

    def lookup(self, key: str, keys: list[str | None], fallback: int) -> str:
        """The position of ``key`` in ``keys`` (literals; None never matches), or ``fallback``."""
        if self.name == "duckdb":
            # One list lookup is about twice as fast as a chain of comparisons on long lists.
            listed = ", ".join("NULL" if k is None else k for k in keys)
            return f"coalesce(list_position([{listed}], {key}) - 1, {fallback})"
        # A map lookup: one hash probe instead of a chain of comparisons.
        pairs = ", ".join(f"{k}, {i}" for i, k in enumerate(keys) if k is not None)
        if not pairs:
            return str(fallback)
        return f"coalesce(try_element_at(map({pairs}), {key}), {fallback})"

    @property
    def integer_division(self) -> str:
        """The operator of integer division."""
        return "div" if self.name == "spark" else "//"

    def element(self, codes: list[int], position: str) -> str:
        """The code at 1-based ``position`` (an expression, in range) of a list of non-negative codes."""
        listed = ", ".join(str(c) for c in codes)
        if self.name == "spark":
            return f"element_at(array({listed}), CAST({position} AS INT))"
        # A list typed as narrow as its codes is folded once; an untyped one returns
        # BIGINT codes, which cost a cast per row or a wider hash key.
        return f"(CAST([{listed}] AS {narrowest_integer(max(codes))}[]))[{position}]"

    def epoch_ns(self, column: str, source: SourceType) -> str:
        """Nanoseconds since the epoch, UTC, of a time column; NULL for unreadable text."""
        if self.name == "spark":
            # Spark times are microseconds; the engine runs its job with the session in UTC.
            if source is SourceType.STRING:
                # Spark parses an offset only after seconds, and only as +hh:mm: ISO text
                # without them (09:00+09:00, 10:00Z, +0900) is written so first.
                seconds = (f"regexp_replace({column}, {self.string(_SPARK_NO_SECONDS)}, "
                           f"{self.string('$1:00')})")
                offset = f"regexp_replace({seconds}, {self.string(_SPARK_BARE_OFFSET)}, {self.string('$1:$2')})"
                return f"(unix_micros(try_to_timestamp({offset})) * 1000)"
            return f"(unix_micros(CAST({column} AS TIMESTAMP)) * 1000)"
        if source is SourceType.STRING:
            # Text with an offset is an instant; naive text is UTC whatever the session zone.
            return (
                f"(CASE WHEN regexp_matches({column}, {self.string(_OFFSET_PATTERN)}) "
                f"THEN epoch_ns(TRY_CAST({column} AS TIMESTAMPTZ)) "
                f"ELSE epoch_ns(TRY_CAST({column} AS TIMESTAMP_NS)) END)"
            )
        return f"epoch_ns({column})"


#: the characters a regular expression's ``\s`` matches, as Spark SQL (spaces around a number)
_SPARK_SPACES = "concat(' ', char(9), char(10), char(11), char(12), char(13))"


def stripped_text(column: str, dialect: Dialect) -> str:
    """SQL of a text column with the spaces around it (``\\s``) removed, as pandas reads a number."""
    if dialect.name == "spark":
        # Spark's btrim works on its own strings: a regular expression costs a Java string per value.
        return f"btrim({column}, {_SPARK_SPACES})"
    spaces = dialect.string("^\\s+|\\s+$")
    return f"regexp_replace({column}, {spaces}, '', 'g')"


def text_number(stripped: str, dialect: Dialect) -> str:
    """SQL of stripped text as a double, NULL if it is none.

    Only where the text is :data:`~dpsynth.encoding.formats.DECIMAL_TEXT` is
    the double used; Spark casts only there.
    """
    if dialect.name == "spark":
        # Spark's cast of text that is no number throws and catches an exception: about 0.7 us a
        # value, 4x the regular expression that tells numbers first.
        decimal = dialect.string("^(?:" + DECIMAL_TEXT + ")$")
        return f"CASE WHEN {stripped} RLIKE {decimal} THEN try_cast({stripped} AS DOUBLE) END"
    return f"TRY_CAST({stripped} AS DOUBLE)"


def format_class_expression(
    column: str,
    dialect: Dialect,
    na_values: tuple[str, ...] = (),
    *,
    stripped: str | None = None,
    number: str | None = None,
) -> str:
    """SQL giving the :data:`~dpsynth.encoding.formats.FORMATS` class of each value of a text column.

    The class :func:`~dpsynth.encoding.formats.value_formats` gives the same
    text read by pandas: pandas' boolean text; numbers (spaces around allowed)
    whole and exact in a double, or not, or not finite (text); ISO times at
    midnight UTC or not (to the microsecond where the engine reads times so),
    ``24:00`` and impossible dates being text, as pandas reads them.

    Parameters
    ----------
    column : str
        A text expression (a VARCHAR column, or a Spark column cast to STRING).
    dialect : Dialect
    na_values : tuple of str
        Text read as missing besides NULL (pandas' markers, for a reader that
        knows only one).
    stripped, number : str, optional
        Columns already holding :func:`stripped_text` and :func:`text_number`
        of ``column`` (computed once in an earlier projection, where the engine
        would evaluate them once per use).
    """
    index = {name: i for i, name in enumerate(FORMATS)}
    spark = dialect.name == "spark"

    def full(text: str, pattern: str) -> str:
        if spark:
            return f"({text} RLIKE {dialect.string('^(?:' + pattern + ')$')})"
        return f"regexp_full_match({text}, {dialect.string(pattern)})"

    def found(text: str, pattern: str) -> str:
        return f"({text} RLIKE {dialect.string(pattern)})" if spark else f"regexp_matches({text}, {dialect.string(pattern)})"

    booleans = ", ".join(dialect.string(t) for t in BOOLEAN_TEXT)
    stripped = stripped or stripped_text(column, dialect)
    number = number or text_number(stripped, dialect)
    missing = f"{column} IS NULL"
    if na_values:
        missing += f" OR {column} IN ({', '.join(dialect.string(v) for v in na_values)})"
    ns = dialect.epoch_ns(column, SourceType.STRING)
    return (
        f"CASE WHEN {missing} THEN {index['missing']} "
        f"WHEN {column} IN ({booleans}) THEN {index['boolean']} "
        f"WHEN {full(stripped, DECIMAL_TEXT)} THEN {_number_class(number, dialect)} "
        f"WHEN {full(column, ISO_DATETIME.pattern)} AND NOT {found(column, '[ T]24:')} THEN "
        f"CASE WHEN {ns} IS NULL THEN {index['text']} WHEN {ns} % {NS_PER_DAY} = 0 THEN {index['date']} "
        f"ELSE {index['datetime']} END "
        f"ELSE {index['text']} END"
    )


def _number_class(number: str, dialect: Dialect) -> str:
    """The class of a double read from a number: integer when whole and exact, else decimal; text if not finite."""
    index = {name: i for i, name in enumerate(FORMATS)}
    finite = (f"(NOT isnan({number}) AND abs({number}) < CAST('Infinity' AS DOUBLE))" if dialect.name == "spark"
              else f"isfinite({number})")
    return (
        f"CASE WHEN {finite} AND {number} = round({number}) AND abs({number}) < {float(2**53)!r} "
        f"THEN {index['integer']} WHEN {finite} THEN {index['decimal']} ELSE {index['text']} END"
    )


def typed_class_expression(column: str, source: SourceType, dialect: Dialect) -> str | None:
    """The class :func:`format_class_expression` gives the text of a column the reader already typed.

    A CSV reader that infers types (Spark) reads a column as numbers or
    booleans only when every value is one; the class of each is then told by
    the value, with no text to match. A NaN was read from ``NaN`` text, a
    missing marker. None for other types, whose text is classed as text.
    """
    index = {name: i for i, name in enumerate(FORMATS)}
    if source is SourceType.BOOLEAN:
        return f"CASE WHEN {column} IS NULL THEN {index['missing']} ELSE {index['boolean']} END"
    if source in (SourceType.INTEGER, SourceType.FLOAT):
        number = f"CAST({column} AS DOUBLE)"
        return (f"CASE WHEN {column} IS NULL OR isnan({number}) THEN {index['missing']} "
                f"ELSE {_number_class(number, dialect)} END")
    return None


DUCKDB = Dialect("duckdb")
SPARK = Dialect("spark")


def code_expression(plan: ColumnPlan, source: SourceType, dialect: Dialect) -> str:
    """SQL giving the code of every row of one column (a :class:`Refusal` if refused).

    Parameters
    ----------
    plan : ColumnPlan
        The column's coding.
    source : SourceType
        What the source column holds.
    dialect : Dialect
        The engine's SQL.

    Returns
    -------
    str
        A SQL expression over the column, of an integer type.
    """
    column = dialect.identifier(plan.name)
    missing = f"{column} IS NULL" + (f" OR isnan({column})" if source is SourceType.FLOAT else "")
    kind = plan.spec.kind
    if kind is ColumnKind.CATEGORICAL:
        present = _categorical(plan, column, source, dialect)
    elif kind is ColumnKind.BOOLEAN:
        present = _boolean(column, source, dialect)
    elif kind is ColumnKind.DATETIME:
        present = _datetime(plan, column, source, dialect)
    else:
        present = _numeric(plan, column, source, dialect)
    return f"(CASE WHEN {missing} THEN {plan.null_code} ELSE {present} END)"


@dataclass(frozen=True)
class GroupKey:
    """What DuckDB groups one column by, and how a key decodes to the column's code.

    Attributes
    ----------
    sql : str
        An integer SQL expression over the source column.
    codes : tuple of int or None
        The code of key ``k`` at index ``k``, a NULL key taking index 0; None when
        the key is the code itself.
    """

    sql: str
    codes: tuple[int, ...] | None = None

    def decode(self, keys: np.ndarray) -> np.ndarray:
        """The int64 codes of fetched keys (a masked array where some are NULL)."""
        values = np.asarray(np.ma.getdata(keys), dtype=np.int64)
        if self.codes is None:
            return values
        return np.asarray(self.codes, dtype=np.int64)[np.where(np.ma.getmaskarray(keys), 0, values)]


def group_key(plan: ColumnPlan, source: SourceType) -> GroupKey:
    """The DuckDB grouping key of one column: its code, or a lighter key that decodes to it.

    A categorical column groups by its category's 1-based position in a list that
    ends with NULL: one list search per row, where the code also needs a ``CASE``
    for missing values and a ``coalesce`` for other values. Positions decode to
    the codes, the NULL's position to the missing code, and no match (a NULL key,
    index 0: positions start at 1) to the code of other values. Doubles keep their
    code: ``NaN`` is missing too, and is no NULL.

    Notes
    -----
    On Adult resampled to 10^7 rows, these keys with codes left as wide as their
    expressions give them took the grouping query from 4.2x to 2.8x the plain
    scan of the file (median of 7 interleaved runs).
    """
    categories = plan.spec.categories
    if plan.spec.kind is ColumnKind.CATEGORICAL and categories and source is not SourceType.FLOAT:
        listed = ", ".join(DUCKDB.string(category_key(c)) for c in categories)
        column = category_key_expression(DUCKDB.identifier(plan.name), source)
        codes = (plan.unknown_code, *range(len(categories)), plan.null_code)
        return GroupKey(f"list_position([{listed}, NULL], {column})", codes)
    return GroupKey(code_expression(plan, source, DUCKDB))


def narrowest_integer(largest: int) -> str:
    """DuckDB's narrowest signed integer type that holds every code from 0 to ``largest``."""
    for name, bits in (("TINYINT", 8), ("SMALLINT", 16), ("INTEGER", 32)):
        if largest <= 2 ** (bits - 1) - 1:
            return name
    return "BIGINT"


def packed_key(codes: list[str], sizes: list[int]) -> str | None:
    """One BIGINT holding every code (mixed radix, the last code varying fastest), or None.

    A row with a :class:`Refusal` in any column gets ``-1``: such a table is refused, and
    its report needs the codes column by column. None when the product of ``sizes``
    reaches ``2**63``, where the key would overflow.
    """
    if math.prod(sizes) >= 2**63:
        return None
    strides = [math.prod(sizes[i + 1:]) for i in range(len(sizes))]
    packed = " + ".join(f"CAST({c} AS BIGINT) * {s}" for c, s in zip(codes, strides, strict=True))
    refused = " OR ".join(f"{c} < 0" for c in codes)
    return f"(CASE WHEN {refused} THEN -1 ELSE {packed} END)"


def type_problem(spec: ColumnSpec, source: SourceType, type_name: str) -> Problem | None:
    """The problem of a source column whose type cannot hold the column's kind, if any."""
    if spec.kind.is_numeric and source in (SourceType.BOOLEAN, SourceType.TIMESTAMP, SourceType.DATE):
        return Problem(spec.name, f"the column holds {type_name} values, not numbers",
                       "declare it with the kind of its values, or convert them to numbers first")
    if spec.kind is ColumnKind.DATETIME and source in (SourceType.INTEGER, SourceType.FLOAT, SourceType.BOOLEAN):
        return Problem(spec.name, f"the column holds {type_name} values, not datetimes",
                       "parse it into datetimes first (pandas.to_datetime) or declare it numeric")
    if source is SourceType.OTHER and spec.kind is not ColumnKind.CATEGORICAL:
        return Problem(spec.name, f"the column holds {type_name} values",
                       f"convert them to {spec.kind.value} values first")
    return None


def _categorical(plan: ColumnPlan, column: str, source: SourceType, dialect: Dialect) -> str:
    fallback = plan.unknown_code
    categories = plan.spec.categories or ()
    if not categories:
        return str(fallback)
    if source is SourceType.FLOAT:
        # Doubles are matched as numbers: the engines write them as text in their own ways
        # (Spark: 1.0E-4), and a category matches a double only when its key is that
        # double's key (so "1.50" matches nothing, as in the pandas encoder).
        numbers = [_float_of_key(category_key(c)) for c in categories]
        return dialect.lookup(column, [None if f is None else _double(f) for f in numbers], fallback)
    keys = [dialect.string(category_key(c)) for c in categories]
    return dialect.lookup(category_key_expression(column, source), keys, fallback)


def _float_of_key(key: str) -> float | None:
    """The double whose :func:`~dpsynth.schema.category_key` is ``key``, if there is one."""
    try:
        number = float(key)
    except ValueError:
        return None
    return number if not math.isnan(number) and category_key(number) == key else None


def category_key_expression(column: str, source: SourceType) -> str:
    """:func:`~dpsynth.schema.category_key` of a column in SQL; NULL where the column is NULL."""
    if source is SourceType.STRING:
        return column
    if source is SourceType.BOOLEAN:
        return f"(CASE WHEN {column} THEN 'True' WHEN NOT {column} THEN 'False' END)"
    if source is SourceType.FLOAT:
        # Whole numbers are written without a fraction, as category_key writes them.
        return (
            f"(CASE WHEN {column} = floor({column}) AND abs({column}) < {_BIGINT_SAFE} "
            f"THEN CAST(CAST({column} AS BIGINT) AS STRING) ELSE CAST({column} AS STRING) END)"
        )
    return f"CAST({column} AS STRING)"


def _boolean(column: str, source: SourceType, dialect: Dialect) -> str:
    bad = int(Refusal.NOT_BOOLEAN)
    if source is SourceType.BOOLEAN:
        return f"(CASE WHEN {column} THEN 1 ELSE 0 END)"
    if source is SourceType.STRING:
        true = ", ".join(dialect.string(t) for t in ("True", "true", "TRUE"))
        false = ", ".join(dialect.string(t) for t in ("False", "false", "FALSE"))
        return f"(CASE WHEN {column} IN ({true}) THEN 1 WHEN {column} IN ({false}) THEN 0 ELSE {bad} END)"
    if source in (SourceType.INTEGER, SourceType.FLOAT):
        return f"(CASE WHEN {column} = 1 THEN 1 WHEN {column} = 0 THEN 0 ELSE {bad} END)"
    return str(bad)


def _numeric(plan: ColumnPlan, column: str, source: SourceType, dialect: Dialect) -> str:
    edges, (lo, hi) = list(plan.edges or ()), plan.range
    if source is SourceType.INTEGER and max(abs(v) for v in [*edges, lo, hi]) < _EXACT_INTEGER:
        # Whole numbers are finite and whole; x < e is x < ceil(e) without a cast to double.
        checks = []
        if plan.spec.on_unknown == "error":
            checks.append(f"WHEN {column} < {math.ceil(lo)} OR {column} > {math.floor(hi)} THEN {int(Refusal.OUTSIDE)}")
        bins = _integer_bins(column, [math.ceil(e) for e in edges], plan.n_values, dialect)
        return f"(CASE {' '.join(checks)} ELSE {bins} END)" if checks else bins
    if source is SourceType.STRING:
        x = f"TRY_CAST({column} AS DOUBLE)"
        checks = [f"WHEN {x} IS NULL OR isnan({x}) THEN {int(Refusal.NOT_NUMBER)}"]
    elif source in (SourceType.INTEGER, SourceType.FLOAT):
        x = f"CAST({column} AS DOUBLE)"
        checks = []
    else:
        return str(int(Refusal.NOT_NUMBER))
    checks.append(f"WHEN abs({x}) = CAST('Infinity' AS DOUBLE) THEN {int(Refusal.NOT_FINITE)}")
    if plan.spec.kind is ColumnKind.INTEGER:
        checks.append(f"WHEN {x} <> floor({x}) THEN {int(Refusal.NOT_WHOLE)}")
    if plan.spec.on_unknown == "error":
        checks.append(f"WHEN {x} < {_double(lo)} OR {x} > {_double(hi)} THEN {int(Refusal.OUTSIDE)}")
    tree = _bin_tree(x, [_double(e) for e in edges], 0, plan.n_values - 1)
    return f"(CASE {' '.join(checks)} ELSE {tree} END)"


def _datetime(plan: ColumnPlan, column: str, source: SourceType, dialect: Dialect) -> str:
    if source not in (SourceType.STRING, SourceType.TIMESTAMP, SourceType.DATE):
        return str(int(Refusal.NOT_DATETIME))
    ns = dialect.epoch_ns(column, source)
    checks = []
    if source is SourceType.STRING:
        checks.append(f"WHEN {ns} IS NULL THEN {int(Refusal.NOT_DATETIME)}")
    if plan.spec.on_unknown == "error":
        lo, hi = plan.range
        checks.append(f"WHEN {ns} < {lo} OR {ns} > {hi} THEN {int(Refusal.OUTSIDE)}")
    tree = _bin_tree(ns, [str(int(e)) for e in plan.edges or ()], 0, plan.n_values - 1)
    return f"(CASE {' '.join(checks)} ELSE {tree} END)" if checks else tree


def _integer_bins(column: str, edges: list[int], n_bins: int, dialect: Dialect) -> str:
    """The bin of a whole number, given the whole-number edges ``ceil(edge)``.

    A short span between the inner edges is one lookup in a list of codes
    (the value clipped into the span first: clipping, as the encoder does);
    a wide one is one integer division when the edges are the encoder's evenly
    spread integer bins, else a bisection (a long list literal costs more than
    it saves).
    """
    inner = edges[1:n_bins]
    if not inner:
        return "0"
    low, high = inner[0] - 1, inner[-1]
    # Clipped into the span first, so the cast is exact and no arithmetic overflows a narrow type.
    clipped = f"CAST(least(greatest({column}, {low}), {high}) AS BIGINT)"
    if high - low + 1 <= _LOOKUP_SPAN:
        codes = [bisect.bisect_right(inner, v) for v in range(low, high + 1)]
        return dialect.element(codes, f"{clipped} - {low - 1}")
    # The encoder's own integer bins put edge j at lower + floor(j * n / bins) for n whole
    # numbers, so a value's bin is floor(((x - lower + 1) * bins - 1) / n): one division.
    lower, n = edges[0], edges[-1] - edges[0]
    if (n >= n_bins and (high - lower + 1) * n_bins < 2**62
            and all(e == lower + (j * n) // n_bins for j, e in enumerate(inner, start=1))):
        return f"((({clipped} - {lower - 1}) * {n_bins} - 1) {dialect.integer_division} {n})"
    return _bin_tree(column, [str(e) for e in edges], 0, n_bins - 1)


def _double(value: float) -> str:
    # repr is the shortest text that reads back as the same double in both engines;
    # both read infinities written as Infinity.
    value = float(value)
    text = repr(value) if math.isfinite(value) else ("Infinity" if value > 0 else "-Infinity")
    return f"CAST('{text}' AS DOUBLE)"


def _bin_tree(x: str, edges: list[str], low: int, high: int) -> str:
    """Code ``c`` in ``low..high`` with ``edges[c] <= x < edges[c + 1]``, by bisection.

    Only the inner edges are compared, so values below the first edge land in
    bin 0 and values above the last in the last bin: clipping, as the encoder does.
    """
    if low == high:
        return str(low)
    mid = (low + high + 1) // 2
    return (
        f"(CASE WHEN {x} < {edges[mid]} THEN {_bin_tree(x, edges, low, mid - 1)} "
        f"ELSE {_bin_tree(x, edges, mid, high)} END)"
    )
