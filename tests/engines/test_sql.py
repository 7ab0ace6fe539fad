"""The SQL coding rules give every value the encoder's code, on each path they take."""

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dpsynth.encoding import TableEncoder
from dpsynth.engines import DuckDBEngine, NumpyEngine
from dpsynth.engines.sql import (
    DUCKDB,
    SPARK,
    SourceType,
    code_expression,
    column_plans,
    narrowest_integer,
    packed_key,
)
from dpsynth.schema import ColumnKind, ColumnSpec, Schema

duckdb = pytest.importorskip("duckdb")


def integer(name, lower, upper, bins, **kw):
    return ColumnSpec(name, ColumnKind.INTEGER, lower=lower, upper=upper, bins=bins, **kw)


def around_edges(encoder, name, extremes):
    """Every whole number within 2 of an edge, and the extremes of the column's type."""
    near = {int(np.ceil(e)) + d for e in encoder.bin_edges(name) for d in range(-2, 3)}
    return sorted(near | set(extremes))


def one_way(encoder, df):
    encoded = encoder.encode(df)
    return NumpyEngine(dict(encoded.columns), encoded.domain)


@pytest.mark.filterwarnings("ignore::dpsynth.encoding.OutOfDomainWarning")
@pytest.mark.parametrize(
    ("arrow_type", "lower", "upper", "bins", "extremes"),
    [
        (pa.int8(), -100, 100, 7, (-128, 127)),  # a short span: one list lookup
        (pa.uint8(), 3, 250, 16, (0, 255)),
        (pa.int32(), -5, 5, 1, (-(2**31), 2**31 - 1)),  # one bin: no inner edge
        (pa.int64(), -(10**6), 10**6, 9, (-(2**62), 2**62)),  # a wide span: one division
        (pa.uint64(), 0, 10**9, 16, (0, 2**53)),
        (pa.int16(), -(2**15), 2**15 - 1, 3, (-(2**15), 2**15 - 1)),
        (pa.int64(), None, None, (-7, 0, 300, 301, 5000), (-(2**62), 2**62)),  # uneven: bisection
    ],
)
def test_whole_numbers_of_every_type_land_in_the_encoders_bin(tmp_path, arrow_type, lower, upper, bins, extremes):
    if isinstance(bins, tuple):
        spec = ColumnSpec("x", ColumnKind.INTEGER, bin_edges=bins, nullable=True)
    else:
        spec = integer("x", lower, upper, bins, nullable=True)
    schema = Schema((spec,))
    encoder = TableEncoder(schema)
    values = around_edges(encoder, "x", extremes)
    values = [v for v in values if _fits(v, arrow_type)]
    column = pa.array([*values, None], type=arrow_type)
    path = tmp_path / "x.parquet"
    pq.write_table(pa.table({"x": column}), path)
    df = pd.DataFrame({"x": pd.array([*values, None], dtype="Int64" if arrow_type != pa.uint64() else "UInt64")})
    want = one_way(encoder, df)
    got = DuckDBEngine(path, encoder)
    # Each value alone in its row, so equal one-way counts mean equal codes row by row.
    np.testing.assert_array_equal(got.counts([("x",)])[0], want.counts([("x",)])[0])
    codes = duckdb.connect().sql(
        f"SELECT {code_expression(column_plans(encoder)[0], SourceType.INTEGER, DUCKDB)} AS c "
        f"FROM read_parquet('{path}')"
    ).fetchnumpy()["c"]
    np.testing.assert_array_equal(codes, np.asarray(encoder.encode(df).columns["x"], dtype=np.int64))


def _fits(value, arrow_type):
    info = np.iinfo(arrow_type.to_pandas_dtype())
    return info.min <= value <= info.max


def test_a_short_span_is_one_lookup_even_bins_one_division_and_others_a_bisection():
    encoder = TableEncoder(Schema((
        integer("short", 17, 90, 16),
        integer("even", 0, 4_999, 16),
        ColumnSpec("uneven", ColumnKind.INTEGER, bin_edges=(-7, 0, 300, 301, 5000)),
    )))
    plans = column_plans(encoder)
    short, even, uneven = (code_expression(p, SourceType.INTEGER, DUCKDB) for p in plans)
    assert "AS TINYINT[]))[" in short and "WHEN" not in short.split("ELSE", 1)[1]
    assert " // 5000)" in even and "WHEN" not in even.split("ELSE", 1)[1]
    assert "least(" not in uneven and uneven.count("WHEN") == 1 + 3
    assert "element_at(array(" in code_expression(plans[0], SourceType.INTEGER, SPARK)
    assert " div 5000)" in code_expression(plans[1], SourceType.INTEGER, SPARK)


def test_the_packed_key_is_the_row_major_cell_index_and_minus_one_for_a_refusal():
    sizes = [3, 5, 4]
    codes = np.array([[0, 0, 0], [2, 4, 3], [1, 3, 2], [1, -2, 0], [-1, 0, 0]])
    rows = " UNION ALL ".join("SELECT " + ", ".join(f"{v} AS c{j}" for j, v in enumerate(r)) for r in codes)
    key = packed_key(["c0", "c1", "c2"], sizes)
    got = duckdb.connect().sql(f"SELECT {key} AS k FROM ({rows})").fetchnumpy()["k"].tolist()
    valid = np.ravel_multi_index(codes[:3].T, sizes).tolist()
    assert got == [*valid, -1, -1]


def test_no_packed_key_when_the_cells_reach_two_to_the_63():
    assert packed_key([f"c{i}" for i in range(21)], [8] * 21) is None  # 2**63 cells
    assert packed_key([f"c{i}" for i in range(21)], [8] * 20 + [7]) is not None


@pytest.mark.parametrize(
    ("largest", "type_name"),
    [(0, "TINYINT"), (127, "TINYINT"), (128, "SMALLINT"), (32767, "SMALLINT"), (32768, "INTEGER"),
     (2**31 - 1, "INTEGER"), (2**31, "BIGINT")],
)
def test_a_lookup_list_is_typed_as_the_narrowest_integer_that_holds_its_codes(largest, type_name):
    assert narrowest_integer(largest) == type_name
    codes = [0, largest, 1]
    relation = duckdb.connect().sql(f"SELECT {DUCKDB.element(codes, 'p')} AS c FROM range(1, 4) t(p)")
    assert str(relation.types[0]) == type_name
    assert [v for (v,) in relation.fetchall()] == codes


def test_a_column_of_more_than_127_codes_counts_alike_on_duckdb_and_numpy(tmp_path):
    names = [f"v{i:03d}" for i in range(300)]
    rng = np.random.default_rng(3)
    df = pd.DataFrame({"wide": rng.choice(names, 5000), "narrow": rng.choice(["a", "b"], 5000)})
    path = tmp_path / "wide.parquet"
    df.to_parquet(path)
    schema = Schema([ColumnSpec("wide", ColumnKind.CATEGORICAL, categories=names),
                     ColumnSpec("narrow", ColumnKind.CATEGORICAL, categories=["a", "b"])])
    encoder = TableEncoder(schema)
    expected = one_way(encoder, df).counts([("wide", "narrow")])[0]
    got = DuckDBEngine(path, encoder).counts([("wide", "narrow")])[0]
    np.testing.assert_array_equal(got, expected)
    assert got[-1].sum() > 0  # the last of the 300 codes is counted, not wrapped
