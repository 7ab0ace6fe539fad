"""dpsynth.privacy: everything that adds noise or counts privacy.

* :mod:`~dpsynth.privacy.accountant`: budgets in epsilon/delta/rho, their exact
  conversion, and the accountant that charges named steps.
* :mod:`~dpsynth.privacy.mechanisms`: OpenDP mechanisms, each priced before it
  draws (Gaussian, Laplace, exponential mechanism, counts, thresholded
  histograms, quantiles).
* :mod:`~dpsynth.privacy.ledger`: the persistent, append-only budget ledger.
"""

from dpsynth.privacy.accountant import (
    Accountant,
    Charge,
    PrivacyBudget,
    Spend,
    delta_of_rho,
    epsilon_of_rho,
    rho_of_epsilon,
    rho_of_pure_epsilon,
)
from dpsynth.privacy.mechanisms import Neighbouring

__all__ = [
    "Accountant",
    "Charge",
    "Neighbouring",
    "PrivacyBudget",
    "Spend",
    "delta_of_rho",
    "epsilon_of_rho",
    "rho_of_epsilon",
    "rho_of_pure_epsilon",
]
