"""Junction trees over measured cliques, and the model size they imply.

From the cliques the model must represent, we build the interaction graph
(one node per attribute, an edge between attributes that share a clique),
triangulate it by greedy elimination, keep the maximal cliques of the
triangulated graph, and connect them by a maximum spanning tree on separator
size. The result has the running intersection property, so belief
propagation along it is exact.

The size of the model, the number of cells of all junction-tree tables, is
known from the cliques alone: :func:`model_size` computes it without
allocating any table, and :func:`check_model_size` refuses a model over a cap.
Both are cached on the (domain, cliques) pair, so asking "would adding clique
C fit?" for many candidates is cheap.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import networkx as nx

from dpsynth.domain import Domain
from dpsynth.errors import ModelTooLargeError, parameter_error
from dpsynth.pgm.factor import Clique

#: bytes per table cell (float64)
CELL_BYTES = 8
#: default cap on the junction-tree tables of one model, in bytes (4 GiB)
DEFAULT_MAX_BYTES = 4 * 2**30


@dataclass(frozen=True)
class Message:
    """One edge of the schedule: where a message comes from and goes, by axes.

    ``child_drop`` are the child's axes summed out going up, ``parent_shape``
    broadcasts the separator table onto the parent; ``parent_drop`` and
    ``child_shape`` are the same for the way down.
    """

    child: int
    parent: int
    child_drop: tuple[int, ...]
    parent_shape: tuple[int, ...]
    parent_drop: tuple[int, ...]
    child_shape: tuple[int, ...]


@dataclass(frozen=True)
class JunctionTree:
    """A junction tree over a domain.

    Attributes
    ----------
    domain : Domain
        The full domain; every attribute belongs to at least one clique.
    cliques : tuple of tuple of str
        Maximal cliques of the triangulated graph, attributes in domain order.
    edges : tuple of (int, int)
        Tree edges ``(child, parent)`` in post-order: every child appears
        before its parent, so this is the upward (collect) schedule and its
        reverse is the downward (distribute) schedule.
    root : int
        Index of the root clique.
    elimination_order : tuple of str
        The elimination order used to triangulate.
    """

    domain: Domain
    cliques: tuple[Clique, ...]
    edges: tuple[tuple[int, int], ...]
    root: int
    elimination_order: tuple[str, ...]

    @functools.cached_property
    def schedule(self) -> tuple[Message, ...]:
        """The upward schedule with the axes each message sums out and lands on.

        Reverse it for the downward pass.
        """
        out = []
        for child, parent in self.edges:
            sep = set(self.separator(child, parent))
            out.append(Message(
                child, parent,
                tuple(i for i, a in enumerate(self.cliques[child]) if a not in sep),
                tuple(self.domain[a] if a in sep else 1 for a in self.cliques[parent]),
                tuple(i for i, a in enumerate(self.cliques[parent]) if a not in sep),
                tuple(self.domain[a] if a in sep else 1 for a in self.cliques[child]),
            ))
        return tuple(out)

    @functools.cached_property
    def preorder(self) -> tuple[int, ...]:
        """Cliques from the root down: each after its parent."""
        return (self.root, *(child for child, _ in reversed(self.edges)))

    def separator(self, child: int, parent: int) -> Clique:
        """Attributes shared by two adjacent cliques, in domain order."""
        shared = set(self.cliques[child]) & set(self.cliques[parent])
        return tuple(a for a in self.cliques[child] if a in shared)

    @property
    def cells(self) -> int:
        """Total number of cells of the clique tables."""
        return sum(self.domain.size(c) for c in self.cliques)

    @property
    def nbytes(self) -> int:
        """Bytes of the clique tables in float64."""
        return self.cells * CELL_BYTES

    def parents(self) -> dict[int, int]:
        """Parent of each non-root clique."""
        return dict(self.edges)

    def containing(self, attributes: Iterable[str]) -> int | None:
        """Index of the smallest clique containing ``attributes``, or None."""
        wanted = set(attributes)
        best = None
        for i, clique in enumerate(self.cliques):
            if wanted <= set(clique) and (
                best is None or self.domain.size(clique) < self.domain.size(self.cliques[best])
            ):
                best = i
        return best

    def graph(self) -> nx.Graph:
        """The tree as an undirected networkx graph on clique indices."""
        tree = nx.Graph()
        tree.add_nodes_from(range(len(self.cliques)))
        tree.add_edges_from(self.edges)
        return tree


def _normalize(domain: Domain, cliques: Iterable[Iterable[str]]) -> tuple[Clique, ...]:
    """Cliques in domain order, deduplicated, in first-seen order."""
    seen: dict[Clique, None] = {}
    for clique in cliques:
        clique = tuple(clique)
        if len(set(clique)) != len(clique):
            raise parameter_error("clique", clique, "a tuple of distinct attributes")
        seen[domain.canonical(clique)] = None
    return tuple(seen)


def _bits(mask: int) -> Iterator[int]:
    """Positions of the set bits of ``mask``."""
    while mask:
        low = mask & -mask
        yield low.bit_length() - 1
        mask ^= low


def _eliminate(adjacency: list[int], sizes: list[int], weighted: bool) -> tuple[list[int], list[int]]:
    """Greedy elimination on a graph of bitmask adjacencies.

    Returns the elimination order and the elimination cliques (bitmasks).
    Simplicial vertices (no fill) go first; otherwise the vertex whose
    elimination clique is smallest in cells (``weighted``) or that adds the
    fewest fill edges is eliminated, ties broken by the other criterion and
    then by position so the result is deterministic. Bitmasks keep this cheap
    enough to run for every candidate clique a selection loop considers.
    """
    adjacency = list(adjacency)
    alive = (1 << len(sizes)) - 1
    order: list[int] = []
    created: list[int] = []
    # Scores are kept between steps: eliminating v changes only the neighbourhoods of
    # its neighbours (cells) and of vertices next to them (fill).
    scores: dict[int, tuple] = {}
    while alive:
        for v in _bits(alive):
            if v in scores:
                continue
            nbrs = adjacency[v]
            fill = 0
            cells = sizes[v]
            for u in _bits(nbrs):
                fill += (nbrs & ~adjacency[u] & ~(1 << u)).bit_count()
                cells *= sizes[u]
            fill //= 2
            scores[v] = ((fill > 0, cells, fill) if weighted else (fill, cells)) + (v,)
        v = min(scores.values())[-1]
        nbrs = adjacency[v]
        created.append(nbrs | (1 << v))
        stale = nbrs
        for u in _bits(nbrs):
            adjacency[u] = (adjacency[u] | nbrs) & ~(1 << u) & ~(1 << v)
            stale |= adjacency[u]
        for u in _bits(stale):
            scores.pop(u, None)
        del scores[v]
        alive &= ~(1 << v)
        order.append(v)
    return order, created


def _maximal(sets: Iterable[frozenset]) -> list[frozenset]:
    """The sets not strictly contained in another (duplicates removed)."""
    unique = sorted(set(sets), key=len, reverse=True)
    kept: list[frozenset] = []
    for s in unique:
        if not any(s <= k for k in kept):
            kept.append(s)
    return kept


@functools.lru_cache(maxsize=8192)
def _elimination(
    domain: Domain, cliques: tuple[Clique, ...], weighted: bool
) -> tuple[int, list[int], list[frozenset]]:
    """One greedy elimination: (cells, order, maximal cliques as position sets)."""
    position = {a: i for i, a in enumerate(domain.attributes)}
    adjacency = [0] * len(domain)
    for clique in cliques:
        mask = sum(1 << position[a] for a in clique)
        for a in clique:
            adjacency[position[a]] |= mask & ~(1 << position[a])
    order, created = _eliminate(adjacency, list(domain.shape), weighted)
    maximal = _maximal(frozenset(_bits(c)) for c in created)
    cost = sum(math.prod(domain.shape[i] for i in m) for m in maximal)
    return cost, order, maximal


def _triangulate(domain: Domain, cliques: tuple[Clique, ...]) -> tuple[int, list[int], list[frozenset]]:
    """The cheaper of the two greedy eliminations (the weighted one on a tie).

    Kept apart from the tree itself so that sizing a candidate model (the
    cells alone) costs no spanning tree.
    """
    return min((_elimination(domain, cliques, weighted) for weighted in (True, False)), key=lambda e: e[0])


@functools.lru_cache(maxsize=4096)
def _build(domain: Domain, cliques: tuple[Clique, ...]) -> JunctionTree:
    position = {a: i for i, a in enumerate(domain.attributes)}
    _, order, maximal = _triangulate(domain, cliques)
    jt_cliques = sorted(tuple(domain.attributes[i] for i in sorted(m)) for m in maximal)
    jt_cliques.sort(key=lambda c: tuple(position[a] for a in c))

    # Maximum spanning tree on separator size (zero-weight edges join components).
    full = nx.Graph()
    full.add_nodes_from(range(len(jt_cliques)))
    for i in range(len(jt_cliques)):
        for j in range(i + 1, len(jt_cliques)):
            full.add_edge(i, j, weight=len(set(jt_cliques[i]) & set(jt_cliques[j])))
    tree = nx.maximum_spanning_tree(full, algorithm="kruskal")
    root = max(range(len(jt_cliques)), key=lambda i: (domain.size(jt_cliques[i]), -i))
    post = list(nx.dfs_postorder_nodes(tree, source=root))
    parent = {child: par for par, child in nx.bfs_edges(tree, root)}
    edges = tuple((c, parent[c]) for c in post if c != root)
    return JunctionTree(
        domain, tuple(jt_cliques), edges, root, tuple(domain.attributes[i] for i in order)
    )


def junction_tree(domain: Domain, cliques: Iterable[Iterable[str]]) -> JunctionTree:
    """Build a junction tree whose cliques cover every one of ``cliques``.

    Attributes of the domain not in any clique become singleton cliques.

    Parameters
    ----------
    domain : Domain
        The domain of the model.
    cliques : iterable of iterable of str
        Cliques the model must represent (e.g. the measured ones).

    Returns
    -------
    JunctionTree
        Cached: the same ``(domain, cliques)`` returns the same object.
    """
    return _build(domain, _normalize(domain, cliques))


def model_size(domain: Domain, cliques: Iterable[Iterable[str]]) -> tuple[int, int]:
    """Cells and bytes of the junction-tree tables the cliques imply.

    Nothing is allocated; the result is cached, so calling this for many
    candidate clique sets that share most cliques is cheap.

    Parameters
    ----------
    domain : Domain
        The domain of the model.
    cliques : iterable of iterable of str
        The cliques of the model.

    Returns
    -------
    (int, int)
        Number of float64 cells and their size in bytes.
    """
    cells = _triangulate(domain, _normalize(domain, cliques))[0]
    return cells, cells * CELL_BYTES


def model_fits(domain: Domain, cliques: Iterable[Iterable[str]], max_bytes: float) -> bool:
    """Whether :func:`model_size` of the cliques is at most ``max_bytes`` bytes.

    The same answer as comparing :func:`model_size`, often at half the cost:
    the second elimination runs only when the first one does not fit.
    """
    key = _normalize(domain, cliques)
    return any(_elimination(domain, key, weighted)[0] * CELL_BYTES <= max_bytes for weighted in (True, False))


def check_model_size(
    domain: Domain, cliques: Iterable[Iterable[str]], max_bytes: int = DEFAULT_MAX_BYTES
) -> tuple[int, int]:
    """Return :func:`model_size`, or raise if the model would exceed ``max_bytes``.

    Raises
    ------
    ModelTooLargeError
        The message gives the predicted size, the cap, and the largest cliques.
    """
    cells, nbytes = model_size(domain, cliques)
    if nbytes > max_bytes:
        tree = junction_tree(domain, cliques)
        largest = sorted(tree.cliques, key=domain.size, reverse=True)[:3]
        described = "; ".join(f"{c} ({domain.size(c):,} cells)" for c in largest)
        raise ModelTooLargeError(
            f"the graphical model would need {cells:,} cells ({nbytes / 2**20:,.1f} MiB), "
            f"over the cap of {max_bytes / 2**20:,.1f} MiB; largest cliques: {described}; "
            "measure fewer or smaller marginals, coarsen the largest attributes, "
            "or raise max_bytes"
        )
    return cells, nbytes
