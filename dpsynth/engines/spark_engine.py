"""Counting on Spark: the encoding as column expressions, one job for every clique.

The encoder's rules become Spark SQL expressions (:mod:`dpsynth.engines.sql`)
evaluated on the executors, so raw rows never reach the driver. One job
groups the encoded table by one long key packing every code (by every column
when the domain is too large to pack, or when a value is refused) and
collects its distinct code rows with their counts (bounded by the domain, not
by the rows), with no more shuffle partitions than cores; every marginal
is then counted from that table on the driver
(:class:`~dpsynth.engines.grouped.GroupedCounts`), so a batch of cliques
costs one job, not one per clique.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

import numpy as np

from dpsynth.domain import Domain
from dpsynth.encoding import TableEncoder
from dpsynth.engines.grouped import GroupedCounts, GroupedSourceEngine, unpack
from dpsynth.engines.refusals import SHOWN, column_problems, structure_problems
from dpsynth.engines.sql import (
    SPARK,
    ColumnPlan,
    Refusal,
    SourceType,
    code_expression,
    column_plans,
    packed_key,
    type_problem,
)
from dpsynth.errors import DataReadError, EngineError, InputDataError, Problem, parameter_error
from dpsynth.io import csv_separator, listed_source

_TYPES = {
    "StringType": SourceType.STRING, "VarcharType": SourceType.STRING, "CharType": SourceType.STRING,
    "ByteType": SourceType.INTEGER, "ShortType": SourceType.INTEGER, "IntegerType": SourceType.INTEGER,
    "LongType": SourceType.INTEGER, "FloatType": SourceType.FLOAT, "DoubleType": SourceType.FLOAT,
    "DecimalType": SourceType.FLOAT, "BooleanType": SourceType.BOOLEAN, "TimestampType": SourceType.TIMESTAMP,
    "TimestampNTZType": SourceType.TIMESTAMP, "DateType": SourceType.DATE,
}
_TIME_ZONE = "spark.sql.session.timeZone"
_SHUFFLE_PARTITIONS = "spark.sql.shuffle.partitions"
_CSV_COLUMN_PRUNING = "spark.sql.csv.parser.columnPruning.enabled"


def _pyspark() -> Any:
    try:
        import pyspark.sql
    except ImportError:
        raise EngineError("the Spark engine needs pyspark: pip install 'dpsynth[spark]'") from None
    return pyspark.sql


class SparkEngine(GroupedSourceEngine):
    """Exact marginals of a Spark DataFrame or of files Spark reads.

    Parameters
    ----------
    source : pyspark.sql.DataFrame, str or path
        A DataFrame, or a Parquet (``.parquet``, ``.pq``) or CSV (``.csv``,
        ``.csv.gz``) file, a directory of part files named so
        (``people.parquet/``), or a glob (``people/*.parquet``).
    encoder : TableEncoder
        The encoder of the table's complete public schema.
    spark : pyspark.sql.SparkSession, optional
        The session that reads a path; the active one (or a new local one) by default.

    Raises
    ------
    InputDataError
        Listing every problem of the table, as ``TableEncoder.encode`` lists them.
    DataReadError
        If the files cannot be read.
    EngineError
        If pyspark is not installed.

    Notes
    -----
    The table is read once, at construction, by one job that validates and
    groups it; only the distinct code rows and their counts reach the driver.
    Spark times have microsecond resolution and the job runs with the
    session's time zone set to UTC (restored afterwards), so naive times are
    UTC as in the pandas path. A CSV read by Spark takes only empty fields as
    missing.
    """

    def __init__(self, source: Any, encoder: TableEncoder, spark: Any = None):
        if not isinstance(encoder, TableEncoder):
            raise parameter_error("encoder", type(encoder).__name__, "a dpsynth.encoding.TableEncoder")
        self.domain: Domain = encoder.domain
        self._frame = _frame(source, spark)
        self._plans = column_plans(encoder)
        with _job_settings(self._frame.sparkSession):
            self._counts = self._group()

    def _group(self) -> GroupedCounts:
        fields = {f.name: f.dataType for f in self._frame.schema.fields}
        problems = structure_problems([p.name for p in self._plans], fields)
        if problems:
            raise InputDataError(problems)
        self._sources = {p.name: _TYPES.get(type(fields[p.name]).__name__, SourceType.OTHER) for p in self._plans}
        typed = [type_problem(p.spec, self._sources[p.name], fields[p.name].simpleString()) for p in self._plans]
        if any(typed):
            raise InputDataError([p for p in typed if p is not None])
        keys = [f"c{i}" for i in range(len(self._plans))]
        encoded = self._frame.selectExpr(*(f"{self._expression(p)} AS {k}" for p, k in zip(self._plans, keys, strict=True)))
        sizes = [self.domain[p.name] for p in self._plans]
        packed = packed_key(keys, sizes)
        table = None
        with _few_partitions(self._frame.sparkSession):
            if packed is not None:
                # One long key: a smaller hash aggregate and shuffle than one of d columns.
                table = _collect(encoded.selectExpr(f"{packed} AS k").groupBy("k").count())
                if (table["k"] < 0).any():
                    table = None  # refused values: their report needs the codes column by column
                else:
                    table.update(zip(keys, unpack(table["k"], sizes), strict=True))
            if table is None:
                table = _collect(encoded.groupBy(*keys).count())
        weights = np.asarray(table["count"], dtype=np.int64)
        columns = {p.name: np.asarray(table[k], dtype=np.int64) for p, k in zip(self._plans, keys, strict=True)}
        if not weights.size:
            raise InputDataError([Problem(None, "the table has no rows", "pass a non-empty table")])
        for plan in self._plans:
            problems += column_problems(plan, columns[plan.name], weights, self._examples)
        if problems:
            raise InputDataError(problems)
        return GroupedCounts(columns, weights, self.domain)

    def _expression(self, plan: ColumnPlan) -> str:
        return code_expression(plan, self._sources[plan.name], SPARK)

    def _examples(self, plan: ColumnPlan, refusal: Refusal) -> tuple[list[Any], int]:
        column = SPARK.identifier(plan.name)
        raw = column
        if self._sources[plan.name] in (SourceType.TIMESTAMP, SourceType.DATE):
            raw = f"CAST({column} AS STRING)"
        offending = self._frame.where(f"{self._expression(plan)} = {int(refusal)}").selectExpr(f"{raw} AS v").distinct()
        values = [row["v"] for row in offending.orderBy("v").limit(SHOWN).collect()]
        return values, offending.count()


def _frame(source: Any, spark: Any) -> Any:
    sql = _pyspark()
    if isinstance(source, sql.DataFrame):
        return source
    if not isinstance(source, (str, os.PathLike)):
        raise parameter_error("source", type(source).__name__, "a Spark DataFrame, or a CSV or Parquet path or glob")
    session = spark or sql.SparkSession.getActiveSession() or sql.SparkSession.builder.appName("dpsynth").getOrCreate()
    return read_source(source, session)


def read_source(source: str | os.PathLike[str], session: Any) -> Any:
    """A CSV or Parquet file, directory of part files or glob, as a Spark DataFrame.

    A local source is read as the very files :func:`dpsynth.io.source_files`
    lists (those a release fingerprints); a URL (``s3a://``, ``hdfs://``) is
    listed by Spark. CSV files are read with a header row and their types
    inferred.

    Raises
    ------
    DataReadError
        If nothing matches, the extension is not CSV or Parquet, or Spark
        cannot read the files.
    """
    path = os.fspath(source)
    files, kind = listed_source(path)
    try:
        if kind == "parquet":
            return session.read.parquet(*files)
        # The separator of the headers (Spark assumes a comma), and a row of the wrong
        # length refused when a job reads it, not padded with missing values.
        separator = csv_separator(files)
        options = {"sep": separator} if separator is not None else {}
        return session.read.csv(files, header=True, inferSchema=True, mode="FAILFAST", **options)
    except Exception as exc:  # Spark wraps a missing path in its own JVM-side exception types
        raise DataReadError(
            [Problem(None, f"cannot read {path!r}: {str(exc).strip().splitlines()[0]}",
                     "check that the path or glob names CSV or Parquet files")]
        ) from None


def _collect(frame: Any) -> dict[str, np.ndarray]:
    """The columns of a small DataFrame as numpy arrays, through Arrow where Spark has it.

    Raises
    ------
    DataReadError
        If Spark fails to read the files behind it (a malformed CSV row).
    """
    try:
        if hasattr(frame, "toArrow"):
            table = frame.toArrow()
            return {name: table.column(name).to_numpy() for name in table.column_names}
        pdf = frame.toPandas()
    except Exception as exc:  # raised from the JVM, its type depends on the Spark version
        raise read_failure(exc) from None
    return {name: pdf[name].to_numpy() for name in pdf.columns}


#: Spark's error classes of a file a job could not read
_READ_FAILURES = ("FAILED_READ_FILE", "MALFORMED_RECORD_IN_PARSING")


def read_failure(exc: Exception) -> Exception:
    """A :class:`DataReadError` for a Spark job that could not read its files, else ``exc`` itself."""
    text = str(exc)
    if not any(f in text for f in _READ_FAILURES):
        return exc
    lines = [line.strip() for line in text.splitlines() if any(f in line for f in _READ_FAILURES)]
    return DataReadError([Problem(
        None, f"Spark could not read the data: {lines[0]}",
        "check that every row of a CSV has one field per column of its header (an empty field for a "
        "missing value), and quote fields that hold the separator; Spark reads a CSV line by line, so "
        "a quoted field holding a line break fails here too: save such a table as Parquet",
    )])


@contextlib.contextmanager
def _few_partitions(session: Any) -> Iterator[None]:
    """Run with no more shuffle partitions than the session has cores, then restore them.

    The aggregation's output is bounded by the domain, so more partitions than cores
    only add tasks (measured in local mode: 3-9 s against 4-28 s with the default 200
    on Adult resampled to 10^6 rows, the gap largest while the JVM warms up).
    """
    try:
        cores = session.sparkContext.defaultParallelism
    except Exception:  # a Spark Connect session has no SparkContext: leave its setting alone
        yield
        return
    previous = session.conf.get(_SHUFFLE_PARTITIONS)
    session.conf.set(_SHUFFLE_PARTITIONS, str(min(int(previous), cores)))
    try:
        yield
    finally:
        session.conf.set(_SHUFFLE_PARTITIONS, previous)


@contextlib.contextmanager
def _job_settings(session: Any) -> Iterator[None]:
    """Run with the session's time zone set to UTC and CSV column pruning off, then restore both.

    Without pruning every job parses whole CSV rows, so a row with too few
    fields is refused by the first job that reads the file, not only by one
    that reads the columns the row lacks (a one-column discovery job would
    take it as it comes).
    """
    settings = {_TIME_ZONE: "UTC", _CSV_COLUMN_PRUNING: "false"}
    previous = {key: session.conf.get(key, None) for key in settings}
    for key, value in settings.items():
        session.conf.set(key, value)
    try:
        yield
    finally:
        for key, value in previous.items():
            if value is None:
                session.conf.unset(key)
            else:
                session.conf.set(key, value)
