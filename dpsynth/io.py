"""Reading tables and writing files safely (atomically, never half-written)."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from dpsynth.errors import DataReadError, Problem

TABLE_SUFFIXES = (".csv", ".csv.gz", ".parquet", ".pq")


def read_table(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a CSV or Parquet file into a DataFrame.

    Empty strings in CSV stay empty strings; only empty fields and the usual
    NA markers become missing values.

    Raises
    ------
    DataReadError
        If the file is missing, unreadable or in an unsupported format.
    """
    p = Path(path)
    name = p.name.lower()
    if not p.exists():
        raise DataReadError([Problem(None, f"file {str(p)!r} does not exist", "check the path")])
    try:
        if name.endswith((".parquet", ".pq")):
            return pd.read_parquet(p)
        if name.endswith((".csv", ".csv.gz", ".txt")):
            return pd.read_csv(p)
    except (OSError, ValueError, UnicodeDecodeError, ImportError) as exc:
        raise DataReadError(
            [Problem(None, f"cannot read {str(p)!r}: {exc}", "check that the file is a valid CSV or Parquet file")]
        ) from None
    raise DataReadError(
        [Problem(None, f"{str(p)!r} has an unsupported extension", f"use one of {', '.join(TABLE_SUFFIXES)}")]
    )


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it into place only on success.

    If the body raises, the temporary file is removed and ``path`` is left as
    it was (absent or unchanged).
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    # mkstemp creates the file private (0600); published files get the usual umask mode.
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp_path, 0o666 & ~umask)
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_text_atomic(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_table(df: pd.DataFrame, path: str | os.PathLike[str]) -> None:
    """Write a DataFrame to CSV or Parquet (by extension), atomically."""
    name = Path(path).name.lower()
    with atomic_path(path) as tmp:
        if name.endswith((".parquet", ".pq")):
            df.to_parquet(tmp, index=False)
        elif name.endswith((".csv", ".csv.gz")):
            df.to_csv(tmp, index=False, compression="gzip" if name.endswith(".gz") else None)
        else:
            raise DataReadError(
                [Problem(None, f"cannot write {str(path)!r}: unsupported extension", f"use one of {', '.join(TABLE_SUFFIXES)}")]
            )
