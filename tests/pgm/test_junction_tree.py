import math

import networkx as nx
import numpy as np
import pytest

from dpsynth.domain import Domain
from dpsynth.errors import ModelTooLargeError, ParameterError
from dpsynth.pgm.junction_tree import check_model_size, junction_tree, model_fits, model_size


def assert_valid(tree, cliques):
    graph = tree.graph()
    assert nx.is_tree(graph)
    # Every requested clique is inside a tree clique, and every attribute appears.
    for c in cliques:
        assert tree.containing(c) is not None
    assert set().union(*map(set, tree.cliques)) == set(tree.domain.attributes)
    # Running intersection: the cliques holding any attribute form a connected subtree.
    for a in tree.domain.attributes:
        holders = [i for i, c in enumerate(tree.cliques) if a in c]
        assert nx.is_connected(graph.subgraph(holders))
    # Cliques are maximal and in domain order.
    for i, c in enumerate(tree.cliques):
        assert c == tree.domain.canonical(c)
        assert not any(set(c) < set(o) for j, o in enumerate(tree.cliques) if j != i)
    # The schedule visits every child before its parent.
    seen = set()
    for child, parent in tree.edges:
        seen.add(child)
        assert parent not in seen
    assert len(tree.edges) == len(tree.cliques) - 1


def test_chain_gives_its_own_edges():
    domain = Domain(tuple("abcd"), (2, 3, 4, 5))
    cliques = [("a", "b"), ("c", "b"), ("c", "d")]
    tree = junction_tree(domain, cliques)
    assert sorted(tree.cliques) == [("a", "b"), ("b", "c"), ("c", "d")]
    assert_valid(tree, cliques)
    assert model_size(domain, cliques) == (6 + 12 + 20, 8 * 38)


def test_cycle_is_triangulated_with_one_chord():
    domain = Domain(tuple("abcd"), (2, 2, 2, 2))
    cliques = [("a", "b"), ("b", "c"), ("c", "d"), ("d", "a")]
    tree = junction_tree(domain, cliques)
    assert_valid(tree, cliques)
    assert len(tree.cliques) == 2 and all(len(c) == 3 for c in tree.cliques)


def test_weighted_elimination_adds_the_cheap_chord():
    # A 4-cycle where b and d are large: the chord a-c keeps cliques small.
    domain = Domain(tuple("abcd"), (2, 50, 2, 50))
    tree = junction_tree(domain, [("a", "b"), ("b", "c"), ("c", "d"), ("d", "a")])
    assert sorted(tree.cliques) == [("a", "b", "c"), ("a", "c", "d")]


def test_disconnected_and_unmeasured_attributes_are_joined():
    domain = Domain(tuple("abcde"), (2, 2, 3, 3, 4))
    cliques = [("a", "b"), ("c", "d")]
    tree = junction_tree(domain, cliques)
    assert_valid(tree, cliques)
    assert ("e",) in tree.cliques
    assert model_size(domain, cliques)[0] == 4 + 9 + 4


@pytest.mark.parametrize("seed", range(20))
def test_random_cliques_give_valid_trees(seed):
    rng = np.random.default_rng(seed)
    d = int(rng.integers(3, 12))
    domain = Domain(tuple(f"x{i}" for i in range(d)), tuple(rng.integers(2, 6, size=d)))
    cliques = [
        tuple(rng.choice(domain.attributes, size=int(rng.integers(1, 4)), replace=False))
        for _ in range(int(rng.integers(1, 10)))
    ]
    tree = junction_tree(domain, cliques)
    assert_valid(tree, cliques)
    assert tree.cells == sum(math.prod(domain[a] for a in c) for c in tree.cliques)
    cells, nbytes = model_size(domain, cliques)
    assert cells == tree.cells
    assert model_fits(domain, cliques, nbytes) and not model_fits(domain, cliques, nbytes - 1)


def test_model_size_is_cached_and_order_insensitive():
    domain = Domain(tuple("abc"), (3, 3, 3))
    assert junction_tree(domain, [("a", "b")]) is junction_tree(domain, [("b", "a")])


def test_check_model_size_names_the_size():
    domain = Domain(tuple("abc"), (1000, 1000, 10))
    assert check_model_size(domain, [("a",), ("b",)], max_bytes=10**6) == (2010, 16080)
    with pytest.raises(ModelTooLargeError, match=r"10,000,000 cells \(76\.3 MiB\).*cap of 1\.0 MiB"):
        check_model_size(domain, [("a", "b", "c")], max_bytes=2**20)


def test_bad_cliques_are_refused():
    domain = Domain(tuple("ab"), (2, 2))
    with pytest.raises(ParameterError, match="distinct"):
        junction_tree(domain, [("a", "a")])
    with pytest.raises(ParameterError, match="not in the domain"):
        model_size(domain, [("a", "z")])
