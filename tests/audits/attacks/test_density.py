"""The density ratio is high where the synthetic table is denser than the reference."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from audits import AuditParameterError
from audits.attacks import DensityRatio


def test_overrepresented_record_scores_higher():
    reference = pd.DataFrame({"c": ["a", "b", "c", "d"] * 5})
    synthetic = pd.DataFrame({"c": ["a"] * 15 + ["b", "c", "d", "d", "c"]})
    scores = DensityRatio().score(pd.DataFrame({"c": ["a", "b"]}), synthetic, reference)
    assert scores[0] > 0 > scores[1]


def test_single_numeric_column_matches_a_gaussian_kernel_estimate():
    synthetic = pd.DataFrame({"v": [0.0, 1.0, 2.0, 4.0]})
    target = pd.DataFrame({"v": [1.0]})
    features = DensityRatio(bandwidth=0.3).features(target, synthetic, None)
    # Encoded values are v / 4 plus a missing-value indicator (0 everywhere), so the
    # kernel estimate is a mean of normal densities times the indicator's density at 0.
    points = np.array([0.0, 1.0, 2.0, 4.0]) / 4
    expected = np.log(stats.norm.pdf(0.25, loc=points, scale=0.3).mean()) + stats.norm.logpdf(0.0, scale=0.3)
    assert features["log_syn"] == pytest.approx(expected)


def test_bandwidth_must_be_positive():
    with pytest.raises(AuditParameterError, match=r"bandwidth \(0\) must be positive"):
        DensityRatio(bandwidth=0)
