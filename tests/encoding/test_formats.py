"""DP choice of a CSV's kinds: the class of each value, the decision, what it costs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dpsynth.encoding.formats import (
    DECIDED_DTYPES,
    FORMATS,
    MIN_SHARE,
    conform_frame,
    format_counts,
    formats_from_noisy_counts,
    kind_of_formats,
    value_formats,
    vote_kinds,
    vote_plan,
)
from dpsynth.errors import BudgetExceededError, InputDataError, SchemaError
from dpsynth.io import read_table
from dpsynth.privacy.accountant import Accountant, PrivacyBudget
from dpsynth.schema import ColumnKind, ColumnSpec, Schema, infer_schema


def _classes(series):
    return [FORMATS[i] for i in value_formats(series)]


def test_each_value_is_classed_by_its_own_form():
    text = pd.Series(["7", "-2", "0042", "2.5", "1e3", "True", "false", "2024-01-31", "2024-01-31 00:00",
                      "2024-01-31 08:30", "2024-01-31T00:00Z", "2024-01-31T00:00+01:00", "2024-13-45", "inf",
                      "", " 1", " false", "abc", "1.0", "9007199254740993", None],
                     dtype=object)
    assert _classes(text) == [
        "integer", "integer", "integer", "decimal", "integer", "boolean", "boolean", "date", "date",
        "datetime", "date", "datetime", "text", "text", "text", "integer", "text", "text", "integer",
        "decimal", "missing",
    ]
    assert _classes(pd.Series([1.0, 2.5, np.nan, np.inf, 2.0**60])) == ["integer", "decimal", "missing", "text", "decimal"]
    assert _classes(pd.Series([3, 4])) == ["integer", "integer"]
    assert _classes(pd.Series([True, None], dtype="boolean")) == ["boolean", "missing"]
    naive = pd.Series(pd.to_datetime(["2020-01-01", None, "2020-01-02 03:00"], format="ISO8601"))
    assert _classes(naive) == ["date", "missing", "datetime"]
    assert _classes(naive.dt.tz_localize("UTC")) == ["date", "missing", "datetime"]  # midnight UTC
    assert _classes(naive.dt.tz_localize("Asia/Tokyo")) == ["datetime", "missing", "datetime"]
    mixed = pd.Series([1, True, "x", pd.Timestamp("2020-01-01"), 2.0, "3", 2**60, 10**400], dtype=object)
    assert _classes(mixed) == ["integer", "boolean", "text", "date", "integer", "integer", "decimal", "decimal"]


CSV_COLUMNS = {
    "integers": ["12", " 7", "+3", "-0", "0042", "9007199254740993"],
    "floats": ["1.5", "2", "1e3", "5.", ".5", "Infinity", "-inf", " 2.50 "],
    "booleans": ["True", "FALSE", "true", "False"],
    "dates": ["2024-01-31", "2024-02-01 00:00:00", "2024-02-01 10:30"],
    "instants": ["2024-01-31T00:00:00Z", "2024-01-31 09:00+09:00", "2024-01-31 10:00"],
}


@pytest.mark.parametrize("name", sorted(CSV_COLUMNS))
def test_one_row_changes_one_count_of_each_column(tmp_path, name):
    # pandas types a CSV column by all its values: a column of numbers is numeric, the
    # same with one word is text. Each value must fall in the same class either way, or
    # one row would move many counts (sensitivity above 1).
    values = CSV_COLUMNS[name]
    clean, stray = tmp_path / "clean.csv", tmp_path / "stray.csv"
    clean.write_text("v\n" + "\n".join(f'"{v}"' for v in values) + "\n\n")
    stray.write_text(clean.read_text() + "a word\n")
    typed, text = read_table(clean), read_table(stray)
    assert not pd.api.types.is_string_dtype(typed["v"].dtype) or name == "booleans"
    with_word = value_formats(text["v"])
    np.testing.assert_array_equal(value_formats(typed["v"]), with_word[:-1])
    assert FORMATS[with_word[-1]] == "text"
    counts = format_counts(text["v"]) - np.bincount(value_formats(typed["v"]), minlength=len(FORMATS))
    assert np.abs(counts).sum() == 1


def test_a_value_is_classed_alike_whatever_the_rest_of_its_column():
    # The class of a row's value does not depend on the other rows: that is what makes a
    # row change one count per column (sensitivity 1), however pandas typed the column.
    alone = [value_formats(pd.Series([v], dtype=object))[0] for v in ["12", "1.5", "x", "2024-01-01"]]
    together = value_formats(pd.Series(["12", "1.5", "x", "2024-01-01"], dtype=object))
    np.testing.assert_array_equal(alone, together)
    # a CSV column pandas made numeric gives the classes its text gives
    for values in (["1", "2", "3"], ["1.5", "2", "7"]):
        typed = pd.to_numeric(pd.Series(values))
        np.testing.assert_array_equal(value_formats(typed), value_formats(pd.Series(values, dtype=object)))
    counts = format_counts(pd.Series(["1", None, "x", "2"], dtype=object))
    assert counts.sum() == 4 and counts[FORMATS.index("integer")] == 2


@pytest.mark.parametrize(("formats", "kind", "resolution"), [
    ([], ColumnKind.CATEGORICAL, None),
    (["boolean"], ColumnKind.BOOLEAN, None),
    (["integer"], ColumnKind.INTEGER, None),
    (["integer", "decimal"], ColumnKind.CONTINUOUS, None),
    (["decimal"], ColumnKind.CONTINUOUS, None),
    (["date"], ColumnKind.DATETIME, "D"),
    (["date", "datetime"], ColumnKind.DATETIME, None),
    (["integer", "text"], ColumnKind.CATEGORICAL, None),
    (["boolean", "integer"], ColumnKind.CATEGORICAL, None),
    (["date", "integer"], ColumnKind.CATEGORICAL, None),
    (["missing", "integer"], ColumnKind.INTEGER, None),
])
def test_the_kind_is_the_narrowest_holding_every_format(formats, kind, resolution):
    assert kind_of_formats(formats) == (kind, resolution)


def test_formats_stand_out_of_the_noise_and_are_a_share_of_the_column():
    from dpsynth.encoding.formats import FALSE_FORMAT_RATE

    # the cut itself is tested in tests/privacy/test_histograms.py
    assert FALSE_FORMAT_RATE == 1e-6
    cut = 30.0
    order = {name: i for i, name in enumerate(FORMATS)}

    def noisy(**counts):
        out = np.zeros(len(FORMATS))
        for name, value in counts.items():
            out[order[name]] = value
        return out

    assert formats_from_noisy_counts(noisy(integer=5000, text=29), cut) == ["integer"]  # under 3 sd
    assert formats_from_noisy_counts(noisy(integer=5000, text=40), cut) == ["integer"]  # under 1%
    assert formats_from_noisy_counts(noisy(integer=5000, text=60), cut) == ["integer", "text"]
    assert formats_from_noisy_counts(noisy(integer=5000, decimal=-20, missing=9000), cut) == ["integer"]
    # nothing stands out (a tiny table at a tiny budget): the largest noisy class
    assert formats_from_noisy_counts(noisy(integer=12, text=20, missing=50), cut) == ["text"]
    assert MIN_SHARE == 0.01
    # a class of a large table must also clear the noise level, however large its share
    assert formats_from_noisy_counts(noisy(integer=400, text=25), cut) == ["integer"]


def _csv_table(tmp_path, n=6000):
    rng = np.random.default_rng(1)
    age = rng.integers(18, 90, n).astype(str).astype(object)
    age[:3] = "unknown"  # three stray words
    df = pd.DataFrame({
        "age": age,
        "city": rng.choice(["Oslo", "Lima"], n),
        "score": np.round(rng.normal(50, 10, n), 2),
        "born": pd.Timestamp("1950-01-01") + pd.to_timedelta(rng.integers(0, 20000, n), unit="D"),
        "seen": pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 10**8, n), unit="s"),
        "smoker": np.where(rng.random(n) < 0.1, None, rng.random(n) < 0.3),
    })
    path = tmp_path / "t.csv"
    df.to_csv(path, index=False)
    return read_table(path)


@pytest.mark.parametrize("mode", ["zcdp", "pure"])
def test_vote_decides_every_kind_and_charges_one_histogram_per_column(tmp_path, mode):
    raw = _csv_table(tmp_path)
    assert pd.api.types.is_object_dtype(raw["age"]) or pd.api.types.is_string_dtype(raw["age"])
    schema = infer_schema(raw, kinds_only=True, types_from_values=True)
    budget = PrivacyBudget.zcdp(1.0) if mode == "zcdp" else PrivacyBudget.pure(10.0)
    acc = Accountant(budget)
    # noise: sigma 7 (zCDP) or Laplace scale 1 (pure); a class counts from 60 rows (1%),
    # which noise alone reaches with probability below 1e-16
    cost = 0.01 if mode == "zcdp" else 1.0
    decided, frame = vote_kinds(raw, schema, accountant=acc, cost_per_column=cost)
    assert {s.name: (s.kind, s.resolution) for s in decided} == {
        "age": (ColumnKind.INTEGER, None), "city": (ColumnKind.CATEGORICAL, None),
        "score": (ColumnKind.CONTINUOUS, None), "born": (ColumnKind.DATETIME, "D"),
        "seen": (ColumnKind.DATETIME, None), "smoker": (ColumnKind.BOOLEAN, None),
    }
    assert not any(s.kind_from_data for s in decided)
    assert all(s.nullable and s.nullable_assumed for s in decided)
    # the stray words became missing values; the table is in the decided types
    assert frame["age"].isna().sum() == 3 and str(frame["age"].dtype) == "Int64"
    assert str(frame["smoker"].dtype) == "boolean" and decided["age"].dtype == "Int64"
    # the dtypes decoding restores are fixed by the kinds, and the conformed table has them
    assert all(str(frame[s.name].dtype) == s.dtype == DECIDED_DTYPES[s.kind] for s in decided)
    assert [s.params["column"] for s in acc.steps] == list(schema.names)
    assert all(s.params["discovered"] == "kind" and s.params["cells"] == len(FORMATS) for s in acc.steps)
    unit = "rho" if mode == "zcdp" else "epsilon"
    assert sum(getattr(s, unit) for s in acc.steps) == pytest.approx(6 * cost)
    assert [c.to_dict() for c in acc.steps] == [c.to_dict() for c in vote_plan(schema.names, mode=mode, cost_per_column=cost)]


def test_a_vote_that_cannot_run_spends_nothing(tmp_path):
    raw = _csv_table(tmp_path, n=50)
    schema = infer_schema(raw, kinds_only=True, types_from_values=True)
    acc = Accountant(PrivacyBudget.zcdp(0.01))
    with pytest.raises(BudgetExceededError):
        vote_kinds(raw, schema, accountant=acc, cost_per_column=0.01)
    with pytest.raises(InputDataError, match="column 'age': the column is not in the table"):
        vote_kinds(raw.drop(columns="age"), schema, accountant=acc, cost_per_column=0.001)
    # a marked column with a declared domain was checked by someone: confirm its kind instead
    declared = schema.with_column(ColumnSpec("city", "categorical", categories=("Oslo",), kind_from_data=True))
    with pytest.raises(SchemaError, match="column 'city': its kind is marked kind_from_data, yet"):
        vote_kinds(raw, declared, accountant=acc, cost_per_column=0.001)
    assert acc.steps == ()


def test_a_column_of_numbers_is_told_from_text_at_the_stated_rate():
    # 2,000 integers and nothing else, at a budget whose noise has sd 50: an absent class
    # counts only when its noisy count clears 238 from a true 0 (1e-6); five absent
    # classes in 200 votes: a wrong kind has probability 1e-3, two of them 5e-7
    schema = Schema((ColumnSpec("n", "categorical", kind_from_data=True, nullable=True, nullable_assumed=True),))
    df = pd.DataFrame({"n": np.arange(2000)})
    kinds = []
    for _ in range(200):
        acc = Accountant(PrivacyBudget.zcdp(1.0))
        decided, _ = vote_kinds(df, schema, accountant=acc, cost_per_column=1 / (2 * 50**2))
        assert acc.steps[0].params["sigma"] == pytest.approx(50)
        kinds.append(decided["n"].kind)
    assert kinds.count(ColumnKind.INTEGER) >= 199


def test_conform_makes_values_of_another_form_missing():
    schema = Schema((
        ColumnSpec("a", "integer", lower=0, upper=9, nullable=True),
        ColumnSpec("b", "boolean", nullable=True),
        ColumnSpec("c", "datetime", lower="2020-01-01", upper="2021-01-01", nullable=True),
        ColumnSpec("d", "continuous", lower=0, upper=9, nullable=True),
        ColumnSpec("e", "categorical", categories=("x", "1"), nullable=True),
    ))
    raw = pd.DataFrame({
        "a": [" 1", "x", "3", None], "b": ["True", "no", None, "false"],
        "c": ["2020-01-01", "bad", None, "2020-03-01T10:00+01:00"], "d": ["1.5", "inf", "3", None],
        "e": ["x", "1", None, "y"],
    })
    out = conform_frame(raw, schema)
    assert out["a"].tolist()[0] == 1 and out["a"].isna().tolist() == [False, True, False, True]
    assert out["b"].tolist()[0] is True and out["b"].isna().tolist() == [False, True, True, False]
    assert out["c"].isna().tolist() == [False, True, True, False]
    assert out["c"][3] == pd.Timestamp("2020-03-01 09:00")  # an offset is read in UTC, naive
    assert out["d"].isna().tolist() == [False, True, False, True]
    pd.testing.assert_series_equal(out["e"], raw["e"])  # a text column keeps its values
    pd.testing.assert_frame_equal(conform_frame(out, schema), out)  # conforming twice changes nothing


def test_conformed_dtypes_depend_on_the_kinds_alone():
    # Whether pandas saw a time zone, or numbers only, must not show in the dtypes.
    schema = Schema((
        ColumnSpec("when", "datetime", lower="2020-01-01", upper="2021-01-01", nullable=True),
        ColumnSpec("code", "categorical", categories=("1", "x"), nullable=True),
    ))
    aware = pd.DataFrame({"when": pd.to_datetime(["2020-01-01T00:00Z"], utc=True), "code": [1]})
    naive = pd.DataFrame({"when": pd.to_datetime(["2020-01-01"]), "code": ["x"]})
    fine = pd.DataFrame({"when": pd.to_datetime(["2020-01-01 10:00:00.123456789"]), "code": ["x"]})
    text = pd.DataFrame({"when": ["2020-01-01 10:00+02:00"], "code": ["x"]})
    got = [conform_frame(df, schema).dtypes.astype(str).tolist() for df in (aware, naive, fine, text)]
    assert got == [["datetime64[us]", got[1][1]]] * 4
    assert conform_frame(aware, schema)["code"].tolist() == ["1"]
