"""AIM: the adaptive iterative mechanism for a workload of marginals.

McKenna, Mullins, Sheldon & Miklau (VLDB 2022), "AIM: An Adaptive and
Iterative Mechanism for Differentially Private Synthetic Data".

1. Every one-way marginal is measured; codes whose noisy count is below
   ``3 sigma`` are merged (domain compression, post-processing, as in MST),
   so rare codes do not inflate every candidate that holds them.
2. Each round selects, with the exponential mechanism, the candidate
   marginal (any subset of a workload marginal) that the current model
   answers worst, scored by ``w_r (|| M_r(data) - M_r(model) ||_1 -
   sqrt(2/pi) sigma n_r)``: the error minus the error its own noise would
   bring (the bias correction), weighted by how much of the workload it
   covers. Only candidates that keep the model under a size limit that
   grows with the budget spent are eligible.
3. The chosen marginal is measured with Gaussian noise and the model is
   refitted from its previous potentials (warm start).
4. When a measurement barely changes the model, the noise is halved and the
   selection epsilon doubled (annealing), so the budget goes where it helps.
5. The last round spends exactly what remains.

Each round costs ``1 / (2 sigma^2)`` (Gaussian) plus ``epsilon^2 / 8``
(exponential mechanism, as a bounded-range mechanism) in rho.

Missing and "other" codes the user did not declare whose noisy one-way
counts (pooled over every measurement of them) fall below ``3 sigma`` are
left out of the final model
(:class:`~dpsynth.synthesizers.compression.EmptyCodeExclusion`).
"""

from __future__ import annotations

import itertools
import math
import sys
from collections.abc import Sequence

import numpy as np
from tqdm.auto import tqdm

from dpsynth.errors import ParameterError, parameter_error
from dpsynth.pgm import GraphicalModel, junction_tree, model_fits, model_size
from dpsynth.schema import Schema
from dpsynth.synthesizers.base import MeasurementSession, Synthesizer
from dpsynth.synthesizers.compression import DomainCompression, EmptyCodeExclusion

Clique = tuple[str, ...]
WorkloadSpec = Sequence[Clique] | Sequence[tuple[Clique, float]]

#: share of each round's budget spent on measurement (the rest on selection)
MEASURE_SHARE = 0.9
_BIAS = math.sqrt(2.0 / math.pi)
_BAR = "{desc}: {percentage:3.0f}%|{bar}| [{elapsed}<{remaining}] {postfix}"


class AIM(EmptyCodeExclusion, Synthesizer):
    """The AIM synthesizer.

    Parameters
    ----------
    epsilon, delta, public, discovery_fraction, random_state
        See :class:`~dpsynth.synthesizers.base.Synthesizer`.
    workload : sequence of column tuples, or of (column tuple, weight), optional
        The marginals the synthetic data should preserve. Default: every
        3-way marginal (every marginal when there are fewer than 3 columns),
        weight 1.
    max_model_mb : float
        Final size limit of the model; early rounds get a share of it in
        proportion to the budget spent so far.
    max_rounds : int, optional
        The number of rounds the budget is first split into, counting one
        round per one-way marginal (at least ``columns + 1``); default
        ``16 * number of columns``. Annealing usually ends the run earlier.
    max_iters : int
        Estimation iterations per round (warm-started); the final fit uses 4x.
        On Adult at epsilon 1, 50 and 100 give the same accuracy (3-way TVD
        0.060 over 5 and 8 runs) and 300 or more a worse one: a tighter fit
        of each round's noisy model makes annealing fire sooner.
    compress : bool
        Merge codes whose noisy one-way count is below ``3 sigma``.
    progress : bool or None
        Show a progress bar; default when the standard error is a terminal.
    """

    method = "aim"

    def __init__(
        self,
        *,
        epsilon: float = 1.0,
        delta: float = 1e-9,
        workload: WorkloadSpec | None = None,
        public: bool = False,
        discovery_fraction: float = 0.1,
        max_model_mb: float = 80.0,
        max_rounds: int | None = None,
        max_iters: int = 50,
        compress: bool = True,
        progress: bool | None = None,
        random_state: int | np.random.Generator | None = None,
    ):
        super().__init__(
            epsilon=epsilon,
            delta=delta,
            public=public,
            discovery_fraction=discovery_fraction,
            max_model_mb=max_model_mb,
            random_state=random_state,
        )
        self.workload = workload
        self.max_rounds = max_rounds
        self.max_iters = max_iters
        self.compress = compress
        self.progress = progress

    # -- parameters -----------------------------------------------------------------------
    def _check_method_params(self) -> list[ParameterError]:
        problems = []
        if self.max_rounds is not None and not (isinstance(self.max_rounds, int) and self.max_rounds >= 1):
            problems.append(parameter_error("max_rounds", self.max_rounds, "a positive integer or None"))
        if not (isinstance(self.max_iters, int) and self.max_iters >= 1):
            problems.append(parameter_error("max_iters", self.max_iters, "a positive integer"))
        return problems

    def _check_schema(self, schema: Schema) -> None:
        self._workload(schema.names)

    def _workload(self, columns: Sequence[str]) -> list[tuple[Clique, float]]:
        """The workload as (clique, weight) pairs, checked against the columns."""
        if self.workload is None:
            k = min(3, len(columns))
            return [(c, 1.0) for c in itertools.combinations(columns, k)]
        out = []
        for item in self.workload:
            if len(item) == 2 and isinstance(item[0], (tuple, list)) and not isinstance(item[1], str):
                clique, weight = tuple(item[0]), float(item[1])
            else:
                clique, weight = tuple(item), 1.0
            unknown = [c for c in clique if c not in columns]
            if unknown:
                raise parameter_error(
                    "workload", list(clique), f"made of the table's columns; unknown: {unknown}"
                )
            if len(set(clique)) != len(clique) or not clique:
                raise parameter_error("workload", list(clique), "a non-empty tuple of distinct columns")
            if not (math.isfinite(weight) and weight > 0):
                raise parameter_error(f"weight of workload marginal {list(clique)}", weight, "positive")
            out.append((clique, weight))
        if not out:
            raise parameter_error("workload", self.workload, "a non-empty list of column tuples")
        return out

    # -- the mechanism --------------------------------------------------------------------
    def _measure(
        self, session: MeasurementSession, rng: np.random.Generator
    ) -> tuple[GraphicalModel, DomainCompression]:
        domain = session.domain
        d = len(domain)
        rho = session.accountant.remaining.rho
        # The one-way measurements count as d of the rounds: at least one round must remain.
        rounds = max(self.max_rounds or 16 * d, d + 1)
        sigma = math.sqrt(rounds / (2.0 * MEASURE_SHARE * rho))
        epsilon = math.sqrt(8.0 * (1.0 - MEASURE_SHARE) * rho / rounds)

        workload = self._workload(domain.attributes)
        session, compression, measurements = session.measure_one_way(sigma, compress=self.compress)
        domain = compression.domain
        candidates = _candidates(workload, domain)
        truth = {c: session.exact_counts(c).astype(float) for c in candidates}
        max_bytes = self.max_model_bytes
        refused: set[Clique] = set()
        model = self._estimate(domain, measurements, max_iters=self.max_iters)
        rho_used = rho - session.accountant.remaining.rho

        show = sys.stderr.isatty() if self.progress is None else bool(self.progress)
        bar = tqdm(total=100.0, desc="AIM budget spent", disable=not show, unit="%", bar_format=_BAR)
        bar.update(100.0 * rho_used / rho)
        last = False
        self.rounds_ = 0
        self.interrupted_ = False
        try:
            while not last:
                remaining = rho - rho_used
                if remaining < 2.0 * (1.0 / (2.0 * sigma**2) + epsilon**2 / 8.0):
                    sigma = math.sqrt(1.0 / (2.0 * MEASURE_SHARE * remaining))
                    epsilon = math.sqrt(8.0 * (1.0 - MEASURE_SHARE) * remaining)
                    last = True
                round_rho = 1.0 / (2.0 * sigma**2) + epsilon**2 / 8.0
                limit = max_bytes * min(1.0, (rho_used + round_rho) / rho)
                eligible = [
                    c for c in _eligible(domain, [m.clique for m in measurements], candidates, limit)
                    if c not in refused
                ]
                if not eligible:
                    break
                chosen = self._select(session, eligible, candidates, truth, model, sigma, epsilon)
                if model_size(domain, [*(m.clique for m in measurements), chosen])[1] > max_bytes:
                    # The size bound let through a clique the exact tree cannot hold: the
                    # selection is spent, the measurement is not; never offer it again.
                    refused.add(chosen)
                    rho_used = rho - session.accountant.remaining.rho
                    continue
                before = model.marginal(chosen)
                measurements.append(session.measure_one(chosen, sigma, step="measure selected marginal"))
                model = self._estimate(domain, measurements, warm_start=model, max_iters=self.max_iters)
                rho_used = rho - session.accountant.remaining.rho
                bar.update(100.0 * round_rho / rho)
                bar.set_postfix_str(f"round {self.rounds_ + 1}, measured {'/'.join(chosen)}", refresh=False)
                self.rounds_ += 1
                change = float(np.abs(model.marginal(chosen) - before).sum())
                if not last and change <= _BIAS * sigma * domain.size(chosen):
                    sigma /= 2.0
                    epsilon *= 2.0
        except KeyboardInterrupt:
            # Stop selecting: what was measured is spent; the rest of the budget is not.
            self.interrupted_ = True
        finally:
            bar.close()
        model = self._estimate(domain, measurements, warm_start=model, max_iters=4 * self.max_iters)
        return model, compression

    def _select(
        self,
        session: MeasurementSession,
        eligible: list[Clique],
        weight_of: dict[Clique, float],
        truth: dict[Clique, np.ndarray],
        model: GraphicalModel,
        sigma: float,
        epsilon: float,
    ) -> Clique:
        weights = np.array([weight_of[c] for c in eligible])
        errors = np.empty(len(eligible))
        for i, (clique, estimate) in enumerate(zip(eligible, model.marginals(eligible), strict=True)):
            error = np.abs(truth[clique] - estimate).sum()
            errors[i] = weights[i] * (error - _BIAS * sigma * truth[clique].size)
        return session.select(
            eligible, errors, epsilon=epsilon, sensitivity=float(weights.max()), step="select a marginal"
        )


def _candidates(workload: list[tuple[Clique, float]], domain) -> dict[Clique, float]:
    """Every non-empty subset of a workload marginal, with its AIM weight.

    The weight of candidate ``r`` is ``sum_q c_q |r ∩ q|`` over workload
    marginals ``q`` with weights ``c_q``: how much of the workload it informs.
    """
    subsets: set[Clique] = set()
    for clique, _ in workload:
        canon = domain.canonical(clique)
        for k in range(1, len(canon) + 1):
            subsets.update(itertools.combinations(canon, k))
    weights = {}
    for r in sorted(subsets, key=lambda c: (len(c), c)):
        rs = set(r)
        weights[r] = math.fsum(w * len(rs & set(q)) for q, w in workload)
    return weights


def _eligible(domain, cliques: list[Clique], candidates: dict[Clique, float], limit: float) -> list[Clique]:
    """Candidates whose addition keeps the model's tables within ``limit`` bytes.

    A candidate inside a clique of the current junction tree leaves the tree
    as it is. For the others, :class:`_ExtendedTreeSize` gives, in
    microseconds, the size of a valid junction tree that covers it: an upper
    bound, so a candidate under the limit by it is eligible. That bound can
    be far above the tree a triangulation finds (it merges every clique on
    the path between the candidate's attributes), so a candidate over the
    limit by the bound is sized exactly before it is left out: a loose bound
    would otherwise shut most of the workload out of the early, small-limit
    rounds.
    """
    sizer = _ExtendedTreeSize(junction_tree(domain, cliques))
    return [
        c for c in candidates
        if sizer.nbytes_with(c) <= limit or model_fits(domain, [*cliques, c], limit)
    ]


class _ExtendedTreeSize:
    """Size of a junction tree once extended to cover one more clique.

    Pick for each attribute of the new clique the smallest tree clique
    holding it, and merge the subtree spanning those cliques into one clique
    together with the new one. Contracting a connected subtree keeps the
    running intersection property for every old attribute, and the merged
    clique lies in the subtree of every new attribute, so the result is a
    valid junction tree; its size bounds the best one from above.
    """

    def __init__(self, tree):
        self.tree = tree
        self.domain = tree.domain
        self.cells = [self.domain.size(c) for c in tree.cliques]
        self.total = sum(self.cells)
        self.sets = [frozenset(c) for c in tree.cliques]
        parent = tree.parents()
        self.path_to_root = {}
        for node in range(len(tree.cliques)):
            path = [node]
            while path[-1] in parent:
                path.append(parent[path[-1]])
            self.path_to_root[node] = path
        self.anchor = {a: tree.containing((a,)) for a in self.domain.attributes}
        self.bytes_per_cell = tree.nbytes // max(self.total, 1)

    def nbytes_with(self, clique: Clique) -> int:
        members = frozenset(clique)
        if any(members <= s for s in self.sets):
            return self.total * self.bytes_per_cell
        paths = [self.path_to_root[self.anchor[a]] for a in clique]
        common = set(paths[0]).intersection(*paths[1:])
        merged: set[int] = set()
        for path in paths:
            for node in path:
                merged.add(node)
                if node in common:
                    break
        union = members.union(*(self.sets[i] for i in merged))
        cells = self.total - sum(self.cells[i] for i in merged) + self.domain.size(tuple(union))
        return cells * self.bytes_per_cell
