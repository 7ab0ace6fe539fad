"""Mechanisms: costs from OpenDP's maps, noise of the right size, selection by softmax.

OpenDP's noise cannot be seeded, so the statistical tests use intervals at a
level of 1e-6: a correct mechanism fails one of them about once in a million
runs, while a wrong scale (a factor sqrt(2) in sigma, say) fails every time.
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path

import numpy as np
import pytest
from scipy import integrate, stats

import dpsynth.privacy
from dpsynth.errors import BudgetExceededError, ParameterError, PrivacyError
from dpsynth.privacy._opendp import dp
from dpsynth.privacy.accountant import Accountant, PrivacyBudget
from dpsynth.privacy.mechanisms import (
    Neighbouring,
    count_charge,
    exponential_charge,
    exponential_epsilon,
    exponential_select,
    gaussian_charge,
    gaussian_counts,
    gaussian_sigma,
    laplace_charge,
    laplace_counts,
    laplace_scale,
    noisy_count,
    private_quantile,
    private_quantile_of_regions,
    quantile_charge,
    quantile_scores,
    threshold_charge,
    threshold_for_delta,
    thresholded_histogram,
)

LEVEL = 1e-6


def _big_zcdp() -> Accountant:
    return Accountant(PrivacyBudget.zcdp(1e4, 1e-3))


def test_gaussian_cost_and_sigma_agree():
    assert gaussian_charge(2.0).rho == pytest.approx(1 / 8)
    assert gaussian_sigma(1 / 8) == pytest.approx(2.0)
    assert gaussian_charge(2.0, relation=Neighbouring.REPLACE).rho == pytest.approx(2 / 8)
    assert gaussian_sigma(2 / 8, relation="replace one row") == pytest.approx(2.0)
    charge = gaussian_charge(3.0, clique=("age", "sex"))
    assert charge.to_dict()["clique"] == ("age", "sex")
    assert charge.to_dict()["relation"] == "add/remove one row"


def test_gaussian_noise_variance_within_chi_square_interval():
    sigma, n = 4.0, 20_000
    acc = _big_zcdp()
    noisy = gaussian_counts(np.full(n, 50), sigma, accountant=acc, clique=("a",))
    assert noisy.dtype == np.int64 and noisy.shape == (n,)
    noise = noisy - 50
    # the discrete Gaussian's variance differs from sigma^2 by < 1e-100 at sigma = 4
    statistic = np.sum(noise.astype(float) ** 2) / sigma**2  # mean known to be 0: chi2(n)
    low, high = stats.chi2.ppf([LEVEL / 2, 1 - LEVEL / 2], df=n)
    assert low < statistic < high
    assert acc.steps[0].params["cells"] == n
    assert abs(noise.mean()) < stats.norm.ppf(1 - LEVEL / 2) * sigma / math.sqrt(n)


def test_laplace_cost():
    assert laplace_charge(2.0).epsilon == pytest.approx(0.5)
    assert laplace_charge(2.0).rho == pytest.approx(0.125)
    assert laplace_charge(2.0, relation=Neighbouring.REPLACE).epsilon == pytest.approx(1.0)
    assert laplace_scale(0.5) == 2.0
    assert laplace_scale(0.5, relation=Neighbouring.REPLACE) == 4.0


def test_laplace_noise_variance_within_normal_interval():
    scale, n = 3.0, 20_000
    acc = Accountant(PrivacyBudget.pure(1.0))
    noise = laplace_counts(np.zeros(n, dtype=int), scale, accountant=acc).astype(float)
    # discrete Laplace P(x) ~ exp(-|x| / scale): moments summed over its support
    support = np.arange(-400, 401)
    pmf = np.exp(-np.abs(support) / scale)
    pmf /= pmf.sum()
    var, m4 = float(np.sum(pmf * support**2)), float(np.sum(pmf * support**4))
    assert var == pytest.approx(2 * math.exp(-1 / scale) / (1 - math.exp(-1 / scale)) ** 2)
    sample_var = float(np.mean(noise**2))
    z = (sample_var - var) / math.sqrt((m4 - var**2) / n)
    assert abs(z) < stats.norm.ppf(1 - LEVEL / 2)
    assert acc.spent.epsilon == pytest.approx(1 / 3)


def _chi_square_pvalue(choices: np.ndarray, probs: np.ndarray) -> float:
    observed = np.bincount(choices, minlength=probs.size)
    return float(stats.chisquare(observed, probs * choices.size).pvalue)


def test_exponential_mechanism_matches_softmax_in_zcdp_mode():
    scores = np.array([0.0, 1.0, 2.0, 3.0, 3.0])
    epsilon, draws = 1.0, 2000
    acc = _big_zcdp()
    choices = np.array(
        [exponential_select(scores, epsilon, sensitivity=1.0, accountant=acc) for _ in range(draws)]
    )
    probs = np.exp(epsilon * scores / 2)
    probs /= probs.sum()
    assert _chi_square_pvalue(choices, probs) > LEVEL
    assert acc.spent.rho == pytest.approx(draws * epsilon**2 / 8)


def test_exponential_epsilon_for_a_rho_round_trips():
    epsilon = exponential_epsilon(0.02)
    assert epsilon == pytest.approx(0.4)
    assert exponential_charge(epsilon, sensitivity=3.0).rho == pytest.approx(0.02)


def test_exponential_mechanism_monotonic_halves_the_noise():
    charge = exponential_charge(1.0, sensitivity=2.0, monotonic=True)
    assert charge.params["noise_scale"] == pytest.approx(2.0)
    assert charge.rho == pytest.approx(1 / 8)
    assert exponential_charge(1.0, sensitivity=2.0).params["noise_scale"] == pytest.approx(4.0)


def _permute_and_flip_probs(scores: np.ndarray, scale: float) -> np.ndarray:
    """P(argmax of score + Exponential(scale) noise), integrated numerically."""

    def density(x: float, i: int) -> float:
        value = math.exp(-(x - scores[i]) / scale) / scale
        for j, s in enumerate(scores):
            if j != i:
                value *= 1 - math.exp(-(x - s) / scale) if x > s else 0.0
        return value

    top = float(scores.max())
    return np.array(
        [
            integrate.quad(density, scores[i], top, args=(i,))[0]
            + integrate.quad(density, max(top, scores[i]), np.inf, args=(i,))[0]
            for i in range(scores.size)
        ]
    )


def test_exponential_mechanism_in_pure_mode_is_permute_and_flip():
    scores = np.array([0.0, 1.0, 2.0, 3.0])
    epsilon, draws = 2.0, 2000
    acc = Accountant(PrivacyBudget.pure(draws * epsilon))
    choices = np.array(
        [exponential_select(scores, epsilon, sensitivity=1.0, accountant=acc) for _ in range(draws)]
    )
    probs = _permute_and_flip_probs(scores, scale=2.0 / epsilon)
    assert probs.sum() == pytest.approx(1.0, abs=1e-8)
    assert _chi_square_pvalue(choices, probs) > LEVEL
    assert acc.spent.epsilon == pytest.approx(draws * epsilon)


def test_refused_charge_draws_nothing():
    acc = Accountant(PrivacyBudget.zcdp(0.01))
    with pytest.raises(BudgetExceededError):
        gaussian_counts([1, 2, 3], 1.0, accountant=acc)
    with pytest.raises(BudgetExceededError):
        exponential_select([1.0, 2.0], 10.0, sensitivity=1.0, accountant=acc)
    assert acc.steps == ()


def test_pure_budget_refuses_gaussian_noise():
    acc = Accountant(PrivacyBudget.pure(10.0))
    with pytest.raises(BudgetExceededError, match="not pure DP"):
        gaussian_counts([1, 2, 3], 1.0, accountant=acc)


@pytest.mark.parametrize("relation", list(Neighbouring))
def test_a_count_vector_is_priced_in_either_mode(relation):
    from dpsynth.privacy.mechanisms import vector_charge, vector_noise

    sigma, scale = vector_noise(0.02, mode="zcdp", relation=relation), vector_noise(0.5, mode="pure", relation=relation)
    assert sigma == gaussian_sigma(0.02, relation=relation) and scale == laplace_scale(0.5, relation=relation)
    assert vector_charge(sigma, mode="zcdp", relation=relation, clique=("a",)) == gaussian_charge(
        sigma, relation=relation, clique=("a",))
    assert vector_charge(scale, mode="pure", relation=relation).epsilon == pytest.approx(0.5)
    with pytest.raises(ParameterError, match=r"^mode \("):
        vector_noise(0.5, mode="approx")


def test_noisy_count():
    acc = _big_zcdp()
    values = [noisy_count(1000, 2.0, accountant=acc) for _ in range(200)]
    assert abs(np.mean(values) - 1000) < stats.norm.ppf(1 - LEVEL / 2) * 2.0 / math.sqrt(200)
    assert count_charge(2.0).rho == pytest.approx(1 / 8)
    assert count_charge(2.0, mode="pure").epsilon == pytest.approx(0.5)
    pure = Accountant(PrivacyBudget.pure(1.0))
    assert isinstance(noisy_count(10, 2.0, accountant=pure), int)
    with pytest.raises(PrivacyError, match="public"):
        noisy_count(10, 2.0, accountant=acc, relation=Neighbouring.REPLACE)
    with pytest.raises(ParameterError, match=r"^n \("):
        noisy_count(-1, 2.0, accountant=acc)


def test_threshold_charge_and_release():
    threshold = threshold_for_delta(5.0, 1e-9)
    assert threshold_charge(5.0, threshold).delta <= 1e-9
    assert threshold_charge(5.0, threshold - 1).delta > 1e-9
    charge = threshold_charge(5.0, threshold, column="city")
    assert charge.rho == pytest.approx(1 / 50)
    replace = threshold_charge(5.0, threshold, relation=Neighbouring.REPLACE)
    assert replace.rho == pytest.approx(2 / 50) and replace.delta > charge.delta
    acc = _big_zcdp()
    released = thresholded_histogram(
        {"big": 1000, "lonely": 1}, 5.0, threshold, accountant=acc, column="city"
    )
    assert set(released) == {"big"}
    assert acc.spent.step_delta == charge.delta


def test_thresholded_histogram_needs_zcdp():
    with pytest.raises(PrivacyError, match="pure-DP budget"):
        thresholded_histogram({"a": 5}, 1.0, 10, accountant=Accountant(PrivacyBudget.pure(1.0)))


def test_private_quantile_costs_what_was_asked_and_lands_near_the_median():
    candidates = np.arange(0, 101)
    data = np.repeat(np.arange(30, 51), 50)  # median 40
    acc = _big_zcdp()
    result = private_quantile(data, candidates, 0.5, 1.0, accountant=acc, column="age")
    assert result in set(candidates.tolist())
    # at rho = 1 the noise scale is a few rows: off by more than 5 ranks-worth is ~impossible
    assert 39 <= result <= 41
    assert acc.spent.rho == pytest.approx(1.0, rel=1e-9)
    pure = quantile_charge(candidates, 0.1, 0.5, mode="pure", relation="replace one row")
    assert pure.epsilon == pytest.approx(0.5, rel=1e-9)


def test_bad_inputs_are_refused_with_their_name():
    acc = _big_zcdp()
    with pytest.raises(ParameterError, match=r"^counts \("):
        gaussian_counts([[1, 2]], 1.0, accountant=acc)
    with pytest.raises(ParameterError, match=r"^counts \("):
        gaussian_counts([1.5], 1.0, accountant=acc)
    with pytest.raises(ParameterError, match=r"^sigma \("):
        gaussian_charge(0.0)
    with pytest.raises(ParameterError, match=r"^relation \("):
        gaussian_charge(1.0, relation="swap")
    with pytest.raises(ParameterError, match=r"^scores \("):
        exponential_select([], 1.0, sensitivity=1.0, accountant=acc)
    with pytest.raises(ParameterError, match=r"^candidates \("):
        quantile_charge([3.0, 1.0], 0.5, 1.0)
    with pytest.raises(ParameterError, match=r"^threshold \("):
        threshold_charge(1.0, 0)
    assert acc.steps == ()


def test_no_non_private_randomness_in_the_privacy_package():
    pattern = re.compile(r"numpy\.random|np\.random|^\s*(import random|from random )", re.M)
    for path in Path(dpsynth.privacy.__file__).parent.glob("*.py"):
        assert not pattern.search(path.read_text()), path.name


SCALE = int(os.environ.get("DPSYNTH_TEST_SCALE", "1"))


@pytest.mark.slow
def test_replace_relation_noise_and_monotonic_selection_at_scale():
    """Runs at a small size by default; DPSYNTH_TEST_SCALE multiplies the sample sizes."""
    rho, n = 0.01, 10_000 * SCALE
    sigma = gaussian_sigma(rho, relation=Neighbouring.REPLACE)
    assert sigma == pytest.approx(10.0)
    acc = _big_zcdp()
    noise = gaussian_counts(
        np.zeros(n, dtype=int), sigma, accountant=acc, relation="replace one row"
    )
    statistic = np.sum(noise.astype(float) ** 2) / sigma**2
    low, high = stats.chi2.ppf([LEVEL / 2, 1 - LEVEL / 2], df=n)
    assert low < statistic < high
    assert acc.spent.rho == pytest.approx(rho)

    scores, epsilon, draws = np.array([5.0, 4.0, 2.0]), 0.5, 1000 * SCALE
    choices = np.array(
        [
            exponential_select(scores, epsilon, sensitivity=1.0, accountant=acc, monotonic=True)
            for _ in range(draws)
        ]
    )
    probs = np.exp(epsilon * scores)  # monotonic: exp(epsilon * score / sensitivity)
    probs /= probs.sum()
    assert _chi_square_pvalue(choices, probs) > LEVEL


def _regions(values: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """Counts of the 2k + 1 regions x < c0, x = c0, c0 < x < c1, ..., x > c_{k-1}."""
    index = np.searchsorted(candidates, values, "left") + np.searchsorted(candidates, values, "right")
    return np.bincount(index, minlength=2 * candidates.size + 1)


def _opendp_scores(values: np.ndarray, candidates: np.ndarray, alpha: float) -> list[int]:
    space = dp.vector_domain(dp.atom_domain(T=float, nan=False)), dp.symmetric_distance()
    score = dp.t.make_quantile_score_candidates(*space, candidates=candidates.tolist(), alpha=alpha)
    return score(values.tolist())


# exact fractions (1/2, 3/8), ones OpenDP rounds to ten-thousandths (0.05, 0.29, 1/3), the ends
ALPHAS = [0.0, 0.05, 0.1, 0.29, 1 / 3, 0.375, 0.5, 0.123456, 0.95, 1.0]


@pytest.mark.parametrize("alpha", ALPHAS)
def test_scores_from_region_counts_equal_opendp_scores_on_the_values(alpha):
    rng = np.random.default_rng(7)
    candidates = np.array([-1.0, 2.0, 3.0, 5.5, 7.0, 30.0])
    values = np.concatenate([
        rng.integers(-5, 40, 300).astype(float),  # below, between and above the grid
        np.full(10, 3.0), np.full(4, 30.0), [-1.0],  # ties on candidates
        [-1e12, 1e12, 2.5],
    ])
    rng.shuffle(values)
    assert quantile_scores(_regions(values, candidates), alpha) == _opendp_scores(values, candidates, alpha)
    # a grid the values all lie outside, and an empty table
    far = np.array([100.0, 200.0])
    assert quantile_scores(_regions(values, far), alpha) == _opendp_scores(values, far, alpha)
    assert quantile_scores(np.zeros(5, dtype=int), alpha) == _opendp_scores(np.array([]), far, alpha)


@pytest.mark.parametrize("mode", ["zcdp", "pure"])
@pytest.mark.parametrize("relation", list(Neighbouring))
def test_quantile_of_regions_charges_exactly_what_the_raw_quantile_charges(mode, relation):
    candidates, values = np.arange(0.0, 50.0), np.repeat(np.arange(10.0, 31.0), 5)
    budget = PrivacyBudget.zcdp(10.0) if mode == "zcdp" else PrivacyBudget.pure(10.0)
    for alpha in (0.05, 0.29, 0.5):
        raw, regions = Accountant(budget), Accountant(budget)
        private_quantile(values, candidates, alpha, 0.3, accountant=raw, relation=relation, column="x")
        private_quantile_of_regions(
            _regions(values, candidates), candidates, alpha, 0.3, accountant=regions,
            relation=relation, column="x",
        )
        assert regions.steps == raw.steps
        assert regions.spent == raw.spent


def test_quantile_of_regions_selects_as_the_raw_values_do():
    # Scores 0, 1, 2, ... ranks-worth from the median: at epsilon ~ 1 several candidates have
    # a real chance. In zCDP mode the selection is Gumbel-max (exponential mechanism):
    # P(i) ~ exp(-score_i / (scale * den)); in pure mode it is permute-and-flip on -score.
    candidates = np.array([35.0, 38.0, 39.0, 40.0, 41.0, 42.0, 45.0])
    values = np.repeat(np.arange(30.0, 51.0), 2)
    regions = _regions(values, candidates)
    draws = 2000
    for mode, budget in (("zcdp", PrivacyBudget.zcdp(1e4)), ("pure", PrivacyBudget.pure(1e4))):
        charge = quantile_charge(candidates, 0.5, 0.05 if mode == "zcdp" else 0.5, mode=mode)
        cost = charge.rho if mode == "zcdp" else charge.epsilon
        scale = charge.params["noise_scale"] * 2  # alpha = 1/2 is exact: den = 2
        scores = np.asarray(quantile_scores(regions, 0.5), dtype=float)
        if mode == "zcdp":
            probs = np.exp(-(scores - scores.min()) / scale)
            probs /= probs.sum()
        else:
            probs = _permute_and_flip_probs(-scores, scale)
        assert probs.max() < 0.9  # the test would see nothing if one candidate always won
        index = {c: i for i, c in enumerate(candidates.tolist())}
        for run in (private_quantile_of_regions, private_quantile):
            data = regions if run is private_quantile_of_regions else values
            acc = Accountant(budget)
            chosen = np.array([index[run(data, candidates, 0.5, cost, accountant=acc)] for _ in range(draws)])
            assert _chi_square_pvalue(chosen, probs) > LEVEL, (mode, run.__name__)


def test_quantile_of_regions_refuses_counts_that_do_not_fit_the_grid():
    acc = _big_zcdp()
    with pytest.raises(ParameterError, match=r"^region_counts \("):
        private_quantile_of_regions([1, 2, 3], [1.0, 2.0], 0.5, 1.0, accountant=acc)
    with pytest.raises(ParameterError, match=r"^region_counts \("):
        private_quantile_of_regions([1, 2, -3, 0, 0], [1.0, 2.0], 0.5, 1.0, accountant=acc)
    with pytest.raises(ParameterError, match=r"^region_counts \("):
        quantile_scores([1.5, 2.0, 1.0], 0.5)
    assert acc.steps == ()
