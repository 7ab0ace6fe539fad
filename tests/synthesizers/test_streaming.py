import tracemalloc

import numpy as np
import pandas as pd
import pytest

from dpsynth.errors import ParameterError
from dpsynth.schema import ColumnKind, ColumnSpec, Schema
from dpsynth.synthesizers import MST


@pytest.fixture(scope="module")
def mixed():
    """A fitted MST on a table with every kind of column and missing values."""
    rng = np.random.default_rng(7)
    n = 2000
    group = rng.integers(0, 3, n)
    df = pd.DataFrame(
        {
            "g": pd.Series(np.array(["u", "v", "w"])[group], dtype="string"),
            "i": pd.array(np.where(rng.random(n) < 0.1, None, group * 10 + rng.integers(0, 5, n)), dtype="Int64"),
            "f": np.where(rng.random(n) < 0.05, np.nan, rng.normal(group, 1.0)),
            "b": pd.Series(group == 2, dtype="boolean"),
            "t": pd.Timestamp("2021-01-01") + pd.to_timedelta(group * 100 + rng.integers(0, 30, n), unit="D"),
        }
    )
    schema = Schema(
        (
            ColumnSpec("g", ColumnKind.CATEGORICAL, categories=("u", "v", "w")),
            ColumnSpec("i", ColumnKind.INTEGER, lower=0, upper=30, bins=6, nullable=True),
            ColumnSpec("f", ColumnKind.CONTINUOUS, lower=-4.0, upper=6.0, bins=10, nullable=True),
            ColumnSpec("b", ColumnKind.BOOLEAN),
            ColumnSpec("t", ColumnKind.DATETIME, lower="2021-01-01", upper="2022-01-01", bins=12),
        )
    )
    return MST(epsilon=20.0, random_state=0).fit(df, schema)


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_rows_stream_to_a_file_with_the_output_columns(mixed, tmp_path, suffix):
    path = mixed.sample(5003, path=tmp_path / f"out{suffix}", chunk_rows=1000)
    assert path == tmp_path / f"out{suffix}" and path.exists()
    in_memory = mixed.sample(10)
    if suffix == ".parquet":
        back = pd.read_parquet(path)
        # Parquet keeps the dtypes: nullable ints, booleans, datetimes, strings, missing values
        assert back.dtypes.to_dict() == in_memory.dtypes.to_dict()
        assert back["i"].isna().any() and back["f"].isna().any()
    else:
        back = pd.read_csv(path)
        assert list(back.columns) == list(in_memory.columns)
    assert len(back) == 5003
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left


def test_the_same_seed_and_chunk_give_the_same_file(mixed, tmp_path):
    first = mixed.sample(3000, path=tmp_path / "a.csv", chunk_rows=700, random_state=3)
    second = mixed.sample(3000, path=tmp_path / "b.csv", chunk_rows=700, random_state=3)
    other = mixed.sample(3000, path=tmp_path / "c.csv", chunk_rows=700, random_state=4)
    assert first.read_bytes() == second.read_bytes()
    assert first.read_bytes() != other.read_bytes()


def test_chunks_together_follow_the_model(mixed, tmp_path):
    n = 20_000
    back = pd.read_parquet(mixed.sample(n, path=tmp_path / "x.parquet", chunk_rows=999, random_state=1))
    model = mixed.model_.marginal(("g",))  # the model's one-way distribution of g (not compressed)
    expected = model / model.sum()
    observed = back["g"].value_counts(normalize=True).reindex(["u", "v", "w"], fill_value=0).to_numpy()
    # low-variance rounding per chunk: each chunk is within one row of its expected count per cell
    chunks = -(-n // 999)
    assert np.abs(observed - expected).max() <= chunks / n + 1e-12


def test_conditions_hold_in_every_chunk(mixed, tmp_path):
    back = pd.read_csv(mixed.sample(2500, {"g": "w"}, path=tmp_path / "w.csv", chunk_rows=600))
    assert (back["g"] == "w").all() and len(back) == 2500


def test_an_empty_draw_writes_the_header_and_schema(mixed, tmp_path):
    back = pd.read_parquet(mixed.sample(0, path=tmp_path / "e.parquet"))
    assert len(back) == 0 and back.dtypes.to_dict() == mixed.sample(0).dtypes.to_dict()
    assert pd.read_csv(mixed.sample(0, path=tmp_path / "e.csv")).columns.tolist() == list(back.columns)


def test_memory_follows_the_chunk_not_the_row_count(mixed, tmp_path):
    def peak(n: int) -> int:
        tracemalloc.start()
        mixed.sample(n, path=tmp_path / f"m{n}.parquet", chunk_rows=2000)
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return top

    small, large = peak(10_000), peak(100_000)
    assert large < 1.5 * small, (small, large)


def test_a_failure_midway_leaves_no_file(mixed, tmp_path, monkeypatch):
    decode = mixed.encoder_.decode
    calls = {"n": 0}

    def failing(codes, rng=None):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return decode(codes, rng=rng)

    monkeypatch.setattr(mixed.encoder_, "decode", failing)
    with pytest.raises(KeyboardInterrupt):
        mixed.sample(5000, path=tmp_path / "x.parquet", chunk_rows=1000)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"path": "out.json"}, "ending in .csv, .parquet"),
        ({"path": "out.csv", "chunk_rows": 0}, "chunk_rows"),
        ({"path": "out.csv", "chunk_rows": 2.5}, "chunk_rows"),
    ],
)
def test_bad_arguments_are_refused_before_writing(mixed, tmp_path, kwargs, match):
    kwargs = {**kwargs, "path": tmp_path / kwargs["path"]}
    with pytest.raises(ParameterError, match=match):
        mixed.sample(10, **kwargs)
    assert list(tmp_path.iterdir()) == []
