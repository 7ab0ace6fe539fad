"""Differentially private choice of the kinds of a table read from text (a CSV).

A CSV declares no column types: pandas makes a column integer because every
value looks like one, so one stray word turns it into text and one blank
makes it nullable. Kinds read that way depend on single rows, so dpsynth
decides them with DP instead (:func:`vote_kinds`):

1. every value is put in one :data:`FORMATS` class by its own form: missing,
   boolean, integer (a whole number a float holds exactly), decimal, date
   (a time at midnight UTC: an ISO date, say), datetime, text (anything else,
   infinities included). The class is the same whether pandas typed the
   column (every value a number) or left it as text (one word among them),
   so one row moves one count of each column;
2. each column's class counts get discrete Gaussian noise (Laplace in pure
   DP) through OpenDP and are charged: a row adds one count to one class of
   each column, so each column's histogram has sensitivity 1;
3. the classes whose noisy count clears both the level noise alone passes
   with probability :data:`FALSE_FORMAT_RATE`
   (:func:`~dpsynth.privacy.histograms.noise_cut`) and
   :data:`MIN_SHARE` of the column's present values are the
   column's formats (if none does, the largest noisy class); its kind is the
   narrowest that holds them all (:func:`kind_of_formats`): boolean, integer,
   continuous (integers and decimals), datetime (dates and times; dates alone
   give ``resolution="D"``), else categorical.

Values whose class the kind does not hold (the word in a column of numbers)
become missing values (:func:`conform_frame`), so every decided column is
nullable, its missing code an undeclared one that a synthesizer drops when
its noisy counts show none.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from dpsynth.encoding.profile import NS_PER_DAY
from dpsynth.errors import InputDataError, Problem, SchemaError, parameter_error
from dpsynth.io import ISO_DATETIME, UTC_OFFSET
from dpsynth.privacy.accountant import Accountant, Charge
from dpsynth.privacy.histograms import NoisyHistogram
from dpsynth.privacy.mechanisms import Neighbouring
from dpsynth.schema import DEFAULT_BINS, ColumnKind, ColumnSpec, Schema, category_key

#: the dtype of every datetime column whose kind DP decided
DATETIME_DTYPE = "datetime64[us]"
#: the dtype pandas gives a column of text ("str" from pandas 3, "object" before)
TEXT_DTYPE = str(pd.Series(["text"]).dtype)
#: the dtype of a column whose kind DP decided, by kind: nothing of the values shows in it
DECIDED_DTYPES = {
    ColumnKind.BOOLEAN: "boolean",
    ColumnKind.INTEGER: "Int64",
    ColumnKind.CONTINUOUS: "float64",
    ColumnKind.DATETIME: DATETIME_DTYPE,
    ColumnKind.CATEGORICAL: TEXT_DTYPE,
}
#: share of the discovery budget a synthesizer spends on deciding a CSV's kinds (the rest: domains)
KIND_SHARE = 0.25
#: the classes a value of a text table falls in, in histogram order
FORMATS = ("missing", "boolean", "integer", "decimal", "date", "datetime", "text")
#: a class counts when its noisy count clears what noise alone passes this rarely (4.75 sd of
#: a Gaussian): a table of 15 columns, five classes absent from each, gets a kind wrong
#: about once in 13,000 releases ...
FALSE_FORMAT_RATE = 1e-6
#: ... and this share of the column's present values (noisy)
MIN_SHARE = 0.01

_INDEX = {name: i for i, name in enumerate(FORMATS)}
#: the text pandas reads as booleans, and what it stands for
BOOLEAN_TEXT = {"True": True, "TRUE": True, "true": True, "False": False, "FALSE": False, "false": False}
#: the text pandas reads as a number in a numeric column (once stripped of spaces)
DECIMAL_TEXT = r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?"
#: the classes each kind holds; a value of another class becomes missing
_HELD = {
    ColumnKind.BOOLEAN: {"boolean"},
    ColumnKind.INTEGER: {"integer"},
    ColumnKind.CONTINUOUS: {"integer", "decimal"},
    ColumnKind.DATETIME: {"date", "datetime"},
}


def value_formats(series: pd.Series) -> np.ndarray:
    """The :data:`FORMATS` index of every value of a column, each decided by that value alone.

    Parameters
    ----------
    series : pandas.Series
        A column as :func:`dpsynth.io.read_table` reads a CSV (numbers,
        booleans and ISO datetimes already parsed, other text as strings).

    Returns
    -------
    numpy.ndarray of int8
    """
    out = np.full(len(series), _INDEX["text"], dtype=np.int8)
    missing = series.isna().to_numpy()
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        out[:] = _INDEX["boolean"]
    elif pd.api.types.is_numeric_dtype(dtype):
        out[:] = _number_formats(series.to_numpy(dtype=float, na_value=np.nan))
    elif pd.api.types.is_datetime64_any_dtype(dtype):
        out[:] = _time_formats(series)
    else:
        present = series[~missing]
        if pd.api.types.infer_dtype(present, skipna=True) in ("string", "empty"):
            out[~missing] = _text_formats(present.astype(str))
        else:  # a column of mixed Python values: one at a time
            out[~missing] = [_object_format(v) for v in present.to_numpy(dtype=object)]
    out[missing] = _INDEX["missing"]
    return out


def _text_formats(text: pd.Series) -> np.ndarray:
    """Classes of strings, by their form (vectorised)."""
    out = np.full(len(text), _INDEX["text"], dtype=np.int8)
    if text.empty:
        return out
    out[text.isin(list(BOOLEAN_TEXT)).to_numpy()] = _INDEX["boolean"]
    # Numbers as pandas reads them in a numeric column (spaces around allowed), then
    # classed as that column's values are: whole and exact in a float, or not.
    stripped = text.str.strip()
    numeric = stripped.str.fullmatch(DECIMAL_TEXT).to_numpy(dtype=bool)
    if numeric.any():
        numbers = pd.to_numeric(stripped[numeric]).to_numpy(dtype=float)
        out[numeric] = _number_formats(numbers)
    iso = text.str.fullmatch(ISO_DATETIME.pattern).to_numpy(dtype=bool)
    if iso.any():
        stamps = text[iso]
        aware = stamps.str.contains(UTC_OFFSET + "$", regex=True).to_numpy(dtype=bool)
        # A column with an offset is read in UTC, one without naive: either way, a
        # value is a date when it falls at midnight UTC, whatever the rest of its column.
        parsed = pd.Series(pd.NaT, index=stamps.index, dtype="datetime64[ns]")
        if (~aware).any():
            parsed[~aware] = pd.to_datetime(stamps[~aware], format="ISO8601", errors="coerce")
        if aware.any():
            utc = pd.to_datetime(stamps[aware], format="ISO8601", errors="coerce", utc=True)
            parsed[aware] = utc.dt.tz_localize(None)
        out[iso] = _time_formats(parsed, text_when_missing=True)
    return out


def _number_formats(values: np.ndarray) -> np.ndarray:
    finite = np.isfinite(values)
    whole = finite & (values == np.round(values)) & (np.abs(values) < 2**53)
    return np.where(whole, _INDEX["integer"], np.where(finite, _INDEX["decimal"], _INDEX["text"]))


def _time_formats(series: pd.Series, *, text_when_missing: bool = False) -> np.ndarray:
    """Dates (at midnight UTC; naive times taken as UTC) and other times.

    ``text_when_missing``: a missing value is ISO-looking text that is no real
    time (``2024-13-45``), which pandas leaves as text.
    """
    if getattr(series.dt, "tz", None) is not None:
        series = series.dt.tz_convert("UTC").dt.tz_localize(None)
    missing = series.isna().to_numpy()
    ns = series.astype("datetime64[ns]").to_numpy().astype(np.int64)
    out = np.where(np.mod(ns, NS_PER_DAY) == 0, _INDEX["date"], _INDEX["datetime"]).astype(np.int8)
    if text_when_missing:
        out[missing] = _INDEX["text"]
    return out


def _object_format(value: Any) -> int:
    if isinstance(value, (bool, np.bool_)):
        return _INDEX["boolean"]
    if isinstance(value, (int, np.integer, float, np.floating)):
        # as a numeric column holds it: a float (an integer past 2**53 is not exact in one)
        try:
            number = float(value)
        except OverflowError:
            return _INDEX["decimal"]
        return int(_number_formats(np.array([number]))[0])
    if isinstance(value, pd.Timestamp):
        return int(_time_formats(pd.Series([value]))[0])
    if not isinstance(value, str):
        return _INDEX["text"]
    return int(_text_formats(pd.Series([value]))[0])


def format_counts(series: pd.Series) -> np.ndarray:
    """Exact rows of a column in each :data:`FORMATS` class (private: for :func:`vote_kinds` only)."""
    return np.bincount(value_formats(series), minlength=len(FORMATS)).astype(np.int64)


def kind_of_formats(formats: Sequence[str]) -> tuple[ColumnKind, str | None]:
    """The narrowest kind holding values of every one of ``formats``, and its resolution.

    Parameters
    ----------
    formats : sequence of str
        Classes of :data:`FORMATS` other than ``"missing"``.

    Returns
    -------
    (ColumnKind, str or None)
        ``"D"`` for a datetime column of dates alone, else None.
    """
    found = set(formats) - {"missing"}
    if not found:
        return ColumnKind.CATEGORICAL, None
    for kind in (ColumnKind.BOOLEAN, ColumnKind.INTEGER, ColumnKind.CONTINUOUS, ColumnKind.DATETIME):
        if found <= _HELD[kind]:
            return kind, ("D" if kind is ColumnKind.DATETIME and found == {"date"} else None)
    return ColumnKind.CATEGORICAL, None


def formats_from_noisy_counts(noisy: np.ndarray, cut: float) -> list[str]:
    """The classes a column holds, read from its noisy class counts (post-processing).

    A class counts when its noisy count reaches ``cut``
    (:func:`~dpsynth.privacy.histograms.noise_cut` at :data:`FALSE_FORMAT_RATE`) and
    :data:`MIN_SHARE` of the column's noisy present values.
    """
    present = np.asarray(noisy[1:], dtype=float)
    cut = max(float(cut), MIN_SHARE * float(np.clip(present, 0, None).sum()))
    found = [FORMATS[i + 1] for i in np.flatnonzero(present >= cut)]
    return found or [FORMATS[int(np.argmax(present)) + 1]]


def vote_plan(
    columns: Sequence[str],
    *,
    mode: str,
    cost_per_column: float,
    relation: Neighbouring | str = Neighbouring.ADD_REMOVE,
) -> list[Charge]:
    """What :func:`vote_kinds` charges for ``columns``, priced without reading data."""
    return [_class_histogram(c, mode, cost_per_column, relation).charge for c in columns]


def _class_histogram(column: str, mode: str, cost: float, relation: Neighbouring | str) -> NoisyHistogram:
    """The mechanism of one column's :data:`FORMATS` counts."""
    return NoisyHistogram.for_cost(cost, mode=mode, relation=relation, cells=len(FORMATS), step="discover",
                                   column=column, discovered="kind")


def vote_kinds(
    df: pd.DataFrame,
    schema: Schema,
    *,
    accountant: Accountant,
    cost_per_column: float,
    relation: Neighbouring | str = Neighbouring.ADD_REMOVE,
) -> tuple[Schema, pd.DataFrame]:
    """Decide with DP the kind of every column of ``schema`` marked ``kind_from_data``.

    The plan is priced first, and every class count computed before the first
    mechanism runs: a refusal spends nothing.

    Parameters
    ----------
    df : pandas.DataFrame
        The private table, as :func:`dpsynth.io.read_table` reads a CSV.
    schema : Schema
        Its kinds-only schema; the columns marked ``kind_from_data`` are decided.
    accountant : Accountant
        Charged one class histogram per decided column.
    cost_per_column : float
        Budget of each histogram: rho in zCDP mode, epsilon in pure mode.
    relation : Neighbouring
        The neighbouring relation protected.

    Returns
    -------
    (Schema, pandas.DataFrame)
        The schema with the decided kinds (see :func:`decide_kinds`) and the
        table conformed to it (:func:`conform_frame`).

    Raises
    ------
    InputDataError
        If a decided column is not in ``df``.
    BudgetExceededError
        If the histograms do not fit what the accountant has left (nothing charged).
    """
    columns = [spec.name for spec in schema if spec.kind_from_data]
    absent = [Problem(c, "the column is not in the table", "add it or fix the schema") for c in columns
              if c not in df.columns]
    if absent:
        raise InputDataError(absent)
    decided = decide_kinds(
        lambda: {c: format_counts(df[c]) for c in columns}, schema,
        accountant=accountant, cost_per_column=cost_per_column, relation=relation,
    )
    return decided, conform_frame(df, decided.select(columns))


def decide_kinds(
    counts: Callable[[], Mapping[str, np.ndarray]],
    schema: Schema,
    *,
    accountant: Accountant,
    cost_per_column: float,
    relation: Neighbouring | str = Neighbouring.ADD_REMOVE,
) -> Schema:
    """The kinds of the columns marked ``kind_from_data``, from their noisy class counts (charged).

    Parameters
    ----------
    counts : callable
        Returns the exact :data:`FORMATS` counts of every marked column
        (:func:`format_counts`, or an engine's query); called once the plan is
        priced, before the first mechanism runs.
    schema, accountant, cost_per_column, relation
        As :func:`vote_kinds` takes them.

    Raises
    ------
    SchemaError
        If a marked column declares categories or bounds (nothing charged).

    Returns
    -------
    Schema
        Each marked column with its decided kind, nullable (an undeclared
        missing code), its domain still to discover, its dtype the one of
        :data:`DECIDED_DTYPES`, ``kind_from_data`` cleared.
    """
    if not isinstance(accountant, Accountant):
        raise parameter_error("accountant", accountant, "an Accountant")
    if not (np.isfinite(cost_per_column) and cost_per_column > 0):
        raise parameter_error("cost_per_column", cost_per_column, "a finite number > 0")
    rel = Neighbouring(relation)
    columns = [spec.name for spec in schema if spec.kind_from_data]
    # A declared domain means someone checked the column: its kind is theirs to confirm.
    declared = [
        Problem(name, "its kind is marked kind_from_data, yet its categories or bounds are declared",
                "check the kind and delete kind_from_data, or drop the categories and bounds to "
                "let DP decide the kind and discover them")
        for name in columns
        if any(getattr(schema[name], f) is not None for f in ("categories", "lower", "upper", "bin_edges"))
    ]
    if declared:
        raise SchemaError(declared)
    histograms = {c: _class_histogram(c, accountant.mode, cost_per_column, rel) for c in columns}
    accountant.price(h.charge for h in histograms.values())
    exact = counts()
    for name in columns:
        histogram = histograms[name]
        noisy = histogram.run(exact[name], accountant=accountant)
        found = formats_from_noisy_counts(noisy, histogram.cut(FALSE_FORMAT_RATE))
        kind, resolution = kind_of_formats(found)
        schema = schema.with_column(_decided(schema[name], kind, resolution))
    return schema


def _decided(spec: ColumnSpec, kind: ColumnKind, resolution: str | None) -> ColumnSpec:
    ranged = kind.is_numeric or kind is ColumnKind.DATETIME
    return ColumnSpec(
        spec.name, kind, bins=(spec.bins or DEFAULT_BINS) if ranged else None, nullable=True,
        nullable_assumed=True, resolution=resolution, kind_from_data=False, dtype=DECIDED_DTYPES[kind],
    )


def conform_frame(df: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """The table with each column in the type of its kind; values of another form become missing.

    Boolean, integer, continuous and datetime columns become ``boolean``,
    ``Int64``, ``float64`` and naive UTC :data:`DATETIME_DTYPE`; a value whose
    :func:`value_formats` class the kind does not hold (the word ``"n/a"`` in
    an integer column, an infinity) becomes a missing value. Categorical
    columns become text (numbers written as :func:`~dpsynth.schema.category_key`
    writes them). So the dtypes depend on the kinds alone: not on whether
    pandas saw a number, a time zone or a word among the values.

    Parameters
    ----------
    df : pandas.DataFrame
    schema : Schema
        Kinds of the columns of ``df`` to conform (others are left as they are).

    Returns
    -------
    pandas.DataFrame
        A copy where a column changed.
    """
    changed = {}
    for spec in schema:
        if spec.name not in df.columns:
            continue
        series = df[spec.name]
        if spec.kind is ColumnKind.CATEGORICAL:
            changed[spec.name] = _as_text(series)
            continue
        held = np.isin(value_formats(series), [_INDEX[f] for f in _HELD[spec.kind]])
        changed[spec.name] = _as_kind(series.where(held), spec.kind)
    return df.assign(**changed) if changed else df


def _as_text(series: pd.Series) -> pd.Series:
    """The values as text, in :data:`TEXT_DTYPE`."""
    if pd.api.types.infer_dtype(series, skipna=True) != "string":
        values = [None if pd.isna(v) else v.isoformat() if isinstance(v, pd.Timestamp) else category_key(v)
                  for v in series.to_numpy(dtype=object)]
        series = pd.Series(values, index=series.index, name=series.name, dtype=object)
    return series if str(series.dtype) == TEXT_DTYPE else series.astype(TEXT_DTYPE)


def _as_kind(series: pd.Series, kind: ColumnKind) -> pd.Series:
    """Values all of the kind's classes (others already missing) in the kind's type."""
    if kind is ColumnKind.BOOLEAN:
        values = [pd.NA if pd.isna(v) else BOOLEAN_TEXT.get(v, v) if isinstance(v, str) else bool(v)
                  for v in series.to_numpy(dtype=object)]
        return pd.Series(pd.array(values, dtype="boolean"), index=series.index, name=series.name)
    if kind is ColumnKind.INTEGER:
        numbers = pd.to_numeric(series.astype(object).where(series.notna(), None))
        return numbers.round().astype("Int64")
    if kind is ColumnKind.CONTINUOUS:
        return pd.to_numeric(series.astype(object).where(series.notna(), None)).astype("float64")
    # Naive UTC microseconds whatever the values: a time zone offset or a nanosecond on one
    # value (which make pandas read the column aware, or in ns) must not change the dtype.
    if not pd.api.types.is_datetime64_any_dtype(series.dtype):
        series = pd.to_datetime(series.astype(object).where(series.notna(), None), format="ISO8601", utc=True)
    if getattr(series.dt, "tz", None) is not None:
        series = series.dt.tz_convert("UTC").dt.tz_localize(None)
    return series.astype(DATETIME_DTYPE)
