import numpy as np
import pytest
from scipy.stats import binomtest, norm
from sklearn.metrics import roc_auc_score

from audits.disclosure.stats import (
    Rate,
    RiskEstimate,
    auc_with_ci,
    check_confidence,
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


def test_delong_lower_end_passes_a_half_at_its_level_with_few_targets():
    # No leakage, 10 members and 10 non-members: the normal quantile's lower end passes 0.5 in
    # about 3.4% of audits, the t quantile's in about 2.6%. Over 40,000 runs the nominal 2.5%
    # has sd 0.078%, so 2.5% + 3 sd = 2.73% tells the two apart.
    rng = np.random.default_rng(11)
    runs = 40_000
    passed = sum(auc_with_ci(rng.normal(size=10), rng.normal(size=10), 0.95)[1][0] > 0.5 for _ in range(runs))
    assert passed / runs <= 0.0273


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
