import numpy as np
import pandas as pd
import pytest

from dpsynth.domain import Domain
from dpsynth.engines import CountingEngine, NumpyEngine
from dpsynth.errors import ParameterError


@pytest.fixture
def table():
    rng = np.random.default_rng(7)
    domain = Domain(("a", "b", "c"), (3, 4, 2))
    codes = np.column_stack([rng.integers(0, n, size=500) for n in domain.shape])
    return codes, domain


def test_counts_match_pandas_crosstab_with_zero_cells(table):
    codes, domain = table
    engine = NumpyEngine(codes, domain)
    assert isinstance(engine, CountingEngine)
    (ab,) = engine.counts([("a", "b")])
    df = pd.DataFrame(codes, columns=list(domain.attributes))
    expected = pd.crosstab(df["a"], df["b"]).reindex(index=range(3), columns=range(4), fill_value=0)
    np.testing.assert_array_equal(ab, expected.to_numpy())
    assert ab.sum() == engine.row_count() == 500


def test_axes_follow_the_clique_order_given(table):
    codes, domain = table
    engine = NumpyEngine(codes, domain)
    abc, cab = engine.counts([("a", "b", "c"), ("c", "a", "b")])
    assert cab.shape == (2, 3, 4)
    np.testing.assert_array_equal(cab, abc.transpose(2, 0, 1))


def test_one_way_and_mapping_input(table):
    codes, domain = table
    engine = NumpyEngine({a: codes[:, i] for i, a in enumerate(domain)}, domain)
    (c,) = engine.counts([("c",)])
    np.testing.assert_array_equal(c, np.bincount(codes[:, 2], minlength=2))


def test_out_of_range_codes_are_refused(table):
    codes, domain = table
    codes = codes.copy()
    codes[0, 1] = 9
    with pytest.raises(ParameterError, match="attribute 'b'"):
        NumpyEngine(codes, domain)


def test_unknown_attribute_is_refused(table):
    codes, domain = table
    with pytest.raises(ParameterError, match="'z' is not in the domain"):
        NumpyEngine(codes, domain).counts([("a", "z")])


@pytest.mark.parametrize(("sizes", "grouped"), [((3, 50, 2, 7), True), ((1000, 1000), False)])
def test_a_large_table_counts_the_same_held_as_its_distinct_rows_or_not(sizes, grouped):
    rng = np.random.default_rng(3)
    rows = 200_000
    domain = Domain(tuple(f"x{i}" for i in range(len(sizes))), sizes)
    codes = np.column_stack([rng.integers(0, n, size=rows, dtype=np.uint16) for n in sizes])
    engine = NumpyEngine(codes, domain)
    assert (engine.distinct_rows < rows / 4) is grouped
    assert engine.row_count() == rows
    for clique in [("x0",), ("x1", "x0"), tuple(domain.attributes)]:
        axes = [domain.attributes.index(a) for a in clique]
        flat = np.ravel_multi_index(tuple(codes[:, i].astype(np.int64) for i in axes), [sizes[i] for i in axes])
        expected = np.bincount(flat, minlength=int(np.prod([sizes[i] for i in axes])))
        (got,) = engine.counts([clique])
        assert got.dtype == np.int64
        np.testing.assert_array_equal(got.ravel(), expected)
