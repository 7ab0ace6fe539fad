"""DP discovery's aggregates computed where the data lives: DuckDB and Spark.

:class:`DuckDBProfiler` and :class:`SparkProfiler` implement
:class:`~dpsynth.encoding.profile.ColumnProfiler` with one ``GROUP BY`` query
per column, so only one row per distinct value (a categorical column) or per
region of the candidate grid (a numeric or datetime column) reaches Python:

* category counts are grouped by the engine's own
  :func:`~dpsynth.schema.category_key` expression, the one the counting
  engines match declared categories with;
* region counts give every value the index of its region, ``2j`` when ``j``
  candidates lie at or below it and it equals none, ``2j - 1`` when it
  equals the ``j``-th. The ``j`` of every value is found by a binary search
  the engine runs: DuckDB's ``histogram`` over fixed boundaries
  (:func:`region_boundaries`), Spark ML's ``Bucketizer`` (a CASE expression
  with thousands of branches takes Spark minutes to compile).

Numbers are compared as doubles and datetimes as float seconds since the
epoch, UTC, as :class:`~dpsynth.encoding.profile.PandasProfiler` compares
them, so every profiler gives the same counts for the same table.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd

from dpsynth.encoding.formats import BOOLEAN_TEXT, FORMATS
from dpsynth.encoding.profile import NS_PER_DAY, absent, unreadable
from dpsynth.engines.duckdb_engine import (
    CSV_NA_VALUES,
    read_csv_text,
    read_source,
    require_duckdb,
    run_query,
    source_type,
)
from dpsynth.engines.spark_engine import _TYPES, _collect, _few_partitions, _frame, _job_settings
from dpsynth.engines.sql import (
    DUCKDB,
    SPARK,
    Dialect,
    SourceType,
    _double,
    category_key_expression,
    format_class_expression,
    stripped_text,
    text_number,
    type_problem,
    typed_class_expression,
)
from dpsynth.errors import InputDataError, Problem
from dpsynth.io import listed_source, types_from_values
from dpsynth.schema import AUTO_RESOLUTION, DEFAULT_BINS, ColumnKind, ColumnSpec, Schema

#: the kind a column of each source type is proposed as (as infer_kind does for dtypes)
_KIND_OF_SOURCE = {
    SourceType.STRING: ColumnKind.CATEGORICAL,
    SourceType.INTEGER: ColumnKind.INTEGER,
    SourceType.FLOAT: ColumnKind.CONTINUOUS,
    SourceType.BOOLEAN: ColumnKind.BOOLEAN,
    SourceType.TIMESTAMP: ColumnKind.DATETIME,
    SourceType.DATE: ColumnKind.DATETIME,
    SourceType.OTHER: ColumnKind.CATEGORICAL,
}
#: region codes of values that are not counted
_MISSING, _NOT_FINITE = -1, -2


class _SQLProfiler(ABC):
    """The queries DuckDB and Spark share; subclasses run them and name the types."""

    dialect: Dialect
    _types: dict[str, str]
    _sources: dict[str, SourceType]
    #: the column types were sniffed from the values (a CSV): the kinds are marked kind_from_data
    _types_from_values: bool = False

    @abstractmethod
    def _group(self, where: str, key: str) -> dict[str, np.ndarray]:
        """Rows ``WHERE where`` counted by ``key``: numpy columns ``k`` and ``n``."""

    @abstractmethod
    def _regions(self, value: str, where: str, candidates: np.ndarray) -> dict[str, np.ndarray]:
        """Rows ``WHERE where`` counted by the region ``k`` of ``value`` among sorted ``candidates``.

        ``k`` is the region index, or ``-1`` for a NULL value (unreadable) and
        ``-2`` for a NaN or infinite one.
        """

    def _dtype(self, column: str) -> str | None:
        """The pandas dtype a column decodes to, when its type says more than its kind."""
        return None

    @property
    def columns(self) -> tuple[str, ...]:
        """The table's column names."""
        return tuple(self._types)

    def kinds(self) -> Schema:
        """Kinds from the column types; nullable as assumed, unless the file's pandas dtype cannot hold a missing value.

        The types of a CSV are sniffed from its values: its kinds are marked
        ``kind_from_data`` (using them requires ``public=True``), and nothing
        else is taken from them (every column nullable, no dtype, datetimes
        ``resolution="auto"``).
        """
        if not self._types:
            raise InputDataError([Problem(None, "the table has no columns", "pass a table with columns")])
        specs = []
        for name, source in self._sources.items():
            kind = _KIND_OF_SOURCE[source]
            ranged = kind.is_numeric or kind is ColumnKind.DATETIME
            if self._types_from_values:
                # Types sniffed from a CSV's values (DATE when no value has a time, TIMESTAMPTZ
                # when one has an offset) give the kind to check, and nothing else.
                specs.append(ColumnSpec(
                    name, kind, bins=DEFAULT_BINS if ranged else None, nullable=True, nullable_assumed=True,
                    resolution=AUTO_RESOLUTION if kind is ColumnKind.DATETIME else None, kind_from_data=True,
                ))
                continue
            # A DATE column holds dates: synthetic values are whole days too.
            dates = source is SourceType.DATE
            dtype = "datetime64[s]" if dates else self._dtype(name)
            # A dtype that cannot hold a missing value (numpy int64, bool) says the column has none.
            nullable = _holds_missing(dtype)
            specs.append(ColumnSpec(
                name, kind, bins=DEFAULT_BINS if ranged else None, nullable=nullable, nullable_assumed=nullable,
                dtype=dtype, resolution=_resolution(source, dtype),
            ))
        return Schema(tuple(specs))

    def problems(self, specs: Sequence[ColumnSpec]) -> list[Problem]:
        """Absent columns, then columns whose type cannot hold their kind."""
        problems = absent(specs, self.columns)
        for spec in specs:
            if spec.name in self._types:
                problem = type_problem(spec, self._sources[spec.name], self._types[spec.name])
                if problem is not None:
                    problems.append(problem)
        return problems

    def _present(self, column: str) -> str:
        col = self.dialect.identifier(column)
        if self._sources[column] is SourceType.FLOAT:
            return f"{col} IS NOT NULL AND NOT isnan({col})"
        return f"{col} IS NOT NULL"

    def category_counts(self, column: str) -> dict[str, int]:
        """Rows per key, grouped by the engine's own ``category_key`` expression."""
        key = category_key_expression(self.dialect.identifier(column), self._sources[column])
        table = self._group(self._present(column), key)
        return {str(k): int(n) for k, n in zip(table["k"], table["n"], strict=True)}

    def category_values(self, column: str, keys: Iterable[str]) -> list[Any]:
        """Keys read back as values of the column's type (numbers, booleans or text)."""
        source = self._sources[column]
        if source is SourceType.INTEGER:
            return [int(k) for k in keys]
        if source is SourceType.FLOAT:
            return [float(k) for k in keys]
        if source is SourceType.BOOLEAN:
            return [k == "True" for k in keys]
        return list(keys)

    def _value(self, column: str, kind: ColumnKind) -> str:
        """The column as a double: the number, or UTC seconds of a time; NULL if unreadable."""
        col, source = self.dialect.identifier(column), self._sources[column]
        if kind is ColumnKind.DATETIME:
            return f"(CAST({self.dialect.epoch_ns(col, source)} AS DOUBLE) / 1e9)"
        if source is SourceType.STRING:
            return f"TRY_CAST({col} AS DOUBLE)"
        return f"CAST({col} AS DOUBLE)"

    def midnight_counts(self, column: str) -> np.ndarray:
        """Present values at midnight UTC and off it, from one aggregation; unreadable ones are refused."""
        ns = self.dialect.epoch_ns(self.dialect.identifier(column), self._sources[column])
        key = f"CASE WHEN {ns} IS NULL THEN {_MISSING} WHEN {ns} % {NS_PER_DAY} = 0 THEN 0 ELSE 1 END"
        table = self._group(self._present(column), key)
        counts = np.zeros(2, dtype=np.int64)
        for k, n in zip(table["k"], table["n"], strict=True):
            if int(k) == _MISSING:
                raise unreadable(column, ColumnKind.DATETIME, f"{int(n)} present value(s) are not readable")
            counts[int(k)] = int(n)
        return counts

    def interval_counts(self, column: str, kind: ColumnKind, candidates: np.ndarray) -> np.ndarray:
        """Region counts from one aggregation; unreadable values are refused, non-finite ones skipped."""
        cands = np.asarray(candidates, dtype=float)
        table = self._regions(self._value(column, kind), self._present(column), cands)
        counts = np.zeros(2 * cands.size + 1, dtype=np.int64)
        for k, n in zip(table["k"], table["n"], strict=True):
            if int(k) == _MISSING:
                raise unreadable(column, kind, f"{int(n)} present value(s) are not readable")
            if int(k) >= 0:
                counts[int(k)] = int(n)
        return counts


def typed_value(text: str, k: str, kind: ColumnKind, dialect: Dialect, number: str | None = None) -> str:
    """SQL reading a text column as ``kind``, NULL where its class ``k`` is not one the kind holds.

    As :func:`~dpsynth.encoding.formats.conform_frame` reads the same values:
    pandas' boolean text, numbers once stripped of spaces (integers as
    BIGINT), ISO times as naive UTC timestamps, text as it is.
    """
    index = {name: i for i, name in enumerate(FORMATS)}
    spark = dialect.name == "spark"
    number = number or text_number(stripped_text(text, dialect), dialect)
    if kind is ColumnKind.BOOLEAN:
        truths = ", ".join(dialect.string(t) for t, v in BOOLEAN_TEXT.items() if v)
        return f"CASE WHEN {k} = {index['boolean']} THEN {text} IN ({truths}) END"
    if kind is ColumnKind.INTEGER:
        return f"CASE WHEN {k} = {index['integer']} THEN CAST({number} AS BIGINT) END"
    if kind is ColumnKind.CONTINUOUS:
        return f"CASE WHEN {k} IN ({index['integer']}, {index['decimal']}) THEN {number} END"
    if kind is ColumnKind.DATETIME:
        micros = f"CAST(floor({dialect.epoch_ns(text, SourceType.STRING)} / 1000) AS BIGINT)"
        stamp = f"timestamp_micros({micros})" if spark else f"make_timestamp({micros})"
        return f"CASE WHEN {k} IN ({index['date']}, {index['datetime']}) THEN {stamp} END"
    return text


def _class_column(name: str) -> str:
    """The name the class of ``name``'s values goes by while a typed table is built."""
    return f"__dpsynth_format_{name}"


def _resolution(source: SourceType, dtype: str | None) -> str | None:
    """A DATE column holds dates; whether a naive TIMESTAMP does is left to DP discovery."""
    if source is SourceType.DATE:
        return "D"
    if source is SourceType.TIMESTAMP and not (dtype or "").endswith("UTC]"):
        return AUTO_RESOLUTION
    return None


def _holds_missing(dtype: str | None) -> bool:
    if dtype is None:
        return True
    resolved = pd.api.types.pandas_dtype(dtype)
    return not (isinstance(resolved, np.dtype) and resolved.kind in "biu")


def parquet_pandas_dtypes(source: Any) -> dict[str, str]:
    """The pandas dtypes the Parquet files written by pandas record in their footers, by column.

    The footers are structure (what pandas wrote), read without a row. A
    column is listed only when every file of the source records the same
    dtype: pandas writes ``int64`` for a part without a missing value and
    ``float64`` or ``Int64`` for one with, so the first file alone would call
    a column of a glob complete when a later part holds missing values.
    Nothing for CSV files, relations, remote URLs, categorical and
    time-zone-aware columns (their types come from DuckDB's), or footers
    without pandas metadata.
    """
    if not isinstance(source, (str, os.PathLike)) or "://" in os.fspath(source):
        return {}
    files, kind = listed_source(source)
    if kind != "parquet":
        return {}
    import pyarrow.parquet as pq

    agreed: dict[str, str] | None = None
    for path in files:
        found = _footer_dtypes(pq.read_schema(path).pandas_metadata or {})
        agreed = found if agreed is None else {n: d for n, d in agreed.items() if found.get(n) == d}
        if not agreed:
            break
    return agreed or {}


def _footer_dtypes(meta: dict[str, Any]) -> dict[str, str]:
    found = {}
    for column in meta.get("columns", []):
        name, numpy_type = column.get("name"), column.get("numpy_type")
        if name is None or column.get("pandas_type") in ("categorical", "datetimetz"):
            continue
        try:
            pd.api.types.pandas_dtype(numpy_type)
        except TypeError:
            continue
        found[str(name)] = str(numpy_type)
    return found


def region_boundaries(candidates: np.ndarray) -> tuple[np.ndarray, list[int]]:
    """Boundaries that cut the line into the regions of ``candidates``, and the region of each.

    A value belongs to the first boundary at or above it. The boundaries are each
    candidate ``c_j`` (region ``2j - 1``, the value equals it) preceded by the largest
    double below it (region ``2j - 2``, strictly between ``c_{j-1}`` and ``c_j``);
    where that double is ``c_{j-1}`` itself the region between is empty and has no
    boundary. Values above every candidate are region ``2k``.
    """
    bounds: list[float] = []
    regions: list[int] = []
    for j, c in enumerate(np.asarray(candidates, dtype=float), start=1):
        below = float(np.nextafter(c, -np.inf))
        if not bounds or below != bounds[-1]:
            bounds.append(below)
            regions.append(2 * j - 2)
        bounds.append(float(c))
        regions.append(2 * j - 1)
    return np.asarray(bounds), regions


class DuckDBProfiler(_SQLProfiler):
    """Aggregates of a CSV or Parquet path, glob or DuckDB relation, computed by DuckDB.

    Parameters
    ----------
    source : str, path or duckdb relation
        As :class:`~dpsynth.engines.DuckDBEngine` takes it (a CSV is read as
        that engine reads it: types sniffed from every row, pandas' missing-value text).
    connection : duckdb.DuckDBPyConnection, optional
        The connection that reads a path.

    Attributes
    ----------
    relation : duckdb.DuckDBPyRelation
        The table, to hand to :class:`~dpsynth.engines.DuckDBEngine` so that a
        CSV is sniffed once.
    """

    dialect = DUCKDB

    def __init__(self, source: Any, *, connection: Any = None):
        duckdb = require_duckdb()
        relation_given = isinstance(source, duckdb.DuckDBPyRelation)
        self._connection = connection if connection is not None or relation_given else duckdb.connect()
        self._source = source
        self.relation = read_source(source, self._connection)
        self._types = {c: str(t) for c, t in zip(self.relation.columns, self.relation.types, strict=True)}
        self._sources = {c: source_type(t) for c, t in self._types.items()}
        self._pandas_dtypes = parquet_pandas_dtypes(source)
        self._types_from_values = types_from_values(source)

    @property
    def decides_kinds(self) -> bool:
        """Whether :meth:`format_counts` can decide the kinds with DP: the source is CSV files."""
        return self._types_from_values

    def format_counts(self, columns: Sequence[str]) -> dict[str, np.ndarray]:
        """Rows of each column in each :data:`~dpsynth.encoding.formats.FORMATS` class, in one scan of the text.

        Private: for :func:`~dpsynth.encoding.formats.decide_kinds` only.
        """
        text = read_csv_text(self._source, self._connection)
        parts = ", ".join(
            f"histogram({format_class_expression(self.dialect.identifier(c), self.dialect)})" for c in columns
        )
        (row,) = run_query(text, f"SELECT {parts} FROM src", numpy=False)
        out = {}
        for column, histogram in zip(columns, row, strict=True):
            counts = np.zeros(len(FORMATS), dtype=np.int64)
            for k, n in (histogram or {}).items():
                counts[int(k)] = int(n)
            out[column] = counts
        return out

    def with_kinds(self, decided: Schema) -> DuckDBProfiler:
        """A profiler of the table with the columns of ``decided`` read as their kinds.

        Built on the text of the CSV: a value whose class the kind does not hold
        becomes NULL, as :func:`~dpsynth.encoding.formats.conform_frame` makes it
        missing; the other columns keep the types DuckDB sniffed. The table is
        read once into a temporary table of the profiler's connection.
        """
        text = read_csv_text(self._source, self._connection)
        classes = ", ".join(
            f"{format_class_expression(self.dialect.identifier(s.name), self.dialect)} AS "
            f"{self.dialect.identifier(_class_column(s.name))}"
            for s in decided
        )
        columns = []
        for name, type_name in self._types.items():
            col = self.dialect.identifier(name)
            if name not in decided.names:
                columns.append(f"CAST({col} AS {type_name}) AS {col}")
                continue
            k = self.dialect.identifier(_class_column(name))
            value = typed_value(col, k, decided[name].kind, self.dialect)
            columns.append(f"{value} AS {col}")
        typed = text.query("src", f"SELECT {classes}, * FROM src").query("src", f"SELECT {', '.join(columns)} FROM src")
        # Classing text by regular expressions doubles the cost of every later query, and
        # discovery and counting run many: the typed table is built once, as a temporary
        # table of the connection (DuckDB spills it to disk past its memory limit); it goes
        # with the connection, which every relation over it keeps open.
        name = f"dpsynth_kinds_{uuid.uuid4().hex}"
        typed.create_view(f"{name}_view")
        try:
            self._connection.execute(f"CREATE TEMP TABLE {name} AS SELECT * FROM {name}_view")
        finally:
            self._connection.execute(f"DROP VIEW IF EXISTS {name}_view")
        return DuckDBProfiler(self._connection.table(name))

    def _dtype(self, column: str) -> str | None:
        if column in self._pandas_dtypes:
            return self._pandas_dtypes[column]
        return "datetime64[ns, UTC]" if self._types[column].upper() in ("TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ") else None

    def _group(self, where: str, key: str) -> dict[str, np.ndarray]:
        return run_query(self.relation, f"SELECT {key} AS k, count(*) AS n FROM src WHERE {where} GROUP BY k")

    def _regions(self, value: str, where: str, candidates: np.ndarray) -> dict[str, np.ndarray]:
        # DuckDB's histogram over fixed boundaries puts a value on the first boundary at or
        # above it, by a binary search per value (no sort of the column, 4-9x faster than
        # the ASOF JOIN that did this on 10^7 rows).
        bounds, regions = region_boundaries(candidates)
        listed = ", ".join(_double(b) for b in bounds)
        ((histogram, unreadable),) = run_query(
            self.relation,
            f"SELECT map_values(histogram(x, [{listed}]) FILTER (WHERE isfinite(x))), "
            f"count(*) FILTER (WHERE x IS NULL) FROM (SELECT {value} AS x FROM src WHERE {where})",
            numpy=False,
        )
        counts = list(histogram or [])  # NULL when no value is finite
        # One count per boundary, then one for values above them all, only if there are such.
        keys = [*regions, 2 * candidates.size][: len(counts)]
        if unreadable:
            keys, counts = [*keys, _MISSING], [*counts, unreadable]
        return {"k": np.asarray(keys, dtype=np.int64), "n": np.asarray(counts, dtype=np.int64)}



class SparkProfiler(_SQLProfiler):
    """Aggregates of a Spark DataFrame (or files Spark reads), computed on the executors.

    Parameters
    ----------
    source : pyspark.sql.DataFrame, str or path
        As :class:`~dpsynth.engines.SparkEngine` takes it.
    spark : pyspark.sql.SparkSession, optional
        The session that reads a path.

    Attributes
    ----------
    frame : pyspark.sql.DataFrame
        The table, to hand to :class:`~dpsynth.engines.SparkEngine`.

    Notes
    -----
    Each aggregation runs with the session's time zone set to UTC and no
    more shuffle partitions than cores (both restored afterwards), so naive
    times are UTC as in the pandas path.
    """

    dialect = SPARK

    def __init__(self, source: Any, spark: Any = None):
        self.frame = _frame(source, spark)
        fields = {f.name: f.dataType for f in self.frame.schema.fields}
        self._types = {name: t.simpleString() for name, t in fields.items()}
        self._sources = {name: _TYPES.get(type(t).__name__, SourceType.OTHER) for name, t in fields.items()}
        self._types_from_values = types_from_values(source)

    #: a Spark table's kinds marked kind_from_data (a CSV's, as Spark inferred them) can be decided with DP
    decides_kinds = True

    def _text(self, column: str) -> str:
        """The column as text, as Spark writes its values (pandas' missing markers still to map)."""
        return f"CAST({self.dialect.identifier(column)} AS STRING)"

    def _classes(self, columns: Sequence[str]) -> Any:
        """The table as text ``t<j>``, with the number ``x<j>`` and class ``k<j>`` of ``columns``.

        A column Spark read as numbers or booleans is classed by its values
        (:func:`~dpsynth.engines.sql.typed_class_expression`); one it left as
        text (or read as times) by its text, in staged projections, so Spark
        evaluates each expression once per value. Build it inside :meth:`_session`.
        """
        d = self.dialect
        position = {name: j for j, name in enumerate(self._types)}
        text = [f"{self._text(name)} AS t{j}" for name, j in position.items()]
        typed, by_text = [], []
        for name in columns:
            j, col = position[name], d.identifier(name)
            k = typed_class_expression(col, self._sources[name], d)
            if k is None:
                by_text.append(j)
                continue
            typed.append(j)
            number = "CAST(NULL AS DOUBLE)" if self._sources[name] is SourceType.BOOLEAN else f"CAST({col} AS DOUBLE)"
            text += [f"{number} AS x{j}", f"{k} AS k{j}"]
        kept = [f"t{j}" for j in position.values()] + [c for j in typed for c in (f"x{j}", f"k{j}")]
        stripped = kept + [f"{stripped_text(f't{j}', d)} AS s{j}" for j in by_text]
        numbers = kept + [f"s{j}" for j in by_text] + [f"{text_number(f's{j}', d)} AS x{j}" for j in by_text]
        classes = kept + [f"x{j}" for j in by_text] + [
            f"{format_class_expression(f't{j}', d, CSV_NA_VALUES, stripped=f's{j}', number=f'x{j}')} AS k{j}"
            for j in by_text
        ]
        return self.frame.selectExpr(*text).selectExpr(*stripped).selectExpr(*numbers).selectExpr(*classes)

    def format_counts(self, columns: Sequence[str]) -> dict[str, np.ndarray]:
        """Rows of each column in each :data:`~dpsynth.encoding.formats.FORMATS` class, in one Spark job.

        A value's class depends on its text alone, so the job classes each
        column's distinct texts, not its rows: every column is stacked as
        ``(column, text)`` pairs, grouped with their counts, classed, and the
        counts summed per class. Columns Spark typed are classed by their
        values before grouping (a handful of classes). Measured on Adult
        resampled to 10^6 rows of CSV: 2.7-3.4 s against 10.8-14.7 s classing
        every row; 2.6-3.0 s against 4.1-4.3 s on a table of unique ids.

        Private: for :func:`~dpsynth.encoding.formats.decide_kinds` only.
        """
        if not columns:
            return {}
        d = self.dialect
        position = {c: j for j, c in enumerate(self._types)}
        entries = []
        for name in columns:
            k = typed_class_expression(d.identifier(name), self._sources[name], d)
            if k is None:
                entries.append(f"{position[name]}, {self._text(name)}, CAST(NULL AS INT)")
            else:
                entries.append(f"{position[name]}, CAST(NULL AS STRING), {k}")
        by_text = format_class_expression("t", d, CSV_NA_VALUES, stripped="s", number="x")
        with self._session():
            pairs = self.frame.selectExpr(f"stack({len(entries)}, {', '.join(entries)}) AS (j, t, k)")
            texts = pairs.groupBy("j", "t", "k").count().selectExpr("*", f"{stripped_text('t', d)} AS s")
            texts = texts.selectExpr("*", f"{text_number('s', d)} AS x")
            classed = texts.selectExpr("j", f"coalesce(k, {by_text}) AS class", "count")
            rows = _collect(classed.groupBy("j", "class").agg({"count": "sum"}).withColumnRenamed("sum(count)", "n"))
        counts = {c: np.zeros(len(FORMATS), dtype=np.int64) for c in columns}
        names = list(self._types)
        for j, k, n in zip(rows["j"], rows["class"], rows["n"], strict=True):
            counts[names[int(j)]][int(k)] += int(n)
        return counts

    def with_kinds(self, decided: Schema) -> SparkProfiler:
        """A profiler of the table with the columns of ``decided`` read as their kinds (see DuckDB's).

        Text decided categorical is kept as it is; the other decided columns are
        classed again (as :meth:`format_counts` classed them) to read each
        value as the kind or as missing. The typed table is kept as a local
        checkpoint (executors' memory, then their disk): discovery and counting
        then read it, not the source and the classing again.
        """
        reclassed = [n for n in decided.names if decided[n].kind is not ColumnKind.CATEGORICAL]
        columns = []
        for j, (name, type_name) in enumerate(self._types.items()):
            col = self.dialect.identifier(name)
            if name not in decided.names:
                columns.append(f"CAST(t{j} AS {type_name}) AS {col}")
                continue
            columns.append(f"{typed_value(f't{j}', f'k{j}', decided[name].kind, self.dialect, f'x{j}')} AS {col}")
        with self._session():
            typed = self._classes(reclassed).selectExpr(*columns).localCheckpoint(eager=True)
        return SparkProfiler(typed)

    def _group(self, where: str, key: str) -> dict[str, np.ndarray]:
        with self._session():
            return self._count(self.frame.where(where).selectExpr(f"{key} AS k"))

    def _regions(self, value: str, where: str, candidates: np.ndarray) -> dict[str, np.ndarray]:
        from pyspark.ml.feature import Bucketizer

        # Bucket j holds c_{j-1} <= x < c_j: j candidates at or below x (a binary search).
        splits = [float("-inf"), *(float(c) for c in candidates), float("inf")]
        buckets = Bucketizer(splits=splits, inputCol="x", outputCol="j", handleInvalid="keep")
        j, literals = "CAST(j AS INT)", ", ".join(_double(c) for c in candidates)
        region = (
            f"CASE WHEN x IS NULL THEN {_MISSING} "
            f"WHEN isnan(x) OR abs(x) = CAST('Infinity' AS DOUBLE) THEN {_NOT_FINITE} "
            f"WHEN {j} = 0 THEN 0 "
            f"WHEN x = element_at(array({literals}), {j}) THEN 2 * {j} - 1 ELSE 2 * {j} END AS k"
        )
        with self._session():
            frame = buckets.transform(self.frame.where(where).selectExpr(f"{value} AS x"))
            return self._count(frame.selectExpr(region))

    @contextlib.contextmanager
    def _session(self) -> Iterator[None]:
        # Spark binds the time zone when an expression is analysed: set it before building.
        session = self.frame.sparkSession
        with _job_settings(session), _few_partitions(session):
            yield

    @staticmethod
    def _count(frame: Any) -> dict[str, np.ndarray]:
        table = _collect(frame.groupBy("k").count())
        return {"k": table["k"], "n": table["count"]}
