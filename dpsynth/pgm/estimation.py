"""Estimation of a graphical model from noisy linear measurements of its marginals.

Given measurements ``y_i = Q_i mu_{C_i} + noise`` with known noise scale
``sigma_i``, we look for the model whose marginals minimise

* ``loss="l2"``: ``sum_i ||Q_i mu_i - y_i||^2 / (2 sigma_i^2)``, or
* ``loss="l1"``: ``sum_i ||Q_i mu_i - y_i||_1 / sigma_i``,

over all distributions (scaled to the total) that factor over the measured
cliques, as in Private-PGM (McKenna, Sheldon, Miklau, ICML 2019). The solver
is entropic mirror descent on the log-potentials: a step subtracts the loss
gradient (with respect to the marginals) from the potentials. The step size
is backtracked until the loss lies under its relative-smoothness bound
(``loss + <grad, mu' - mu> + KL(p' || p) / step``), so no step size needs
tuning, and it grows by 10% after each accepted step. For the L2 loss the
gradient is taken at a Nesterov-extrapolated point (FISTA momentum) and the
momentum restarts whenever a step would raise the loss, so the loss history
is monotone; the non-smooth L1 loss uses plain steps with an Armijo test.
Estimation stops when an accepted step lowers the loss by less than ``tol``
relative, or after ``max_iters`` accepted steps.

Memory: the junction-tree tables (:func:`model_size`), one temporary the size
of the largest clique, and a few copies of the measured cells.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import lsqr

from dpsynth.domain import Domain
from dpsynth.errors import ParameterError, parameter_error
from dpsynth.pgm.factor import Clique, CliqueVector, Factor, sum_axes
from dpsynth.pgm.inference import broadcast_shape, calibrate
from dpsynth.pgm.junction_tree import DEFAULT_MAX_BYTES, check_model_size, junction_tree
from dpsynth.pgm.model import GraphicalModel, canonical_potentials

LOSSES = ("l2", "l1")
#: halvings of the step before a step is declared impossible (loss at numerical floor)
MAX_BACKTRACKS = 50
#: factor by which the step grows after an accepted step
STEP_GROWTH = 1.1


@dataclass(frozen=True, eq=False)
class Measurement:
    """A noisy linear measurement of one marginal.

    Parameters
    ----------
    clique : tuple of str
        Attributes of the measured marginal, in the order of ``values``' axes.
    values : numpy.ndarray
        Noisy answers: without ``query``, the noisy counts of the marginal
        (shape ``domain.marginal_shape(clique)`` or flattened, C order);
        with ``query``, the noisy values of ``query @ marginal.ravel()``.
    sigma : float
        Standard deviation of the noise on each value (positive).
    query : numpy.ndarray or scipy.sparse matrix, optional
        Matrix of shape ``(len(values), cells)`` mapping the flattened
        marginal (C order, axes as in ``clique``) to the measured values.
    """

    clique: tuple[str, ...]
    values: np.ndarray
    sigma: float
    query: np.ndarray | sp.spmatrix | sp.sparray | None = field(default=None)

    def __post_init__(self) -> None:
        clique = tuple(self.clique)
        if not clique or len(set(clique)) != len(clique):
            raise parameter_error("clique", clique, "a non-empty tuple of distinct attributes")
        values = np.asarray(self.values, dtype=float).ravel()
        if not np.all(np.isfinite(values)):
            raise parameter_error(f"values of the measurement on {clique!r}", "non-finite", "finite numbers")
        sigma = float(self.sigma)
        if not (np.isfinite(sigma) and sigma > 0):
            raise parameter_error(f"sigma of the measurement on {clique!r}", self.sigma, "a positive finite number")
        query = self.query
        if query is not None:
            query = sp.csr_array(query) if sp.issparse(query) else np.asarray(query, dtype=float)
            if query.ndim != 2 or query.shape[0] != values.size:
                raise ParameterError(
                    f"query of the measurement on {clique!r} has shape {query.shape}; it must "
                    f"have one row per value ({values.size})"
                )
        object.__setattr__(self, "clique", clique)
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "sigma", sigma)
        object.__setattr__(self, "query", query)


class _Plan:
    """One measurement prepared for a junction tree: canonical axes, host clique."""

    def __init__(self, domain: Domain, m: Measurement, index: int):
        for a in m.clique:
            domain.index(a)
        self.clique: Clique = domain.canonical(m.clique)
        given_shape = domain.marginal_shape(m.clique)
        to_canon = [m.clique.index(a) for a in self.clique]
        cells = int(np.prod(given_shape))
        self.sigma = m.sigma
        self.y = m.values
        if m.query is None:
            if m.values.size != cells:
                raise ParameterError(
                    f"values of the measurement on {m.clique!r} have {m.values.size} entries but "
                    f"the marginal has {cells} cells {given_shape}; give one noisy count per cell "
                    "or a query matrix"
                )
            self.query = None
            self.y = m.values.reshape(given_shape).transpose(to_canon).copy()
        else:
            if m.query.shape[1] != cells:
                raise ParameterError(
                    f"query of the measurement on {m.clique!r} has {m.query.shape[1]} columns "
                    f"but the marginal has {cells} cells; give one column per cell"
                )
            # Column k of the canonical query is the given column of canonical cell k.
            columns = np.arange(cells).reshape(given_shape).transpose(to_canon).ravel()
            self.query = m.query[:, columns]
        self.index = index

    def loss(self, mu: np.ndarray, kind: str) -> tuple[float, np.ndarray]:
        """Loss of this measurement and its gradient with respect to ``mu``."""
        if self.query is None:
            residual = mu - self.y
        else:
            residual = self.query @ mu.ravel() - self.y
        if kind == "l2":
            value = 0.5 * float(np.vdot(residual, residual)) / self.sigma**2
            grad = residual / self.sigma**2
        else:
            value = float(np.abs(residual).sum()) / self.sigma
            grad = np.sign(residual) / self.sigma
        if self.query is not None:
            grad = np.asarray(self.query.T @ grad).reshape(mu.shape)
        return value, grad

    def total_estimate(self) -> tuple[float, float] | None:
        """Unbiased estimate of the total and its variance, if the query allows one."""
        if self.query is None:
            return float(self.y.sum()), self.sigma**2 * self.y.size
        q = self.query
        ones = np.ones(q.shape[1])
        # A vector v with Q^T v = 1 turns the answers into an estimate v.y of the total.
        if sp.issparse(q):
            v = lsqr(q.T, ones, atol=1e-12, btol=1e-12)[0]
        else:
            v = np.linalg.lstsq(q.T, ones, rcond=None)[0]
        if not np.allclose(q.T @ v, ones, atol=1e-6):
            return None
        return float(v @ self.y), self.sigma**2 * float(v @ v)

    def smoothness(self) -> float:
        """Squared largest column norm of the query (1 without a query)."""
        if self.query is None:
            return 1.0
        q = self.query
        squares = q.multiply(q) if sp.issparse(q) else q * q
        return float(np.max(np.asarray(squares.sum(axis=0))))


def _backtrack(evaluate, objective, log_partition, mus, value, grads, step, total, loss):
    """Halve the step from a point until the new loss satisfies the acceptance bound.

    Returns ``(step, log_partition, mus, value, grads)`` at the accepted point, or
    None when no step of at least ``step / 2**MAX_BACKTRACKS`` is accepted.
    """
    g_dot_mu = sum(float(np.vdot(g, mu)) for g, mu in zip(grads, mus, strict=True))
    for _ in range(MAX_BACKTRACKS):
        new_log_partition, new_mus = evaluate(step)
        new_value, new_grads = objective(new_mus)
        g_dot_new = sum(float(np.vdot(g, mu)) for g, mu in zip(grads, new_mus, strict=True))
        if loss == "l2":
            # Relative smoothness bound; total * KL(p_new || p) comes from the log
            # partitions since theta_new - theta = -step * grad.
            kl_total = -step * g_dot_new - total * (new_log_partition - log_partition)
            bound = value + (g_dot_new - g_dot_mu) + max(kl_total, 0.0) / step
        else:
            # The L1 loss is not smooth: ask for half the first-order decrease (Armijo).
            bound = value + 0.5 * (g_dot_new - g_dot_mu)
        if np.isfinite(new_value) and new_value <= bound + 1e-12 * abs(value):
            return step, new_log_partition, new_mus, new_value, new_grads
        step /= 2.0
    return None


def estimate_total(domain: Domain, measurements: Sequence[Measurement]) -> float:
    """Inverse-variance weighted estimate of the number of records, at least 1.

    Raises
    ------
    ParameterError
        No measurement determines the total (e.g. only differences of counts).
    """
    estimates = [p.total_estimate() for p in (_Plan(domain, m, -1) for m in measurements)]
    usable = [e for e in estimates if e is not None]
    if not usable:
        raise parameter_error(
            "total", None, "given: no measurement determines the number of records"
        )
    weights = np.array([1.0 / var for _, var in usable])
    values = np.array([value for value, _ in usable])
    return max(1.0, float(weights @ values / weights.sum()))


def _maximal_cliques(cliques: Iterable[Clique]) -> list[Clique]:
    unique = sorted(set(cliques), key=len, reverse=True)
    kept: list[Clique] = []
    for c in unique:
        if not any(set(c) <= set(k) for k in kept):
            kept.append(c)
    return kept


def estimate(
    domain: Domain,
    measurements: Sequence[Measurement],
    *,
    warm_start: GraphicalModel | CliqueVector | None = None,
    total: float | None = None,
    tol: float = 1e-7,
    max_iters: int = 2000,
    loss: str = "l2",
    callback: Callable[[int, float], None] | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> GraphicalModel:
    """Fit a graphical model to noisy measurements of its marginals.

    Parameters
    ----------
    domain : Domain
        Domain of the records.
    measurements : sequence of Measurement
        At least one measurement; their cliques define the model's structure.
    warm_start : GraphicalModel or CliqueVector, optional
        Previous potentials (or a fitted model) to start from; cliques of new
        measurements start at zero. A model also passes on its step size.
    total : float, optional
        Number of records; estimated from the measurements if omitted.
    tol : float
        Stop when an accepted step lowers the loss by less than ``tol`` times the loss.
    max_iters : int
        Cap on the number of accepted steps.
    loss : {"l2", "l1"}
        Weighted squared error or weighted absolute error (see the module text).
    callback : callable, optional
        Called as ``callback(iteration, loss)`` after each accepted step.
    max_bytes : int
        Cap on the junction-tree tables; checked before anything is allocated.

    Returns
    -------
    GraphicalModel
        With ``loss_history`` holding the loss at the start and after every step.

    Raises
    ------
    ParameterError
        Bad measurements or settings. ModelTooLargeError: the model exceeds ``max_bytes``.
    """
    if loss not in LOSSES:
        raise parameter_error("loss", loss, f"one of {LOSSES}")
    if not measurements:
        raise parameter_error("measurements", measurements, "a non-empty sequence")
    if not (isinstance(max_iters, int) and max_iters >= 0):
        raise parameter_error("max_iters", max_iters, "a non-negative integer")
    if not (np.isfinite(tol) and tol >= 0):
        raise parameter_error("tol", tol, "a non-negative number")
    step = None
    if isinstance(warm_start, GraphicalModel):
        step = warm_start.step_size
        warm_start = warm_start.potentials
    start = canonical_potentials(domain, warm_start) if warm_start is not None else CliqueVector({})

    measured = [domain.canonical(m.clique) for m in measurements]
    cliques = _maximal_cliques(measured + list(start.cliques))
    check_model_size(domain, cliques, max_bytes)
    tree = junction_tree(domain, cliques)
    plans = [_Plan(domain, m, tree.containing(c)) for m, c in zip(measurements, measured, strict=True)]
    if total is None:
        total = estimate_total(domain, measurements)
    if not (np.isfinite(total) and total > 0):
        raise parameter_error("total", total, "a positive finite number of records")
    total = float(total)

    # Potentials live on the maximal cliques; each is added into the tree clique holding it.
    theta = {c: np.zeros(domain.marginal_shape(c)) for c in cliques}
    for clique, factor in start.items():
        host = next(c for c in cliques if set(clique) <= set(c))
        theta[host] += factor.values.reshape([domain[a] if a in clique else 1 for a in host])
    hosts = {c: tree.containing(c) for c in cliques}
    shapes = {c: broadcast_shape(tree, hosts[c], c) for c in cliques}
    grad_host = []
    for plan in plans:
        host = next(c for c in cliques if set(plan.clique) <= set(c))
        grad_host.append((host, [domain[a] if a in plan.clique else 1 for a in host]))
    grad_shapes = [broadcast_shape(tree, p.index, p.clique) for p in plans]
    reading_order: dict[int, list[int]] = {i: [] for i in range(len(tree.cliques))}
    for k, p in enumerate(plans):
        reading_order[p.index].append(k)
    for members in reading_order.values():
        members.sort(key=lambda k: -domain.size(plans[k].clique))

    def evaluate(
        point: dict[Clique, np.ndarray], step_size: float, grads: list[np.ndarray] | None
    ) -> tuple[float, list[np.ndarray]]:
        """Log partition and measured marginals at ``point - step_size * grads``."""
        terms = [(hosts[c], point[c].reshape(shapes[c])) for c in cliques]
        if grads is not None:
            terms += [
                (p.index, (-step_size * g).reshape(s))
                for p, g, s in zip(plans, grads, grad_shapes, strict=True)
            ]
        mus: list[np.ndarray] = [np.empty(0)] * len(plans)

        def read(index: int, prob: np.ndarray) -> None:
            # Largest measurement first, each summed from the smallest table already at hand
            # that holds it: a big clique hosting several measurements is summed over once,
            # not once per measurement.
            at_hand = [(tree.cliques[index], prob)]
            for k in reading_order[index]:
                wanted = set(plans[k].clique)
                attributes, table = min(
                    (pair for pair in at_hand if wanted <= set(pair[0])), key=lambda pair: pair[1].size
                )
                drop = tuple(j for j, a in enumerate(attributes) if a not in wanted)
                marginal = sum_axes(table, drop)
                at_hand.append((tuple(a for a in attributes if a in wanted), marginal))
                mus[k] = total * marginal

        _, log_partition = calibrate(tree, terms, visit=read, keep=False)
        return log_partition, mus

    def objective(mus: list[np.ndarray]) -> tuple[float, list[np.ndarray]]:
        parts = [p.loss(mu, loss) for p, mu in zip(plans, mus, strict=True)]
        return sum(v for v, _ in parts), [g for _, g in parts]

    if step is None:
        weight = sum(p.smoothness() / (p.sigma**2 if loss == "l2" else p.sigma) for p in plans)
        step = 1.0 / (total * weight)

    def moved(point: dict[Clique, np.ndarray], step_size: float, grads: list[np.ndarray],
              shift: float) -> dict[Clique, np.ndarray]:
        out = {c: v.copy() for c, v in point.items()}
        for (host, shape), g in zip(grad_host, grads, strict=True):
            out[host] -= step_size * g.reshape(shape)
        # A constant shift leaves the distribution unchanged and keeps log Z near zero,
        # so the KL term of the bound does not lose precision.
        out[cliques[0]] -= shift
        return out

    # Accelerated (Nesterov/FISTA) mirror descent with function-value restart: the
    # gradient is taken at an extrapolated point y; a step that would raise the loss
    # above the current iterate's is discarded and momentum restarts from the iterate,
    # whose plain step the bound guarantees to lower the loss.
    log_partition, mus = evaluate(theta, 0.0, None)
    value, grads = objective(mus)
    history = [value]
    previous_theta, momentum = theta, 1.0
    at_theta = (log_partition, mus, value, grads)
    iteration = 0
    while iteration < max_iters:
        next_momentum = (1.0 + np.sqrt(1.0 + 4.0 * momentum**2)) / 2.0
        # Momentum needs a smooth loss; L1 steps are plain mirror descent.
        beta = (momentum - 1.0) / next_momentum if loss == "l2" else 0.0
        if beta > 0.0:
            y = {c: theta[c] + beta * (theta[c] - previous_theta[c]) for c in cliques}
            y_log_partition, y_mus = evaluate(y, 0.0, None)
            y_value, y_grads = objective(y_mus)
        else:
            y = theta
            y_log_partition, y_mus, y_value, y_grads = at_theta
        accepted = _backtrack(
            lambda size, y=y, y_grads=y_grads: evaluate(y, size, y_grads), objective,
            y_log_partition, y_mus, y_value, y_grads, step, total, loss,
        )
        if accepted is None:
            if beta > 0.0:
                momentum = 1.0
                continue
            break
        step, new_log_partition, new_mus, new_value, new_grads = accepted
        if new_value > value and beta > 0.0:
            momentum = 1.0
            continue
        previous_theta, theta = theta, moved(y, step, y_grads, new_log_partition)
        momentum = next_momentum
        iteration += 1
        previous, value = value, new_value
        at_theta = (0.0, new_mus, new_value, new_grads)
        history.append(value)
        if callback is not None:
            callback(iteration, value)
        # Non-smooth L1 steps shrink near kinks; growing faster recovers between them.
        step *= STEP_GROWTH if loss == "l2" else 2.0
        if previous - value <= tol * abs(previous):
            break

    tables, log_partition = calibrate(
        tree, [(hosts[c], theta[c].reshape(shapes[c])) for c in cliques]
    )
    for table in tables:
        table -= log_partition
    potentials = CliqueVector({c: Factor(c, theta[c]) for c in cliques})
    return GraphicalModel(
        domain, potentials, total, loss_history=history, tree=tree, log_beliefs=tables,
        step_size=step,
    )


def objective(
    model: GraphicalModel, measurements: Sequence[Measurement], loss: str = "l2"
) -> float:
    """The estimation loss of ``model``'s marginals on ``measurements``.

    Parameters
    ----------
    model : GraphicalModel
        A fitted model (any model over the measurements' attributes).
    measurements : sequence of Measurement
        The measurements to score against.
    loss : {"l2", "l1"}
        As in :func:`estimate`.

    Returns
    -------
    float
        The loss, on the same scale as ``model.loss_history``.
    """
    if loss not in LOSSES:
        raise parameter_error("loss", loss, f"one of {LOSSES}")
    value = 0.0
    for m in measurements:
        plan = _Plan(model.domain, m, -1)
        value += plan.loss(model.marginal(plan.clique), loss)[0]
    return value
