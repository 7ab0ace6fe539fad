import numpy as np
import pytest

from dpsynth.pgm.inference import broadcast_shape, calibrate, marginal
from dpsynth.pgm.junction_tree import junction_tree


def contributions(tree, potentials):
    return [
        (tree.containing(c), f.transpose(tree.domain.canonical(c)).values.reshape(
            broadcast_shape(tree, tree.containing(c), tree.domain.canonical(c))))
        for c, f in potentials.items()
    ]


@pytest.mark.parametrize("seed", range(12))
def test_beliefs_and_marginals_match_brute_force(helpers, seed):
    rng = np.random.default_rng(seed)
    domain, potentials = helpers.random_model(rng, n_attrs=int(rng.integers(2, 7)),
                                              n_cliques=int(rng.integers(1, 7)), scale=2.0)
    tree = junction_tree(domain, potentials.cliques)
    tables, log_z = calibrate(tree, contributions(tree, potentials))
    joint = helpers.brute_joint(domain, potentials)

    log_joint = sum(f.expand(domain, domain.attributes).values for f in potentials.values())
    assert log_z == pytest.approx(np.log(np.exp(log_joint).sum()), abs=1e-9)
    beliefs = [t - log_z for t in tables]
    for clique, table in zip(tree.cliques, beliefs, strict=True):
        np.testing.assert_allclose(np.exp(table), helpers.brute_marginal(domain, joint, clique),
                                   rtol=0, atol=1e-9)
    for subset in helpers.attribute_subsets(domain, max_size=3):
        got = marginal(tree, beliefs, subset)
        np.testing.assert_allclose(got, helpers.brute_marginal(domain, joint, subset), rtol=0, atol=1e-9)


def test_marginal_outside_every_clique_uses_elimination(helpers):
    rng = np.random.default_rng(7)
    from dpsynth.domain import Domain
    from dpsynth.pgm import CliqueVector, Factor

    domain = Domain(tuple("abcdef"), (2, 3, 2, 4, 2, 3))
    chain = [("a", "b"), ("b", "c"), ("c", "d"), ("d", "e"), ("e", "f")]
    potentials = CliqueVector({c: Factor(c, rng.normal(size=domain.marginal_shape(c))) for c in chain})
    tree = junction_tree(domain, chain)
    assert tree.containing(("a", "f")) is None
    tables, log_z = calibrate(tree, contributions(tree, potentials))
    beliefs = [t - log_z for t in tables]
    joint = helpers.brute_joint(domain, potentials)
    for subset in [("f", "a"), ("a", "c", "e"), ("e", "b", "f", "a")]:
        np.testing.assert_allclose(marginal(tree, beliefs, subset),
                                   helpers.brute_marginal(domain, joint, subset), atol=1e-12)


def test_zero_potentials_propagate_as_zero_probability(helpers):
    from dpsynth.domain import Domain

    domain = Domain(tuple("abc"), (2, 2, 3))
    tree = junction_tree(domain, [("a", "b"), ("b", "c")])
    with np.errstate(divide="ignore"):
        ab = np.log(np.array([[0.0, 1.0], [2.0, 0.0]]))
    bc = np.zeros((2, 3))
    bc[0, :] = -np.inf  # b = 0 impossible; a = 1 then has no mass at all
    with np.errstate(divide="ignore"):
        tables, log_z = calibrate(tree, [(tree.containing(("a", "b")), ab), (tree.containing(("b", "c")), bc)])
    assert log_z == pytest.approx(np.log(3.0))
    beliefs = [t - log_z for t in tables]
    np.testing.assert_allclose(marginal(tree, beliefs, ("a", "b")), [[0, 1], [0, 0]], atol=1e-15)
    np.testing.assert_allclose(marginal(tree, beliefs, ("c",)), [1 / 3] * 3)
