"""Synthetic rows generated on Spark, in partitions, from the broadcast model.

The fitted synthesizer travels to the executors once, as the bytes of its
save file (schema, noisy measurements and model: no private data, nothing
pickled). Partition ``i`` draws its share of the rows with its own generator,
seeded by child ``i`` of ``numpy.random.SeedSequence(random_state)``: the
streams are independent, and the same ``random_state`` and number of
partitions give the same rows. Each partition draws, decodes and yields
``chunk_rows`` rows at a time, so executor memory follows the chunk.

The executors run Python: they need the same dpsynth installed (on a local
session started here, the driver's interpreter is used).
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

import numpy as np
import pandas as pd

from dpsynth.errors import EngineError, parameter_error
from dpsynth.io import check_writable
from dpsynth.synthesizers.streaming import DEFAULT_CHUNK_ROWS, iter_frames

if TYPE_CHECKING:
    from dpsynth.synthesizers.base import Synthesizer


def _session(spark: Any) -> Any:
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise EngineError("generating on Spark needs pyspark: pip install 'dpsynth[spark]'") from None
    if spark is not None:
        return spark
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    # A session started here runs its Python workers on this interpreter, where dpsynth is installed.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    return SparkSession.builder.appName("dpsynth").getOrCreate()


def _saved_bytes(synth: Synthesizer) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.zip"
        synth.save(path)
        return path.read_bytes()


def _loaded(blob: bytes) -> Synthesizer:
    from dpsynth.synthesizers.base import Synthesizer

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.zip"
        path.write_bytes(blob)
        return Synthesizer.load(path)


def _exists(path: str | os.PathLike[str]) -> Exception:
    return parameter_error("path", os.fspath(path), "a folder that does not exist yet (remove it, or choose another)")


def _check_output_folder(path: str | os.PathLike[str], session: Any) -> None:
    """Refuse a local output folder that exists or cannot be written, before any row is drawn.

    Only where the path is on this machine: a ``file:`` URL, or a plain path on
    a local session (on a cluster a plain path is on its default file system,
    and Spark itself refuses an existing folder there).
    """
    text = os.fspath(path)
    parsed = urlparse(text)
    if parsed.scheme == "file":
        local = Path(unquote(parsed.path))  # file:///tmp/my%20out is the folder "/tmp/my out"
    elif parsed.scheme and len(parsed.scheme) > 1:  # s3a://, hdfs:// (a one-letter scheme is a drive)
        return
    elif str(session.sparkContext.master).startswith("local"):
        local = Path(text)
    else:
        return
    if local.exists():
        raise _exists(path)
    check_writable(local, "path")


def partition_rows(n: int, partitions: int) -> list[int]:
    """Rows of each partition: ``n`` split as evenly as possible (the first ones get one more)."""
    base, extra = divmod(int(n), int(partitions))
    return [base + (1 if i < extra else 0) for i in range(int(partitions))]


def spark_samples(
    synth: Synthesizer,
    n: int | None = None,
    conditions: Mapping[str, Any] | None = None,
    *,
    spark: Any = None,
    partitions: int | None = None,
    random_state: int | None = None,
    path: str | os.PathLike[str] | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
) -> Any:
    """Generate synthetic rows as a Spark DataFrame, in parallel partitions. No privacy cost.

    Parameters
    ----------
    synth : Synthesizer
        A fitted synthesizer.
    n : int, optional
        Number of rows; default the synthesizer's DP estimate of the real row count.
    conditions : mapping of column to raw value, optional
        Fixed values of some columns, as in :meth:`Synthesizer.sample`.
    spark : pyspark.sql.SparkSession, optional
        Default: the active session, else a new local one.
    partitions : int, optional
        Number of partitions (and of independent random streams); default the
        session's default parallelism.
    random_state : int, optional
        Root seed of the partitions' streams; default the synthesizer's.
    path : path, optional
        Also write the rows as Parquet to this folder (refused if it exists).
    chunk_rows : int
        Rows drawn and decoded at a time inside a partition.

    Returns
    -------
    pyspark.sql.DataFrame
        The synthetic rows, with the columns of the fitted table.
    """
    synth._check_fitted()
    n = synth.n_rows_ if n is None else n
    if not (isinstance(n, (int, np.integer)) and not isinstance(n, bool) and n >= 0):
        raise parameter_error("n", n, "a non-negative integer number of rows")
    if not (isinstance(chunk_rows, (int, np.integer)) and not isinstance(chunk_rows, bool) and chunk_rows >= 1):
        raise parameter_error("chunk_rows", chunk_rows, "a positive integer number of rows")
    seed = synth.random_state if random_state is None else random_state
    if not (seed is None or (isinstance(seed, (int, np.integer)) and not isinstance(seed, bool))):
        raise parameter_error("random_state", seed, "an integer seed or None")
    session = _session(spark)
    partitions = session.sparkContext.defaultParallelism if partitions is None else partitions
    if not (isinstance(partitions, (int, np.integer)) and not isinstance(partitions, bool) and partitions >= 1):
        raise parameter_error("partitions", partitions, "a positive integer")
    coded_conditions = synth._code_conditions(conditions or {})
    if path is not None:
        _check_output_folder(path, session)

    import pyarrow as pa
    from pyspark.sql.pandas.types import from_arrow_schema

    empty = synth.sample(0)
    schema = from_arrow_schema(pa.Schema.from_pandas(empty, preserve_index=False))
    model = session.sparkContext.broadcast(_saved_bytes(synth))
    streams = np.random.SeedSequence(seed).spawn(int(partitions))
    rows = partition_rows(int(n), int(partitions))
    size = int(chunk_rows)

    def generate(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        fitted = _loaded(model.value)
        for batch in batches:
            for index in batch["id"].tolist():
                rng = np.random.default_rng(streams[index])
                yield from iter_frames(fitted, rows[index], size, coded_conditions, rng)

    frame = session.range(0, int(partitions), numPartitions=int(partitions)).mapInPandas(generate, schema)
    if path is not None:
        try:
            frame.write.mode("errorifexists").parquet(os.fspath(path))
        except Exception as exc:  # raised from the JVM, its type depends on the Spark version
            if "PATH_ALREADY_EXISTS" in str(exc) or "already exists" in str(exc):
                raise _exists(path) from None
            raise
    return frame
