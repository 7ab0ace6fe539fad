"""A noisy histogram sized for a budget: discrete Gaussian in zCDP, discrete Laplace in pure DP.

Discovery steps (a column's format classes, its midnight share, its bounds
histogram) each release one histogram in which a row adds one count to one
cell. :class:`NoisyHistogram` sizes the noise for a budget in either mode, so
a plan is priced before any data is read, and runs it through
:mod:`dpsynth.privacy.mechanisms` (OpenDP) when the counts are there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats

from dpsynth.privacy.accountant import Accountant, Charge
from dpsynth.privacy.mechanisms import (
    Neighbouring,
    gaussian_counts,
    laplace_counts,
    vector_charge,
    vector_noise,
)


def noise_cut(noise: float, *, gaussian: bool, rate: float) -> float:
    """The count that noise alone exceeds with probability ``rate``.

    Parameters
    ----------
    noise : float
        The Gaussian's sigma, or the Laplace scale.
    gaussian : bool
        Which of the two the noise is.
    rate : float
        The chance of a false count.

    Returns
    -------
    float
        ``sigma * z(rate)`` (4.75 sigma at ``rate=1e-6``), or ``scale * ln(1 / (2
        rate))`` (13.1 scales at ``1e-6``) for Laplace noise, whose tails are heavier.
    """
    if gaussian:
        return float(noise * stats.norm.isf(rate))
    return float(noise * np.log(1.0 / (2.0 * rate)))


@dataclass(frozen=True)
class NoisyHistogram:
    """The mechanism of one histogram of ``cells`` counts, priced; :meth:`run` releases it.

    Attributes
    ----------
    charge : Charge
        What running it costs (step ``step``, with ``params`` and ``cells``).
    noise : float
        The Gaussian's sigma (zCDP) or the Laplace scale (pure DP).
    gaussian : bool
        Whether the noise is Gaussian.
    relation : Neighbouring
        The neighbouring relation protected.
    labels : mapping
        Recorded with the charge besides the noise (``column``, ``discovered``, ...).
    """

    charge: Charge
    noise: float
    gaussian: bool
    relation: Neighbouring
    labels: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def for_cost(
        cls, cost: float, *, mode: str, relation: Neighbouring | str, cells: int, step: str, **params: Any
    ) -> NoisyHistogram:
        """The histogram whose noise spends ``cost``: rho in ``"zcdp"`` mode, epsilon in ``"pure"``."""
        rel = Neighbouring(relation)
        noise = vector_noise(cost, mode=mode, relation=rel)
        charge = vector_charge(noise, mode=mode, relation=rel, step=step, **params, cells=int(cells))
        return cls(charge, noise, mode == "zcdp", rel, params)

    @property
    def mode(self) -> str:
        """``"zcdp"`` for Gaussian noise, ``"pure"`` for Laplace noise."""
        return "zcdp" if self.gaussian else "pure"

    @property
    def description(self) -> str:
        """The noise in words, for messages: ``"sigma 12.3"`` or ``"Laplace scale 4.56"``."""
        return f"sigma {self.noise:.3g}" if self.gaussian else f"Laplace scale {self.noise:.3g}"

    def cut(self, rate: float) -> float:
        """The count its noise alone exceeds with probability ``rate`` (:func:`noise_cut`)."""
        return noise_cut(self.noise, gaussian=self.gaussian, rate=rate)

    def run(self, counts: np.ndarray, *, accountant: Accountant) -> np.ndarray:
        """The noisy ``counts`` (int64, may be negative), charged to ``accountant`` as :attr:`charge`."""
        noisy = gaussian_counts if self.gaussian else laplace_counts
        return noisy(counts, self.noise, accountant=accountant, relation=self.relation,
                     step=self.charge.step, **self.labels)
