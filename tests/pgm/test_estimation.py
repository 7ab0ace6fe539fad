import numpy as np
import pytest
import scipy.sparse as sp

from dpsynth.domain import Domain
from dpsynth.errors import ModelTooLargeError, ParameterError
from dpsynth.pgm import Measurement, estimate, estimate_total, objective


def noiseless(helpers, seed, n_attrs=5, n_cliques=5, total=1000.0):
    rng = np.random.default_rng(seed)
    domain, potentials = helpers.random_model(rng, n_attrs, n_cliques)
    joint = helpers.brute_joint(domain, potentials)
    truth = {c: total * helpers.brute_marginal(domain, joint, c) for c in potentials.cliques}
    return domain, truth


@pytest.mark.parametrize("seed", range(4))
def test_noiseless_measurements_are_recovered(helpers, seed):
    domain, truth = noiseless(helpers, seed)
    measurements = [Measurement(c, y, sigma=1.0) for c, y in truth.items()]
    model = estimate(domain, measurements, tol=1e-8, max_iters=500)
    assert model.total == pytest.approx(1000.0)
    for clique, y in truth.items():
        assert np.abs(model.marginal(clique) - y).sum() / y.sum() < 1e-3
    history = np.array(model.loss_history)
    # Backtracking guarantees every accepted step lowers the loss, up to the rounding
    # of marginals of size ~total (relative 1e-12 of the starting loss).
    assert np.all(np.diff(history) <= 1e-12 * history[0])


def test_single_clique_l2_optimum_is_the_simplex_projection():
    # With one measured clique and a known total, the L2 optimum is the Euclidean
    # projection of y onto {mu >= 0, sum mu = N}: mu = max(y - tau, 0).
    domain = Domain(("a", "b"), (3, 4))
    rng = np.random.default_rng(3)
    y = rng.uniform(0, 40, size=(3, 4))
    y[0, :2] = [-15.0, -20.0]
    total = 200.0
    flat = np.sort(y.ravel())[::-1]
    cums = np.cumsum(flat) - total
    k = np.max(np.nonzero(flat - cums / np.arange(1, flat.size + 1) > 0)[0]) + 1
    projection = np.maximum(y - cums[k - 1] / k, 0.0)
    best = 0.5 * float(((projection - y) ** 2).sum())
    model = estimate(domain, [Measurement(("a", "b"), y, sigma=1.0)], total=total, tol=1e-12,
                     max_iters=5000)
    # Zero cells are only approached asymptotically; the loss gap shrinks like 1/t.
    assert model.loss_history[-1] == pytest.approx(best, rel=1e-3)
    np.testing.assert_allclose(model.marginal(("a", "b")), projection, atol=0.5)


def test_measurement_axis_order_and_query_matrices_are_honoured(helpers):
    domain, truth = noiseless(helpers, 11, n_attrs=4, n_cliques=3)
    measurements = []
    for clique, y in truth.items():
        reverse = clique[::-1]
        measurements.append(Measurement(reverse, np.transpose(y), sigma=2.0))
    # A query on one clique: its total and its first-axis marginal, as a sparse matrix.
    clique, y = next(iter(truth.items()))
    first = np.kron(np.eye(y.shape[0]), np.ones(int(np.prod(y.shape[1:]))))
    query = np.vstack([np.ones(y.size), first])
    measurements.append(Measurement(clique, query @ y.ravel(), 1.0, query=sp.csr_matrix(query)))
    model = estimate(domain, measurements, tol=1e-8, max_iters=500)
    for clique, y in truth.items():
        assert np.abs(model.marginal(clique) - y).sum() / y.sum() < 1e-3
    assert objective(model, measurements) == pytest.approx(model.loss_history[-1], rel=1e-9, abs=1e-9)


def test_total_is_the_inverse_variance_average():
    domain = Domain(("a", "b"), (2, 2))
    m1 = Measurement(("a",), [60.0, 40.0], sigma=1.0)       # variance 2
    m2 = Measurement(("a", "b"), [[30.0, 30.0], [25.0, 25.0]], sigma=2.0)  # variance 16
    q = np.array([[1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 1.0]])
    m3 = Measurement(("a", "b"), [70.0, 50.0], sigma=1.0, query=q)  # v = (1, 1), variance 2
    m4 = Measurement(("a", "b"), [5.0], sigma=1.0, query=[[1.0, -1.0, 0.0, 0.0]])  # no total
    expected = (100 / 2 + 110 / 16 + 120 / 2) / (1 / 2 + 1 / 16 + 1 / 2)
    assert estimate_total(domain, [m1, m2, m3, m4]) == pytest.approx(expected)
    with pytest.raises(ParameterError, match="total"):
        estimate_total(domain, [m4])
    assert estimate_total(domain, [Measurement(("a",), [-5.0, 1.0], 1.0)]) == 1.0


def test_l1_loss_fits_consistent_measurements(helpers):
    domain, truth = noiseless(helpers, 5, n_attrs=4, n_cliques=3)
    measurements = [Measurement(c, y, sigma=1.0) for c, y in truth.items()]
    model = estimate(domain, measurements, loss="l1", max_iters=3000, tol=1e-10)
    history = np.array(model.loss_history)
    # Armijo steps on the non-smooth L1 loss give a monotone decrease, not a rate.
    assert np.all(np.diff(history) <= 0.0)
    assert history[-1] < 0.1 * history[0]
    assert objective(model, measurements, loss="l1") == pytest.approx(model.loss_history[-1])


def test_warm_start_continues_from_previous_potentials(helpers):
    domain, truth = noiseless(helpers, 2, n_attrs=5, n_cliques=5)
    items = list(truth.items())
    first = [Measurement(c, y, sigma=1.0) for c, y in items[:3]]
    everything = [Measurement(c, y, sigma=1.0) for c, y in items]
    model = estimate(domain, first, max_iters=300)
    cold = estimate(domain, everything, max_iters=50, tol=0.0)
    warm = estimate(domain, everything, warm_start=model, max_iters=50, tol=0.0)
    assert warm.loss_history[0] < cold.loss_history[0]
    assert warm.loss_history[-1] < cold.loss_history[-1]
    from_potentials = estimate(domain, everything, warm_start=model.potentials, max_iters=0)
    assert from_potentials.loss_history[0] == pytest.approx(warm.loss_history[0])


def test_tolerance_stops_early_and_callback_sees_every_step(helpers):
    domain, truth = noiseless(helpers, 1, n_attrs=4, n_cliques=3)
    rng = np.random.default_rng(0)
    noisy = [Measurement(c, y + rng.normal(0, 5.0, size=y.shape), sigma=5.0) for c, y in truth.items()]
    seen = []
    model = estimate(domain, noisy, tol=1e-4, max_iters=10_000, callback=lambda i, v: seen.append((i, v)))
    assert len(model.loss_history) < 10_000
    assert [v for _, v in seen] == list(model.loss_history[1:])
    assert [i for i, _ in seen] == list(range(1, len(seen) + 1))
    last = model.loss_history
    assert last[-2] - last[-1] <= 1e-4 * last[-2]


def test_bad_input_is_refused_with_a_clear_message():
    domain = Domain(("a", "b"), (2, 3))
    with pytest.raises(ParameterError, match="one noisy count per cell"):
        estimate(domain, [Measurement(("a", "b"), np.zeros(5), 1.0)])
    with pytest.raises(ParameterError, match="sigma"):
        Measurement(("a",), [1.0, 2.0], sigma=0.0)
    with pytest.raises(ParameterError, match="one row per value"):
        Measurement(("a",), [1.0, 2.0], sigma=1.0, query=np.ones((3, 2)))
    with pytest.raises(ParameterError, match="one column per cell"):
        estimate(domain, [Measurement(("a",), [1.0], 1.0, query=np.ones((1, 3)))])
    with pytest.raises(ParameterError, match="not in the domain"):
        estimate(domain, [Measurement(("z",), [1.0], 1.0)])
    with pytest.raises(ParameterError, match="loss"):
        estimate(domain, [Measurement(("a",), [1.0, 1.0], 1.0)], loss="l3")
    with pytest.raises(ParameterError, match="non-empty"):
        estimate(domain, [])
    with pytest.raises(ParameterError, match="finite"):
        Measurement(("a",), [np.nan, 1.0], 1.0)
    big = Domain(("a", "b", "c"), (1000, 1000, 100))
    with pytest.raises(ModelTooLargeError, match="100,000,000 cells"):
        estimate(big, [Measurement(("a", "b", "c"), np.zeros(1), 1.0, query=sp.csr_matrix((1, 10**8)))],
                 max_bytes=2**28)


def test_peak_memory_stays_within_three_times_the_predicted_model_size():
    import tracemalloc

    from dpsynth.pgm import model_size

    # Four overlapping 3-way cliques triangulate into two 5-way tables (253,440 cells) while
    # the measured cells are few: peak = tables + one largest-clique temporary + small terms.
    domain = Domain(tuple("abcdef"), (12, 12, 12, 10, 10, 8))
    cliques = [("a", "b", "c"), ("c", "d", "e"), ("e", "f", "a"), ("b", "d", "f")]
    rng = np.random.default_rng(0)
    measurements = [Measurement(c, rng.uniform(0, 10, domain.marginal_shape(c)), 1.0) for c in cliques]
    cells, predicted = model_size(domain, cliques)
    assert cells == 253_440
    tracemalloc.start()
    try:
        estimate(domain, measurements, max_iters=3)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak <= 3 * predicted
