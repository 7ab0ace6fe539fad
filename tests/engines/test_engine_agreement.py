"""Counts are identical across the numpy, DuckDB and Spark engines on the same data."""

import itertools
import warnings

import numpy as np
import pandas as pd
import pytest

from dpsynth.datasets import adult_schema, load_adult
from dpsynth.encoding import OutOfDomainWarning, TableEncoder
from dpsynth.engines import DuckDBEngine, NumpyEngine
from dpsynth.schema import ColumnKind, ColumnSpec, Schema

N = 400


def mixed_schema() -> Schema:
    return Schema((
        ColumnSpec("colour", ColumnKind.CATEGORICAL, categories=("red", "green", "blue"),
                   nullable=True, on_unknown="other"),
        ColumnSpec("grade", ColumnKind.CATEGORICAL, categories=(1, 2, 3)),
        ColumnSpec("flag", ColumnKind.BOOLEAN, nullable=True),
        ColumnSpec("age", ColumnKind.INTEGER, lower=0, upper=100, bins=10, nullable=True),
        ColumnSpec("rank", ColumnKind.INTEGER, lower=1, upper=5),
        ColumnSpec("score", ColumnKind.CONTINUOUS, lower=0.0, upper=1.0, bins=8, nullable=True),
        ColumnSpec("when", ColumnKind.DATETIME, lower="2020-01-01", upper="2021-01-01", bins=12,
                   nullable=True),
        ColumnSpec("local", ColumnKind.DATETIME, lower="2020-03-01", upper="2020-09-01", bins=5,
                   on_unknown="clip"),
        # Doubles as categories: tiny and huge ones are written as text differently by each
        # engine (Spark: 1.0E-4); "1.50" is not the key of 1.5, so 1.5 is "other" everywhere,
        # as is minus infinity beside the category infinity.
        ColumnSpec("dose", ColumnKind.CATEGORICAL, categories=(0.0001, 2.5, 12345678.5, 3, "1.50", float("inf")),
                   nullable=True, on_unknown="other"),
    ))


def mixed_frame(seed: int = 3) -> pd.DataFrame:
    """Every coding rule at work: missing values, "other", clipping, edges hit exactly."""
    rng = np.random.default_rng(seed)
    colour = rng.choice(np.array(["red", "green", "blue", "mauve", None], dtype=object), N)
    age = rng.integers(-20, 130, N).astype(float)
    age[rng.random(N) < 0.1] = np.nan
    score = rng.uniform(-0.2, 1.2, N)
    score[:9] = np.linspace(0.0, 1.0, 9)  # every bin edge, the upper bound included
    score[rng.random(N) < 0.1] = np.nan
    start = pd.Timestamp("2019-10-01").value // 1000
    micros = rng.integers(start, start + 500 * 86_400 * 10**6, N)
    when = pd.Series(pd.to_datetime(micros, unit="us"))
    when[:3] = pd.to_datetime(["2020-01-01 00:00:00", "2021-01-01 00:00:00", "2020-05-01 12:00:00"])
    when[rng.random(N) < 0.1] = pd.NaT
    # An aware column: its bins are UTC, so 02:00 in Tokyo on 7 April lies before the
    # first inner edge (6 April, 19:12 UTC) although its wall-clock time lies after it.
    local = pd.Series(pd.to_datetime(micros, unit="us", utc=True)).dt.tz_convert("Asia/Tokyo")
    local[0] = pd.Timestamp("2020-04-07 02:00:00", tz="Asia/Tokyo")
    dose = rng.choice(np.array([0.0001, 2.5, 12345678.5, 3.0, 1.5, 7.25, np.inf, -np.inf, np.nan]), N)
    flag = pd.array(rng.random(N) < 0.3, dtype="boolean")
    flag[rng.random(N) < 0.1] = pd.NA
    return pd.DataFrame({
        "colour": colour,
        "grade": rng.integers(1, 4, N),
        "flag": flag,
        "age": pd.array(age, dtype="Int64"),
        "rank": rng.integers(1, 6, N),
        "score": score,
        "when": when.astype("datetime64[us]"),
        "local": local,
        "dose": dose,
    })


def all_cliques(domain):
    ones = [(a,) for a in domain.attributes]
    return ones + list(itertools.combinations(domain.attributes, 2)) + [domain.attributes[:3][::-1]]


def numpy_counts(df, encoder, cliques):
    """The reference: encode in pandas, count with the numpy engine."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OutOfDomainWarning)
        encoded = encoder.encode(df)
    engine = NumpyEngine(dict(encoded.columns), encoded.domain)
    return engine.row_count(), engine.counts(cliques)


def assert_same(expected, engine, cliques):
    n, tables = expected
    assert engine.row_count() == n
    for clique, want, got in zip(cliques, tables, engine.counts(cliques), strict=True):
        assert got.dtype == np.int64
        np.testing.assert_array_equal(got, want, err_msg=str(clique))


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    df = mixed_frame()
    encoder = TableEncoder(mixed_schema())
    cliques = all_cliques(encoder.domain)
    folder = tmp_path_factory.mktemp("mixed")
    df.to_csv(folder / "mixed.csv", index=False)
    df.to_parquet(folder / "mixed.parquet", coerce_timestamps="us")
    return df, encoder, cliques, folder, numpy_counts(df, encoder, cliques)


@pytest.fixture(scope="module")
def adult(tmp_path_factory):
    df = load_adult()
    encoder = TableEncoder(adult_schema())
    cliques = all_cliques(encoder.domain)
    folder = tmp_path_factory.mktemp("adult")
    df.to_csv(folder / "adult.csv", index=False)
    df.to_parquet(folder / "adult.parquet")
    return encoder, cliques, folder, numpy_counts(df, encoder, cliques)


@pytest.mark.parametrize("name", ["mixed.csv", "mixed.parquet"])
def test_duckdb_agrees_with_numpy_on_every_coding_rule(mixed, name):
    _, encoder, cliques, folder, expected = mixed
    assert_same(expected, DuckDBEngine(folder / name, encoder), cliques)


def test_the_mixed_table_exercises_other_clipping_and_missing(mixed):
    df, encoder, *_ = mixed
    with pytest.warns(OutOfDomainWarning):
        report = encoder.encode(df).report
    assert set(report.other) == {"colour", "dose"}
    assert set(report.clipped) == {"age", "score", "when", "local"}
    for column in ("colour", "flag", "age", "score", "when", "dose"):
        assert df[column].isna().any(), column


@pytest.mark.parametrize("name", ["adult.csv", "adult.parquet"])
def test_duckdb_agrees_with_numpy_on_adult(adult, name):
    encoder, cliques, folder, expected = adult
    assert_same(expected, DuckDBEngine(folder / name, encoder), cliques)


@pytest.mark.spark
@pytest.mark.xdist_group("spark")
def test_spark_agrees_with_numpy_and_duckdb(mixed, adult, spark):
    from dpsynth.engines import SparkEngine

    _, encoder, cliques, folder, expected = mixed
    assert_same(expected, SparkEngine(str(folder / "mixed.parquet"), encoder, spark=spark), cliques)
    encoder, cliques, folder, expected = adult
    assert_same(expected, SparkEngine(str(folder / "adult.parquet"), encoder, spark=spark), cliques)
