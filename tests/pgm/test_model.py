import numpy as np
import pytest

from dpsynth.domain import Domain
from dpsynth.errors import ParameterError
from dpsynth.pgm import CliqueVector, Factor, GraphicalModel


@pytest.mark.parametrize("seed", range(4))
def test_marginals_are_counts_of_the_normalised_model(helpers, seed):
    rng = np.random.default_rng(seed)
    domain, potentials = helpers.random_model(rng, n_attrs=5, n_cliques=4)
    model = GraphicalModel(domain, potentials, total=250.0)
    joint = helpers.brute_joint(domain, potentials)
    for subset in [("x0",), ("x4", "x1"), ("x2", "x0", "x3")]:
        np.testing.assert_allclose(model.marginal(subset), 250.0 * helpers.brute_marginal(domain, joint, subset),
                                   atol=1e-9)
    assert model.marginal(domain.attributes).sum() == pytest.approx(250.0)
    assert set(model.cliques) == {domain.canonical(c) for c in potentials.cliques}


@pytest.mark.parametrize("seed", range(4))
def test_batched_marginals_equal_one_at_a_time_and_brute_force(helpers, seed):
    rng = np.random.default_rng(seed)
    domain, potentials = helpers.random_model(rng, n_attrs=6, n_cliques=5)
    model = GraphicalModel(domain, potentials, total=80.0)
    joint = helpers.brute_joint(domain, potentials)
    # Queries inside one clique, across cliques, repeated and reordered share cached tables.
    queries = [("x0",), ("x5", "x0"), ("x1", "x3", "x4"), ("x5", "x0"), ("x4", "x3", "x1"), domain.attributes]
    for query, batched in zip(queries, model.marginals(queries), strict=True):
        np.testing.assert_allclose(batched, model.marginal(query), atol=1e-12)
        np.testing.assert_allclose(batched, 80.0 * helpers.brute_marginal(domain, joint, query), atol=1e-9)


def test_condition_matches_the_brute_force_conditional(helpers):
    rng = np.random.default_rng(9)
    domain, potentials = helpers.random_model(rng, n_attrs=5, n_cliques=5)
    model = GraphicalModel(domain, potentials, total=100.0)
    conditioned = model.condition({"x1": 1, "x3": 0})
    joint = helpers.brute_joint(domain, potentials)
    sliced = np.zeros_like(joint)
    sliced[:, 1, :, 0, :] = joint[:, 1, :, 0, :]
    sliced /= sliced.sum()
    for subset in [("x0", "x2"), ("x4",), ("x1", "x3")]:
        np.testing.assert_allclose(conditioned.marginal(subset),
                                   100.0 * helpers.brute_marginal(domain, sliced, subset), atol=1e-9)


def test_potentials_in_any_axis_order_are_accepted_and_checked():
    domain = Domain(("a", "b"), (2, 3))
    table = np.log(np.arange(1.0, 7.0).reshape(3, 2))
    model = GraphicalModel(domain, CliqueVector({("b", "a"): Factor(("b", "a"), table)}), 21.0)
    np.testing.assert_allclose(model.marginal(("b", "a")), np.arange(1.0, 7.0).reshape(3, 2))
    assert model.cliques == (("a", "b"),)
    assert "21" in repr(model)
    with pytest.raises(ParameterError, match="shape"):
        GraphicalModel(domain, CliqueVector({("a", "b"): Factor(("a", "b"), np.zeros((3, 2)))}), 1.0)
    with pytest.raises(ParameterError, match="total"):
        GraphicalModel(domain, CliqueVector({}), 0.0)
    uniform = GraphicalModel(domain, CliqueVector({}), 6.0)
    np.testing.assert_allclose(uniform.marginal(("b",)), [2.0, 2.0, 2.0])


def test_exclude_matches_the_brute_force_model_without_those_codes(helpers):
    rng = np.random.default_rng(11)
    domain, potentials = helpers.random_model(rng, n_attrs=5, n_cliques=5)
    model = GraphicalModel(domain, potentials, total=100.0)
    excluded = model.exclude({"x1": [0], "x3": [1]})
    joint = helpers.brute_joint(domain, potentials)
    kept = joint.copy()
    kept[:, 0] = 0.0
    kept[:, :, :, 1] = 0.0
    kept /= kept.sum()
    for subset in [("x0", "x2"), ("x1",), ("x3", "x4"), ("x1", "x3")]:
        np.testing.assert_allclose(excluded.marginal(subset),
                                   100.0 * helpers.brute_marginal(domain, kept, subset), atol=1e-9)
    assert excluded.marginal(("x1",))[0] == 0.0
    assert excluded.total == model.total
    assert set(excluded.cliques) >= set(model.cliques)


def test_exclude_an_attribute_outside_every_potential_adds_one():
    domain = Domain(("a", "b"), (2, 3))
    model = GraphicalModel(domain, CliqueVector({("a",): Factor(("a",), np.zeros(2))}), 30.0)
    excluded = model.exclude({"b": [2]})
    np.testing.assert_allclose(excluded.marginal(("b",)), [15.0, 15.0, 0.0])
    assert ("b",) in excluded.cliques


def test_exclude_refuses_unknown_attributes_bad_codes_and_every_code():
    domain = Domain(("a", "b"), (2, 3))
    model = GraphicalModel(domain, CliqueVector({("a", "b"): Factor(("a", "b"), np.zeros((2, 3)))}), 6.0)
    with pytest.raises(ParameterError, match="'c'"):
        model.exclude({"c": [0]})
    with pytest.raises(ParameterError, match=r"\[0, 2\]"):
        model.exclude({"b": [3]})
    with pytest.raises(ParameterError, match="at least one code"):
        model.exclude({"a": [0, 1]})
    assert model.exclude({"a": []}).marginal(("a",)).tolist() == [3.0, 3.0]
