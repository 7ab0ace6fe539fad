"""Empirical epsilon: a lower bound on a mechanism's privacy loss from attack counts.

Convention (it reproduces the worked values of the design notes and is tested):

* The attack guesses "member" (the canary is in the input) or "non-member" on
  ``n1`` runs of the world with the canary and ``n0`` runs of the world without.
  ``tp``/``fn`` are counted in the first world, ``fp``/``tn`` in the second.
* At confidence ``1 - alpha`` two rates are bounded, each by a one-sided
  Clopper-Pearson bound at level ``alpha / 2`` (Bonferroni over the two rates):
  a lower bound on TPR and an upper bound on FPR. Both hold together with
  probability at least ``1 - alpha``. The bounds on TNR = 1 - FPR and
  FNR = 1 - TPR follow from the same two events, so using both constraints
  below costs no further correction.
* (epsilon, delta)-DP implies, for the attack's decision region,
  ``TPR <= e^eps FPR + delta`` and ``TNR <= e^eps FNR + delta``. The lower
  bound is the larger of ``log((TPR_lo - delta) / FPR_hi)`` and
  ``log((TNR_lo - delta) / FNR_hi)``, floored at 0.
* When the attack or its threshold was chosen by looking at the counted runs,
  pass ``comparisons=k`` (the number of candidates looked at): each rate then
  uses ``alpha / (2 k)``.

Worked values: 500 runs per world, TP = 300, FP = 50, delta = 0 gives 1.4547 at
95%; 12 runs per world, TP = 12, FP = 0 gives 1.0219.

The Gaussian-DP bound is a different quantity: a lower bound on mu for a
mechanism whose trade-off curve is Gaussian, ``mu >= Phi^-1(TPR_lo) -
Phi^-1(FPR_hi)``. It is reported beside epsilon and never mixed with it.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy import stats

from audits.errors import parameter_error


def clopper_pearson_lower(successes: np.ndarray | int, trials: np.ndarray | int, alpha: float) -> np.ndarray:
    """One-sided Clopper-Pearson lower bound on a binomial rate.

    Parameters
    ----------
    successes, trials : int or array of int
        Observed successes out of trials (broadcast together).
    alpha : float
        Probability that the true rate lies below the bound.

    Returns
    -------
    numpy.ndarray
        Lower bounds in [0, 1]; 0 where there are no successes.
    """
    k = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        bound = stats.beta.ppf(alpha, k, n - k + 1)
    return np.where(k <= 0, 0.0, bound)


def clopper_pearson_upper(successes: np.ndarray | int, trials: np.ndarray | int, alpha: float) -> np.ndarray:
    """One-sided Clopper-Pearson upper bound on a binomial rate.

    Parameters
    ----------
    successes, trials : int or array of int
        Observed successes out of trials (broadcast together).
    alpha : float
        Probability that the true rate lies above the bound.

    Returns
    -------
    numpy.ndarray
        Upper bounds in [0, 1]; 1 where every trial succeeded.
    """
    k = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        bound = stats.beta.ppf(1.0 - alpha, k + 1, n - k)
    return np.where(k >= n, 1.0, bound)


@dataclass(frozen=True)
class EpsilonBound:
    """Lower bounds on privacy loss implied by one attack's counts.

    Attributes
    ----------
    epsilon : float
        Lower bound on epsilon at the given delta and confidence (0 if none).
    gdp_mu : float
        Gaussian-DP lower bound on mu (a separate quantity, not an epsilon).
    ceiling : float
        The largest epsilon these numbers of runs could certify (a perfect attack).
    tpr_lower, fpr_upper : float
        The two simultaneous Clopper-Pearson bounds the others derive from.
    tp, fn, fp, tn : int
        The counts.
    delta, alpha : float
        Delta of the claim and 1 - confidence.
    comparisons : int
        Bonferroni factor applied for choices made on the counted runs.
    """

    epsilon: float
    gdp_mu: float
    ceiling: float
    tpr_lower: float
    fpr_upper: float
    tp: int
    fn: int
    fp: int
    tn: int
    delta: float
    alpha: float
    comparisons: int

    def to_dict(self) -> dict[str, float | int]:
        """Return a JSON-serialisable dictionary of every field."""
        return asdict(self)

    def summary(self) -> pd.DataFrame:
        """One-row table: counts, the bound, its ceiling beside it, and the labelled mu bound."""
        row = self.to_dict()
        row["confidence"] = 1.0 - row.pop("alpha")
        row["epsilon_lower_bound"] = row.pop("epsilon")
        row["gdp_mu_lower_bound"] = row.pop("gdp_mu")
        order = ["tp", "fn", "fp", "tn", "delta", "confidence", "comparisons", "epsilon_lower_bound",
                 "ceiling", "gdp_mu_lower_bound", "tpr_lower", "fpr_upper"]
        return pd.DataFrame([{k: row[k] for k in order}])


def _check_common(delta: float, alpha: float, comparisons: int) -> None:
    if not 0.0 <= delta < 1.0:
        raise parameter_error("delta", delta, "in [0, 1); use the delta of the claim being audited")
    if not 0.0 < alpha < 1.0:
        raise parameter_error("alpha", alpha, "in (0, 1), e.g. 0.05 for 95% confidence")
    if int(comparisons) != comparisons or comparisons < 1:
        raise parameter_error("comparisons", comparisons, "a positive integer")


def _epsilon_from_rates(
    tpr_lo: np.ndarray, fpr_hi: np.ndarray, delta: float
) -> np.ndarray:
    """Vectorised bound from both constraints, given simultaneous rate bounds."""
    tnr_lo = 1.0 - fpr_hi
    fnr_hi = 1.0 - tpr_lo
    with np.errstate(divide="ignore", invalid="ignore"):
        first = np.log(np.maximum(tpr_lo - delta, 0.0) / fpr_hi)
        second = np.log(np.maximum(tnr_lo - delta, 0.0) / fnr_hi)
    bound = np.fmax(first, second)
    # nan arises only from 0/0 (no evidence either way): no bound.
    return np.where(np.isnan(bound), 0.0, np.maximum(bound, 0.0))


def epsilon_lower_bounds(
    tp: np.ndarray, fp: np.ndarray, n1: int, n0: int, delta: float, alpha: float, comparisons: int = 1
) -> np.ndarray:
    """Vectorised epsilon lower bounds for many thresholds at once.

    Parameters
    ----------
    tp : array of int
        True positives out of ``n1`` runs with the canary, one per threshold.
    fp : array of int
        False positives out of ``n0`` runs without it, aligned with ``tp``.
    n1, n0 : int
        Runs counted per world.
    delta, alpha : float
        Delta of the claim; 1 - confidence.
    comparisons : int
        Bonferroni factor for choices made on these runs.

    Returns
    -------
    numpy.ndarray
        One epsilon lower bound per threshold (see the module docstring).
    """
    level = alpha / (2.0 * comparisons)
    tpr_lo = clopper_pearson_lower(tp, n1, level)
    fpr_hi = clopper_pearson_upper(fp, n0, level)
    return _epsilon_from_rates(tpr_lo, fpr_hi, delta)


def empirical_epsilon(
    tp: int, fn: int, fp: int, tn: int, delta: float, alpha: float = 0.05, comparisons: int = 1
) -> EpsilonBound:
    """Lower-bound epsilon (and Gaussian-DP mu) from an attack's test counts.

    Parameters
    ----------
    tp, fn : int
        Guesses "member" and "non-member" on runs whose input held the canary.
    fp, tn : int
        Guesses "member" and "non-member" on runs whose input did not.
    delta : float
        Delta of the claim being audited.
    alpha : float, default 0.05
        One minus the confidence of the bound (0.05 for 95%).
    comparisons : int, default 1
        Bonferroni factor when the attack or threshold was chosen on these runs.

    Returns
    -------
    EpsilonBound
        The bounds, the ceiling for these numbers of runs, and the counts.

    Examples
    --------
    >>> round(empirical_epsilon(300, 200, 50, 450, delta=0.0).epsilon, 2)
    1.45
    """
    counts = {"tp": tp, "fn": fn, "fp": fp, "tn": tn}
    for name, value in counts.items():
        if int(value) != value or value < 0:
            raise parameter_error(name, value, "a non-negative integer count of runs")
    _check_common(delta, alpha, comparisons)
    n1, n0 = tp + fn, fp + tn
    if n1 == 0 or n0 == 0:
        raise parameter_error(
            "tp + fn and fp + tn", (n1, n0), "both positive: count runs of both worlds"
        )
    level = alpha / (2.0 * comparisons)
    tpr_lo = float(clopper_pearson_lower(tp, n1, level))
    fpr_hi = float(clopper_pearson_upper(fp, n0, level))
    epsilon = float(_epsilon_from_rates(np.array(tpr_lo), np.array(fpr_hi), delta))
    return EpsilonBound(
        epsilon=epsilon,
        gdp_mu=gdp_mu_lower(tpr_lo, fpr_hi),
        ceiling=epsilon_ceiling((n1, n0), delta, alpha, comparisons),
        tpr_lower=tpr_lo,
        fpr_upper=fpr_hi,
        tp=int(tp),
        fn=int(fn),
        fp=int(fp),
        tn=int(tn),
        delta=float(delta),
        alpha=float(alpha),
        comparisons=int(comparisons),
    )


def gdp_mu_lower(tpr_lower: float, fpr_upper: float) -> float:
    """Gaussian-DP lower bound on mu from simultaneous rate bounds.

    A mu-GDP mechanism satisfies ``TPR <= Phi(Phi^-1(FPR) + mu)`` for every test,
    so ``mu >= Phi^-1(TPR) - Phi^-1(FPR)``. The same value follows from the
    TNR/FNR side, by symmetry of the normal quantile.

    Parameters
    ----------
    tpr_lower, fpr_upper : float
        Simultaneous lower bound on TPR and upper bound on FPR.

    Returns
    -------
    float
        Lower bound on mu, floored at 0 (infinite when FPR_hi = 0 and TPR_lo = 1).
    """
    mu = stats.norm.ppf(tpr_lower) - stats.norm.ppf(fpr_upper)
    return float(max(mu, 0.0)) if not math.isnan(mu) else 0.0


def epsilon_ceiling(
    runs_per_world: int | tuple[int, int], delta: float, alpha: float = 0.05, comparisons: int = 1
) -> float:
    """The largest epsilon a game with this many counted runs could certify.

    It is the bound of a perfect attack (TP = n1, FP = 0):
    ``log(((alpha / 2k)^(1/n1) - delta) / (1 - (alpha / 2k)^(1/n0)))``.
    A claim at or above the ceiling cannot be refuted with these runs.

    Parameters
    ----------
    runs_per_world : int or (int, int)
        Runs counted (test runs) in the world with and without the canary.
    delta, alpha : float
        Delta of the claim; 1 - confidence.
    comparisons : int, default 1
        Bonferroni factor, as in :func:`empirical_epsilon`.

    Returns
    -------
    float
        The ceiling (0 when even a perfect attack certifies nothing).
    """
    n1, n0 = (runs_per_world, runs_per_world) if np.isscalar(runs_per_world) else runs_per_world
    if int(n1) != n1 or int(n0) != n0 or n1 < 1 or n0 < 1:
        raise parameter_error("runs_per_world", runs_per_world, "a positive integer (or a pair)")
    _check_common(delta, alpha, comparisons)
    return float(epsilon_lower_bounds(np.array(n1), np.array(0), int(n1), int(n0), delta, alpha, comparisons))


def runs_needed(
    epsilon: float,
    delta: float,
    attack_tpr: float,
    attack_fpr: float,
    alpha: float = 0.05,
    validation_fraction: float = 0.0,
    max_runs: int = 10_000_000,
) -> int:
    """Runs per world needed to certify ``epsilon`` with an attack of assumed strength.

    The planner assumes the test counts come out at their expected values
    (``round(n * attack_tpr)`` and ``round(n * attack_fpr)``), so about half of
    real games with that attack reach the target; plan with some margin.

    Parameters
    ----------
    epsilon : float
        The lower bound to reach (for a violation: just above the claim).
    delta : float
        Delta of the claim.
    attack_tpr, attack_fpr : float
        Assumed true- and false-positive rates of the attack at its threshold.
    alpha : float, default 0.05
        One minus the confidence.
    validation_fraction : float, default 0.0
        Share of runs set aside to choose the attack and threshold; the answer
        then counts all runs per world, validation included.
    max_runs : int, default 10,000,000
        Search limit.

    Returns
    -------
    int
        Smallest number of runs per world (counting validation runs).

    Raises
    ------
    AuditParameterError
        When the attack cannot reach ``epsilon`` at any number of runs
        (``log((TPR - delta) / FPR)`` and its TNR/FNR twin are both at most epsilon).
    """
    if epsilon < 0:
        raise parameter_error("epsilon", epsilon, "non-negative")
    for name, rate in (("attack_tpr", attack_tpr), ("attack_fpr", attack_fpr)):
        if not 0.0 <= rate <= 1.0:
            raise parameter_error(name, rate, "a rate in [0, 1]")
    if not 0.0 <= validation_fraction < 1.0:
        raise parameter_error("validation_fraction", validation_fraction, "in [0, 1)")
    _check_common(delta, alpha, 1)
    limit = float(_epsilon_from_rates(np.array(attack_tpr), np.array(attack_fpr), delta))
    if limit <= epsilon:
        raise parameter_error(
            "attack_tpr/attack_fpr",
            (attack_tpr, attack_fpr),
            f"strong enough to exceed epsilon={epsilon} with infinitely many runs "
            f"(this attack's limit is {limit:.3f}); assume a stronger attack or a smaller epsilon",
        )

    def reaches(n: int) -> bool:
        tp, fp = round(n * attack_tpr), round(n * attack_fpr)
        return float(epsilon_lower_bounds(np.array(tp), np.array(fp), n, n, delta, alpha)) >= epsilon

    high = 1
    while not reaches(high):
        high *= 2
        if high > max_runs:
            raise parameter_error("max_runs", max_runs, f"larger: epsilon={epsilon} needs more runs")
    low = high // 2
    while high - low > 1:
        mid = (low + high) // 2
        if reaches(mid):
            high = mid
        else:
            low = mid
    return int(math.ceil(high / (1.0 - validation_fraction)))
