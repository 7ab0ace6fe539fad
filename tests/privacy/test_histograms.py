"""NoisyHistogram: priced for a budget in either mode, charged as priced, noise of the priced size."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from dpsynth.errors import ParameterError
from dpsynth.privacy.accountant import Accountant, PrivacyBudget
from dpsynth.privacy.histograms import NoisyHistogram, noise_cut
from dpsynth.privacy.mechanisms import Neighbouring


def test_the_cut_is_passed_by_noise_alone_at_the_stated_rate():
    # 4.75 sd of the Gaussian, 13.1 scales of the Laplace at 1e-6
    assert noise_cut(10.0, gaussian=True, rate=1e-6) == pytest.approx(47.534, abs=1e-3)
    assert noise_cut(10.0, gaussian=False, rate=1e-6) == pytest.approx(131.22, abs=1e-2)
    for rate in (1e-3, 1e-6):
        assert stats.norm.sf(noise_cut(1.0, gaussian=True, rate=rate)) == pytest.approx(rate)
        assert stats.laplace.sf(noise_cut(1.0, gaussian=False, rate=rate)) == pytest.approx(rate)


@pytest.mark.parametrize("relation", list(Neighbouring))
def test_a_zcdp_histogram_spends_its_cost_as_rho(relation):
    histogram = NoisyHistogram.for_cost(0.02, mode="zcdp", relation=relation, cells=7, step="discover",
                                        column="age", discovered="kind")
    assert histogram.gaussian and histogram.mode == "zcdp"
    assert histogram.charge.rho == pytest.approx(0.02)
    assert histogram.charge.epsilon is None
    assert histogram.charge.params["cells"] == 7 and histogram.charge.params["column"] == "age"
    # replace-one has twice the squared sensitivity: the same rho buys sqrt(2) more noise
    expected = np.sqrt(1 / (2 * 0.02)) * (np.sqrt(2) if relation is Neighbouring.REPLACE else 1)
    assert histogram.noise == pytest.approx(expected, rel=1e-6)
    assert histogram.description == f"sigma {histogram.noise:.3g}"


@pytest.mark.parametrize("relation", list(Neighbouring))
def test_a_pure_histogram_spends_its_cost_as_epsilon(relation):
    histogram = NoisyHistogram.for_cost(0.5, mode="pure", relation=relation, cells=2, step="discover",
                                        column="t", discovered="resolution")
    assert not histogram.gaussian and histogram.mode == "pure"
    assert histogram.charge.epsilon == pytest.approx(0.5)
    assert histogram.noise == pytest.approx((2 if relation is Neighbouring.REPLACE else 1) / 0.5, rel=1e-6)
    assert histogram.description.startswith("Laplace scale ")


def test_a_mode_other_than_zcdp_or_pure_is_refused():
    with pytest.raises(ParameterError, match="mode"):
        NoisyHistogram.for_cost(0.5, mode="approx", relation=Neighbouring.ADD_REMOVE, cells=2, step="discover")


@pytest.mark.parametrize("mode", ["zcdp", "pure"])
def test_running_charges_what_was_priced(mode):
    budget = PrivacyBudget.zcdp(1.0) if mode == "zcdp" else PrivacyBudget.pure(5.0)
    accountant = Accountant(budget)
    histogram = NoisyHistogram.for_cost(0.1, mode=mode, relation=Neighbouring.ADD_REMOVE, cells=3,
                                        step="discover", column="c", discovered="bounds")
    noisy = histogram.run(np.array([5, 0, 9]), accountant=accountant)
    assert noisy.dtype == np.int64 and noisy.shape == (3,)
    assert [c.to_dict() for c in accountant.steps] == [histogram.charge.to_dict()]


def test_the_noise_has_the_priced_scale():
    # 4000 cells of a zero histogram: the sample sd of Gaussian noise of sd 20 lies in its
    # 1e-6 interval (chi-square), which sigma 20 * sqrt(2) or 20 / sqrt(2) would miss
    histogram = NoisyHistogram.for_cost(1 / (2 * 20.0**2), mode="zcdp", relation=Neighbouring.ADD_REMOVE,
                                        cells=4000, step="discover")
    noisy = histogram.run(np.zeros(4000, dtype=np.int64), accountant=Accountant(PrivacyBudget.zcdp(1.0)))
    df = noisy.size
    low, high = (np.sqrt(stats.chi2.ppf(q, df) / df) * 20.0 for q in (5e-7, 1 - 5e-7))
    assert low < np.sqrt(np.mean(noisy.astype(float) ** 2)) < high
