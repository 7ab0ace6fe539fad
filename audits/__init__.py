"""audits: attack synthetic data and measure, with confidence, how much leaks.

Standalone: depends on numpy, pandas, scipy and scikit-learn, never on
dpsynth. What it audits is any callable ``fit_sample(real_df) -> synthetic_df``.

Mode A asks whether a mechanism keeps its differential-privacy promise
(:func:`verify_mechanism`, with the calculators :func:`empirical_epsilon`,
:func:`epsilon_ceiling` and :func:`runs_needed`). Mode B asks how much one
release discloses (:func:`run_release_audit`).
"""

from audits.canaries import Canary, make_canary
from audits.disclosure import run_release_audit
from audits.epsilon import EpsilonBound, empirical_epsilon, epsilon_ceiling, runs_needed
from audits.errors import AuditError, AuditParameterError, AuditRunError, ResultsFileError
from audits.game import GameResult, UnseededParallelWarning, run_game
from audits.verify import MechanismAudit, evaluate_game, verify_mechanism

__version__ = "0.1.0"

__all__ = [
    "AuditError",
    "AuditParameterError",
    "AuditRunError",
    "Canary",
    "EpsilonBound",
    "GameResult",
    "MechanismAudit",
    "ResultsFileError",
    "UnseededParallelWarning",
    "empirical_epsilon",
    "epsilon_ceiling",
    "evaluate_game",
    "make_canary",
    "run_game",
    "run_release_audit",
    "runs_needed",
    "verify_mechanism",
]
