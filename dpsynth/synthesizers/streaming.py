"""Synthetic rows streamed to a CSV or Parquet file in chunks, memory bounded by the chunk.

A fitted synthesizer holds only its model, so generating is post-processing:
any number of rows, at no privacy cost. For tables larger than memory the
rows are drawn, decoded and written ``chunk_rows`` at a time (the graphical
model's :func:`~dpsynth.pgm.iter_samples`), into a temporary file that is
renamed only once every chunk is written: an error or an interrupt leaves no
partial file behind.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from dpsynth.errors import parameter_error
from dpsynth.io import atomic_path
from dpsynth.pgm import iter_samples

if TYPE_CHECKING:
    from dpsynth.synthesizers.base import Synthesizer

#: default rows per chunk: about 10-20 MiB of decoded rows for a table of 15 columns
DEFAULT_CHUNK_ROWS = 100_000
_FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


def output_format(path: str | os.PathLike[str], format: str | None = None) -> str:
    """``"csv"`` or ``"parquet"``: the ``format`` given, else the file's suffix."""
    if format is not None:
        if format not in ("csv", "parquet"):
            raise parameter_error("format", format, "'csv' or 'parquet' (or None: from the suffix)")
        return format
    suffix = Path(path).suffix.lower()
    if suffix not in _FORMATS:
        raise parameter_error(
            "path", os.fspath(path), "a file name ending in .csv, .parquet or .pq, or pass format="
        )
    return _FORMATS[suffix]


def iter_frames(
    synth: Synthesizer,
    n: int,
    chunk_rows: int,
    coded_conditions: Mapping[str, int] | None,
    rng: np.random.Generator,
) -> Iterator[pd.DataFrame]:
    """Decoded synthetic rows, ``chunk_rows`` at a time (the last chunk may be shorter)."""
    for codes in iter_samples(synth.model_, n, chunk_rows, rng=rng, conditions=coded_conditions or None):
        codes = synth.compression_.decompress_codes(codes, rng)
        yield synth.encoder_.decode(codes, rng=rng)


def write_frames(frames: Iterator[pd.DataFrame], empty: pd.DataFrame, path: str | os.PathLike[str], format: str) -> int:
    """Write ``frames`` one after the other to ``path``, atomically; return the rows written.

    ``empty`` is a frame with no rows and the output's columns and dtypes: it
    fixes the file's schema (the header of an empty CSV, the Parquet schema).
    """
    rows = 0
    with atomic_path(path) as tmp:
        if format == "parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            schema = pa.Schema.from_pandas(empty, preserve_index=False)
            with pq.ParquetWriter(tmp, schema) as writer:
                for frame in frames:
                    writer.write_table(pa.Table.from_pandas(frame, schema=schema, preserve_index=False))
                    rows += len(frame)
                if rows == 0:
                    writer.write_table(pa.Table.from_pandas(empty, schema=schema, preserve_index=False))
        else:
            with open(tmp, "w", newline="", encoding="utf-8") as handle:
                empty.to_csv(handle, index=False)
                for frame in frames:
                    frame.to_csv(handle, index=False, header=False)
                    rows += len(frame)
    return rows


def write_samples(
    synth: Synthesizer,
    n: int,
    path: str | os.PathLike[str],
    *,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    coded_conditions: Mapping[str, int] | None = None,
    rng: np.random.Generator,
    format: str | None = None,
) -> dict[str, Any]:
    """Stream ``n`` synthetic rows of a fitted synthesizer to a CSV or Parquet file.

    Use :meth:`Synthesizer.sample` with ``path=``; this is its file-writing half.

    Parameters
    ----------
    synth : Synthesizer
        A fitted synthesizer.
    n : int
        Number of rows.
    path : path
        Output file; written atomically (nothing is left on failure).
    chunk_rows : int
        Rows drawn, decoded and written at a time; memory follows it.
    coded_conditions : mapping of str to int, optional
        Fixed (compressed) codes of some columns.
    rng : numpy.random.Generator
        The draw's randomness; the same seed and ``chunk_rows`` give the same file.
    format : {"csv", "parquet"}, optional
        Default: from the file's suffix.

    Returns
    -------
    dict
        ``path``, ``format``, ``rows`` and ``chunks`` written.
    """
    if not (isinstance(chunk_rows, (int, np.integer)) and not isinstance(chunk_rows, bool) and chunk_rows >= 1):
        raise parameter_error("chunk_rows", chunk_rows, "a positive integer number of rows")
    fmt = output_format(path, format)
    empty = synth.encoder_.decode(np.zeros((0, len(synth.encoder_.domain)), dtype=np.int64), rng=rng)
    frames = iter_frames(synth, int(n), int(chunk_rows), coded_conditions, rng)
    rows = write_frames(frames, empty, path, fmt)
    return {"path": Path(path), "format": fmt, "rows": rows, "chunks": -(-rows // int(chunk_rows))}
