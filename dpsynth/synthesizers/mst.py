"""MST: a maximum spanning tree of noisy pair marginals.

McKenna, Miklau & Sheldon (2021), "Winning the NIST Contest: A scalable and
general approach to differentially private synthetic data". The measurement
budget is split in three equal parts:

1. every one-way marginal, measured with Gaussian noise; codes whose noisy
   count is below ``3 sigma`` are merged (domain compression, post-processing);
2. ``d - 1`` pairs chosen one at a time, Kruskal-style, by the exponential
   mechanism with score ``|| M_ab(data) - M_ab(model) ||_1`` (sensitivity 1),
   where the model is fitted to the one-way measurements: the pairs that the
   independence model explains worst and that keep the graph a tree;
3. the chosen pairs, measured with Gaussian noise.

A graphical model (a tree, so inference is exact and cheap) is fitted to all
measurements and sampled. Missing and "other" codes the user did not declare
whose noisy one-way count is below ``3 sigma`` are then left out of the model
(:class:`~dpsynth.synthesizers.compression.EmptyCodeExclusion`).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
from networkx.utils import UnionFind

from dpsynth.pgm import GraphicalModel
from dpsynth.synthesizers.base import MeasurementSession, Synthesizer
from dpsynth.synthesizers.compression import DomainCompression, EmptyCodeExclusion


class MST(EmptyCodeExclusion, Synthesizer):
    """The MST synthesizer.

    Parameters
    ----------
    epsilon, delta, public, discovery_fraction, max_model_mb, random_state
        See :class:`~dpsynth.synthesizers.base.Synthesizer`.
    compress : bool
        Merge codes whose noisy one-way count is below ``3 sigma``.
    """

    method = "mst"

    def __init__(
        self,
        *,
        epsilon: float = 1.0,
        delta: float = 1e-9,
        compress: bool = True,
        public: bool = False,
        discovery_fraction: float = 0.1,
        max_model_mb: float = 256.0,
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
        self.compress = compress

    def _measure(
        self, session: MeasurementSession, rng: np.random.Generator
    ) -> tuple[GraphicalModel, DomainCompression]:
        domain = session.domain
        d = len(domain)
        rho = session.accountant.remaining.rho
        rho_part = rho / 3.0 if d > 1 else rho

        sigma1 = math.sqrt(d / (2.0 * rho_part))
        compressed, compression, one_way = session.measure_one_way(sigma1, compress=self.compress)
        if d == 1:
            return self._estimate(compression.domain, one_way), compression

        pairs = self._select_tree(compressed, one_way, rho_part)
        measured = compressed.measure(pairs, rho_part, step="measure selected pairs")
        model = self._estimate(compression.domain, one_way + measured)
        return model, compression

    def _select_tree(
        self, session: MeasurementSession, one_way: list, rho: float
    ) -> list[tuple[str, str]]:
        """Choose ``d - 1`` pairs forming a spanning tree, each by the exponential mechanism."""
        domain = session.domain
        independent = self._estimate(domain, one_way)
        candidates = list(itertools.combinations(domain.attributes, 2))
        errors = {
            pair: float(np.abs(session.exact_counts(pair) - independent.marginal(pair)).sum())
            for pair in candidates
        }
        rounds = len(domain) - 1
        epsilon = math.sqrt(8.0 * rho / rounds)
        components = UnionFind(domain.attributes)
        chosen = []
        for _ in range(rounds):
            open_pairs = [p for p in candidates if components[p[0]] != components[p[1]]]
            scores = np.array([errors[p] for p in open_pairs])
            pair = session.select(
                open_pairs, scores, epsilon=epsilon, sensitivity=1.0, step="select a pair for the tree"
            )
            components.union(*pair)
            chosen.append(pair)
        return chosen
