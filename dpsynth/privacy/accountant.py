"""Privacy budgets, their units, and the accountant that charges named steps.

Units
-----
``rho``
    zero-concentrated DP (zCDP, Bun & Steinke 2016), the native unit: the
    rho of steps run one after the other ADD UP.
``epsilon, delta``
    approximate DP. A rho-zCDP release is (epsilon, delta)-DP for every delta,
    with epsilon given by the tight conversion of Canonne, Kamath & Steinke
    (2020), which is what OpenDP's ``make_zCDP_to_approxDP`` implements and
    what :func:`epsilon_of_rho` calls.
pure ``epsilon``
    epsilon-DP with delta = 0 (discrete Laplace, noisy max with exponential
    noise). Pure epsilons add up; an epsilon-DP step is also
    epsilon**2 / 2-zCDP (Bun & Steinke 2016, Proposition 1.4).

Approximate steps
-----------------
A thresholded histogram (category discovery) is "delta-approximate" rho-zCDP:
it may fail with probability delta. Under a budget (epsilon, delta) such steps
spend part of delta, and the rest of the rho is converted at what remains:
a spend (rho_s, delta_s) fits when
``epsilon_of_rho(rho_s, delta - delta_s) <= epsilon``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal
from functools import lru_cache
from typing import Any, Literal

from dpsynth.errors import BudgetExceededError, ParameterError, PrivacyError, parameter_error
from dpsynth.privacy._opendp import dp

#: relative slack when comparing a floating-point spend with a budget, so that a
#: budget split in thirds and spent in full is not refused for a rounding error
SPEND_RTOL = 1e-9

_BISECTION_STEPS = 80

Mode = Literal["zcdp", "pure"]


# ---------------------------------------------------------------------------------------
# conversions
# ---------------------------------------------------------------------------------------
def _check_positive(name: str, value: float, *, allow_zero: bool = False) -> float:
    value = float(value)
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        requirement = "a finite number >= 0" if allow_zero else "a finite number > 0"
        raise parameter_error(name, value, requirement)
    return value


def _check_delta(delta: float) -> float:
    delta = float(delta)
    if not 0 < delta < 1:
        raise parameter_error("delta", delta, "strictly between 0 and 1")
    return delta


@lru_cache(maxsize=4096)
def _zcdp_profile(rho: float) -> Any:
    """OpenDP's privacy profile of a mechanism whose privacy map is rho.

    A discrete Gaussian of scale 1/sqrt(2 rho) on an integer of sensitivity 1
    is exactly rho-zCDP; OpenDP may round its map up by an ulp, which makes
    every conversion below conservative, never optimistic.
    """
    gaussian = dp.m.make_gaussian(
        dp.atom_domain(T=int), dp.absolute_distance(T=int), scale=1.0 / math.sqrt(2.0 * rho)
    )
    return dp.c.make_zCDP_to_approxDP(gaussian).map(1)


def epsilon_of_rho(rho: float, delta: float) -> float:
    """The epsilon of a rho-zCDP release at a given delta (OpenDP, tight CKS 2020).

    Parameters
    ----------
    rho : float
        zCDP parameter, >= 0.
    delta : float
        In (0, 1).

    Returns
    -------
    float
        The smallest epsilon such that rho-zCDP implies (epsilon, delta)-DP.
    """
    rho = _check_positive("rho", rho, allow_zero=True)
    delta = _check_delta(delta)
    if rho == 0:
        return 0.0
    try:
        return float(_zcdp_profile(rho).epsilon(delta))
    except dp.OpenDPException as exc:
        raise parameter_error(
            "rho", rho, f"small enough to convert at delta {delta} ({str(exc).strip()})"
        ) from None


def delta_of_rho(rho: float, epsilon: float) -> float:
    """The delta of a rho-zCDP release at a given epsilon (OpenDP, tight CKS 2020)."""
    rho = _check_positive("rho", rho, allow_zero=True)
    epsilon = _check_positive("epsilon", epsilon, allow_zero=True)
    if rho == 0:
        return 0.0
    return float(_zcdp_profile(rho).delta(epsilon))


@lru_cache(maxsize=1024)
def rho_of_epsilon(epsilon: float, delta: float) -> float:
    """The largest rho that, spent with the accountant's slack, implies (epsilon, delta)-DP.

    OpenDP converts rho to (epsilon, delta) but not back; this inverts its
    conversion by bisection on rho (delta_of_rho grows with rho), keeping the
    lower end so that the answer never overstates what the budget allows. The
    accountant lets charges exceed a cap by a relative :data:`SPEND_RTOL` (so
    that a budget split in equal parts is spent in full), so the bisection asks
    that ``rho * (1 + SPEND_RTOL)`` still implies (epsilon, delta): an
    (epsilon, delta) budget spent in full never exceeds its target.

    Parameters
    ----------
    epsilon : float
        > 0.
    delta : float
        In (0, 1).

    Returns
    -------
    float
        rho with ``epsilon_of_rho(rho * (1 + SPEND_RTOL), delta) <= epsilon`` (to
        within a relative 1e-12 of the largest such rho).
    """
    epsilon = _check_positive("epsilon", epsilon)
    delta = _check_delta(delta)
    # epsilon_of_rho(rho, delta) > rho, so rho <= epsilon brackets the answer
    low, high = 0.0, epsilon
    for _ in range(_BISECTION_STEPS):
        mid = 0.5 * (low + high)
        if mid in (low, high):
            break
        if delta_of_rho(mid * (1 + SPEND_RTOL), epsilon) <= delta:
            low = mid
        else:
            high = mid
    return low


def at_most(value: float, digits: int = 6) -> str:
    """``value`` rounded down to ``digits`` significant digits, as text.

    For a budget quoted as affordable: rounding to nearest could quote a
    figure a little above what remains, which would then be refused.
    """
    if not math.isfinite(value) or value <= 0:
        return f"{value:.{digits}g}"
    exact = Decimal(repr(float(value)))
    step = Decimal(1).scaleb(exact.adjusted() - digits + 1)
    return f"{float(exact.quantize(step, rounding=ROUND_FLOOR)):.{digits}g}"


def rho_of_pure_epsilon(epsilon: float) -> float:
    """An epsilon-DP step is epsilon**2 / 2-zCDP (Bun & Steinke 2016, Prop. 1.4)."""
    epsilon = _check_positive("epsilon", epsilon, allow_zero=True)
    return 0.5 * epsilon * epsilon


# ---------------------------------------------------------------------------------------
# budget
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PrivacyBudget:
    """A privacy target in all its units. Build it with a class method.

    Attributes
    ----------
    mode : {"zcdp", "pure"}
        ``"zcdp"``: steps are charged in rho (Gaussian noise allowed).
        ``"pure"``: steps are charged in epsilon with delta = 0 (Laplace only).
    epsilon : float or None
        The (epsilon, delta) target; None for a rho budget without delta.
    delta : float
        0 in pure mode and for a rho budget without delta.
    rho : float
        zCDP parameter; in pure mode epsilon**2 / 2, for information.
    """

    mode: Mode
    epsilon: float | None
    delta: float
    rho: float

    @classmethod
    def approx(cls, epsilon: float, delta: float) -> PrivacyBudget:
        """An (epsilon, delta)-DP target, spent in rho through zCDP."""
        epsilon = _check_positive("epsilon", epsilon)
        delta = _check_delta(delta)
        rho = rho_of_epsilon(epsilon, delta)
        try:
            # Checked now: the spend is reported in epsilon after every step, and a failure
            # there would come after noise was drawn.
            epsilon_of_rho(rho, delta)
        except ParameterError:
            raise parameter_error(
                "epsilon", epsilon,
                f"small enough for OpenDP to convert at delta {delta} (10,000 converts; a budget "
                "this large protects almost nothing)",
            ) from None
        return cls("zcdp", epsilon, delta, rho)

    @classmethod
    def zcdp(cls, rho: float, delta: float | None = None) -> PrivacyBudget:
        """A rho-zCDP target; with ``delta``, also reported as (epsilon, delta)."""
        rho = _check_positive("rho", rho)
        if delta is None:
            return cls("zcdp", None, 0.0, rho)
        delta = _check_delta(delta)
        return cls("zcdp", epsilon_of_rho(rho, delta), delta, rho)

    @classmethod
    def pure(cls, epsilon: float) -> PrivacyBudget:
        """A pure epsilon-DP target (delta = 0): only pure-DP steps are allowed."""
        epsilon = _check_positive("epsilon", epsilon)
        return cls("pure", epsilon, 0.0, rho_of_pure_epsilon(epsilon))

    def rho_cap(self, step_delta: float = 0.0) -> float:
        """The rho available when approximate steps have used ``step_delta`` of delta."""
        if self.mode != "zcdp":
            raise PrivacyError("a pure-DP budget is spent in epsilon, not rho")
        if step_delta == 0:
            return self.rho
        if self.epsilon is None or step_delta >= self.delta:
            return 0.0
        return rho_of_epsilon(self.epsilon, self.delta - step_delta)

    def to_dict(self) -> dict[str, Any]:
        """Plain values for a manifest or a report."""
        return {"mode": self.mode, "epsilon": self.epsilon, "delta": self.delta, "rho": self.rho}


# ---------------------------------------------------------------------------------------
# charges and spend
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Charge:
    """The privacy cost of one named step.

    Parameters
    ----------
    step : str
        What the step does: ``"measure"``, ``"select"``, ``"discover"``, ...
    rho : float
        Its zCDP cost (for a pure step, epsilon**2 / 2 or tighter).
    epsilon : float or None
        Its pure-DP cost when the step is pure DP (None for Gaussian noise).
    delta : float
        Probability that an approximate step fails (thresholded histograms);
        0 for every other step.
    params : mapping
        The parameters that determine the cost (clique, sigma, column, ...).
    """

    step: str
    rho: float
    epsilon: float | None = None
    delta: float = 0.0
    params: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_positive("rho", self.rho, allow_zero=True)
        if self.epsilon is not None:
            _check_positive("epsilon", self.epsilon, allow_zero=True)
        if not 0 <= self.delta < 1:
            raise parameter_error("delta", self.delta, "in [0, 1)")
        object.__setattr__(self, "params", dict(self.params))

    def to_dict(self) -> dict[str, Any]:
        """The itemised line: step, its parameters, then its cost in each unit."""
        return {
            "step": self.step,
            **self.params,
            "rho": self.rho,
            "epsilon": self.epsilon,
            "delta": self.delta,
        }


@dataclass(frozen=True)
class Spend:
    """Spent or remaining budget in the three units.

    ``rho`` and ``step_delta`` (delta used by approximate steps) add up across
    steps in zCDP mode, ``epsilon`` in pure mode. In zCDP mode ``epsilon`` and
    ``delta`` are what the rho converts to at the budget's delta: informative,
    not additive.
    """

    rho: float
    epsilon: float | None
    delta: float
    step_delta: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "rho": self.rho,
            "epsilon": self.epsilon,
            "delta": self.delta,
            "step_delta": self.step_delta,
        }


def _fits(value: float, cap: float) -> bool:
    return value <= cap * (1 + SPEND_RTOL) + 1e-300


class Accountant:
    """Charges named steps against a :class:`PrivacyBudget`, refusing any overspend.

    Parameters
    ----------
    budget : PrivacyBudget
        The target. In ``"pure"`` mode every charge must be pure DP.

    Examples
    --------
    >>> from dpsynth.privacy.mechanisms import gaussian_charge
    >>> acc = Accountant(PrivacyBudget.zcdp(0.5))
    >>> _ = acc.charge(gaussian_charge(2.0, clique=("age", "sex")))
    >>> round(acc.spent.rho, 6)
    0.125
    """

    def __init__(self, budget: PrivacyBudget):
        if not isinstance(budget, PrivacyBudget):
            raise parameter_error("budget", budget, "a PrivacyBudget")
        self._budget = budget
        self._steps: list[Charge] = []
        # running totals, so that thousands of selections cost O(1) each to check
        self._rho = self._epsilon = self._step_delta = 0.0

    @property
    def budget(self) -> PrivacyBudget:
        return self._budget

    @property
    def mode(self) -> Mode:
        return self._budget.mode

    @property
    def steps(self) -> tuple[Charge, ...]:
        """Every charge so far, in order."""
        return tuple(self._steps)

    # -- pricing --------------------------------------------------------------------
    def _totals(self, charges: list[Charge]) -> tuple[float, float, float]:
        """(rho, pure epsilon, step delta) after ``charges`` on top of the spend so far."""
        return (
            math.fsum([self._rho, *(c.rho for c in charges)]),
            math.fsum([self._epsilon, *(c.epsilon or 0.0 for c in charges)]),
            math.fsum([self._step_delta, *(c.delta for c in charges)]),
        )

    def _problem(self, charges: list[Charge]) -> str | None:
        """Why ``charges`` on top of the spend so far do not fit, or None."""
        budget = self._budget
        rho, total, step_delta = self._totals(charges)
        if budget.mode == "pure":
            for c in charges:
                if c.epsilon is None or c.delta > 0:
                    return (
                        f"step {c.step!r} ({c.params}) is not pure DP and the budget is pure "
                        f"epsilon-DP; use a zCDP budget (PrivacyBudget.approx or .zcdp)"
                    )
            if not _fits(total, budget.epsilon or 0.0):
                return f"it would spend epsilon = {total:.6g} of a budget of {budget.epsilon:.6g}"
            return None
        if step_delta > 0 and budget.epsilon is None:
            return (
                "an approximate step (delta > 0) needs a budget with delta; "
                "give delta to PrivacyBudget.zcdp or use PrivacyBudget.approx"
            )
        if step_delta >= budget.delta and step_delta > 0:
            return (
                f"approximate steps would use delta = {step_delta:.3g}, all of the budget's "
                f"delta = {budget.delta:.3g}; raise delta or declare the values publicly"
            )
        cap = budget.rho_cap(step_delta)
        if not _fits(rho, cap):
            return f"it would spend rho = {rho:.6g} of the {cap:.6g} available"
        return None

    def price(self, plan: Iterable[Charge]) -> Spend:
        """What the spend would be after ``plan``, without charging anything.

        Raises
        ------
        BudgetExceededError
            If the plan does not fit in what remains.
        """
        charges = list(plan)
        problem = self._problem(charges)
        if problem is not None:
            raise BudgetExceededError(f"the plan does not fit the budget: {problem}")
        return self._spend(*self._totals(charges))

    def can_afford(self, plan: Iterable[Charge]) -> bool:
        """True when ``plan`` fits in what remains."""
        return self._problem(list(plan)) is None

    def charge(self, charge: Charge) -> Charge:
        """Record ``charge``; refuse it (nothing charged) if it would overspend.

        Raises
        ------
        BudgetExceededError
            With the step, its parameters and the amounts.
        """
        if not isinstance(charge, Charge):
            raise parameter_error("charge", charge, "a Charge")
        problem = self._problem([charge])
        if problem is not None:
            raise BudgetExceededError(
                f"step {charge.step!r} {charge.params} refused, nothing charged: {problem}"
            )
        return self.record(charge)

    def record(self, charge: Charge) -> Charge:
        """Add a charge already spent, whether or not it fits (nothing is refused).

        For rebuilding the totals of spends that happened, such as a ledger's
        rows: a run that spent more than it reserved was still spent.
        :attr:`overspent` then says whether the budget was exceeded.
        """
        if not isinstance(charge, Charge):
            raise parameter_error("charge", charge, "a Charge")
        self._steps.append(charge)
        self._rho, self._epsilon, self._step_delta = self._totals([charge])
        return charge

    @property
    def overspent(self) -> str | None:
        """How the charges so far exceed the budget, as a statement of what was spent; None when they fit."""
        if self._problem([]) is None:
            return None
        budget = self._budget
        if budget.mode == "pure":
            return f"spent epsilon = {self._epsilon:.6g} of a budget of epsilon = {budget.epsilon:.6g}"
        if self._step_delta > 0 and self.available_rho == 0:
            return (f"approximate steps used delta = {self._step_delta:.3g}, as much as or more than "
                    f"the budget's delta = {budget.delta}")
        return f"spent rho = {self._rho:.6g} where the budget reaches rho = {self.available_rho:.6g}"

    @property
    def available_rho(self) -> float:
        """The rho the budget reaches after the delta approximate steps used so far."""
        if self._budget.mode == "pure":
            return rho_of_pure_epsilon(self._budget.epsilon or 0.0)
        return self._budget.rho_cap(self._step_delta)

    def affordable_rho(self, step_delta: float = 0.0) -> float:
        """The largest rho one more charge that uses ``step_delta`` of delta could have.

        In zCDP mode the delta approximate steps use lowers what rho can reach
        (:meth:`PrivacyBudget.rho_cap`), so a charge that reserves delta for
        discovery affords less than :attr:`remaining` says. In pure mode, the
        rho of the epsilon left. 0 when nothing fits.
        """
        budget = self._budget
        if budget.mode == "pure":
            return rho_of_pure_epsilon(max(0.0, (budget.epsilon or 0.0) - self._epsilon))
        return max(0.0, budget.rho_cap(math.fsum([self._step_delta, float(step_delta)])) - self._rho)

    # -- reporting ------------------------------------------------------------------
    def _spend(self, rho: float, eps: float, step_delta: float) -> Spend:
        budget = self._budget
        if budget.mode == "pure":
            return Spend(rho=rho_of_pure_epsilon(eps), epsilon=eps, delta=0.0)
        if budget.epsilon is None:
            return Spend(rho=rho, epsilon=None, delta=0.0, step_delta=step_delta)
        if rho == 0 and step_delta == 0:
            return Spend(rho=0.0, epsilon=0.0, delta=0.0)
        if step_delta >= budget.delta:  # only an overspend gets here: no epsilon holds at that delta
            return Spend(rho=rho, epsilon=math.inf, delta=budget.delta, step_delta=step_delta)
        return Spend(
            rho=rho,
            epsilon=epsilon_of_rho(rho, budget.delta - step_delta),
            delta=budget.delta,
            step_delta=step_delta,
        )

    @property
    def spent(self) -> Spend:
        """The guarantee of the steps charged so far."""
        return self._spend(self._rho, self._epsilon, self._step_delta)

    @property
    def remaining(self) -> Spend:
        """What is left: rho (and delta) additively, epsilon as budget minus spent."""
        budget, spent = self._budget, self.spent
        if budget.mode == "pure":
            eps = max(0.0, (budget.epsilon or 0.0) - (spent.epsilon or 0.0))
            return Spend(rho=rho_of_pure_epsilon(eps), epsilon=eps, delta=0.0)
        rho = max(0.0, budget.rho_cap(spent.step_delta) - spent.rho)
        eps = None if budget.epsilon is None else max(0.0, budget.epsilon - (spent.epsilon or 0.0))
        return Spend(
            rho=rho, epsilon=eps, delta=budget.delta, step_delta=max(0.0, budget.delta - spent.step_delta)
        )

    def report(self) -> dict[str, Any]:
        """Budget, spent, remaining and the itemised steps, as plain values."""
        return {
            "mode": self.mode,
            "budget": self._budget.to_dict(),
            "spent": self.spent.to_dict(),
            "remaining": self.remaining.to_dict(),
            "steps": [c.to_dict() for c in self._steps],
        }
