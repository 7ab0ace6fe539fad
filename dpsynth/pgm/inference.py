"""Exact inference on a junction tree: sum-product belief propagation in log space.

:func:`calibrate` turns log-potentials into calibrated log-beliefs, one table per
junction-tree clique, in two passes over the tree (collect to the root, then
distribute). :func:`marginal` reads the marginal of any attribute set from the
calibrated beliefs: directly when a clique contains the set, otherwise by
variable elimination over the smallest subtree that covers it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import networkx as nx
import numpy as np

from dpsynth.errors import ParameterError
from dpsynth.pgm.factor import sum_axes
from dpsynth.pgm.junction_tree import JunctionTree


def broadcast_shape(tree: JunctionTree, clique: int, attributes: Sequence[str]) -> tuple[int, ...]:
    """Shape that broadcasts a table over ``attributes`` (domain order) onto a clique table."""
    members = set(attributes)
    return tuple(tree.domain[a] if a in members else 1 for a in tree.cliques[clique])


def _shifted_exp(table: np.ndarray) -> tuple[np.ndarray, float]:
    """``exp(table - peak)`` and the peak (0 when the table is all ``-inf``).

    One scalar shift per table: cells more than ~700 below the table's largest
    value underflow to probability zero, which no marginal can tell apart.
    """
    peak = float(table.max()) if table.size else 0.0
    if not np.isfinite(peak):
        peak = 0.0
    out = table - peak
    np.exp(out, out=out)
    return out, peak


def _log(values: np.ndarray, peak: float) -> np.ndarray:
    with np.errstate(divide="ignore"):
        out = np.log(values)
    out += peak
    return out


def calibrate(
    tree: JunctionTree,
    contributions: Sequence[tuple[int, np.ndarray]],
    visit: Callable[[int, np.ndarray], None] | None = None,
    keep: bool = True,
) -> tuple[list[np.ndarray], float]:
    """Run belief propagation; return unnormalised log-beliefs and log partition.

    Parameters
    ----------
    tree : JunctionTree
        The tree to propagate on.
    contributions : sequence of (int, numpy.ndarray)
        Log-potential terms: each array broadcasts onto the table of the clique
        whose index it comes with (see :func:`broadcast_shape`). Their sum is
        the clique's log-potential; cliques without a term are uniform.
    visit : callable, optional
        Called as ``visit(index, probabilities)`` once per clique, root first,
        with the clique's normalised probability table (a temporary that the
        caller may keep). This saves a second exponentiation of the beliefs.
    keep : bool
        If False, each log-belief is released once its children are served
        (the returned list then holds empty arrays), to bound peak memory.

    Returns
    -------
    beliefs : list of numpy.ndarray
        ``beliefs[i]`` is ``log Z + log P(clique i)``, axes in the clique's order.
    log_partition : float
        ``log Z``, the log of the sum of the unnormalised joint; ``-inf`` if the
        potentials give every cell zero mass.
    """
    domain = tree.domain
    tables = [np.zeros(domain.marginal_shape(c)) for c in tree.cliques]
    for index, term in contributions:
        tables[index] += term
    schedule = tree.schedule
    upward: list[np.ndarray] = [np.empty(0)] * len(tree.cliques)
    # Collect: each child's table holds its potential plus all its children's messages.
    for step in schedule:
        table, peak = _shifted_exp(tables[step.child])
        message = _log(sum_axes(table, step.child_drop), peak)
        del table
        upward[step.child] = message
        tables[step.parent] += message.reshape(step.parent_shape)
    log_partition = -np.inf
    children: dict[int, list] = {}
    for step in schedule:
        children.setdefault(step.parent, []).append(step)
    # Distribute: a clique's table is its full belief by the time it is reached.
    for index in tree.preorder:
        table, peak = _shifted_exp(tables[index])
        mass = float(table.sum())
        if index == tree.root:
            log_partition = float(_log(np.array(mass), peak))
            if not np.isfinite(log_partition):
                return tables, log_partition
        for step in children.get(index, ()):
            incoming = _log(sum_axes(table, step.parent_drop), peak)
            message = upward[step.child]
            with np.errstate(invalid="ignore"):
                # Where the child sent -inf its belief is -inf already; avoid -inf - -inf.
                incoming = np.where(np.isneginf(message), -np.inf, incoming - message)
            tables[step.child] += incoming.reshape(step.child_shape)
        if visit is not None:
            table /= mass
            visit(index, table)
        del table
        if not keep:
            tables[index] = np.empty(0)
    return tables, log_partition


def marginal(
    tree: JunctionTree, log_beliefs: Sequence[np.ndarray], attributes: Sequence[str]
) -> np.ndarray:
    """Probability table of ``attributes`` (in the order given) from normalised log-beliefs.

    Parameters
    ----------
    tree : JunctionTree
        The calibrated tree.
    log_beliefs : sequence of numpy.ndarray
        ``log P(clique i)`` for every clique (normalised: each sums to one).
    attributes : sequence of str
        Distinct attributes of the domain, in the order wanted for the axes.

    Returns
    -------
    numpy.ndarray
        ``P(attributes)``, shape ``domain.marginal_shape(attributes)``.
    """
    return MarginalQueries(tree, log_beliefs)(attributes)


class MarginalQueries:
    """Marginals of one calibrated tree, for many queries in a row.

    The clique probabilities, the conditionals of each child clique given its
    parent and the tree's graph are computed on first use and shared by
    every later query: a selection loop asking for hundreds of marginals pays
    for each once. Memory grows up to about twice the model's tables, and is
    freed with the object.

    Parameters
    ----------
    tree : JunctionTree
        The calibrated tree.
    log_beliefs : sequence of numpy.ndarray
        ``log P(clique i)`` for every clique (normalised: each sums to one).
    """

    def __init__(self, tree: JunctionTree, log_beliefs: Sequence[np.ndarray]):
        self.tree = tree
        self.log_beliefs = log_beliefs
        self._probabilities: dict[int, np.ndarray] = {}
        self._conditionals: dict[tuple[int, int], np.ndarray] = {}
        self._graph: nx.Graph | None = None

    def __call__(self, attributes: Sequence[str]) -> np.ndarray:
        """``P(attributes)``, axes in the order given; see :func:`marginal`."""
        attributes = tuple(attributes)
        if len(set(attributes)) != len(attributes):
            raise ParameterError(f"attributes {attributes!r} must be distinct")
        for a in attributes:
            self.tree.domain.index(a)
        inside = self.tree.containing(attributes)
        if inside is not None:
            clique = self.tree.cliques[inside]
            drop = tuple(i for i, a in enumerate(clique) if a not in attributes)
            # A copy when nothing is summed out: the cached table must not leak to the caller.
            table = sum_axes(self._probability(inside), drop) if drop else self._probability(inside).copy()
            kept = [a for a in clique if a in attributes]
            return np.transpose(table, [kept.index(a) for a in attributes])
        return self._eliminate(attributes)

    def _probability(self, index: int) -> np.ndarray:
        table = self._probabilities.get(index)
        if table is None:
            table = self._probabilities[index] = np.exp(self.log_beliefs[index])
        return table

    def _conditional(self, child: int, parent: int) -> np.ndarray:
        """``P(child clique | separator with parent)``, zero where the separator has no mass."""
        table = self._conditionals.get((child, parent))
        if table is None:
            clique = self.tree.cliques[child]
            joint = self._probability(child)
            sep = set(clique) & set(self.tree.cliques[parent])
            sep_axes = tuple(i for i, a in enumerate(clique) if a not in sep)
            sep_mass = np.expand_dims(sum_axes(joint, sep_axes), sep_axes)
            with np.errstate(divide="ignore", invalid="ignore"):
                table = np.where(sep_mass > 0, joint / sep_mass, 0.0)
            self._conditionals[(child, parent)] = table
        return table

    def _steiner_cliques(self, attributes: Sequence[str]) -> list[int]:
        """Cliques of a small subtree that together contain every attribute."""
        tree = self.tree
        remaining = set(attributes)
        chosen: list[int] = []
        while remaining:
            best = max(
                range(len(tree.cliques)),
                key=lambda i: (len(remaining & set(tree.cliques[i])), -tree.domain.size(tree.cliques[i])),
            )
            chosen.append(best)
            remaining -= set(tree.cliques[best])
        if self._graph is None:
            self._graph = tree.graph()
        nodes = {chosen[0]}
        for other in chosen[1:]:
            nodes.update(nx.shortest_path(self._graph, chosen[0], other))
        return sorted(nodes)

    def _eliminate(self, attributes: tuple[str, ...]) -> np.ndarray:
        """Variable elimination over the subtree covering ``attributes``.

        On a calibrated tree the joint of a connected subtree is
        ``P(root) * prod P(child | separator)``; einsum contracts that product onto
        the query, choosing the contraction order itself.
        """
        nodes = self._steiner_cliques(attributes)
        sub = self._graph.subgraph(nodes)
        root = nodes[0]
        labels: dict[str, int] = {}

        def label(attrs: Sequence[str]) -> list[int]:
            return [labels.setdefault(a, len(labels)) for a in attrs]

        operands: list[object] = [self._probability(root), label(self.tree.cliques[root])]
        for parent, child in nx.bfs_edges(sub, root):
            operands += [self._conditional(child, parent), label(self.tree.cliques[child])]
        if len(labels) > 52:
            raise ParameterError(
                f"the marginal over {attributes!r} spans {len(labels)} attributes of the model; "
                "ask for marginals over attributes that are closer in the model"
            )
        return np.einsum(*operands, label(attributes), optimize="greedy")
