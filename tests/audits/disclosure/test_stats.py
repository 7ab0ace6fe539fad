import numpy as np
import pytest
from scipy.stats import binomtest, fisher_exact, norm
from sklearn.metrics import roc_auc_score

from audits.disclosure.stats import (
    EXACT_MAX_WORK,
    Rate,
    RiskEstimate,
    auc_with_ci,
    check_confidence,
    delong_interval,
    split_advantage,
)
from audits.errors import AuditParameterError


def _ci(k, n, level, method="exact"):
    ci = binomtest(k, n).proportion_ci(confidence_level=level, method=method)
    return ci.low, ci.high


@pytest.mark.parametrize("method", ["exact", "wilson"])
def test_rate_uses_the_binomial_interval(method):
    rate = Rate.of(7, 20, 0.9, method)
    assert rate.rate == 0.35
    assert rate.ci == pytest.approx(_ci(7, 20, 0.9, method))
    assert rate.to_dict() == {"successes": 7, "trials": 20, "rate": 0.35, "ci": list(rate.ci)}


def test_risk_subtracts_control_and_combines_bonferroni_bounds():
    est = RiskEstimate.from_counts(
        90,
        40,
        30,
        trials=100,
        control_trials=100,
        baseline_trials=100,
        confidence=0.95,
        ci_method="exact",
    )
    assert est.risk == pytest.approx((0.9 - 0.4) / 0.6)
    a_lo, a_hi = _ci(90, 100, 0.975)
    c_lo, c_hi = _ci(40, 100, 0.975)
    assert est.risk_ci[0] == pytest.approx((a_lo - c_hi) / (1 - c_hi))
    assert est.risk_ci[1] == pytest.approx((a_hi - c_lo) / (1 - c_lo))
    assert est.beats_baseline and est.warning("x") is None


def test_risk_is_clipped_and_defined_when_control_always_succeeds():
    full = RiskEstimate.from_counts(
        10,
        10,
        0,
        trials=10,
        control_trials=10,
        baseline_trials=10,
        confidence=0.95,
        ci_method="exact",
    )
    assert full.risk == 0.0
    worse = RiskEstimate.from_counts(
        0,
        9,
        0,
        trials=10,
        control_trials=10,
        baseline_trials=10,
        confidence=0.95,
        ci_method="wilson",
    )
    assert worse.risk == -1.0 and worse.risk_ci[0] == -1.0


def test_an_attack_that_does_not_beat_its_baseline_is_flagged():
    est = RiskEstimate.from_counts(
        60,
        50,
        60,
        trials=100,
        control_trials=100,
        baseline_trials=100,
        confidence=0.95,
        ci_method="exact",
    )
    assert not est.beats_baseline
    message = est.warning("attribute_inference (income)")
    assert "does not beat its naive baseline" in message
    assert "safe" not in message.lower() and "private" not in message.lower()


def _estimate(attack, baseline, trials=100, confidence=0.95):
    return RiskEstimate.from_counts(attack, 10, baseline, trials=trials, control_trials=trials,
                                    baseline_trials=trials, confidence=confidence, ci_method="exact")


def test_beating_the_baseline_counts_the_baselines_own_sampling_error():
    # 62 of 100 against a baseline of 48 of 100: the attack's lower bound (0.503) is above the
    # baseline's rate, but a one-sided Fisher test gives p = 0.032 > 0.025
    assert _ci(62, 100, 0.975)[0] > 0.48
    assert fisher_exact([[62, 38], [48, 52]], alternative="greater").pvalue > 0.025
    assert not _estimate(62, 48).beats_baseline
    assert _estimate(60, 45).beats_baseline  # p = 0.024
    assert _estimate(60, 45, confidence=0.99).beats_baseline is False
    assert _estimate(600, 450, trials=1000).beats_baseline


def test_beating_the_baseline_holds_its_level_when_nothing_is_learnt():
    # attack and baseline succeed alike: the flag is raised in at most (1 - confidence) / 2 of audits
    rng = np.random.default_rng(0)
    raised = np.mean([_estimate(int(a), int(b)).beats_baseline
                      for a, b in rng.binomial(100, 0.4, size=(4000, 2))])
    assert raised <= 0.025


def test_auc_matches_scikit_learn_and_is_exact_at_the_extremes():
    rng = np.random.default_rng(0)
    x, y = rng.normal(1, 1, 80), rng.normal(0, 1, 60)
    auc, (low, high) = auc_with_ci(x, y, 0.95)
    assert auc == pytest.approx(roc_auc_score(np.r_[np.ones(80), np.zeros(60)], np.r_[x, y]))
    assert low < auc < high
    assert auc_with_ci(np.ones(5) * 2, np.ones(5), 0.95) == (1.0, (1.0, 1.0))
    assert auc_with_ci(np.ones(5), np.ones(5), 0.95)[0] == 0.5


def test_delong_interval_covers_the_true_auc_at_its_level():
    # Binormal scores shifted by 1: true AUC = Phi(1 / sqrt 2). Over 300 independent
    # repetitions coverage is binomial(300, 0.95): sd 0.0126, so +-3 sd is [0.912, 0.988].
    rng = np.random.default_rng(1)
    truth = norm.cdf(1 / np.sqrt(2))
    hits = 0
    for _ in range(300):
        _, (low, high) = auc_with_ci(rng.normal(1, 1, 100), rng.normal(0, 1, 100), 0.95)
        hits += low <= truth <= high
    assert 0.912 <= hits / 300 <= 0.988


@pytest.mark.parametrize(
    ("m", "n", "levels", "runs", "seed"),
    [(6, 6, None, 40_000, 7), (5, 50, None, 40_000, 8), (5, 600, None, 20_000, 10), (10, 10, 3, 40_000, 9)],
)
def test_lower_end_passes_a_half_at_most_at_its_level_under_no_leakage(m, n, levels, runs, seed):
    # No leakage: both groups i.i.d., normal or integers 0..2 (mostly ties). The exact check
    # holds the rate to at most 2.5%; the limit is 2.5% + 3 binomial sd over the runs (2.73% at
    # 40,000, 2.83% at 20,000). DeLong-t alone alarms in 3.2%, 3.9%, 3.5% and 3.1% of these runs.
    rng = np.random.default_rng(seed)
    alarms = 0
    for _ in range(runs):
        if levels is None:
            x, y = rng.normal(size=m), rng.normal(size=n)
        else:
            x, y = rng.integers(0, levels, m), rng.integers(0, levels, n)
        alarms += auc_with_ci(x, y, 0.95)[1][0] > 0.5
    assert alarms / runs <= 0.025 + 3 * np.sqrt(0.025 * 0.975 / runs)


def test_perfect_separation_is_evidence_only_when_the_exact_test_says_so():
    # 4 and 4: one split in C(8, 4) = 70 puts every member on top, p = 1/70 < 0.025. With 3 and 3,
    # p = 1/20 = 0.05 > 0.025: not evidence at 95%, though DeLong's interval has zero width.
    assert auc_with_ci(np.arange(4.0) + 10, np.arange(4.0), 0.95) == (1.0, (1.0, 1.0))
    assert auc_with_ci(np.arange(3.0) + 10, np.arange(3.0), 0.95) == (1.0, (0.5, 1.0))
    assert auc_with_ci(np.arange(3.0), np.arange(3.0) + 10, 0.95) == (0.0, (0.0, 0.5))
    assert auc_with_ci(np.arange(3.0) + 10, np.arange(3.0), 0.90) == (1.0, (1.0, 1.0))


def test_the_exact_check_lowers_delong_where_the_exact_p_value_is_above_the_level():
    # Member ranks 8, 7, 6, 4 of 8: rank sums of 25 or more come from 2 of 70 splits, p = 2/70 =
    # 0.029 > 0.025, while DeLong's lower end is 0.72; at 90% (level 0.05) DeLong stands.
    x, y = np.array([8.0, 7, 6, 4]), np.array([5.0, 3, 2, 1])
    assert delong_interval(x, y, 0.95)[1][0] > 0.7
    assert auc_with_ci(x, y, 0.95) == (0.9375, (0.5, 1.0))
    assert auc_with_ci(x, y, 0.90) == delong_interval(x, y, 0.90)


def test_beyond_the_exact_switch_the_normal_rank_test_lowers_delong():
    # 5 members beside 1,100 non-members (work 5,525 > EXACT_MAX_WORK): DeLong's lower end is 0.516,
    # but the rank sum's p-value is 0.069
    rng = np.random.default_rng(3)
    for _ in range(78):
        x, y = rng.normal(size=5), rng.normal(size=1100)
    assert (len(x) + len(y)) * len(x) > EXACT_MAX_WORK
    assert delong_interval(x, y, 0.95)[1][0] > 0.5
    assert auc_with_ci(x, y, 0.95)[1][0] == 0.5
    # every score tied: the test has no p-value and checks nothing; 0.5 stays inside
    assert auc_with_ci(np.ones(5), np.ones(1100), 0.95) == (0.5, (0.5, 0.5))


def test_beyond_the_exact_switch_a_small_group_beside_a_large_one_holds_the_level():
    # DeLong alone passes 0.5 in about 3.4% of such null audits; the rank test keeps it under 2.5%
    rng = np.random.default_rng(4)
    runs = 3000
    alarms = sum(auc_with_ci(rng.normal(size=5), rng.normal(size=1100), 0.95)[1][0] > 0.5 for _ in range(runs))
    assert alarms / runs <= 0.025 + 2 * np.sqrt(0.025 * 0.975 / runs)


def test_tied_scores_use_the_conditional_exact_test():
    # Members 1, 1, 1, 1 and non-members 0, 0, 0, 0, 1: the four members are among the five 1s in
    # 5 of the C(9, 4) = 126 splits and can do no better, so p = 5/126 = 0.040 > 0.025 although
    # AUC = 0.9 and DeLong's lower end is 0.62.
    x, y = np.ones(4), np.array([0.0, 0, 0, 0, 1])
    assert delong_interval(x, y, 0.95)[1][0] > 0.6
    assert auc_with_ci(x, y, 0.95) == (pytest.approx(0.9), (0.5, 1.0))


def test_above_the_switch_the_interval_is_delongs():
    rng = np.random.default_rng(4)
    x, y = rng.normal(0.3, 1, 60), rng.normal(0, 1, 60)
    assert 120 * 60 > EXACT_MAX_WORK
    assert auc_with_ci(x, y, 0.95) == delong_interval(x, y, 0.95)


def test_split_advantage_of_a_perfect_score_has_the_exact_lower_bound():
    rng = np.random.default_rng(2)
    adv = split_advantage(np.full(40, 5.0), np.zeros(40), rng, 0.95, "exact")
    assert adv.advantage == 1.0 and adv.tpr.trials == 20
    # Clopper-Pearson at 97.5% two-sided: 20/20 has lower bound (0.0125)^(1/20), 0/20 the mirror.
    assert adv.ci[0] == pytest.approx(2 * 0.0125 ** (1 / 20) - 1)
    assert adv.ci[1] == 1.0


def test_split_advantage_counts_only_the_held_apart_half():
    rng = np.random.default_rng(3)
    members, others = rng.normal(0, 1, 200), rng.normal(0, 1, 200)
    adv = split_advantage(members, others, rng, 0.95, "wilson")
    assert adv.tpr.trials == 100 and adv.fpr.trials == 100
    assert adv.ci[0] <= 0.0 <= adv.ci[1]


@pytest.mark.parametrize(
    ("confidence", "method", "text"),
    [(1.0, "exact", "confidence (1.0) must be"), (0.9, "normal", "ci_method ('normal') must be")],
)
def test_bad_confidence_settings_are_refused(confidence, method, text):
    with pytest.raises(AuditParameterError, match=text.replace("(", r"\(").replace(")", r"\)")):
        check_confidence(confidence, method)
