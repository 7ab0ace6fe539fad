"""The pandas, DuckDB and Spark profilers give identical aggregates of the same table."""


import numpy as np
import pandas as pd
import pytest

from dpsynth.encoding.discovery import default_datetime_candidates, default_numeric_candidates
from dpsynth.encoding.profile import ColumnProfiler, PandasProfiler, region_counts, utc_seconds
from dpsynth.engines import DuckDBProfiler
from dpsynth.engines.profile import region_boundaries
from dpsynth.errors import InputDataError
from dpsynth.schema import ColumnKind, ColumnSpec, Schema

N = 300
CATEGORICAL = ("city", "grade", "ratio", "flag")
RANGED = {
    "grade": ColumnKind.INTEGER, "ratio": ColumnKind.CONTINUOUS, "age": ColumnKind.INTEGER,
    "when": ColumnKind.DATETIME, "local": ColumnKind.DATETIME,
}


def mixed_table(seed: int = 11) -> pd.DataFrame:
    """Strings, ints, floats with NaN, booleans, naive and aware times, missing values."""
    rng = np.random.default_rng(seed)
    city = rng.choice(np.array(["Oslo", "Rome", "Lima", "São Paulo", "it's", None], dtype=object), N)
    ratio = rng.choice([0.5, 2.25, 3.0, -1.0, 10.0, 1234.5], N)
    ratio[rng.random(N) < 0.1] = np.nan
    age = rng.integers(-5, 120, N).astype(float)
    age[rng.random(N) < 0.1] = np.nan
    age[:4] = [0, 10, 50, 100]  # on candidates of the test grid
    flag = pd.array(rng.random(N) < 0.4, dtype="boolean")
    flag[rng.random(N) < 0.1] = pd.NA
    start = pd.Timestamp("2019-06-01").value // 1000
    micros = rng.integers(start, start + 900 * 86_400 * 10**6, N)
    when = pd.Series(pd.to_datetime(micros, unit="us"))
    when[rng.random(N) < 0.1] = pd.NaT
    when[:2] = pd.to_datetime(["2020-01-01", "2021-03-01"])  # first days of months: candidates
    local = pd.Series(pd.to_datetime(micros[::-1], unit="us", utc=True)).dt.tz_convert("Asia/Tokyo")
    local[0] = pd.Timestamp("2020-02-01 09:00:00", tz="Asia/Tokyo")  # 00:00 UTC: a candidate
    return pd.DataFrame({
        "city": city,
        "grade": rng.integers(1, 6, N),
        "ratio": ratio,
        "age": pd.array(age, dtype="Int64"),
        "flag": flag,
        "when": when.astype("datetime64[us]"),
        "local": local.astype("datetime64[us, Asia/Tokyo]"),
    })


def grid(kind: ColumnKind) -> np.ndarray:
    if kind is ColumnKind.DATETIME:
        return utc_seconds(default_datetime_candidates())
    return default_numeric_candidates(kind)


def aggregates(profiler: ColumnProfiler) -> dict:
    out = {}
    for column in CATEGORICAL:
        counts = profiler.category_counts(column)
        keys = sorted(counts)
        out[f"{column} counts"] = counts
        out[f"{column} values"] = profiler.category_values(column, keys)
    for column, kind in RANGED.items():
        out[f"{column} regions"] = profiler.interval_counts(column, kind, grid(kind)).tolist()
        test_grid = np.array([0.0, 10.0, 50.0, 100.0]) if kind is not ColumnKind.DATETIME else \
            utc_seconds(["2020-01-01", "2020-02-01", "2021-03-01"])
        out[f"{column} ties"] = profiler.interval_counts(column, kind, test_grid).tolist()
        if kind is ColumnKind.DATETIME:
            out[f"{column} midnights"] = profiler.midnight_counts(column).tolist()
    out["kinds"] = [spec.kind for spec in profiler.kinds()]
    return out


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    df = mixed_table()
    folder = tmp_path_factory.mktemp("profile")
    df.to_csv(folder / "mixed.csv", index=False)
    df.to_parquet(folder / "mixed.parquet", coerce_timestamps="us")
    return df, folder, aggregates(PandasProfiler(df))


def test_the_table_exercises_ties_missing_values_and_values_off_the_grid(table):
    df, _, expected = table
    assert all(df[c].isna().any() for c in ("city", "ratio", "age", "flag", "when"))
    assert all(n > 0 for n in expected["age ties"][1::2])  # a value on every candidate
    assert expected["when ties"][1] > 0 and expected["local ties"][3] > 0
    assert expected["age ties"][0] > 0 and expected["age ties"][-1] > 0  # below and above the grid
    assert all(min(expected[f"{c} midnights"]) > 0 for c in ("when", "local"))  # dates and times
    assert expected["city values"] == ["Lima", "Oslo", "Rome", "São Paulo", "it's"]
    assert expected["grade values"] == [1, 2, 3, 4, 5] and expected["flag values"] == [False, True]


@pytest.mark.parametrize("name", ["mixed.csv", "mixed.parquet"])
def test_duckdb_aggregates_equal_the_pandas_ones(table, name):
    _, folder, expected = table
    profiler = DuckDBProfiler(folder / name)
    assert isinstance(profiler, ColumnProfiler)
    assert aggregates(profiler) == expected


def test_region_counts_match_a_direct_count():
    values = np.array([-np.inf, -3.0, 0.0, 0.0, 0.5, 1.0, 7.0, np.nan, np.inf])
    assert region_counts(values, np.array([0.0, 1.0])).tolist() == [1, 2, 1, 1, 1]


def test_duckdb_regions_of_adjacent_candidates_and_values_a_hair_apart(tmp_path):
    c = 1.5
    after = np.nextafter(c, np.inf)  # no double lies between c and after: that region has no boundary
    candidates = np.array([-2.0, c, after, 1e9])
    bounds, regions = region_boundaries(candidates)
    assert regions == [0, 1, 2, 3, 5, 6, 7] and bounds[3] == c and bounds[4] == after
    values = np.array([-3.0, -2.0, np.nextafter(-2.0, -np.inf), np.nextafter(-2.0, np.inf), c, after,
                       np.nextafter(after, np.inf), 1e9, 2e9, np.nan, np.inf, -np.inf, 0.0])
    path = tmp_path / "x.parquet"
    pd.DataFrame({"x": values}).to_parquet(path)
    got = DuckDBProfiler(path).interval_counts("x", ColumnKind.CONTINUOUS, candidates)
    assert got.tolist() == region_counts(values, candidates).tolist()
    assert got[-1] == 1  # 2e9, above every candidate
    pd.DataFrame({"x": [np.nan, np.inf]}).to_parquet(path)
    assert DuckDBProfiler(path).interval_counts("x", ColumnKind.CONTINUOUS, candidates).tolist() == [0] * 9


def test_problems_name_absent_columns_and_wrong_types(table):
    _, folder, _ = table
    profiler = DuckDBProfiler(folder / "mixed.parquet")
    problems = profiler.problems([
        ColumnSpec("nowhere", ColumnKind.CATEGORICAL),
        ColumnSpec("flag", ColumnKind.INTEGER),
        ColumnSpec("age", ColumnKind.DATETIME),
        ColumnSpec("city", ColumnKind.CATEGORICAL),
    ])
    assert [(p.column, p.message) for p in problems] == [
        ("nowhere", "the column is not in the table"),
        ("flag", "the column holds BOOLEAN values, not numbers"),
        ("age", "the column holds BIGINT values, not datetimes"),
    ]
    assert PandasProfiler(mixed_table()).problems([ColumnSpec("nowhere", ColumnKind.CATEGORICAL)])


def test_unreadable_text_is_refused_naming_the_column(tmp_path):
    df = pd.DataFrame({"n": ["1", "2", "many", None]})
    df.to_csv(tmp_path / "n.csv", index=False)
    candidates = np.array([0.0, 5.0])
    for profiler in (PandasProfiler(df), DuckDBProfiler(tmp_path / "n.csv")):
        with pytest.raises(InputDataError, match=r"^column .n.: the values cannot be read as integer"):
            profiler.interval_counts("n", ColumnKind.INTEGER, candidates)


# One worker runs every Spark test, so one JVM starts.
@pytest.mark.spark
@pytest.mark.xdist_group("spark")
def test_spark_aggregates_equal_the_pandas_ones(table, spark):
    from dpsynth.engines import SparkProfiler

    _, folder, expected = table
    spark.conf.set("spark.sql.session.timeZone", "America/Lima")
    profiler = SparkProfiler(str(folder / "mixed.parquet"), spark=spark)
    assert isinstance(profiler, ColumnProfiler)
    assert aggregates(profiler) == expected
    assert spark.conf.get("spark.sql.session.timeZone") == "America/Lima"


def test_a_date_column_is_proposed_with_whole_day_resolution(tmp_path):
    import duckdb

    from dpsynth.engines import DuckDBProfiler

    relation = duckdb.connect().sql(
        "SELECT * FROM (VALUES (DATE '1990-01-05', TIMESTAMP '2020-01-01 10:00:00'), "
        "(NULL, TIMESTAMP '2021-03-04 11:30:00')) AS t(born, seen)"
    )
    kinds = DuckDBProfiler(relation).kinds()
    assert (kinds["born"].kind, kinds["born"].resolution, kinds["born"].dtype) == (
        ColumnKind.DATETIME, "D", "datetime64[s]"
    )
    assert kinds["seen"].kind is ColumnKind.DATETIME and kinds["seen"].resolution == "auto"
    # a CSV's DATE was sniffed from its values (one time of day makes it TIMESTAMP): DP decides
    path = tmp_path / "dates.csv"
    path.write_text("born,seen\n1990-01-05,2020-01-01 10:00:00\n,2021-03-04 11:30:00\n2001-12-31,\n")
    kinds = DuckDBProfiler(path).kinds()
    assert [(kinds[c].kind, kinds[c].resolution, kinds[c].dtype) for c in ("born", "seen")] == [
        (ColumnKind.DATETIME, "auto", None)
    ] * 2


def test_a_glob_of_parts_takes_a_footer_dtype_only_where_every_part_agrees(tmp_path):
    from dpsynth.engines import DuckDBProfiler

    # pandas writes int64 for the part without a missing value, float64 for the one with
    pd.DataFrame({"x": [1, 2, 3], "same": [1, 2, 3]}).to_parquet(tmp_path / "part-0.parquet")
    pd.DataFrame({"x": [4.0, np.nan], "same": [4, 5]}).to_parquet(tmp_path / "part-1.parquet")
    kinds = DuckDBProfiler(str(tmp_path / "*.parquet")).kinds()
    assert kinds["x"].nullable and kinds["x"].nullable_assumed and kinds["x"].dtype is None
    assert (kinds["same"].dtype, kinds["same"].nullable) == ("int64", False)


def test_a_parquet_file_from_pandas_gives_back_its_dtypes_and_nullability(tmp_path):
    from dpsynth.engines import DuckDBProfiler
    from dpsynth.schema import infer_schema

    df = pd.DataFrame({
        "n": [1, 2, 3], "maybe": pd.array([1, None, 3], dtype="Int64"), "ok": [True, False, True],
        "word": ["a", "b", None], "x": [0.5, np.nan, 1.5],
        "t": pd.to_datetime(["2020-01-01 10:00", "2021-01-01 00:00", None]).as_unit("us"),
    })
    df.to_parquet(tmp_path / "t.parquet")
    kinds = DuckDBProfiler(tmp_path / "t.parquet").kinds()
    in_memory = infer_schema(df, kinds_only=True)
    for spec in in_memory:
        got = kinds[spec.name]
        assert (got.kind, got.dtype, got.nullable) == (spec.kind, spec.dtype, spec.nullable), spec.name
    assert not any(s.kind_from_data for s in kinds)
    # a CSV says nothing of dtypes: every column is assumed nullable, and its kinds were
    # sniffed from its values, which the schema records
    df.to_csv(tmp_path / "t.csv", index=False)
    csv_kinds = DuckDBProfiler(tmp_path / "t.csv").kinds()
    assert all(s.nullable_assumed and s.kind_from_data for s in csv_kinds)
    # a relation carries its own types, declared by whoever built it
    import duckdb

    relation = duckdb.connect().read_parquet(str(tmp_path / "t.parquet"))
    assert not any(s.kind_from_data for s in DuckDBProfiler(relation).kinds())


#: CSV columns whose values try the edges of the classes (spaces, exponents, infinities, offsets, ...)
EDGE_COLUMNS = {
        "integers": ["12", " 7", "+3", "-0", "0042", "9007199254740993", "1e3", "x"],
        "floats": ["1.5", "2", "5.", ".5", "Infinity", "-inf", " 2.50 ", "1e400"],
        "booleans": ["True", "FALSE", "true", "False", " true", "yes", "1", ""],
        "dates": ["2024-01-31", "2024-02-01 00:00:00", "2024-02-01 10:30", "2024-13-45",
                  "2024-01-31 24:00:00", "2024-01-31T00:00:00Z", "2024-01-31 09:00+09:00", "NA"],
        "words": ["a", "b", "it's", "São", "N/A", "null", "2", "c"],
}
EDGE_KINDS = Schema((
    ColumnSpec("integers", "integer", nullable=True), ColumnSpec("floats", "continuous", nullable=True),
    ColumnSpec("booleans", "boolean", nullable=True), ColumnSpec("dates", "datetime", nullable=True),
))


def _same_values(left, right):
    return [None if pd.isna(v) else v for v in left] == [None if pd.isna(v) else v for v in right]


def test_duckdb_classes_a_csvs_values_and_reads_them_as_pandas_conforms_them(tmp_path):
    from dpsynth.encoding.formats import conform_frame, format_counts
    from dpsynth.io import read_table

    columns = EDGE_COLUMNS
    path = tmp_path / "t.csv"
    pd.DataFrame(columns).to_csv(path, index=False)
    frame = read_table(path)
    profiler = DuckDBProfiler(path)
    assert profiler.decides_kinds and not DuckDBProfiler(relation_of(path)).decides_kinds
    got = profiler.format_counts(list(columns))
    for name in columns:
        np.testing.assert_array_equal(got[name], format_counts(frame[name]), err_msg=name)
    typed = profiler.with_kinds(EDGE_KINDS).relation.df()
    expected = conform_frame(frame, EDGE_KINDS)
    for name in EDGE_KINDS.names:
        assert _same_values(typed[name].tolist(), expected[name].tolist()), name
    assert typed["words"].tolist() == frame["words"].tolist()  # undecided: as DuckDB sniffed it


def _spark_classes_and_types_as_pandas(tmp_path, spark, columns, kinds):
    """Write ``columns`` as a CSV; Spark's class counts and typed table must be pandas' own."""
    from dpsynth.encoding.formats import conform_frame, format_counts
    from dpsynth.engines import SparkProfiler
    from dpsynth.engines.spark_engine import read_source
    from dpsynth.io import read_table

    path = tmp_path / "t.csv"
    pd.DataFrame(columns).to_csv(path, index=False)
    frame = read_table(path)
    # as a release reads a CSV for Spark: types inferred by Spark
    profiler = SparkProfiler(read_source(str(path), spark))
    got = profiler.format_counts(list(columns))
    for name in columns:
        np.testing.assert_array_equal(got[name], format_counts(frame[name]), err_msg=name)
    typed = profiler.with_kinds(kinds)
    expected = conform_frame(frame, kinds)
    with profiler._session():
        rows = typed.frame.toPandas()
    for name in kinds.names:
        assert _same_values(rows[name].tolist(), expected[name].tolist()), name
    return profiler, got


@pytest.mark.spark
@pytest.mark.xdist_group("spark")
def test_spark_classes_a_csvs_values_as_pandas_reads_them(tmp_path, spark):
    _spark_classes_and_types_as_pandas(tmp_path, spark, EDGE_COLUMNS, EDGE_KINDS)


#: CSV columns Spark reads as numbers and booleans: their classes come from the values
TYPED_COLUMNS = {
        "longs": ["12", "+3", "-0", "0042", "", "9007199254740993", "7", "1"],
        "doubles": ["1.5", "2", "5.", ".5", "NaN", "1e3", "", "-2.25"],
        "infinite": ["Infinity", "1.5", "-Infinity", "2", "", "3", "4", "5"],
        "booleans": ["True", "false", "TRUE", "", "False", "true", "true", "false"],
}
TYPED_KINDS = Schema((
    ColumnSpec("longs", "integer", nullable=True), ColumnSpec("doubles", "continuous", nullable=True),
    ColumnSpec("infinite", "continuous", nullable=True), ColumnSpec("booleans", "boolean", nullable=True),
))


@pytest.mark.spark
@pytest.mark.xdist_group("spark")
def test_spark_classes_the_columns_it_typed_as_pandas_reads_their_text(tmp_path, spark):
    from dpsynth.engines.sql import SourceType

    profiler, got = _spark_classes_and_types_as_pandas(tmp_path, spark, TYPED_COLUMNS, TYPED_KINDS)
    assert [profiler._sources[c] for c in TYPED_COLUMNS] == [
        SourceType.INTEGER, SourceType.FLOAT, SourceType.FLOAT, SourceType.BOOLEAN]
    # a subset of the columns, in another order, counts the same
    subset = profiler.format_counts(["booleans", "doubles"])
    assert list(subset) == ["booleans", "doubles"]
    for name in subset:
        np.testing.assert_array_equal(subset[name], got[name], err_msg=name)


def relation_of(path):
    import duckdb

    return duckdb.connect().read_csv(str(path))


def test_the_typed_table_of_decided_kinds_is_temporary(tmp_path):
    import duckdb

    path = tmp_path / "t.csv"
    path.write_text("n,w\n1,a\n2,b\n")
    database = tmp_path / "user.duckdb"
    connection = duckdb.connect(str(database))
    typed = DuckDBProfiler(path, connection=connection).with_kinds(Schema((ColumnSpec("n", "integer", nullable=True),)))
    assert typed.relation.fetchall() == [(1, "a"), (2, "b")]
    connection.close()
    # nothing of the private table stays in the user's database
    assert duckdb.connect(str(database)).sql("SELECT count(*) FROM duckdb_tables()").fetchall() == [(0,)]

