import shutil

import numpy as np
import pandas as pd
import pytest

from dpsynth.errors import DataReadError, ParameterError
from dpsynth.io import file_format, read_table, source_files
from dpsynth.release.source import (
    RowSample,
    files_fingerprint,
    open_source,
    read_frame,
    sample_rows,
)


def _parts(tmp_path, n_parts=3, rows=40):
    folder = tmp_path / "table"
    folder.mkdir()
    frames = []
    for i in range(n_parts):
        part = pd.DataFrame({"id": np.arange(i * rows, (i + 1) * rows), "city": ["Oslo", "Rome"] * (rows // 2)})
        part.to_parquet(folder / f"part-{i}.parquet")
        frames.append(part)
    return folder, pd.concat(frames, ignore_index=True)


def test_a_glob_names_its_files_relative_to_its_fixed_folders(tmp_path):
    folder, _ = _parts(tmp_path)
    names = [name for name, _ in source_files(str(folder / "*.parquet"))]
    assert names == ["part-0.parquet", "part-1.parquet", "part-2.parquet"]
    # A directory of part files skips Spark's marker files, as Spark does.
    (folder / "_SUCCESS").write_text("")
    (folder / ".part-0.parquet.crc").write_text("x")
    named = [name for name, _ in source_files(folder)]
    assert named == ["table/part-0.parquet", "table/part-1.parquet", "table/part-2.parquet"]


def test_nothing_matching_is_a_data_read_error(tmp_path):
    with pytest.raises(DataReadError, match="no file matches"):
        source_files(str(tmp_path / "missing" / "*.parquet"))


def test_the_fingerprint_follows_the_bytes_not_the_folder(tmp_path):
    folder, _ = _parts(tmp_path)
    pattern = str(folder / "*.parquet")
    first = files_fingerprint(pattern)
    assert len(first) == 64 and first == files_fingerprint(pattern)

    moved = tmp_path / "elsewhere"
    shutil.copytree(folder, moved)
    assert files_fingerprint(str(moved / "*.parquet")) == first

    # One changed row, one more file or a renamed file each change it.
    part = pd.read_parquet(folder / "part-1.parquet")
    part.loc[0, "city"] = "Lima"
    part.to_parquet(folder / "part-1.parquet")
    changed = files_fingerprint(pattern)
    assert changed != first
    (folder / "part-1.parquet").rename(folder / "part-9.parquet")
    assert files_fingerprint(pattern) not in (first, changed)


def test_the_format_comes_from_the_files_extensions(tmp_path):
    folder, _ = _parts(tmp_path)
    files = [str(p) for _, p in source_files(folder)]
    assert file_format(str(folder), files) == "parquet"
    with pytest.raises(DataReadError, match="mixes CSV and Parquet"):
        file_format("t", [*files, "t/extra.csv"])
    with pytest.raises(DataReadError, match="'t/notes.xlsx' of 't' has an unsupported extension"):
        file_format("t", ["t/notes.xlsx"])


def test_read_frame_reads_every_file_of_a_glob_and_a_single_file_as_before(tmp_path):
    folder, whole = _parts(tmp_path)
    pd.testing.assert_frame_equal(read_frame(str(folder / "*.parquet")), whole)
    single = folder / "part-0.parquet"
    pd.testing.assert_frame_equal(read_frame(single), read_table(single))


def test_sample_rows_is_uniform_bounded_and_repeatable(tmp_path):
    folder, whole = _parts(tmp_path, n_parts=4, rows=250)
    pattern = str(folder / "*.parquet")
    sample = sample_rows(pattern, 300, seed=3)
    assert isinstance(sample, RowSample)
    assert sample.total == 1000 and len(sample.frame) == 300
    assert list(sample.frame.columns) == ["id", "city"]
    assert sample.frame["id"].is_unique and sample.frame["id"].isin(whole["id"]).all()
    assert sample_rows(pattern, 300, seed=3).frame["id"].tolist() == sample.frame["id"].tolist()
    # Every part is represented: 4 parts of 250 rows, 300 draws; each part's share is
    # hypergeometric with mean 75 and sd about 6.5, so fewer than 40 would be a 5-sigma event.
    per_part = sample.frame["id"] // 250
    assert per_part.value_counts().min() >= 40
    assert "uniform random sample of 300 of the 1000 rows" in sample.note()

    everything = sample_rows(pattern, 5000)
    assert len(everything.frame) == 1000
    assert everything.note() == "The evaluation read all 1000 rows of the real table."


def test_sample_rows_reads_csv_with_the_engines_missing_values(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("city,size\nOslo,1\nNA,2\n,3\nRome,\n")
    frame = sample_rows(path, 10).frame.sort_values("size", na_position="last")
    assert frame["city"].isna().sum() == 2 and frame["size"].isna().sum() == 1


@pytest.mark.parametrize("bad", [0, -1, 2.5, True])
def test_sample_rows_wants_a_positive_integer(tmp_path, bad):
    folder, _ = _parts(tmp_path)
    with pytest.raises(ParameterError, match=r"n \(.*\) must be a positive integer"):
        sample_rows(folder, bad)


def test_open_source_by_engine(tmp_path):
    folder, whole = _parts(tmp_path)
    pattern = str(folder / "*.parquet")
    pd.testing.assert_frame_equal(open_source(pattern, "numpy"), whole)
    assert open_source(pattern, "duckdb") == pattern
    with pytest.raises(ParameterError, match="engine"):
        open_source(pattern, "polars")
    with pytest.raises(ParameterError, match="spark_master"):
        open_source(pattern, "duckdb", spark_master="local[1]")
