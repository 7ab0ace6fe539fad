"""Reading tables and writing files safely (atomically, never half-written)."""

from __future__ import annotations

import contextlib
import glob
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from dpsynth.errors import DataReadError, Problem

TABLE_SUFFIXES = (".csv", ".csv.gz", ".parquet", ".pq")
PARQUET_SUFFIXES = (".parquet", ".pq")
CSV_SUFFIXES = (".csv", ".csv.gz", ".txt")
#: characters that make a path a glob
GLOB_CHARACTERS = "*?["

#: the UTC offset ending ISO text of an instant: ``Z``, ``+01:00``, ``-0500``
UTC_OFFSET = r"(?:Z|[+-]\d{2}:?\d{2})"
#: ISO 8601 dates and times as CSV files hold them: ``2024-01-31``, ``2024-01-31 08:30``,
#: ``2024-01-31T08:30:00.250Z``, ``2024-01-31T08:30:00+01:00``
ISO_DATETIME = re.compile(
    rf"\d{{4}}-\d{{2}}-\d{{2}}([ T]\d{{2}}:\d{{2}}(:\d{{2}}(\.\d{{1,9}})?)?{UTC_OFFSET}?)?"
)


def read_table(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a CSV or Parquet file into a DataFrame.

    Empty strings in CSV stay empty strings; only empty fields and the usual
    NA markers become missing values. A CSV's ISO dates and times, whole
    numbers with missing values and booleans with missing values get the types
    they stand for (:func:`restore_csv_types`). A Parquet file's columns get
    the dtypes its schema declares, whatever the values (:func:`_read_parquet`).

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
        if name.endswith(PARQUET_SUFFIXES):
            return _read_parquet(p)
        if name.endswith(CSV_SUFFIXES):
            return restore_csv_types(pd.read_csv(p))
    except (OSError, ValueError, UnicodeDecodeError, ImportError) as exc:
        raise DataReadError(
            [Problem(None, f"cannot read {str(p)!r}: {exc}", "check that the file is a valid CSV or Parquet file")]
        ) from None
    raise DataReadError(
        [Problem(None, f"{str(p)!r} has an unsupported extension", f"use one of {', '.join(TABLE_SUFFIXES)}")]
    )


def _read_parquet(path: Path) -> pd.DataFrame:
    """A Parquet file with the dtypes its schema declares, not those its values allow.

    Columns pandas wrote get back the dtypes its footer records. A nullable
    integer or boolean column from another writer (Spark, DuckDB) would come
    back as ``float64`` or ``object`` when a value is missing and as
    ``int64`` or ``bool`` when none is, so its kind would hang on one value:
    it is read as pandas' nullable ``Int64`` (or ``boolean``) either way.
    """
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    df = table.to_pandas()
    described = {
        column.get("field_name", column.get("name"))
        for column in (table.schema.pandas_metadata or {}).get("columns", [])
    }
    for field in table.schema:
        if field.name in described or not field.nullable or field.name not in df.columns:
            continue
        dtype = _nullable_dtype(field.type)
        if dtype is not None:
            df[field.name] = table.select([field.name]).to_pandas(types_mapper=lambda _, d=dtype: d)[field.name]
    return df


def _nullable_dtype(arrow_type: object) -> object | None:
    """pandas' nullable dtype of an Arrow integer or boolean type (None for other types)."""
    import pyarrow as pa

    if pa.types.is_boolean(arrow_type):
        return pd.BooleanDtype()
    if pa.types.is_integer(arrow_type):
        return pd.api.types.pandas_dtype(str(arrow_type).replace("uint", "UInt").replace("int", "Int"))
    return None


def restore_csv_types(df: pd.DataFrame) -> pd.DataFrame:
    """The types a CSV's text stands for, beyond those pandas gives it.

    A CSV has no types, so pandas infers them from every value of a column;
    these columns get the type their text stands for, decided the same way:

    * text whose every present value is an ISO 8601 date or time
      (``2024-01-31``, ``2024-01-31 08:30:00``, with an optional UTC offset):
      datetimes, in UTC when an offset is given, naive otherwise;
    * floats whose every present value is a whole number, some missing
      (pandas reads whole numbers with a blank as ``float64``): nullable
      ``Int64``;
    * ``True``/``False`` with a value missing (pandas reads them as
      ``object``): nullable ``boolean``.

    Parameters
    ----------
    df : pandas.DataFrame
        A table as ``pandas.read_csv`` returns it.

    Returns
    -------
    pandas.DataFrame
        The same table (a copy only when a column changed).
    """
    changed = {}
    for column in df.columns:
        series = df[column]
        present = series.dropna()
        if present.empty:
            continue
        restored = _as_datetimes(series, present)
        if restored is None and series.isna().any():
            restored = _as_integers(series, present) if series.dtype == "float64" else _as_booleans(series, present)
        if restored is not None:
            changed[column] = restored
    return df.assign(**changed) if changed else df


def _as_datetimes(series: pd.Series, present: pd.Series) -> pd.Series | None:
    if not (pd.api.types.is_object_dtype(series.dtype) or pd.api.types.is_string_dtype(series.dtype)):
        return None
    if not all(isinstance(v, str) for v in present) or not present.str.fullmatch(ISO_DATETIME).all():
        return None
    offsets = present.str.contains(UTC_OFFSET + "$", regex=True)
    try:
        return pd.to_datetime(series, format="ISO8601", utc=bool(offsets.any()))
    except (ValueError, OverflowError):
        return None  # ISO-looking text that is not a real date (2024-13-45): keep it as text


def _as_integers(series: pd.Series, present: pd.Series) -> pd.Series | None:
    values = present.to_numpy()
    whole = np.all(np.isfinite(values)) and np.all(values == np.round(values)) and np.all(np.abs(values) < 2**53)
    return series.astype("Int64") if whole else None


def _as_booleans(series: pd.Series, present: pd.Series) -> pd.Series | None:
    if pd.api.types.is_object_dtype(series.dtype) and all(isinstance(v, (bool, np.bool_)) for v in present):
        return series.astype("boolean")
    return None


def source_files(source: str | os.PathLike[str]) -> list[tuple[str, Path]]:
    """The data files a source names, each with the name the fingerprint uses.

    Parameters
    ----------
    source : str or path
        A file, a directory of part files, or a glob (``**`` crosses folders).

    Returns
    -------
    list of (str, Path)
        ``(name, path)`` sorted by name. A name is the file's path relative
        to the source's fixed part (the folder holding the file or directory,
        or the glob's folders before its first wildcard), with ``/``
        separators, so moving the whole table elsewhere keeps the names.
        Inside a directory, files whose names start with ``_`` or ``.``
        (``_SUCCESS``, ``.crc`` files) are skipped, as Spark skips them.

    Raises
    ------
    DataReadError
        If nothing matches.
    """
    text = os.fspath(source)
    path = Path(text)
    if path.exists():
        root, matches = path.parent, [path]
    else:
        root = _fixed_root(text)
        matches = [Path(m) for m in glob.glob(text, recursive=True)]
    files: dict[str, Path] = {}
    for match in matches:
        inner = sorted(p for p in match.rglob("*") if p.is_file()) if match.is_dir() else [match]
        for file in inner:
            relative = file.relative_to(match)
            if match.is_dir() and any(part.startswith(("_", ".")) for part in relative.parts):
                continue
            files[file.relative_to(root).as_posix()] = file
    if not files:
        raise DataReadError(
            [Problem(None, f"no file matches {text!r}", "check the path or glob (CSV or Parquet files)")]
        )
    return sorted(files.items())


def types_from_values(source: object) -> bool:
    """Whether a source's column types are read from its values: CSV files have none.

    A CSV column is integer, decimal, date or text (and nullable or not) by
    what every one of its values looks like, so its type depends on the
    private data; Parquet files, DataFrames and engine tables carry declared
    types. A remote URL is told by its extension.

    Parameters
    ----------
    source : object
        A path, directory, glob or URL of CSV or Parquet files; anything else
        (a DataFrame, a relation) carries its own types.

    Returns
    -------
    bool

    Raises
    ------
    DataReadError
        If a local path matches nothing or mixes formats.
    """
    if not isinstance(source, (str, os.PathLike)):
        return False
    return listed_source(source)[1] == "csv"


def listed_source(source: str | os.PathLike[str]) -> tuple[list[str], str]:
    """The files an engine reads for a source, and their format (``"csv"`` or ``"parquet"``).

    A local path, directory or glob is listed by :func:`source_files` (the
    very files a release fingerprints); a URL (``s3://``, ``hdfs://``) is
    left for the engine to list, its format told by its extension.

    Raises
    ------
    DataReadError
        If a local path matches nothing or mixes formats.
    """
    path = os.fspath(source)
    if "://" in path:
        parquet = Path(path.rstrip("/")).name.lower().endswith(PARQUET_SUFFIXES)
        return [path], "parquet" if parquet else "csv"
    files = [str(p) for _, p in source_files(path)]
    return files, file_format(path, files)


def _fixed_root(pattern: str) -> Path:
    """The folders of a glob before its first wildcard."""
    parts = Path(pattern).parts
    first = next((i for i, p in enumerate(parts) if any(c in p for c in GLOB_CHARACTERS)), len(parts))
    return Path(*parts[:first]) if first else Path(".")


def file_format(source: str, files: list[str]) -> str:
    """``"parquet"`` or ``"csv"``: the one format of a source's files, told by their extensions.

    Raises
    ------
    DataReadError
        If a file is neither, or the source mixes both.
    """
    kinds = set()
    for file in files:
        name = file.lower()
        if name.endswith(PARQUET_SUFFIXES):
            kinds.add("parquet")
        elif name.endswith(CSV_SUFFIXES):
            kinds.add("csv")
        else:
            raise DataReadError(
                [Problem(None, f"{file!r} of {source!r} has an unsupported extension",
                         "use .parquet, .pq, .csv or .csv.gz files")]
            )
    if len(kinds) != 1:
        raise DataReadError(
            [Problem(None, f"{source!r} mixes CSV and Parquet files", "keep one table's files in one format")]
        )
    return kinds.pop()


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
