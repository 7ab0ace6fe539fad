"""Reading tables and writing files safely (atomically, never half-written)."""

from __future__ import annotations

import contextlib
import csv
import glob
import gzip
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import numpy as np
import pandas as pd

from dpsynth.errors import DataReadError, Problem, parameter_error

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
            return restore_csv_types(_read_csv(p))
    except DataReadError:
        raise
    except UnicodeDecodeError as exc:
        raise DataReadError([_not_utf8(p, exc)]) from None
    except (OSError, ValueError, ImportError) as exc:
        raise DataReadError([_unreadable(p, exc)]) from None
    raise DataReadError(
        [Problem(None, f"{str(p)!r} has an unsupported extension", f"use one of {', '.join(TABLE_SUFFIXES)}")]
    )


#: the field separators a CSV file may use, told apart by its header line
CSV_DELIMITERS = (",", ";", "\t", "|")
#: rows of another length than the header listed in one refusal
_RAGGED_SHOWN = 5


def _open_csv_text(path: Path) -> IO[str]:
    """A CSV file as UTF-8 text (a byte-order mark skipped), gzip-compressed or not."""
    if path.name.lower().endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8-sig", newline="")
    return path.open(encoding="utf-8-sig", newline="")


def csv_header(path: str | os.PathLike[str]) -> tuple[str, list[str]]:
    """The field separator of a CSV file and its column names, from its header line alone.

    The separator is the one of :data:`CSV_DELIMITERS` that splits the header
    into the most fields (a comma on a tie, unless it splits a quoted name), so a file saved with semicolons or
    tabs (as spreadsheets do in many locales) is read as its columns, not as
    one. Only the header, public like every column name, is read.

    Returns
    -------
    (str, list of str)
        The separator and the column names.

    Raises
    ------
    DataReadError
        If the file is empty, or a column of the header has no name or the
        name of another column (pandas and DuckDB would rename it, and the
        synthetic table would not have the columns of the input).
    UnicodeDecodeError
        If the header is not UTF-8 text.
    """
    p = Path(path)
    try:
        with _open_csv_text(p) as handle:
            line = handle.readline()
    except (OSError, EOFError) as exc:  # a corrupt gzip stream, an unreadable file
        raise DataReadError([_unreadable(p, exc)]) from None
    if not line.strip():
        raise DataReadError([Problem(None, f"{str(p)!r} is empty or starts with a blank line",
                                     "write the column names on the first line, then one row per line")])
    splits = [next(csv.reader([line], delimiter=d)) for d in CSV_DELIMITERS]
    # most fields; on a tie, fewest fields left holding a quote (split inside a quoted name)
    delimiter, names = max(
        zip(CSV_DELIMITERS, splits, strict=True),
        key=lambda pair: (len(pair[1]), -sum('"' in name for name in pair[1])),
    )
    problems = []
    for position, column in enumerate(names, start=1):
        if not column.strip():
            problems.append(Problem(None, f"column {position} of the header of {str(p)!r} has no name",
                                    "give every column a name in the first line"))
        elif column in names[: position - 1]:
            problems.append(Problem(column, f"the header of {str(p)!r} names it twice (columns "
                                    f"{names.index(column) + 1} and {position})",
                                    "give every column its own name in the first line"))
    if problems:
        raise DataReadError(problems)
    return delimiter, names


def check_csv(path: str | os.PathLike[str]) -> str:
    """The separator of a CSV file, once every row has as many fields as its header.

    pandas would fill a short row's last columns with missing values and
    DuckDB may read a file with long rows as one column: either way the table
    would silently not be the one written. Blank lines are skipped, as pandas
    skips them.

    Returns
    -------
    str
        The separator (see :func:`csv_header`).

    Raises
    ------
    DataReadError
        If the header cannot be used (:func:`csv_header`) or a row has another
        number of fields than the header; the refusal names up to five rows.
    UnicodeDecodeError
        If the file is not UTF-8 text.
    """
    p = Path(path)
    delimiter, names = csv_header(p)
    ragged, count = [], 0
    # pandas reads a field of any length; the csv module stops at 128 KiB by default
    csv.field_size_limit(2**31 - 1)
    try:
        with _open_csv_text(p) as handle:
            reader = csv.reader(handle, delimiter=delimiter)
            next(reader)
            for row in reader:
                if row and len(row) != len(names) and not (len(row) == 1 and not row[0].strip()):
                    count += 1
                    if len(ragged) < _RAGGED_SHOWN:
                        ragged.append(f"line {reader.line_num} has {len(row)}")
    except (OSError, EOFError, csv.Error) as exc:
        raise DataReadError([_unreadable(p, exc)]) from None
    if count:
        shown = "; ".join(ragged) + ("; ..." if count > len(ragged) else "")
        raise DataReadError([Problem(
            None,
            f"{count} row(s) of {str(p)!r} have another number of fields than its header's "
            f"{len(names)} ({shown})",
            "give every row one field per column (an empty field for a missing value), and quote "
            "fields that hold the separator",
        )])
    return delimiter


def _read_csv(path: Path) -> pd.DataFrame:
    """A CSV file read by pandas, refused if a row has another number of fields than its header.

    pandas pads a short row with missing values, so its last column holds one,
    and takes the first column for the index when every row has one field too
    many; it refuses other long rows. Only then are the rows counted field by
    field (:func:`check_csv`, a second pass), to name them or clear them.
    """
    delimiter, _ = csv_header(path)
    try:
        df = pd.read_csv(path, sep=delimiter)
    except pd.errors.ParserError:
        check_csv(path)
        raise
    if not df.index.equals(pd.RangeIndex(len(df))) or (df.shape[1] and bool(df.iloc[:, -1].isna().any())):
        check_csv(path)
    return df


def _unreadable(path: Path, exc: BaseException) -> Problem:
    return Problem(None, f"cannot read {str(path)!r}: {exc}", "check that the file is a valid CSV or Parquet file")


def _not_utf8(path: Path, exc: UnicodeDecodeError) -> Problem:
    byte = exc.object[exc.start: exc.start + 1].hex()
    return Problem(
        None,
        f"{str(path)!r} is not UTF-8 text (byte 0x{byte} is not UTF-8; Latin-1 or Windows-1252 "
        "files hold such bytes)",
        "save it as UTF-8 (in Excel: Save As, 'CSV UTF-8'; or iconv -f latin1 -t utf-8)",
    )


def _read_parquet(path: Path) -> pd.DataFrame:
    """A Parquet file with the dtypes its schema declares, not those its values allow.

    Columns pandas wrote get back the dtypes its footer records. A nullable
    integer or boolean column from another writer (Spark, DuckDB) would come
    back as ``float64`` or ``object`` when a value is missing and as
    ``int64`` or ``bool`` when none is, so its kind would hang on one value:
    it is read as pandas' nullable ``Int64`` (or ``boolean``) either way.
    A decimal column is read as ``float64`` (pandas would give Python
    ``Decimal`` objects), the numbers DuckDB and Spark read it as.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    for i, field in enumerate(table.schema):
        if pa.types.is_decimal(field.type):
            table = table.set_column(i, pa.field(field.name, pa.float64(), field.nullable),
                                     table.column(i).cast(pa.float64()))
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
    # A string dtype holds only text; an object column must hold nothing else (checked in
    # pandas' C loop: a Python loop over the values took 1 s a million).
    if pd.api.types.is_object_dtype(series.dtype) and pd.api.types.infer_dtype(present, skipna=True) != "string":
        return None
    if not present.str.fullmatch(ISO_DATETIME).all():
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

    The header of every local CSV file is checked (:func:`csv_header`): the
    engines would rename a duplicate or unnamed column.

    Raises
    ------
    DataReadError
        If a local path matches nothing, mixes formats, or a CSV header names
        a column twice or leaves one unnamed.
    """
    path = os.fspath(source)
    if "://" in path:
        parquet = Path(path.rstrip("/")).name.lower().endswith(PARQUET_SUFFIXES)
        return [path], "parquet" if parquet else "csv"
    files = [str(p) for _, p in source_files(path)]
    kind = file_format(path, files)
    if kind == "csv":
        for file in files:
            try:
                csv_header(file)
            except UnicodeDecodeError as exc:
                raise DataReadError([_not_utf8(Path(file), exc)]) from None
    return files, kind


def csv_separator(files: list[str]) -> str | None:
    """The field separator the CSV files an engine reads share, from their headers.

    None for a URL, whose files the engine lists and sniffs itself.

    Raises
    ------
    DataReadError
        If a header cannot be used (:func:`csv_header`) or the files do not
        all use one separator.
    """
    if any("://" in f for f in files):
        return None
    found: dict[str, str] = {}
    for file in files:
        try:
            found.setdefault(csv_header(file)[0], file)
        except UnicodeDecodeError as exc:
            raise DataReadError([_not_utf8(Path(file), exc)]) from None
    if len(found) > 1:
        shown = ", ".join(f"{sep!r} in {file!r}" for sep, file in found.items())
        raise DataReadError([Problem(None, f"the CSV files do not share one separator ({shown})",
                                     "save every file with the same separator")])
    return next(iter(found), None)


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


#: the extensions :func:`write_table` writes
WRITABLE_TABLE_SUFFIXES = (".csv", ".csv.gz", ".parquet", ".pq")


def check_writable(path: str | os.PathLike[str], name: str = "output", *, table: bool = False) -> None:
    """Refuse, before any work is done, a path that cannot be written.

    The path's folder must exist and be writable, or be creatable in the
    nearest folder that exists; nothing is created here.

    Parameters
    ----------
    path : str or path
        The file (or folder) to be written.
    name : str
        The option's name, for the message.
    table : bool
        The path is a table for :func:`write_table`: its extension is checked too.

    Raises
    ------
    ParameterError
        If the extension is not a table's, a parent is a file, or the folder
        that would hold it cannot be written.
    """
    target = Path(path)
    if table and not target.name.lower().endswith(WRITABLE_TABLE_SUFFIXES):
        raise parameter_error(name, str(path), f"a file ending in one of {', '.join(WRITABLE_TABLE_SUFFIXES)}")
    folder = target.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise parameter_error(name, str(path), f"a path whose folders are folders ({str(folder)!r} is a file)")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise parameter_error(name, str(path), f"a path in a folder you can write to ({str(folder)!r} is not)")


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it into place only on success.

    If the body raises, the temporary file is removed and ``path`` is left as
    it was (absent or unchanged).
    """
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise parameter_error("output", str(path), f"a path that can be written ({exc.strerror})") from None
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
