"""Independent: every column on its own, the baseline every report compares against.

The whole measurement budget goes to the one-way marginals; the model treats
the columns as independent, so it keeps each column's distribution and no
relationship between columns. Missing and "other" codes the user did not
declare whose noisy count is below ``3 sigma`` are left out
(:class:`~dpsynth.synthesizers.compression.EmptyCodeExclusion`).
"""

from __future__ import annotations

import numpy as np

from dpsynth.pgm import GraphicalModel
from dpsynth.synthesizers.base import MeasurementSession, Synthesizer
from dpsynth.synthesizers.compression import DomainCompression, EmptyCodeExclusion


class Independent(EmptyCodeExclusion, Synthesizer):
    """One-way marginals only. Parameters as :class:`~dpsynth.synthesizers.base.Synthesizer`."""

    method = "independent"

    def _measure(
        self, session: MeasurementSession, rng: np.random.Generator
    ) -> tuple[GraphicalModel, DomainCompression]:
        domain = session.domain
        cliques = [(a,) for a in domain.attributes]
        measurements = session.measure(cliques, session.accountant.remaining.rho, step="measure one-way marginals")
        return self._estimate(domain, measurements), DomainCompression.identity(domain)
