
import numpy as np
import pandas as pd
import pytest

from dpsynth.encoding import TableEncoder
from dpsynth.engines import CountingEngine, NumpyEngine
from dpsynth.errors import InputDataError, ParameterError
from dpsynth.schema import ColumnKind, ColumnSpec, Schema

# One worker runs every Spark test, so one JVM starts.
pytestmark = [pytest.mark.spark, pytest.mark.xdist_group("spark")]


SCHEMA = Schema((
    ColumnSpec("city", ColumnKind.CATEGORICAL, categories=("Oslo", "Rome"), nullable=True),
    ColumnSpec("size", ColumnKind.INTEGER, lower=1, upper=4, on_unknown="error"),
))


def test_counts_a_path_and_refuses_what_the_encoder_refuses(spark, tmp_path):
    from dpsynth.engines import SparkEngine

    df = pd.DataFrame({"city": ["Oslo", "Rome", None, "Rome", "Oslo"], "size": [1, 4, 2, 2, 3]})
    df.to_parquet(tmp_path / "ok.parquet")
    encoder = TableEncoder(SCHEMA)
    spark.conf.set("spark.sql.session.timeZone", "America/Lima")
    engine = SparkEngine(str(tmp_path / "ok.parquet"), encoder, spark=spark)
    assert isinstance(engine, CountingEngine)
    encoded = encoder.encode(df)
    want = NumpyEngine(dict(encoded.columns), encoded.domain).counts([("size", "city")])
    np.testing.assert_array_equal(engine.counts([("size", "city")])[0], want[0])
    assert engine.row_count() == 5
    # The session's time zone is restored after the job.
    assert spark.conf.get("spark.sql.session.timeZone") == "America/Lima"

    bad = df.assign(city=["Oslo", "Mars", None, "Rome", "Oslo"], size=[1, 9, 2, 2, 3])
    with pytest.raises(InputDataError) as pandas_path:
        encoder.encode(bad)
    with pytest.raises(InputDataError) as on_spark:
        SparkEngine(spark.createDataFrame(bad.astype(object).where(bad.notna(), None)), encoder)
    assert [str(p) for p in on_spark.value.problems] == [str(p) for p in pandas_path.value.problems]


def test_refuses_a_source_that_is_not_a_frame_or_path(spark):
    from dpsynth.engines import SparkEngine

    with pytest.raises(ParameterError, match="source"):
        SparkEngine(42, TableEncoder(SCHEMA), spark=spark)


def test_a_domain_too_large_to_pack_is_grouped_by_every_column(spark, tmp_path):
    from dpsynth.engines import SparkEngine

    # 16 columns of 16 bins: 2**64 cells, beyond one long key.
    schema = Schema(tuple(ColumnSpec(f"x{i}", ColumnKind.INTEGER, lower=0, upper=15) for i in range(16)))
    rng = np.random.default_rng(5)
    df = pd.DataFrame({f"x{i}": rng.integers(0, 16, 60) for i in range(16)})
    df.to_parquet(tmp_path / "wide.parquet")
    encoder = TableEncoder(schema)
    cliques = [("x0",), ("x15", "x3"), ("x7", "x8")]
    spark.conf.set("spark.sql.shuffle.partitions", "7")
    engine = SparkEngine(str(tmp_path / "wide.parquet"), encoder, spark=spark)
    encoded = encoder.encode(df)
    want = NumpyEngine(dict(encoded.columns), encoded.domain).counts(cliques)
    for have, expected in zip(engine.counts(cliques), want, strict=True):
        np.testing.assert_array_equal(have, expected)
    # The job runs with at most one shuffle partition per core, then the setting is restored.
    assert spark.conf.get("spark.sql.shuffle.partitions") == "7"


def test_a_directory_of_part_files_and_a_glob_read_the_listed_files(spark, tmp_path):
    from dpsynth.engines import SparkEngine
    from dpsynth.errors import DataReadError

    df = pd.DataFrame({"city": ["Oslo", "Rome", None, "Rome", "Oslo", "Rome"], "size": [1, 4, 2, 2, 3, 1]})
    folder = tmp_path / "parts"
    folder.mkdir()
    df.iloc[:3].to_parquet(folder / "part-0.parquet")
    df.iloc[3:].to_parquet(folder / "part-1.parquet")
    (folder / "_SUCCESS").write_text("")
    encoder = TableEncoder(SCHEMA)
    encoded = encoder.encode(df)
    want = NumpyEngine(dict(encoded.columns), encoded.domain).counts([("size", "city")])[0]
    for source in (folder, str(folder / "*.parquet")):
        engine = SparkEngine(source, encoder, spark=spark)
        np.testing.assert_array_equal(engine.counts([("size", "city")])[0], want)
    with pytest.raises(DataReadError, match="no file matches"):
        SparkEngine(str(tmp_path / "none" / "*.parquet"), encoder, spark=spark)


def test_a_csv_is_read_with_its_headers_separator_and_a_row_of_the_wrong_length_is_refused(spark, tmp_path):
    from dpsynth.engines import SparkEngine, SparkProfiler
    from dpsynth.errors import DataReadError

    encoder = TableEncoder(SCHEMA)
    semicolons = tmp_path / "semicolons.csv"
    semicolons.write_text("city;size\nOslo;1\nRome;4\n;2\n")
    engine = SparkEngine(str(semicolons), encoder, spark=spark)
    assert engine.row_count() == 3
    np.testing.assert_array_equal(engine.counts([("size",)])[0], [1, 1, 0, 1])

    short = tmp_path / "short.csv"
    short.write_text("city,size\nOslo,1\nRome\nOslo,3\n")  # pandas and Spark would pad it with a missing size
    with pytest.raises(DataReadError, match="Spark could not read the data"):
        SparkEngine(str(short), encoder, spark=spark)
    # a job reading only the column the short row has refuses it too
    with pytest.raises(DataReadError, match="Spark could not read the data"):
        SparkProfiler(str(short), spark=spark).category_counts("city")
    assert spark.conf.get("spark.sql.csv.parser.columnPruning.enabled") == "true"  # restored
