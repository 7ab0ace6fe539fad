"""A fitted graphical model: potentials, their junction tree, calibrated beliefs."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from dpsynth.domain import Domain
from dpsynth.errors import ParameterError, parameter_error
from dpsynth.pgm.factor import Clique, CliqueVector, Factor
from dpsynth.pgm.inference import MarginalQueries, broadcast_shape, calibrate, marginal
from dpsynth.pgm.junction_tree import JunctionTree, junction_tree


def canonical_potentials(domain: Domain, potentials: CliqueVector) -> CliqueVector:
    """The same potentials with every clique's attributes in domain order."""
    out: dict[Clique, Factor] = {}
    for clique, factor in potentials.items():
        canon = domain.canonical(clique)
        if domain.marginal_shape(clique) != factor.shape:
            raise ParameterError(
                f"potential over {clique!r} has shape {factor.shape}, but the domain gives "
                f"{domain.marginal_shape(clique)}; use potentials fitted on this domain"
            )
        if canon in out:
            out[canon] = out[canon] + factor.transpose(canon)
        else:
            out[canon] = factor.transpose(canon)
    return CliqueVector(out)


class GraphicalModel:
    """A discrete graphical model ``P(x) ∝ exp(sum_C theta_C(x_C))`` scaled to a total.

    Parameters
    ----------
    domain : Domain
        The domain of the records.
    potentials : CliqueVector
        Log-potentials ``theta_C``.
    total : float
        Number of records the model stands for; marginals are counts summing to it.
    loss_history : sequence of float, optional
        Objective after each accepted estimation step (empty if not estimated).
    tree : JunctionTree, optional
        A junction tree covering the potentials' cliques (built if omitted).
    log_beliefs : list of numpy.ndarray, optional
        Normalised log-beliefs on ``tree`` when already computed by the caller.
    step_size : float, optional
        Last step size of the estimator, reused by a warm start.

    Attributes
    ----------
    domain, potentials, total, loss_history, tree, step_size
        As given.
    cliques : tuple of tuple of str
        The cliques of the potentials (domain order).
    """

    def __init__(
        self,
        domain: Domain,
        potentials: CliqueVector,
        total: float,
        *,
        loss_history: Sequence[float] = (),
        tree: JunctionTree | None = None,
        log_beliefs: list[np.ndarray] | None = None,
        step_size: float | None = None,
    ):
        if not np.isfinite(total) or total <= 0:
            raise parameter_error("total", total, "a positive finite number of records")
        self.domain = domain
        self.potentials = canonical_potentials(domain, potentials)
        self.total = float(total)
        self.loss_history = tuple(float(v) for v in loss_history)
        self.step_size = step_size
        self.tree = tree if tree is not None else junction_tree(domain, self.potentials.cliques)
        if log_beliefs is None:
            log_beliefs = self._calibrate(self._contributions(self.potentials))
        self.log_beliefs = log_beliefs

    @property
    def cliques(self) -> tuple[Clique, ...]:
        """Cliques of the potentials, attributes in domain order."""
        return self.potentials.cliques

    def _contributions(self, potentials: Mapping[Clique, Factor]) -> list[tuple[int, np.ndarray]]:
        terms = []
        for clique, factor in potentials.items():
            index = self.tree.containing(clique)
            if index is None:
                raise ParameterError(
                    f"clique {clique!r} is not covered by the junction tree; build the tree "
                    "from the potentials' cliques"
                )
            terms.append((index, factor.values.reshape(broadcast_shape(self.tree, index, clique))))
        return terms

    def _calibrate(self, terms: list[tuple[int, np.ndarray]]) -> list[np.ndarray]:
        tables, log_partition = calibrate(self.tree, terms)
        if not np.isfinite(log_partition):
            raise ParameterError(
                "the potentials give every record zero probability; check for -inf potentials "
                "or conditions that contradict the model"
            )
        for table in tables:
            table -= log_partition
        return tables

    def marginal(self, attributes: Iterable[str]) -> np.ndarray:
        """Counts of the marginal over ``attributes``, axes in the order given.

        Parameters
        ----------
        attributes : iterable of str
            Distinct attributes of the domain.

        Returns
        -------
        numpy.ndarray
            Shape ``domain.marginal_shape(attributes)``; sums to ``total``.
        """
        return self.total * marginal(self.tree, self.log_beliefs, tuple(attributes))

    def marginals(self, cliques: Iterable[Iterable[str]]) -> list[np.ndarray]:
        """Counts of many marginals, sharing the work that queries have in common.

        Parameters
        ----------
        cliques : iterable of iterable of str
            Each a tuple of distinct attributes of the domain.

        Returns
        -------
        list of numpy.ndarray
            As :meth:`marginal` for each clique, in order. Intermediate tables
            (up to about twice the model's size) live only during the call.
        """
        queries = MarginalQueries(self.tree, self.log_beliefs)
        return [self.total * queries(tuple(c)) for c in cliques]

    def condition(self, conditions: Mapping[str, int]) -> GraphicalModel:
        """The model of the records with ``attribute == code`` for every condition.

        The total is kept: the conditioned model stands for as many records.

        Raises
        ------
        ParameterError
            An unknown attribute, a code out of range, or conditions of probability zero.
        """
        terms = self._contributions(self.potentials)
        for attribute, code in conditions.items():
            size = self.domain[attribute]
            if not (isinstance(code, int | np.integer) and 0 <= code < size):
                raise parameter_error(
                    f"condition on {attribute!r}", code, f"an integer code in [0, {size - 1}]"
                )
            evidence = np.full(size, -np.inf)
            evidence[int(code)] = 0.0
            index = self.tree.containing((attribute,))
            terms.append((index, evidence.reshape(broadcast_shape(self.tree, index, (attribute,)))))
        try:
            beliefs = self._calibrate(terms)
        except ParameterError:
            raise ParameterError(
                f"conditions {dict(conditions)!r} have probability zero under the model; "
                "condition on values the model can produce"
            ) from None
        return GraphicalModel(
            self.domain, self.potentials, self.total, loss_history=self.loss_history,
            tree=self.tree, log_beliefs=beliefs, step_size=self.step_size,
        )

    def exclude(self, codes: Mapping[str, Iterable[int]]) -> GraphicalModel:
        """The model with some codes made impossible, standing for the same total.

        Each excluded code gets a ``-inf`` log-potential in the smallest clique
        holding its attribute, so the result is the model conditioned on none
        of them occurring: every other attribute follows its conditional
        distribution given that event, and sampling never draws them.

        Parameters
        ----------
        codes : mapping of str to iterable of int
            Codes to exclude, per attribute; at least one code of each
            attribute must remain.

        Returns
        -------
        GraphicalModel

        Raises
        ------
        ParameterError
            An unknown attribute, a code out of range, or every code of an attribute.
        """
        factors = dict(self.potentials.items())
        for attribute, given in codes.items():
            if attribute not in self.domain.attributes:
                raise parameter_error("attribute", attribute, f"one of {list(self.domain.attributes)}")
            size = self.domain[attribute]
            excluded = sorted({int(c) for c in given})
            if not excluded:
                continue
            if excluded[0] < 0 or excluded[-1] >= size:
                raise parameter_error(
                    f"codes excluded from {attribute!r}", excluded, f"integer codes in [0, {size - 1}]"
                )
            if len(excluded) == size:
                raise parameter_error(
                    f"codes excluded from {attribute!r}", excluded, "leaving at least one code possible"
                )
            holding = [c for c in factors if attribute in c]
            clique = min(holding, key=self.domain.size) if holding else (attribute,)
            factor = factors.get(clique, Factor.zeros(self.domain, clique))
            log_indicator = np.zeros(size)
            log_indicator[excluded] = -np.inf
            shape = [size if a == attribute else 1 for a in clique]
            factors[clique] = Factor(clique, factor.values + log_indicator.reshape(shape))
        same_cliques = set(factors) == set(self.potentials.cliques)
        return GraphicalModel(
            self.domain, CliqueVector(factors), self.total, loss_history=self.loss_history,
            tree=self.tree if same_cliques else None, step_size=self.step_size,
        )

    def __repr__(self) -> str:
        return (
            f"GraphicalModel({len(self.cliques)} cliques, total={self.total:.6g}, "
            f"{self.tree.cells:,} cells)"
        )
