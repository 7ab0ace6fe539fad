import pandas as pd
import pytest

from dpsynth.errors import DataReadError
from dpsynth.io import atomic_path, read_table, write_table


def test_csv_and_parquet_round_trip(tmp_path):
    df = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", None]})
    for name in ("t.csv", "t.parquet"):
        write_table(df, tmp_path / name)
        back = read_table(tmp_path / name)
        assert back["a"].tolist() == [1, 2, 3]
        assert back["b"].isna().tolist() == [False, False, True]


def test_missing_file_names_the_path(tmp_path):
    with pytest.raises(DataReadError, match="does not exist"):
        read_table(tmp_path / "nope.csv")


def test_unsupported_extension(tmp_path):
    p = tmp_path / "t.xlsx"
    p.write_text("x")
    with pytest.raises(DataReadError, match="unsupported extension"):
        read_table(p)


def test_corrupt_parquet_is_a_read_error(tmp_path):
    p = tmp_path / "t.parquet"
    p.write_bytes(b"not parquet")
    with pytest.raises(DataReadError, match="cannot read"):
        read_table(p)


def test_atomic_path_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "out.csv"
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("partial")
        raise RuntimeError("boom")
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_written_files_follow_the_umask_not_private_temp_mode(tmp_path):
    import os

    from dpsynth.io import write_text_atomic

    old = os.umask(0o022)
    try:
        write_text_atomic(tmp_path / "x.json", "{}")
    finally:
        os.umask(old)
    assert (tmp_path / "x.json").stat().st_mode & 0o777 == 0o644
