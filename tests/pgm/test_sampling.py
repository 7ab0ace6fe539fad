import numpy as np
import pytest

from dpsynth.domain import Domain
from dpsynth.errors import ParameterError
from dpsynth.pgm import CliqueVector, Factor, GraphicalModel, iter_samples, sample
from dpsynth.pgm.sampling import METHODS, _systematic


def chain_model(seed=0, total=1000.0):
    rng = np.random.default_rng(seed)
    domain = Domain(tuple("abcde"), (3, 4, 2, 5, 3))
    cliques = [("a", "b"), ("b", "c", "d"), ("d", "e")]
    potentials = CliqueVector({c: Factor(c, 1.5 * rng.normal(size=domain.marginal_shape(c))) for c in cliques})
    return GraphicalModel(domain, potentials, total)


def empirical(domain, codes, attributes):
    columns = [codes[:, domain.index(a)] for a in attributes]
    flat = np.ravel_multi_index(columns, domain.marginal_shape(attributes))
    return np.bincount(flat, minlength=domain.size(attributes)).reshape(domain.marginal_shape(attributes))


QUERIES = [("a", "b"), ("d", "c", "b"), ("e", "d"), ("a", "e"), ("c",)]  # ("a", "e") is in no clique


def test_iid_marginal_error_shrinks_like_one_over_sqrt_n():
    model = chain_model()
    for n in (2_000, 200_000):
        codes = sample(model, n, rng=1, method="iid")
        assert codes.shape == (n, 5) and codes.dtype == np.int64
        for attrs in QUERIES:
            p = model.marginal(attrs) / model.total
            tvd = 0.5 * np.abs(empirical(model.domain, codes, attrs) / n - p).sum()
            # E[TVD] <= 0.5 sum sqrt(p(1-p)/n) (Jensen); TVD moves at most 1/n per record, so
            # McDiarmid bounds the excess over the mean by sqrt(log(1e6) / 2n) w.p. 1 - 1e-6.
            bound = 0.5 * np.sqrt(p * (1 - p) / n).sum() + np.sqrt(np.log(1e6) / (2 * n))
            assert tvd <= bound, (attrs, n, tvd, bound)


def rounding_bounds(model):
    """Per-clique bounds on |count - n P(cell)| for low-variance sampling.

    The root is off by less than 1 per cell; a child cell (s, k) is off by less than 1 from
    n_s P(k | s), where n_s is itself off by the sum of the parent's errors over s.
    """
    tree, domain = model.tree, model.domain
    parents = tree.parents()
    bounds = {}
    for index in [tree.root] + [c for c, _ in reversed(tree.edges)]:
        clique = tree.cliques[index]
        if index not in parents:
            bounds[index] = np.ones(domain.marginal_shape(clique))
            continue
        parent = parents[index]
        sep = tree.separator(index, parent)
        inherited = Factor(tree.cliques[parent], bounds[parent]).sum(sep)
        belief = Factor(clique, np.exp(model.log_beliefs[index]))
        conditional = Factor(clique, belief.values / belief.sum(sep).expand(domain, clique).values)
        bounds[index] = 1.0 + (conditional * inherited).transpose(clique).values
    return bounds


def test_low_variance_matches_clique_counts_up_to_rounding():
    model = chain_model(3)
    n = 10_000
    codes = sample(model, n, rng=5)
    bounds = rounding_bounds(model)
    for index, clique in enumerate(model.tree.cliques):
        expected = n * model.marginal(clique) / model.total
        error = np.abs(empirical(model.domain, codes, clique) - expected)
        assert np.all(error < bounds[index] + 1e-9), clique
    # The root clique is exact up to rounding of each cell.
    root = model.tree.cliques[model.tree.root]
    assert np.all(np.abs(empirical(model.domain, codes, root) - n * model.marginal(root) / model.total) < 1)


def test_seed_reproduces_and_chunks_cover_n():
    model = chain_model()
    np.testing.assert_array_equal(sample(model, 500, rng=7), sample(model, 500, rng=7))
    assert not np.array_equal(sample(model, 500, rng=7), sample(model, 500, rng=8))
    chunks = list(iter_samples(model, 2_500, 1_000, rng=np.random.default_rng(0), method="iid"))
    assert [len(c) for c in chunks] == [1000, 1000, 500]
    assert sample(model, 0, rng=0).shape == (0, 5)
    for codes in chunks:
        for position, size in enumerate(model.domain.shape):
            assert codes[:, position].min() >= 0 and codes[:, position].max() < size


def test_conditional_sampling_follows_the_conditional_model():
    model = chain_model(2)
    n = 50_000
    codes = sample(model, n, rng=3, method="iid", conditions={"a": 2, "d": 1})
    assert np.all(codes[:, 0] == 2) and np.all(codes[:, 3] == 1)
    joint = model.marginal(("a", "d", "e"))[2, 1]
    p = joint / joint.sum()
    observed = np.bincount(codes[:, 4], minlength=3) / n
    assert 0.5 * np.abs(observed - p).sum() <= 0.5 * np.sqrt(p * (1 - p) / n).sum() + np.sqrt(np.log(1e6) / (2 * n))


def test_impossible_conditions_and_bad_arguments_are_refused():
    domain = Domain(("a", "b"), (2, 2))
    with np.errstate(divide="ignore"):
        table = np.log(np.array([[1.0, 0.0], [0.0, 1.0]]))
    model = GraphicalModel(domain, CliqueVector({("a", "b"): Factor(("a", "b"), table)}), 10.0)
    with pytest.raises(ParameterError, match="probability zero"):
        sample(model, 5, rng=0, conditions={"a": 0, "b": 1})
    with pytest.raises(ParameterError, match="integer code"):
        sample(model, 5, rng=0, conditions={"a": 2})
    with pytest.raises(ParameterError, match="method"):
        sample(model, 5, method="exact")
    with pytest.raises(ParameterError, match="non-negative integer"):
        sample(model, -1)
    with pytest.raises(ParameterError, match="rng"):
        sample(model, 1, rng="seed")
    with pytest.raises(ParameterError, match="chunk_rows"):
        list(iter_samples(model, 5, 0))
    codes = sample(model, 1000, rng=0)
    assert np.all(codes[:, 0] == codes[:, 1])


@pytest.mark.slow
def test_chunked_generation_memory_follows_the_chunk_not_n():
    import os
    import tracemalloc

    # DPSYNTH_TEST_SCALE=50 checks 10^7 rows; the default checks 2 * 10^5.
    scale = int(os.environ.get("DPSYNTH_TEST_SCALE", "1"))
    model = chain_model()
    n, chunk = 200_000 * scale, 2_000
    chunk_bytes = chunk * len(model.domain) * 8
    tracemalloc.start()
    try:
        rows = 0
        for codes in iter_samples(model, n, chunk, rng=0):
            rows += len(codes)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert rows == n
    # The chunk exists three times (column-major, row-major, shuffled) and about ten
    # one-column int64 temporaries add two more chunks; nothing grows with n (all rows
    # at once would be 100 chunks).
    assert peak < 6 * chunk_bytes + 100_000


@pytest.mark.parametrize("method", METHODS)
def test_excluded_codes_are_never_drawn_and_the_rest_follow_the_model(method):
    model = chain_model(4).exclude({"b": [0], "e": [2]})
    n = 20_000
    codes = sample(model, n, rng=5, method=method)
    assert not np.any(codes[:, 1] == 0) and not np.any(codes[:, 4] == 2)
    p = model.marginal(("b",)) / model.total
    observed = np.bincount(codes[:, 1], minlength=len(p)) / n
    # iid: per-cell binomial deviation, 5 standard errors; low variance rounds closer still
    np.testing.assert_allclose(observed, p, atol=5 * np.sqrt(0.25 / n))


class _Offset:
    """A stand-in generator whose uniform offsets are all ``value``."""

    def __init__(self, value):
        self.value = value

    def random(self, shape):
        return np.full(shape, self.value)


# offsets within an ulp of 1, where float sums and differences round a tick down
@pytest.mark.parametrize("offset", [1.0 - 6 * np.spacing(0.5), np.nextafter(1.0, 0.0)])
def test_rounding_never_reaches_a_trailing_zero_probability_cell(offset):
    # thirds of 7 rows sum to one ulp (8.9e-16) short of 7 before the zero cell
    expected = np.array([[1.0, 1.0, 1.0, 0.0]]) / 3.0 * 7
    assert np.cumsum(expected)[-2] < 7
    counts = _systematic(expected, np.array([7]), _Offset(offset))
    assert counts[0, 3] == 0 and counts.sum() == 7
    np.testing.assert_array_less(np.abs(counts - expected), 1.0)


def test_rounding_keeps_every_row_of_a_large_group():
    expected = np.array([[0.25, 0.75]]) * 82914
    counts = _systematic(expected, np.array([82914]), _Offset(np.nextafter(1.0, 0.0)))
    assert counts.sum() == 82914
    np.testing.assert_array_less(np.abs(counts - expected), 1.0)
