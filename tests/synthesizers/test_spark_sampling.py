
import numpy as np
import pandas as pd
import pytest

from dpsynth.errors import ParameterError
from dpsynth.schema import ColumnKind, ColumnSpec, Schema
from dpsynth.synthesizers import MST
from dpsynth.synthesizers.spark_sampling import partition_rows, spark_samples

# One worker runs every Spark test, so one JVM starts.
pytestmark = [pytest.mark.spark, pytest.mark.xdist_group("spark")]


@pytest.fixture(scope="module")
def fitted():
    rng = np.random.default_rng(3)
    n = 1500
    group = rng.integers(0, 3, n)
    df = pd.DataFrame({
        "g": pd.Series(np.array(["u", "v", "w"])[group], dtype="string"),
        "i": pd.array(np.where(rng.random(n) < 0.1, None, group * 10 + rng.integers(0, 5, n)), dtype="Int64"),
        "t": pd.Timestamp("2021-01-01") + pd.to_timedelta(group * 100 + rng.integers(0, 30, n), unit="D"),
    })
    schema = Schema((
        ColumnSpec("g", ColumnKind.CATEGORICAL, categories=("u", "v", "w")),
        ColumnSpec("i", ColumnKind.INTEGER, lower=0, upper=30, bins=6, nullable=True),
        ColumnSpec("t", ColumnKind.DATETIME, lower="2021-01-01", upper="2022-01-01", bins=12),
    ))
    return MST(epsilon=20.0, random_state=0).fit(df, schema)


def test_rows_are_split_evenly_over_partitions():
    assert partition_rows(10, 3) == [4, 3, 3] and sum(partition_rows(10**9 + 7, 13)) == 10**9 + 7


def test_partitions_generate_exactly_n_rows_with_their_own_streams(spark, fitted, tmp_path):
    frame = spark_samples(fitted, 1003, spark=spark, partitions=3, random_state=5, chunk_rows=200,
                          path=tmp_path / "out")
    rows = frame.toPandas()
    assert len(rows) == 1003 and list(rows.columns) == ["g", "i", "t"]
    written = pd.read_parquet(tmp_path / "out")
    assert len(written) == 1003 and written["i"].isna().any()
    # same seed and partitions: same rows; the partitions' streams differ from one another
    again = spark_samples(fitted, 1003, spark=spark, partitions=3, random_state=5, chunk_rows=200).toPandas()
    pd.testing.assert_frame_equal(rows, again)
    first, second = rows.iloc[:334].reset_index(drop=True), rows.iloc[335:669].reset_index(drop=True)
    assert not first.equals(second)
    other = spark_samples(fitted, 1003, spark=spark, partitions=3, random_state=6, chunk_rows=200).toPandas()
    assert not rows.equals(other)
    # conditions hold on every partition
    only_w = spark_samples(fitted, 50, {"g": "w"}, spark=spark, partitions=2).toPandas()
    assert (only_w["g"] == "w").all() and len(only_w) == 50


def test_bad_arguments_are_refused_before_any_job(spark, fitted):
    with pytest.raises(ParameterError, match="partitions"):
        spark_samples(fitted, 10, spark=spark, partitions=0)
    with pytest.raises(ParameterError, match="random_state"):
        spark_samples(fitted, 10, spark=spark, random_state=np.random.default_rng(0))


def test_an_existing_output_folder_is_refused_before_any_row_is_drawn(spark, fitted, tmp_path):
    taken = tmp_path / "taken out"
    taken.mkdir()
    (taken / "keep.txt").write_text("mine")
    with pytest.raises(ParameterError, match="path.*does not exist yet"):
        spark_samples(fitted, 10, spark=spark, path=taken)
    for url in (f"file://{taken}", f"file:{taken}", taken.as_uri()):  # as_uri writes the space as %20
        with pytest.raises(ParameterError, match="path.*does not exist yet"):
            spark_samples(fitted, 10, spark=spark, path=url)
    assert [p.name for p in taken.iterdir()] == ["keep.txt"]
    (tmp_path / "a-file").write_text("")
    with pytest.raises(ParameterError, match="whose folders are folders"):
        spark_samples(fitted, 10, spark=spark, path=tmp_path / "a-file" / "out")


def test_a_folder_created_while_generating_is_refused_as_spark_finds_it(spark, fitted, tmp_path, monkeypatch):
    from dpsynth.synthesizers import spark_sampling

    monkeypatch.setattr(spark_sampling, "_check_output_folder", lambda path, session: None)
    (tmp_path / "late").mkdir()
    with pytest.raises(ParameterError, match="path.*does not exist yet"):
        spark_samples(fitted, 10, spark=spark, path=tmp_path / "late")
