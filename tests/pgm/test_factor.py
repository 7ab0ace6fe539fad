import numpy as np
import pytest
from scipy.special import logsumexp as scipy_logsumexp

from dpsynth.domain import Domain
from dpsynth.errors import ParameterError
from dpsynth.pgm.factor import CliqueVector, Factor, logsumexp, sum_axes

DOMAIN = Domain(("a", "b", "c"), (2, 3, 4))


def table(*attrs, seed=0):
    return np.random.default_rng(seed).normal(size=DOMAIN.marginal_shape(attrs))


def test_logsumexp_matches_scipy_and_keeps_minus_infinity():
    values = table("a", "b", "c")
    values[1, 2, :] = -np.inf
    for axes in [(0,), (1, 2), (0, 1, 2), (2, 0)]:
        with np.errstate(divide="ignore"):
            expected = scipy_logsumexp(values, axis=axes)
        np.testing.assert_allclose(logsumexp(values, axes), expected, rtol=1e-13)
    out = logsumexp(values, (2,))
    assert out[1, 2] == -np.inf and np.all(np.isfinite(out[0]))


def test_logsumexp_is_stable_for_large_values():
    values = np.array([[1000.0, 1000.0], [-1000.0, -1001.0]])
    np.testing.assert_allclose(logsumexp(values, (1,)), [1000 + np.log(2), -1000 + np.log1p(np.exp(-1))])


def test_transpose_and_expand_move_axes_by_name():
    f = Factor(("a", "b"), table("a", "b"))
    t = f.transpose(("b", "a"))
    assert t.attributes == ("b", "a")
    np.testing.assert_array_equal(t.values, f.values.T)
    e = f.expand(DOMAIN, ("c", "b", "a"))
    assert e.shape == (4, 3, 2)
    for k in range(4):
        np.testing.assert_array_equal(e.values[k], f.values.T)


def test_log_product_then_logsumexp_equals_brute_force():
    f = Factor(("a", "b"), table("a", "b", seed=1))
    g = Factor(("c", "b"), table("c", "b", seed=2))
    product = f + g
    assert set(product.attributes) == {"a", "b", "c"}
    brute = f.values[:, :, None] + g.values.T[None, :, :]
    np.testing.assert_allclose(product.transpose(("a", "b", "c")).values, brute)
    marg = product.logsumexp(("c",))
    np.testing.assert_allclose(marg.values, np.log(np.exp(brute).sum(axis=(0, 1))), rtol=1e-12)


def test_count_arithmetic_sum_dot_normalize():
    f = Factor(("a", "b"), np.arange(6.0).reshape(2, 3))
    assert f.sum(("b",)).values.tolist() == [3.0, 5.0, 7.0]
    assert f.sum(("a", "b")).values is not f.values
    assert f.dot(f.transpose(("b", "a"))) == pytest.approx(float((f.values**2).sum()))
    assert (f * 2.0).values.sum() == pytest.approx(30.0)
    assert f.normalize(10.0, log=False).values.sum() == pytest.approx(10.0)
    logf = Factor(("a",), np.log([1.0, 3.0]))
    np.testing.assert_allclose(logf.normalize(8.0).exp().values, [2.0, 6.0])
    np.testing.assert_allclose((f - f).values, 0.0)
    np.testing.assert_allclose((-f).values, -f.values)
    np.testing.assert_allclose(f.log().exp().values, f.values)


def test_factor_errors_name_the_attributes():
    with pytest.raises(ParameterError, match="one attribute per axis"):
        Factor(("a",), np.zeros((2, 2)))
    with pytest.raises(ParameterError, match="distinct"):
        Factor(("a", "a"), np.zeros((2, 2)))
    f = Factor(("a", "b"), table("a", "b"))
    with pytest.raises(ParameterError, match="superset"):
        f.expand(DOMAIN, ("a", "c"))
    with pytest.raises(ParameterError, match="permutation"):
        f.transpose(("a",))
    with pytest.raises(ParameterError, match="not all in"):
        f.sum(("z",))


def test_clique_vector_arithmetic():
    u = CliqueVector.from_arrays({("a",): np.array([1.0, 2.0]), ("b", "c"): np.ones((3, 4))})
    v = CliqueVector.zeros(DOMAIN, [("a",), ("b", "c")])
    assert u.cliques == (("a",), ("b", "c"))
    assert len(u) == 2 and u.size() == 14
    assert (u + v).dot(u) == pytest.approx(5.0 + 12.0)
    assert (2 * u - u).dot(u) == pytest.approx(17.0)
    assert (-u)[("a",)].values.tolist() == [-1.0, -2.0]
    with pytest.raises(ParameterError, match="different cliques"):
        u + CliqueVector.zeros(DOMAIN, [("a",)])
    with pytest.raises(ParameterError, match="filed under"):
        CliqueVector({("a",): Factor(("b",), np.zeros(3))})


@pytest.mark.parametrize(
    ("shape", "axes"),
    [((3, 4, 5), (1,)), ((3, 4, 5), (0, 2)), ((2, 3, 4, 5, 6), (0, 2, 4)), ((2, 3, 4, 5, 6), (0, 1, 2, 3, 4)),
     ((7,), (0,)), ((4, 1, 3), (1,))],
)
def test_sum_axes_is_numpys_sum_over_those_axes(shape, axes):
    values = np.random.default_rng(0).random(shape)
    got = sum_axes(values, axes)
    assert got.shape == values.sum(axis=axes).shape
    np.testing.assert_allclose(got, values.sum(axis=axes), rtol=1e-12)


def test_sum_axes_over_no_axis_is_the_table_itself():
    values = np.arange(6.0).reshape(2, 3)
    assert sum_axes(values, ()) is values
