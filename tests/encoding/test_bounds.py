import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binom, norm

from dpsynth.encoding.bounds import (
    FALSE_BUCKET_RATE,
    RUN_WIDTHS,
    bucket_counts,
    bucket_threshold,
    default_bucket_edges,
    kept_mass,
    range_from_histogram,
)
from dpsynth.encoding.profile import region_counts
from dpsynth.privacy.accountant import Accountant, PrivacyBudget
from dpsynth.privacy.mechanisms import gaussian_counts
from dpsynth.schema import ColumnKind


@pytest.mark.parametrize("kind", [ColumnKind.CONTINUOUS, ColumnKind.INTEGER, ColumnKind.DATETIME])
def test_default_edges_are_public_increasing_and_span_the_range(kind):
    edges = default_bucket_edges(kind)
    assert np.all(np.diff(edges) > 0) and np.all(np.isfinite(edges))
    if kind is ColumnKind.DATETIME:
        stamps = pd.to_datetime(edges, unit="s")
        assert stamps[0] == pd.Timestamp("1900-01-01") and stamps[-1] == pd.Timestamp("2101-01-01")
        assert (stamps.month == 1).all() and (stamps.day == 1).all()
        return
    assert 0.0 in edges and edges[0] == -1e9 and edges[-1] == 1e9
    np.testing.assert_array_equal(edges, -edges[::-1])  # symmetric around 0
    if kind is ColumnKind.INTEGER:
        np.testing.assert_array_equal(edges, np.round(edges))
    else:
        assert {1.2, 9.0, 400.0, 0.001} <= set(edges.tolist())


def test_each_row_lands_in_exactly_one_bucket():
    edges = np.array([0.0, 1.0, 10.0])
    values = [-5, 0, 0.5, 1, 1, 9.99, 10, 11, 1e6]
    counts = bucket_counts(region_counts(np.asarray(values, dtype=float), edges))
    # (-inf, 0), [0, 1), [1, 10), [10, inf)
    np.testing.assert_array_equal(counts, [1, 2, 3, 3])
    assert counts.sum() == len(values)
    with pytest.raises(ValueError, match="2k \\+ 1"):
        bucket_counts(np.zeros(4))


def test_thresholds_bound_the_chance_of_a_spurious_run():
    sigma, n = 7.0, 200
    # sub-Gaussian tail of a sum of `width` discrete Gaussians: exp(-t^2 / (2 width sigma^2))
    for width in RUN_WIDTHS:
        t = bucket_threshold(sigma, n, mode="zcdp", width=width)
        assert math.exp(-t**2 / (2 * width * sigma**2)) * n == pytest.approx(FALSE_BUCKET_RATE)
        # never looser than the continuous Gaussian's own tail
        assert norm.sf(t / (sigma * math.sqrt(width))) * n <= FALSE_BUCKET_RATE
    b = 3.0
    t = bucket_threshold(b, n, mode="pure", false_rate=0.01)
    assert 0.5 * math.exp(-t / b) * n == pytest.approx(0.01)
    with pytest.raises(ValueError, match="single buckets"):
        bucket_threshold(b, n, mode="pure", width=2)


def test_kept_mass_keeps_strong_buckets_and_thin_runs():
    sigma = 1.0
    # one strong bucket, then a tail of eight buckets of 3 each: too thin one by one, not as a run
    noisy = np.array([0, 0, 0, 0, 0, 0, 0, 0, 50, 0, 0, 0, 0, 0, 0, 0, 3, 3, 3, 3, 3, 3, 3, 3], dtype=float)
    single = bucket_threshold(sigma, noisy.size, mode="zcdp", false_rate=FALSE_BUCKET_RATE / len(RUN_WIDTHS))
    assert 3 < single < 50
    mass = kept_mass(noisy, sigma, mode="zcdp")
    assert mass[8] == 50
    np.testing.assert_allclose(mass[16:], 3.0)
    assert mass[:8].sum() == 0 and mass[9:16].sum() == 0
    # pure DP tests single buckets only: the thin tail is not kept
    in_pure = kept_mass(noisy, 0.5, mode="pure")
    assert in_pure[8] == 50 and in_pure[16:].sum() == 0
    assert not kept_mass(np.ones(10), 5.0, mode="zcdp").any()


def test_range_interpolates_inside_the_kept_buckets():
    edges = np.array([0.0, 10.0, 20.0, 40.0])
    # buckets (-inf,0) [0,10) [10,20) [20,40) [40,inf)
    mass = np.array([0, 100, 200, 100, 0])
    low, high = range_from_histogram(mass, edges, quantiles=(0.05, 0.95))
    # mass 400: 5% = 20 rows, inside [0, 10) at 20/100; 95% = 380, inside [20, 40) at 80/100
    assert low == pytest.approx(2.0)
    assert high == pytest.approx(36.0)
    # the open-ended outer buckets stand at their finite edge
    low, high = range_from_histogram(np.array([50, 0, 0, 0, 50]), edges, (0.05, 0.95))
    assert (low, high) == (0.0, 40.0)
    assert range_from_histogram(np.zeros(5), edges, (0.05, 0.95)) is None


def test_no_empty_bucket_is_kept_more_often_than_the_rate_allows():
    # All-zero histograms with OpenDP's discrete Gaussian: any kept mass is false.
    edges = default_bucket_edges(ColumnKind.CONTINUOUS)
    sigma, runs, rate = 5.0, 300, 0.05
    accountant = Accountant(PrivacyBudget.zcdp(1e6))
    false = sum(
        bool(kept_mass(gaussian_counts(np.zeros(edges.size + 1, dtype=int), sigma, accountant=accountant),
                       sigma, mode="zcdp", false_rate=rate).any())
        for _ in range(runs)
    )
    # Union bound: P(false) <= rate per run; refuse only what that bound makes implausible (p < 1e-4).
    assert false <= binom.isf(1e-4, runs, rate)


def test_a_small_table_gets_bounds_inside_its_data_not_the_grid():
    # 3,000 ages in 18..89 at the budget one column gets at epsilon 1 with nine discovered
    # columns: the failure of the exponential mechanism on a wide grid (bounds in the
    # millions) cannot happen, because every kept bucket holds data unless noise
    # alone crosses a threshold set at a chance of 1e-9 per run.
    rng = np.random.default_rng(0)
    edges = default_bucket_edges(ColumnKind.INTEGER)
    counts = bucket_counts(region_counts(rng.integers(18, 90, 3000).astype(float), edges))
    sigma = 54.9
    accountant = Accountant(PrivacyBudget.zcdp(1e6))
    for _ in range(20):
        noisy = gaussian_counts(counts, sigma, accountant=accountant)
        found = range_from_histogram(kept_mass(noisy, sigma, mode="zcdp", false_rate=1e-9), edges, (0.05, 0.95))
        assert found is not None
        low, high = found
        # a run of up to 8 buckets may spread its mass beyond the data: 12 to 150 at most here
        assert 12 <= low < high <= 150
