"""Conversions, budgets and the accountant's refusals."""

from __future__ import annotations

import math

import opendp.prelude as dp
import pytest
from scipy.optimize import minimize_scalar

from dpsynth.errors import BudgetExceededError, ParameterError, PrivacyError
from dpsynth.privacy.accountant import (
    SPEND_RTOL,
    Accountant,
    Charge,
    PrivacyBudget,
    at_most,
    delta_of_rho,
    epsilon_of_rho,
    rho_of_epsilon,
    rho_of_pure_epsilon,
)


def _cks_delta(rho: float, epsilon: float) -> float:
    """Canonne, Kamath & Steinke 2020 (Prop. 7), minimised over alpha, written independently."""

    def log_delta(alpha: float) -> float:
        return (
            (alpha - 1) * (alpha * rho - epsilon)
            + alpha * math.log1p(-1 / alpha)
            - math.log(alpha - 1)
        )

    best = minimize_scalar(
        log_delta, bounds=(1 + 1e-9, 1e4), method="bounded", options={"xatol": 1e-12}
    )
    return math.exp(best.fun)


def test_rho_half_at_delta_1e9_matches_opendp():
    dp.enable_features("contrib")
    gaussian = dp.m.make_gaussian(dp.atom_domain(T=int), dp.absolute_distance(T=int), scale=1.0)
    assert gaussian.map(1) == 0.5
    expected = dp.c.make_fix_delta(dp.c.make_zCDP_to_approxDP(gaussian), 1e-9).map(1)[0]
    assert epsilon_of_rho(0.5, 1e-9) == pytest.approx(expected, rel=1e-12)
    assert epsilon_of_rho(0.5, 1e-9) == pytest.approx(6.474070020726487, rel=1e-9)


@pytest.mark.parametrize("rho", [1e-4, 0.01, 0.5, 2.0])
def test_conversion_is_the_tight_cks_bound(rho):
    epsilon = epsilon_of_rho(rho, 1e-7)
    assert _cks_delta(rho, epsilon) == pytest.approx(1e-7, rel=1e-5)
    # and it beats the simple bound rho + 2 sqrt(rho log(1/delta)) of Bun & Steinke
    assert epsilon < rho + 2 * math.sqrt(rho * math.log(1e7))


@pytest.mark.parametrize("rho", [1e-5, 0.003, 0.25, 1.7])
@pytest.mark.parametrize("delta", [1e-9, 1e-5])
def test_round_trip_rho_epsilon_rho(rho, delta):
    epsilon = epsilon_of_rho(rho, delta)
    back = rho_of_epsilon(epsilon, delta)
    assert back == pytest.approx(rho, rel=2e-9)  # rounded down by the accountant's slack
    assert epsilon_of_rho(back * (1 + SPEND_RTOL), delta) <= epsilon


@pytest.mark.parametrize(("epsilon", "delta"), [(1.0, 1e-9), (0.3, 1e-6), (3.0, 1e-5), (10.0, 1e-9)])
def test_an_approximate_budget_spent_in_full_with_the_slack_stays_within_its_target(epsilon, delta):
    acc = Accountant(PrivacyBudget.approx(epsilon, delta))
    third = acc.budget.rho / 3
    for _ in range(3):
        acc.charge(Charge("measure", rho=third))
    acc.charge(Charge("measure", rho=acc.budget.rho * SPEND_RTOL * 0.999))  # the slack, used up
    assert delta_of_rho(acc.spent.rho, epsilon) <= delta
    assert acc.spent.epsilon <= epsilon


def test_delta_of_rho_inverts_epsilon_of_rho():
    epsilon = epsilon_of_rho(0.1, 1e-6)
    assert delta_of_rho(0.1, epsilon) == pytest.approx(1e-6, rel=1e-6)
    assert delta_of_rho(0.0, 1.0) == 0.0


def test_pure_epsilon_to_rho():
    assert rho_of_pure_epsilon(1.0) == 0.5
    assert rho_of_pure_epsilon(0.2) == pytest.approx(0.02)


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: epsilon_of_rho(-1.0, 1e-6), "rho"),
        (lambda: epsilon_of_rho(0.1, 0.0), "delta"),
        (lambda: epsilon_of_rho(0.1, 1.0), "delta"),
        (lambda: PrivacyBudget.approx(0.0, 1e-6), "epsilon"),
        (lambda: PrivacyBudget.approx(float("inf"), 1e-6), "epsilon"),
        (lambda: PrivacyBudget.zcdp(0.0), "rho"),
        (lambda: PrivacyBudget.pure(-2.0), "epsilon"),
    ],
)
def test_bad_parameters_name_themselves(call, name):
    with pytest.raises(ParameterError, match=rf"^{name} \("):
        call()


def test_budgets_hold_all_three_units():
    approx = PrivacyBudget.approx(1.0, 1e-6)
    assert approx.mode == "zcdp"
    assert epsilon_of_rho(approx.rho, 1e-6) == pytest.approx(1.0, rel=1e-9)
    zcdp = PrivacyBudget.zcdp(0.5, 1e-9)
    assert zcdp.epsilon == pytest.approx(6.474070020726487)
    assert PrivacyBudget.zcdp(0.5).epsilon is None
    pure = PrivacyBudget.pure(2.0)
    assert (pure.mode, pure.epsilon, pure.delta, pure.rho) == ("pure", 2.0, 0.0, 2.0)


def test_accountant_charges_and_itemises():
    acc = Accountant(PrivacyBudget.zcdp(1.0, 1e-6))
    acc.charge(Charge("measure", rho=0.25, params={"clique": ["age", "sex"], "sigma": 1.414}))
    acc.charge(Charge("select", rho=0.125, epsilon=1.0, params={"round": 1}))
    assert acc.spent.rho == pytest.approx(0.375)
    assert acc.spent.epsilon == pytest.approx(epsilon_of_rho(0.375, 1e-6))
    assert acc.remaining.rho == pytest.approx(0.625)
    report = acc.report()
    assert [s["step"] for s in report["steps"]] == ["measure", "select"]
    assert report["steps"][0]["clique"] == ["age", "sex"]
    assert report["steps"][0]["rho"] == 0.25
    assert report["budget"]["rho"] == 1.0


def test_refused_charge_charges_nothing():
    acc = Accountant(PrivacyBudget.zcdp(0.5))
    acc.charge(Charge("measure", rho=0.4))
    with pytest.raises(BudgetExceededError, match=r"step 'measure'.*nothing charged.*rho = 0\.6"):
        acc.charge(Charge("measure", rho=0.2, params={"clique": ["a"]}))
    assert len(acc.steps) == 1
    assert acc.spent.rho == pytest.approx(0.4)
    acc.charge(Charge("measure", rho=0.1))
    assert acc.remaining.rho == pytest.approx(0.0, abs=1e-12)


def test_budget_split_in_thirds_is_spent_in_full():
    acc = Accountant(PrivacyBudget.approx(1.0, 1e-6))
    third = acc.budget.rho / 3
    for _ in range(3):
        acc.charge(Charge("measure", rho=third))
    assert not acc.can_afford([Charge("measure", rho=1e-6)])


def test_price_a_plan_without_charging():
    acc = Accountant(PrivacyBudget.zcdp(1.0))
    plan = [Charge("measure", rho=0.3), Charge("measure", rho=0.3)]
    assert acc.price(plan).rho == pytest.approx(0.6)
    assert acc.steps == ()
    with pytest.raises(BudgetExceededError, match="plan does not fit"):
        acc.price(plan * 2)
    assert acc.steps == ()


def test_approximate_steps_spend_delta_and_shrink_rho():
    budget = PrivacyBudget.approx(1.0, 1e-6)
    acc = Accountant(budget)
    acc.charge(Charge("discover", rho=0.001, delta=5e-7))
    cap = rho_of_epsilon(1.0, 5e-7)
    assert cap < budget.rho
    assert acc.remaining.rho == pytest.approx(cap - 0.001)
    assert acc.spent.step_delta == 5e-7
    assert acc.spent.epsilon == pytest.approx(epsilon_of_rho(0.001, 5e-7))
    with pytest.raises(BudgetExceededError, match="all of the budget's delta"):
        acc.charge(Charge("discover", rho=0.0, delta=5e-7))


def test_approximate_step_needs_a_delta():
    acc = Accountant(PrivacyBudget.zcdp(1.0))
    with pytest.raises(BudgetExceededError, match="needs a budget with delta"):
        acc.charge(Charge("discover", rho=0.01, delta=1e-9))


def test_pure_mode_accepts_only_pure_steps():
    acc = Accountant(PrivacyBudget.pure(1.0))
    acc.charge(Charge("measure", rho=0.125, epsilon=0.5))
    with pytest.raises(BudgetExceededError, match="not pure DP"):
        acc.charge(Charge("measure", rho=0.01))
    with pytest.raises(BudgetExceededError, match="epsilon = 1.1"):
        acc.charge(Charge("measure", rho=0.18, epsilon=0.6))
    assert acc.spent.epsilon == 0.5
    assert acc.remaining.epsilon == 0.5
    assert acc.report()["mode"] == "pure"


def test_rho_cap_is_not_defined_in_pure_mode():
    with pytest.raises(PrivacyError):
        PrivacyBudget.pure(1.0).rho_cap()


def test_charge_validates_itself():
    with pytest.raises(ParameterError, match=r"^rho \("):
        Charge("measure", rho=-0.1)
    with pytest.raises(ParameterError, match=r"^delta \("):
        Charge("discover", rho=0.1, delta=1.0)
    with pytest.raises(ParameterError, match=r"^charge \("):
        Accountant(PrivacyBudget.zcdp(1.0)).charge({"rho": 0.1})


def test_an_epsilon_too_large_to_convert_is_refused_when_the_budget_is_made():
    with pytest.raises(ParameterError, match=r"epsilon.*small enough for OpenDP to convert"):
        PrivacyBudget.approx(1e5, 1e-9)
    acc = Accountant(PrivacyBudget.approx(1e4, 1e-9))
    acc.charge(Charge("measure", rho=acc.budget.rho))
    assert acc.spent.epsilon <= 1e4


@pytest.mark.parametrize("value", [2.7760499999, 1.0, 0.1234565, 123456.75, 9.9999995, 3e-7])
def test_at_most_rounds_down_to_six_significant_digits(value):
    shown = float(at_most(value))
    assert shown <= value and shown >= value * (1 - 1e-5)
    assert len(at_most(value).replace(".", "").replace("e-07", "").lstrip("0")) <= 6
