"""The epsilon calculator: worked values, the ceiling formula, the planner."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import stats

from audits import AuditParameterError, empirical_epsilon, epsilon_ceiling, runs_needed
from audits.epsilon import (
    clopper_pearson_lower,
    clopper_pearson_upper,
    epsilon_lower_bounds,
    gdp_mu_lower,
)


def test_worked_value_500_runs_tp_300_fp_50():
    bound = empirical_epsilon(tp=300, fn=200, fp=50, tn=450, delta=0.0)
    assert bound.epsilon == pytest.approx(1.4547, abs=5e-4)


def test_worked_value_12_of_12_with_no_false_positive():
    bound = empirical_epsilon(tp=12, fn=0, fp=0, tn=12, delta=0.0)
    # Closed form: each rate bounded at alpha/2 = 0.025, so TPR_lo = 0.025^(1/12).
    q = 0.025 ** (1 / 12)
    assert bound.epsilon == pytest.approx(math.log(q / (1 - q)), rel=1e-9)
    assert bound.epsilon == pytest.approx(1.02, abs=5e-3)
    assert bound.epsilon == pytest.approx(bound.ceiling)


def test_summary_puts_the_ceiling_beside_the_bound():
    table = empirical_epsilon(tp=300, fn=200, fp=50, tn=450, delta=0.0).summary()
    assert table.loc[0, "epsilon_lower_bound"] == pytest.approx(1.4547, abs=5e-4)
    assert table.loc[0, "ceiling"] == pytest.approx(epsilon_ceiling(500, 0.0))
    assert table.loc[0, "confidence"] == pytest.approx(0.95)


def test_both_constraints_are_used():
    # Few false negatives and many false positives: only TNR <= e^eps FNR binds.
    bound = empirical_epsilon(tp=495, fn=5, fp=250, tn=250, delta=0.0)
    tpr_lo, fpr_hi = bound.tpr_lower, bound.fpr_upper
    first = math.log(tpr_lo / fpr_hi)
    second = math.log((1 - fpr_hi) / (1 - tpr_lo))
    assert second > first
    assert bound.epsilon == pytest.approx(second)


def test_clopper_pearson_matches_scipy_exact_interval():
    # A two-sided exact interval at 90% has one-sided 5% limits.
    interval = stats.binomtest(37, 120).proportion_ci(confidence_level=0.9, method="exact")
    assert float(clopper_pearson_lower(37, 120, 0.05)) == pytest.approx(interval.low)
    assert float(clopper_pearson_upper(37, 120, 0.05)) == pytest.approx(interval.high)
    assert float(clopper_pearson_lower(0, 10, 0.05)) == 0.0
    assert float(clopper_pearson_upper(10, 10, 0.05)) == 1.0


def test_ceiling_formula():
    for n, delta in [(500, 0.0), (700, 1e-5), (50, 0.01)]:
        q = 0.025 ** (1 / n)
        assert epsilon_ceiling(n, delta) == pytest.approx(math.log((q - delta) / (1 - q)))
    assert epsilon_ceiling(500, 0.0) == pytest.approx(4.9056, abs=1e-3)


def test_bonferroni_lowers_the_bound():
    plain = empirical_epsilon(300, 200, 50, 450, delta=0.0)
    corrected = empirical_epsilon(300, 200, 50, 450, delta=0.0, comparisons=6)
    assert corrected.epsilon < plain.epsilon
    assert corrected.epsilon == pytest.approx(
        float(epsilon_lower_bounds(np.array(300), np.array(50), 500, 500, 0.0, 0.05 / 6))
    )


def test_delta_lowers_the_bound_and_no_signal_gives_zero():
    assert empirical_epsilon(300, 200, 50, 450, delta=0.1).epsilon < empirical_epsilon(300, 200, 50, 450, delta=0.0).epsilon
    assert empirical_epsilon(250, 250, 250, 250, delta=0.0).epsilon == 0.0
    assert empirical_epsilon(0, 100, 0, 100, delta=0.0).epsilon == 0.0


def test_gdp_mu_is_labelled_separately_and_matches_normal_quantiles():
    bound = empirical_epsilon(300, 200, 50, 450, delta=0.0)
    expected = stats.norm.ppf(bound.tpr_lower) - stats.norm.ppf(bound.fpr_upper)
    assert bound.gdp_mu == pytest.approx(expected)
    assert gdp_mu_lower(0.1, 0.5) == 0.0
    assert json.loads(json.dumps(bound.to_dict()))["gdp_mu"] == pytest.approx(expected)


def test_runs_needed_is_the_smallest_sufficient_number():
    n = runs_needed(1.0, 0.0, attack_tpr=0.5, attack_fpr=0.0677)
    reaches = lambda m: float(  # noqa: E731
        epsilon_lower_bounds(np.array(round(m * 0.5)), np.array(round(m * 0.0677)), m, m, 0.0, 0.05)
    ) >= 1.0
    assert reaches(n) and not reaches(n - 1)
    # A perfect attack certifies epsilon = 1 with 12 runs per world (the worked value).
    assert runs_needed(1.0, 0.0, attack_tpr=1.0, attack_fpr=0.0) == 12
    assert runs_needed(1.0, 0.0, 1.0, 0.0, validation_fraction=0.5) == 24


def test_runs_needed_refuses_an_attack_too_weak_for_the_target():
    with pytest.raises(AuditParameterError, match=r"limit is 0\.693"):
        runs_needed(1.0, 0.0, attack_tpr=0.5, attack_fpr=0.25)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"tp": -1, "fn": 1, "fp": 1, "tn": 1, "delta": 0.0}, r"tp \(-1\) must be a non-negative integer"),
        ({"tp": 1, "fn": 1, "fp": 1, "tn": 1, "delta": 1.5}, r"delta \(1\.5\) must be in \[0, 1\)"),
        ({"tp": 1, "fn": 1, "fp": 1, "tn": 1, "delta": 0.0, "alpha": 0.0}, r"alpha \(0\.0\) must be in \(0, 1\)"),
        ({"tp": 0, "fn": 0, "fp": 1, "tn": 1, "delta": 0.0}, r"must be both positive"),
    ],
)
def test_bad_arguments_name_the_parameter_and_value(kwargs, message):
    with pytest.raises(AuditParameterError, match=message):
        empirical_epsilon(**kwargs)
