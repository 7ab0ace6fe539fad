"""Counting in DuckDB: CSV or Parquet files of any size, encoded and counted in SQL.

The encoder's rules are pushed down as SQL (:mod:`dpsynth.engines.sql`), so
raw rows never enter Python. One ``GROUP BY`` over every encoded column
reduces the table to its distinct code rows with their counts (bounded by
the domain, not by the rows), which DuckDB computes out of core, spilling
to disk when the data outgrows memory; every marginal is then counted from
that small table in numpy (:class:`~dpsynth.engines.grouped.GroupedCounts`).
The same aggregation validates the table: a value the schema refuses is
reported as ``TableEncoder.encode`` reports it, before any count is returned.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from dpsynth.domain import Domain
from dpsynth.encoding import TableEncoder
from dpsynth.engines.grouped import GroupedCounts, GroupedSourceEngine
from dpsynth.engines.refusals import SHOWN, column_problems, structure_problems
from dpsynth.engines.sql import (
    DUCKDB,
    ColumnPlan,
    Refusal,
    SourceType,
    code_expression,
    column_plans,
    group_key,
    type_problem,
)
from dpsynth.errors import DataReadError, EngineError, InputDataError, Problem, parameter_error
from dpsynth.io import check_csv, csv_separator, listed_source

#: the text pandas.read_csv reads as missing by default, so a CSV means the same through either path
CSV_NA_VALUES = (
    "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
    "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null",
)


def require_duckdb() -> Any:
    try:
        import duckdb
    except ImportError:
        raise EngineError("the DuckDB engine needs duckdb: pip install 'dpsynth[duckdb]'") from None
    return duckdb


def source_type(type_name: str) -> SourceType:
    """The :class:`SourceType` of a DuckDB column type."""
    t = type_name.upper()
    if t == "VARCHAR":
        return SourceType.STRING
    if t == "BOOLEAN":
        return SourceType.BOOLEAN
    if t.endswith("INT") or t in ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UHUGEINT"):
        return SourceType.INTEGER
    if t in ("FLOAT", "DOUBLE") or t.startswith("DECIMAL"):
        return SourceType.FLOAT
    if t.startswith("TIMESTAMP"):
        return SourceType.TIMESTAMP
    if t == "DATE":
        return SourceType.DATE
    return SourceType.OTHER


class DuckDBEngine(GroupedSourceEngine):
    """Exact marginals of a CSV or Parquet table, counted by DuckDB.

    Parameters
    ----------
    source : str, path or duckdb relation
        A CSV (``.csv``, ``.csv.gz``, ``.txt``) or Parquet (``.parquet``,
        ``.pq``) path, or a glob of such files (``data/*.parquet``), or a
        DuckDB relation (``connection.sql(...)``, ``connection.read_parquet(...)``).
    encoder : TableEncoder
        The encoder of the table's complete public schema; the counts are over
        its domain, coded by its rules.
    connection : duckdb.DuckDBPyConnection, optional
        The connection that reads a path (to set ``memory_limit``,
        ``temp_directory`` or ``threads``); a fresh in-memory one by default.

    Raises
    ------
    InputDataError
        Listing every problem of the table (missing or undeclared columns, values
        the schema refuses), as ``TableEncoder.encode`` lists them.
    DataReadError
        If the files cannot be read.
    EngineError
        If duckdb is not installed.

    Notes
    -----
    The table is read once, at construction: one aggregation validates and
    groups it. Exact counts are private; values clipped or mapped to "other"
    are coded but never counted apart. The engine holds the distinct code rows
    (at most ``min(rows, domain size)`` of them) in memory.

    Examples
    --------
    >>> engine = DuckDBEngine("adult.parquet", TableEncoder(adult_schema()))  # doctest: +SKIP
    >>> age_sex, = engine.counts([("age", "sex")])  # doctest: +SKIP
    """

    def __init__(self, source: Any, encoder: TableEncoder, *, connection: Any = None):
        if not isinstance(encoder, TableEncoder):
            raise parameter_error("encoder", type(encoder).__name__, "a dpsynth.encoding.TableEncoder")
        self.domain: Domain = encoder.domain
        self._relation = read_source(source, connection)
        self._plans = column_plans(encoder)
        self._counts = self._group()

    def _group(self) -> GroupedCounts:
        rel = self._relation
        types = dict(zip(rel.columns, (str(t) for t in rel.types), strict=True))
        problems = structure_problems([p.name for p in self._plans], types)
        if problems:
            raise InputDataError(problems)
        self._sources = {p.name: source_type(types[p.name]) for p in self._plans}
        typed = [type_problem(p.spec, self._sources[p.name], types[p.name]) for p in self._plans]
        if any(typed):
            raise InputDataError([p for p in typed if p is not None])
        grouping = [group_key(p, self._sources[p.name]) for p in self._plans]
        keys = ", ".join(f"c{i}" for i in range(len(self._plans)))
        selected = ", ".join(f"{g.sql} AS c{i}" for i, g in enumerate(grouping))
        result = run_query(self._relation, f"SELECT {keys}, count(*) AS n FROM (SELECT {selected} FROM src) GROUP BY {keys}")
        weights = np.asarray(result["n"], dtype=np.int64)
        columns = {p.name: g.decode(result[f"c{i}"]) for i, (p, g) in enumerate(zip(self._plans, grouping, strict=True))}
        if not weights.size:
            raise InputDataError([Problem(None, "the table has no rows", "pass a non-empty table")])
        problems = []
        for plan in self._plans:
            problems += column_problems(plan, columns[plan.name], weights, self._examples)
        if problems:
            raise InputDataError(problems)
        return GroupedCounts(columns, weights, self.domain)

    def _expression(self, plan: ColumnPlan) -> str:
        return code_expression(plan, self._sources[plan.name], DUCKDB)

    def _examples(self, plan: ColumnPlan, refusal: Refusal) -> tuple[list[Any], int]:
        column = DUCKDB.identifier(plan.name)
        raw = column
        if self._sources[plan.name] in (SourceType.TIMESTAMP, SourceType.DATE):
            raw = f"CAST({column} AS STRING)"
        where = f"{self._expression(plan)} = {int(refusal)}"
        values = run_query(self._relation, f"SELECT DISTINCT {raw} AS v FROM src WHERE {where} ORDER BY v LIMIT {SHOWN}",
                           numpy=False)
        ((n_distinct,),) = run_query(self._relation, f"SELECT count(DISTINCT {raw}) FROM src WHERE {where}", numpy=False)
        return [v for (v,) in values], int(n_distinct)


def run_query(relation: Any, sql: str, *, numpy: bool = True) -> Any:
    """Run ``sql`` over ``relation`` (named ``src``): numpy columns, or a list of tuples.

    Raises
    ------
    DataReadError
        If DuckDB cannot read or convert the files behind the relation.
    """
    duckdb = require_duckdb()
    try:
        result = relation.query("src", sql)
        return result.fetchnumpy() if numpy else result.fetchall()
    except (duckdb.IOException, duckdb.ConversionException, duckdb.InvalidInputException) as exc:
        raise DataReadError(
            [Problem(None, f"cannot read the table: {str(exc).splitlines()[0]}",
                     "check that every file holds the same columns in a readable format")]
        ) from None


#: the text pandas.read_csv reads as booleans by default
CSV_BOOLEAN_TEXT = ("True", "TRUE", "true", "False", "FALSE", "false")


def read_csv_as_pandas(con: Any, files: Any) -> Any:
    """CSV files as a DuckDB relation whose column types are the ones pandas would read.

    Types are sniffed from every row, as pandas infers them from the whole
    column, and pandas' missing-value text reads as missing. DuckDB also takes
    ``yes``/``no``, ``t``/``f`` and the like for booleans, where pandas reads
    text: a column DuckDB reads as BOOLEAN whose text is not pandas' boolean
    text is read as text (one more pass over the files, only when DuckDB saw a
    boolean column).

    The relation returned has every type pinned: each query binds its relation
    anew, and a relation left to sniff would read every row again per query
    (12 s against 0.35 s for a query on 10^6 rows of Adult; DP discovery runs
    one or two queries per column).
    """
    options = csv_options(files)
    sniffed = con.read_csv(files, sample_size=-1, **options)
    types = {c: str(t) for c, t in zip(sniffed.columns, sniffed.types, strict=True)}
    booleans = [c for c, t in types.items() if t == "BOOLEAN"]
    if booleans:
        text = con.read_csv(files, all_varchar=True, **options)
        allowed = ", ".join(f"'{v}'" for v in CSV_BOOLEAN_TEXT)
        checks = ", ".join(f"bool_and({_quote(c)} IS NULL OR {_quote(c)} IN ({allowed}))" for c in booleans)
        (flags,) = text.query("src", f"SELECT {checks} FROM src").fetchall()
        types.update({c: "VARCHAR" for c, ok in zip(booleans, flags, strict=True) if ok is False})
    return con.read_csv(files, dtype=types, **options)


def csv_options(files: list[str]) -> dict[str, Any]:
    """DuckDB's options to read CSV files as pandas reads them.

    A header row, pandas' missing-value text, and for local files the separator
    their header lines use (:func:`dpsynth.io.csv_separator`), quotes escaped by
    doubling and no leading row skipped: left to itself, the sniffer takes a file
    whose rows have different numbers of fields for one column, or skips rows to
    a header that fits.
    """
    options: dict[str, Any] = {"header": True, "na_values": list(CSV_NA_VALUES)}
    separator = csv_separator(files)
    if separator is not None:
        options.update(sep=separator, quotechar='"', escapechar='"', skiprows=0)
    return options


def csv_read_error(path: str, files: list[str], exc: Exception) -> DataReadError:
    """The refusal of CSV files DuckDB cannot read: rows of the wrong length named, if that is why."""
    for file in files:
        if "://" not in file:
            try:
                check_csv(file)
            except DataReadError as precise:
                return precise
            except UnicodeDecodeError:
                break  # DuckDB's own message says where
    first = str(exc).strip().splitlines()[0]
    return DataReadError([Problem(None, f"cannot read {path!r}: {first}",
                                  "check that the path or glob names CSV or Parquet files")])


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def read_csv_text(source: Any, connection: Any) -> Any:
    """A CSV source as a DuckDB relation of text: every column VARCHAR, pandas' missing-value text NULL.

    The text the kinds of a CSV are decided from (:func:`dpsynth.encoding.formats.vote_kinds`).

    Raises
    ------
    DataReadError
        If nothing matches or DuckDB cannot read the files.
    """
    duckdb = require_duckdb()
    path = os.fspath(source)
    files, _ = listed_source(path)
    try:
        return connection.read_csv(files, all_varchar=True, **csv_options(files))
    except (duckdb.IOException, duckdb.InvalidInputException) as exc:
        raise csv_read_error(path, files, exc) from None


def read_source(source: Any, connection: Any = None) -> Any:
    """A CSV or Parquet file, directory of part files, glob or relation, as a DuckDB relation.

    A local source is read as the very files :func:`dpsynth.io.source_files`
    lists (those a release fingerprints); a CSV with the column types pandas
    would give it (:func:`read_csv_as_pandas`); a remote URL is listed by DuckDB.

    Raises
    ------
    DataReadError
        If nothing matches, the extension is not CSV or Parquet, or DuckDB
        cannot read the files.
    EngineError
        If duckdb is not installed.
    """
    duckdb = require_duckdb()
    if isinstance(source, duckdb.DuckDBPyRelation):
        return source
    if not isinstance(source, (str, os.PathLike)):
        raise parameter_error("source", type(source).__name__, "a CSV or Parquet path or glob, or a DuckDB relation")
    path = os.fspath(source)
    files, kind = listed_source(path)
    con = connection if connection is not None else duckdb.connect()
    try:
        if kind == "parquet":
            return con.read_parquet(files)
        return read_csv_as_pandas(con, files)
    except (duckdb.IOException, duckdb.InvalidInputException) as exc:
        if kind == "csv":
            raise csv_read_error(path, files, exc) from None
        raise DataReadError(
            [Problem(None, f"cannot read {path!r}: {exc}", "check that the path or glob names CSV or Parquet files")]
        ) from None
