"""A table on disk as a release reads it: its files, their fingerprint, a sample of its rows.

The numpy engine reads the table into pandas (:func:`read_frame`), and the
ledger fingerprints its rows (:func:`dpsynth.privacy.ledger.data_fingerprint`).
The DuckDB and Spark engines count the table where it lies, so nothing here
loads it whole: :func:`files_fingerprint` hashes the files' bytes as they
stream by, and :func:`sample_rows` draws a bounded uniform sample of rows for
the evaluation, which reads real rows (not covered by DP, not for release).

A *source* is a CSV or Parquet file, a directory of part files
(``people.parquet/``, as Spark writes them) or a glob (``data/*.parquet``,
``data/**/*.csv``).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd

from dpsynth.encoding.formats import DECIDED_DTYPES
from dpsynth.errors import DataReadError, Problem, parameter_error
from dpsynth.io import GLOB_CHARACTERS, read_table, source_files, types_from_values
from dpsynth.schema import Schema, infer_schema

#: counting engines a release or ``dpsynth synthesize`` can run on
ENGINES = ("numpy", "duckdb", "spark")

#: real rows the evaluation reads when the table is not loaded whole
DEFAULT_EVALUATION_ROWS = 100_000

_CHUNK = 1 << 20
_FINGERPRINT_HEADER = b"dpsynth source files v1\n"


def files_fingerprint(source: str | os.PathLike[str]) -> str:
    """SHA-256 of the bytes of a source's files, streamed, with their names and sizes.

    The digest covers a format header, then for each file of
    :func:`source_files`, in the order of their names, the line
    ``["<name>", <size in bytes>]`` (JSON) followed by the file's bytes. It
    changes when any byte, name or file changes, not when the table moves to
    another folder. It differs from the fingerprint of the same table read
    into pandas (:func:`~dpsynth.privacy.ledger.data_fingerprint`): register
    a dataset with the engine its releases will use.

    Parameters
    ----------
    source : str or path
        A file, a directory of part files, or a glob.

    Returns
    -------
    str
        64 hex digits.

    Raises
    ------
    DataReadError
        If nothing matches or a file cannot be read.
    """
    digest = hashlib.sha256(_FINGERPRINT_HEADER)
    for name, path in source_files(source):
        try:
            with path.open("rb") as handle:
                digest.update(json.dumps([name, os.fstat(handle.fileno()).st_size]).encode() + b"\n")
                while chunk := handle.read(_CHUNK):
                    digest.update(chunk)
        except OSError as exc:
            raise DataReadError(
                [Problem(None, f"cannot read {str(path)!r}: {exc}", "check the file's permissions")]
            ) from None
    return digest.hexdigest()


def read_frame(source: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a file, or every file a glob matches (in name order, one after the other), into pandas.

    A single file is read by :func:`dpsynth.io.read_table`, so its table and
    fingerprint are the ones a plain path has always given.

    Raises
    ------
    DataReadError
        If nothing matches or a file cannot be read.
    """
    text = os.fspath(source)
    if Path(text).exists() or not any(c in text for c in GLOB_CHARACTERS):
        return read_table(text)
    frames = [read_table(path) for _, path in source_files(text)]
    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)


@dataclass(frozen=True)
class RowSample:
    """A uniform random sample of a source's rows.

    Attributes
    ----------
    frame : pandas.DataFrame
        The sampled rows (all of them when the table is no larger than asked).
    total : int
        Rows in the whole table.
    seed : int
        Seed of the sample.
    """

    frame: pd.DataFrame
    total: int
    seed: int

    def note(self, role: str = "table") -> str:
        """One sentence for the report saying what the evaluation read."""
        if len(self.frame) >= self.total:
            return f"The evaluation read all {self.total} rows of the real {role}."
        return (
            f"The evaluation read a uniform random sample of {len(self.frame)} of the "
            f"{self.total} rows of the real {role} (DuckDB reservoir sample, seed {self.seed}); "
            "its figures carry that sample's error on top of the synthesizer's."
        )


def sample_rows(source: str | os.PathLike[str], n: int, seed: int = 0) -> RowSample:
    """A uniform random sample of at most ``n`` rows of a source, read by DuckDB.

    Parameters
    ----------
    source : str or path
        A CSV or Parquet file, directory of part files or glob (the files of
        :func:`source_files`; CSV read with the DuckDB engine's rules, so the
        values are the ones the engine counts).
    n : int
        Rows to draw; the whole table when it has no more.
    seed : int
        Seed of the reservoir sample. DuckDB runs the sample on one thread,
        where its seed makes it repeatable.

    Returns
    -------
    RowSample

    Raises
    ------
    DataReadError
        If the source cannot be read.
    EngineError
        If duckdb is not installed.
    """
    if not (isinstance(n, int) and not isinstance(n, bool) and n >= 1):
        raise parameter_error("n", n, "a positive integer (rows of the evaluation sample)")
    from dpsynth.engines.duckdb_engine import read_source, require_duckdb

    duckdb = require_duckdb()
    text = os.fspath(source)
    # One thread: the reservoir sample's seed makes it repeatable there.
    con = duckdb.connect(config={"threads": 1})
    try:
        relation = read_source(text, con)
        ((total,),) = relation.query("src", "SELECT count(*) FROM src").fetchall()
        frame = relation.query(
            "src", f"SELECT * FROM src USING SAMPLE reservoir({int(n)} ROWS) REPEATABLE ({int(seed)})"
        ).df()
    except (duckdb.IOException, duckdb.InvalidInputException, duckdb.ConversionException) as exc:
        raise DataReadError(
            [Problem(None, f"cannot read {text!r}: {str(exc).splitlines()[0]}",
                     "check that the path or glob names CSV or Parquet files with the same columns")]
        ) from None
    finally:
        con.close()
    return RowSample(frame=frame, total=int(total), seed=int(seed))


def source_kinds(source: Any, data: Any) -> Schema | None:
    """The kinds-only schema to fit ``data`` (read from ``source``) with when none is declared.

    A CSV declares no column types: those ``data`` got were read from the
    values, so its kinds come back marked ``kind_from_data`` and fitting on
    them requires ``public=True``. None when the types are public (Parquet,
    a DataFrame), and for a CSV path the DuckDB engine reads itself (its
    profiler marks them).

    Parameters
    ----------
    source : str, path or pandas.DataFrame
        Where the table came from.
    data : pandas.DataFrame, str or pyspark.sql.DataFrame
        The table as :func:`open_source` gives it.

    Returns
    -------
    Schema or None
    """
    if not types_from_values(source) or isinstance(data, (str, os.PathLike)):
        return None
    if isinstance(data, pd.DataFrame):
        return infer_schema(data, kinds_only=True, types_from_values=True)
    from dpsynth.engines.profile import SparkProfiler

    return SparkProfiler(data).kinds().with_kinds_from_data()


def kind_dtypes(schema: Schema | None, source: Any) -> Schema | None:
    """A declared schema, with the dtype of its kind for each column of a CSV that names none.

    A CSV's column types are read from its values (one UTC offset among naive
    times makes pandas and DuckDB read the whole column as UTC, a missing value
    makes integers nullable), so the dtype a synthetic column is restored to
    must not come from them: a declared column without ``dtype`` gets
    :data:`~dpsynth.encoding.formats.DECIDED_DTYPES` of its kind, as a kind
    decided with DP does. Columns still marked ``kind_from_data`` are left as
    they are (DP decides them, or ``public=True`` acknowledges them).

    Parameters
    ----------
    schema : Schema or None
        The declared schema (None: nothing declared, returned as it is).
    source : str, path or pandas.DataFrame
        Where the table came from; only a CSV changes anything.

    Returns
    -------
    Schema or None
    """
    if schema is None or not types_from_values(source):
        return schema
    return Schema(tuple(
        spec if spec.dtype is not None or spec.kind_from_data else replace(spec, dtype=DECIDED_DTYPES[spec.kind])
        for spec in schema
    ))


def open_source(source: str | os.PathLike[str], engine: str, *, spark_master: str | None = None) -> Any:
    """What :meth:`Synthesizer.fit <dpsynth.synthesizers.Synthesizer.fit>` takes to count on ``engine``.

    Parameters
    ----------
    source : str or path
        A CSV or Parquet file or glob.
    engine : {"numpy", "duckdb", "spark"}
        ``numpy`` reads the table into pandas; ``duckdb`` passes the path on
        (DuckDB counts the files); ``spark`` reads it as a Spark DataFrame.
    spark_master : str, optional
        Spark master URL; a local session by default (see
        :func:`dpsynth.release.spark.spark_session`).

    Returns
    -------
    pandas.DataFrame, str or pyspark.sql.DataFrame
    """
    if engine not in ENGINES:
        raise parameter_error("engine", engine, f"one of {ENGINES}")
    if spark_master is not None and engine != "spark":
        raise parameter_error("spark_master", spark_master, "given only with engine 'spark'")
    if engine == "numpy":
        return read_frame(source)
    if engine == "duckdb":
        return os.fspath(source)
    from dpsynth.engines.spark_engine import read_source
    from dpsynth.release.spark import spark_session

    return read_source(source, spark_session(spark_master))


__all__ = [
    "DEFAULT_EVALUATION_ROWS",
    "ENGINES",
    "RowSample",
    "files_fingerprint",
    "open_source",
    "read_frame",
    "sample_rows",
    "source_kinds",
]
