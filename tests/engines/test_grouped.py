import numpy as np
import pytest

from dpsynth.domain import Domain
from dpsynth.engines.grouped import GroupedCounts, unpack


def test_unpack_inverts_the_row_major_cell_index():
    rng = np.random.default_rng(2)
    sizes = (3, 1, 7, 2**40)
    codes = [rng.integers(0, s, 50) for s in sizes]
    keys = np.ravel_multi_index(codes, sizes)
    for got, want in zip(unpack(keys, sizes), codes, strict=True):
        assert got.dtype == np.int64
        np.testing.assert_array_equal(got, want)
    assert unpack(np.array([], dtype=np.int64), ()) == []


@pytest.mark.parametrize("clique", [("a",), ("b", "a"), ()])
def test_grouped_counts_weigh_each_distinct_row(clique):
    domain = Domain(("a", "b"), (2, 3))
    grouped = GroupedCounts({"a": np.array([0, 1, 1]), "b": np.array([2, 0, 2])}, np.array([5, 1, 4]), domain)
    expanded = np.zeros((2, 3), dtype=np.int64)
    expanded[0, 2], expanded[1, 0], expanded[1, 2] = 5, 1, 4
    axes = tuple(i for i, a in enumerate(domain.attributes) if a not in clique)
    want = expanded.sum(axis=axes)
    if clique == ("b", "a"):
        want = want.T
    np.testing.assert_array_equal(grouped.counts([clique])[0], want)
    assert grouped.row_count() == 10 and grouped.distinct_rows == 3
