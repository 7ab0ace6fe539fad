import math
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from dpsynth.errors import InputDataError, NonPublicSchemaError, NotFittedError, ParameterError
from dpsynth.schema import ColumnKind, ColumnSpec, Schema, infer_schema
from dpsynth.synthesizers import MST, Independent, Synthesizer


def test_unfitted_synthesizer_says_to_fit_first():
    with pytest.raises(NotFittedError, match="call fit"):
        MST().sample(10)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"epsilon": 0}, r"epsilon \(0\) must be a positive finite number"),
        ({"epsilon": float("inf")}, "epsilon"),
        ({"delta": 1.5}, r"delta \(1.5\) must be in \(0, 1\)"),
        ({"discovery_fraction": 1.0}, "discovery_fraction"),
    ],
)
def test_bad_parameters_are_refused_before_reading_data(correlated, params, message):
    df, schema = correlated
    with pytest.raises(ParameterError, match=message):
        Independent(**params).fit(df, schema)


def test_bad_input_is_refused_with_every_problem_before_any_spend(correlated, monkeypatch):
    df, schema = correlated
    bad = df.copy()
    bad["a"] = bad["a"].astype(object)
    bad.loc[0, "a"] = "w"  # undeclared category
    bad["age"] = bad["age"].astype(object)
    bad.loc[1, "age"] = "old"
    charged = []
    from dpsynth.privacy import accountant as accountant_module

    original = accountant_module.Accountant.charge
    monkeypatch.setattr(accountant_module.Accountant, "charge", lambda self, c: charged.append(c) or original(self, c))
    with pytest.raises(InputDataError) as info:
        MST().fit(bad, schema)
    text = str(info.value)
    assert "column 'a'" in text and "'w'" in text
    assert "column 'age'" in text and "'old'" in text
    assert charged == []


def test_schema_read_from_data_needs_acknowledgement(correlated):
    df, _ = correlated
    guessed = infer_schema(df)
    with pytest.raises(NonPublicSchemaError, match="public=True"):
        Independent().fit(df, guessed)
    synth = Independent(public=True, random_state=0).fit(df, guessed)
    assert len(synth.sample(50)) == 50


def test_output_has_same_columns_dtypes_and_missing_kinds(correlated):
    df, schema = correlated
    out = Independent(random_state=1).fit(df, schema).sample(500)
    assert list(out.columns) == list(df.columns)
    assert out.dtypes.to_dict() == df.dtypes.to_dict()
    assert out["city"].isna().any()
    assert out["city"].dropna().isin(["north", "south", "east"]).all()
    assert out["age"].between(18, 90).all()


def test_default_row_count_is_the_noisy_total(correlated):
    df, schema = correlated
    synth = Independent(epsilon=5.0, random_state=2).fit(df, schema)
    assert synth.n_rows_ == round(synth.model_.total)
    # sigma of each one-way count is about 4 at this budget: the total is within a few sigma
    assert abs(synth.n_rows_ - len(df)) < 60
    assert len(synth.sample()) == synth.n_rows_


def test_spend_adds_up_to_the_budget_and_sampling_costs_nothing(correlated):
    df, schema = correlated
    synth = MST(epsilon=1.0, delta=1e-6, random_state=0).fit(df, schema)
    report = synth.privacy_report()
    total = math.fsum(step["rho"] for step in report["steps"])
    assert total == pytest.approx(report["budget"]["rho"], rel=1e-9)
    assert report["spent"]["epsilon"] == pytest.approx(1.0, rel=1e-9)
    before = len(report["steps"])
    synth.sample(100)
    synth.sample(100)
    assert len(synth.privacy_report()["steps"]) == before


def test_seed_makes_sampling_reproducible(correlated):
    df, schema = correlated
    synth = MST(random_state=5).fit(df, schema)
    pd.testing.assert_frame_equal(synth.sample(200, random_state=9), synth.sample(200, random_state=9))
    assert not synth.sample(200, random_state=1).equals(synth.sample(200, random_state=2))


def test_conditions_fix_columns(correlated):
    df, schema = correlated
    synth = MST(epsilon=3.0, random_state=0).fit(df, schema)
    out = synth.sample(300, conditions={"a": "z", "c": True})
    assert (out["a"] == "z").all() and out["c"].all()
    with pytest.raises(InputDataError, match="'q' are not among the declared categories"):
        synth.sample(10, conditions={"a": "q"})


def test_save_and_load_round_trip_holds_no_raw_rows(correlated, tmp_path):
    df, schema = correlated
    synth = MST(epsilon=2.0, random_state=3).fit(df, schema)
    path = tmp_path / "model.dpsynth"
    synth.save(path)
    loaded = Synthesizer.load(path)
    assert isinstance(loaded, MST)
    assert loaded.privacy_report() == synth.privacy_report()
    for attrs in [("a", "b"), ("b", "c")]:
        np.testing.assert_allclose(loaded.model_.marginal(attrs), synth.model_.marginal(attrs), rtol=1e-9)
    pd.testing.assert_frame_equal(loaded.sample(100, random_state=4), synth.sample(100, random_state=4))
    import zipfile

    with zipfile.ZipFile(path) as zf:
        blob = b"".join(zf.read(n) for n in zf.namelist())
    assert b"north" in blob  # public categories are in the schema...
    assert len(blob) < 200_000  # ...but no table of 3000 rows


def test_fit_on_a_parquet_file_counts_with_duckdb_like_in_memory(correlated, tmp_path):
    from dpsynth.encoding import TableEncoder
    from dpsynth.engines import DuckDBEngine, NumpyEngine

    df, schema = correlated
    path = tmp_path / "data.parquet"
    df.to_parquet(path)
    encoder = TableEncoder(schema)
    encoded = encoder.encode(df)
    cliques = [("a", "b"), ("c", "city"), ("age",)]
    for left, right in zip(
        DuckDBEngine(path, encoder).counts(cliques), NumpyEngine(encoded.columns, encoded.domain).counts(cliques), strict=True
    ):
        np.testing.assert_array_equal(left, right)
    synth = MST(epsilon=2.0, random_state=0).fit(str(path), schema)
    out = synth.sample(200)
    assert list(out.columns) == list(df.columns)
    assert out["a"].isin(["x", "y", "z"]).all()


@pytest.mark.parametrize(
    "engine", ["duckdb", pytest.param("spark", marks=[pytest.mark.spark, pytest.mark.xdist_group("spark")])]
)
def test_a_bad_value_in_a_declared_column_is_refused_before_discovery_spends(engine, tmp_path, request):
    df = pd.DataFrame({"city": ["Oslo", "Rome", "zzz"] * 100, "age": np.arange(300) % 90})
    path = tmp_path / "data.parquet"
    df.to_parquet(path)
    schema = Schema((
        ColumnSpec("city", ColumnKind.CATEGORICAL, categories=("Oslo", "Rome")),
        ColumnSpec("age", ColumnKind.INTEGER),  # its bounds are discovered with DP
    ))
    synth = MST(epsilon=1.0, random_state=0)
    data = str(path) if engine == "duckdb" else request.getfixturevalue("spark").read.parquet(str(path))
    with pytest.raises(InputDataError, match="'zzz'"):
        synth.fit(data, schema)
    assert synth.spent_so_far is None


def _recording_charges(monkeypatch) -> list:
    from dpsynth.privacy import accountant as accountant_module

    charged: list = []
    original = accountant_module.Accountant.charge
    monkeypatch.setattr(accountant_module.Accountant, "charge", lambda self, c: charged.append(c) or original(self, c))
    return charged


@pytest.mark.parametrize("where", ["memory", "parquet"])
def test_a_narrow_integer_column_gets_a_range_its_dtype_holds(where, tmp_path):
    # int8 values up to 127: the public grid's next edge is 150, a range int8 cannot decode
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"a": rng.integers(110, 128, 20000).astype("int8"), "b": rng.choice(["x", "y"], 20000)})
    data: object = df
    if where == "parquet":
        data = str(tmp_path / "narrow.parquet")
        df.to_parquet(data)
    synth = MST(epsilon=1.0, random_state=0).fit(data)
    assert synth.schema_["a"].upper <= 127
    out = synth.sample(2000)
    assert out["a"].dtype == np.int8 and out["a"].between(100, 127).all()


def test_fit_on_a_parquet_file_without_a_schema_discovers_with_duckdb(correlated, tmp_path):
    df, _ = correlated
    path = tmp_path / "data.parquet"
    df.to_parquet(path)
    synth = MST(epsilon=2.0, random_state=0).fit(str(path))
    assert all(synth.schema_[n].source == "dp" for n in ("a", "b", "age", "city"))
    assert not synth.schema_.incomplete_columns
    steps = synth.privacy_report()["steps"]
    assert {s["column"] for s in steps if s.get("discovered")} == {"a", "b", "age", "city"}
    out = synth.sample(200)
    assert list(out.columns) == list(df.columns)
    assert len(out) == 200
    # the source's types say integer, boolean, text: the sample holds the same
    assert pd.api.types.is_integer_dtype(out["b"]) and pd.api.types.is_integer_dtype(out["age"])
    assert pd.api.types.is_bool_dtype(out["c"])
    assert out["a"].dropna().map(type).eq(str).all()


def test_fit_on_a_csv_file_decides_its_kinds_with_dp_on_duckdb(correlated, tmp_path):
    df, _ = correlated
    path = tmp_path / "data.csv"
    df.to_csv(path, index=False)
    synth = MST(epsilon=2.0, random_state=0).fit(str(path))
    assert synth.decided_kinds_ == tuple(df.columns)
    assert not any(spec.kind_from_data for spec in synth.schema_)
    voted = [s for s in synth.privacy_report()["steps"] if s.get("discovered") == "kind"]
    assert [s["column"] for s in voted] == list(df.columns)
    in_memory = {c: synth.schema_[c].kind for c in df.columns}
    assert in_memory == {c: MST(epsilon=2.0, random_state=0).fit(str(path)).schema_[c].kind for c in df.columns}
    out = synth.sample(100)
    assert list(out.columns) == list(df.columns)
    assert all(str(out[s.name].dtype) == s.dtype for s in synth.schema_)
    # acknowledged, the kinds DuckDB sniffed are used as they are
    synth = MST(epsilon=2.0, random_state=0, public=True).fit(str(path))
    # the fitted schema keeps the mark beside the DP-discovered domains
    assert all(spec.kind_from_data for spec in synth.schema_)
    assert synth.schema_["age"].source == "dp"


def test_fit_in_memory_decides_a_csvs_kinds_with_a_share_of_the_discovery_budget(correlated, tmp_path):
    from dpsynth.encoding.formats import KIND_SHARE
    from dpsynth.io import read_table
    from dpsynth.schema import infer_schema

    df, _ = correlated
    path = tmp_path / "data.csv"
    df.to_csv(path, index=False)
    raw = read_table(path)
    kinds = infer_schema(raw, kinds_only=True, types_from_values=True)
    synth = MST(epsilon=2.0, random_state=0).fit(raw, kinds)
    assert synth.decided_kinds_ == kinds.names
    assert not any(spec.kind_from_data for spec in synth.schema_)
    steps = synth.privacy_report()["steps"]
    voted = [s for s in steps if s.get("discovered") == "kind"]
    discovery_rho = synth.discovery_fraction * synth.privacy_report()["budget"]["rho"]
    assert sum(s["rho"] for s in voted) == pytest.approx(KIND_SHARE * discovery_rho)
    # kinds and domains together spend the discovery budget, no more
    spent = sum(s["rho"] for s in steps if s["step"] == "discover")
    assert spent <= discovery_rho * (1 + 1e-9)
    assert synth.spent_.epsilon <= 2.0
    # acknowledged, the kinds are taken as read, at no cost
    acknowledged = MST(epsilon=2.0, random_state=0, public=True).fit(raw, kinds)
    assert acknowledged.decided_kinds_ == ()
    assert all(spec.kind_from_data for spec in acknowledged.schema_)
    assert not any(s.get("discovered") == "kind" for s in acknowledged.privacy_report()["steps"])


def test_fit_on_a_file_refuses_absent_and_mistyped_columns_before_any_spend(correlated, tmp_path, monkeypatch):
    from dpsynth.schema import ColumnKind, ColumnSpec, Schema

    df, schema = correlated
    path = tmp_path / "data.csv"
    df.drop(columns=["city"]).to_csv(path, index=False)
    # incomplete columns: discovery would run first, were the table not refused
    partial = Schema(tuple(
        ColumnSpec(s.name, ColumnKind.DATETIME) if s.name == "b" else ColumnSpec(s.name, s.kind)
        for s in schema
    ))
    charged = _recording_charges(monkeypatch)
    with pytest.raises(InputDataError) as info:
        MST().fit(str(path), partial)
    text = str(info.value)
    assert "column 'city': the schema declares it but the table lacks it" in text
    assert "column 'b': the column holds BIGINT values, not datetimes" in text
    assert charged == []
    with pytest.raises(ParameterError, match="dpsynth.schema.Schema or None"):
        MST().fit(str(path), {"a": "categorical"})


def test_a_failed_discovery_on_a_file_spends_nothing(tmp_path, monkeypatch):
    df = pd.DataFrame({"city": ["Oslo", "Rome"] * 50, "n": ["1", "2"] * 49 + ["many", "3"]})
    df.to_csv(tmp_path / "data.csv", index=False)
    from dpsynth.schema import ColumnKind, ColumnSpec, Schema

    schema = Schema((ColumnSpec("city", ColumnKind.CATEGORICAL), ColumnSpec("n", ColumnKind.INTEGER)))
    charged = _recording_charges(monkeypatch)
    with pytest.raises(InputDataError, match="column 'n': the values cannot be read as integer"):
        MST().fit(str(tmp_path / "data.csv"), schema)
    assert charged == []


def _times_csv(path, *, one_offset):
    rng = np.random.default_rng(0)
    hours = pd.to_timedelta(rng.integers(0, 365 * 24, 400), unit="h")
    t = (pd.Timestamp("2020-01-01") + hours).strftime("%Y-%m-%d %H:%M:%S").to_numpy(dtype=object)
    if one_offset:  # one record written with its UTC offset
        t[0] = t[0] + "+00:00"
    pd.DataFrame({"t": t, "s": rng.choice(["a", "b"], 400)}).to_csv(path, index=False)
    return path


def test_a_csv_counted_by_duckdb_gets_the_dtype_of_its_declared_kind_not_of_its_values(tmp_path):
    from dpsynth.schema import ColumnSpec, Schema

    # The kinds are declared; the dtypes are not. DuckDB reads a column with one offset
    # among naive times as TIMESTAMPTZ: that one row must not make the release aware.
    schema = Schema((ColumnSpec("t", "datetime", lower="2020-01-01", upper="2021-01-01"),
                     ColumnSpec("s", "categorical", categories=("a", "b"))))
    dtypes = set()
    for one_offset in (False, True):
        path = _times_csv(tmp_path / f"times_{one_offset}.csv", one_offset=one_offset)
        synth = Independent(epsilon=1.0, random_state=0).fit(str(path), schema)
        dtypes.add((synth.schema_["t"].dtype, str(synth.sample(5)["t"].dtype)))
    assert dtypes == {("datetime64[us]", "datetime64[us]")}


def test_a_parquet_file_counted_by_duckdb_fits_a_kinds_only_schema_of_its_csv(tmp_path):
    # `dpsynth schema infer data.csv` writes every column nullable as assumed, with no dtype.
    # A Parquet copy of the table declares int64: like a DataFrame's int64, it holds no missing
    # value, so the assumed missing code goes, instead of failing to decode after the noise.
    df = pd.DataFrame({"age": np.arange(600) % 70 + 18, "city": ["Oslo", "Rome", "Pisa"] * 200})
    csv, parquet = tmp_path / "data.csv", tmp_path / "data.parquet"
    df.to_csv(csv, index=False)
    df.to_parquet(parquet)
    schema = Schema(tuple(
        replace(spec, kind_from_data=False) for spec in infer_schema(pd.read_csv(csv), kinds_only=True, types_from_values=True)
    ))
    assert schema["age"].nullable_assumed and schema["age"].dtype is None
    synth = MST(epsilon=2.0, random_state=0).fit(str(parquet), schema)
    assert synth.schema_["age"].dtype == "int64" and not synth.schema_["age"].nullable
    out = synth.sample(50)
    assert str(out["age"].dtype) == "int64"


@pytest.mark.parametrize("where", ["memory", "parquet"])
def test_a_nullable_column_of_a_dtype_without_a_missing_value_is_refused_before_any_spend(where, tmp_path):
    from dpsynth.errors import SchemaError

    df = pd.DataFrame({"age": np.arange(600) % 70 + 18, "c": ["a", "b", "c"] * 200})
    schema = Schema((
        ColumnSpec("age", ColumnKind.INTEGER, nullable=True, dtype="int64"),  # bounds left to DP
        ColumnSpec("c", ColumnKind.CATEGORICAL, categories=("a", "b", "c")),
    ))
    data = df
    if where == "parquet":
        data = str(tmp_path / "data.parquet")
        df.to_parquet(data)
    synth = MST(epsilon=1.0, random_state=0)
    with pytest.raises(SchemaError, match=r"column 'age': dtype 'int64' cannot hold a missing value"):
        synth.fit(data, schema)
    assert synth.spent_so_far is None


def test_a_column_declared_continuous_over_integers_is_restored_as_real_numbers():
    # the frame holds int64, the schema says continuous with narrow bins and no dtype: restored as float64
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"income": rng.integers(0, 10, 3000), "g": rng.choice(["a", "b"], 3000)})
    schema = Schema((ColumnSpec("income", ColumnKind.CONTINUOUS, lower=0, upper=10, bins=40),
                     ColumnSpec("g", ColumnKind.CATEGORICAL, categories=("a", "b"))))
    out = MST(epsilon=2.0, random_state=0).fit(df, schema).sample(500)
    assert out["income"].dtype == np.float64 and out["income"].between(0, 10).all()
