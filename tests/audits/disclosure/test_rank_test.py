import itertools

import numpy as np
import pytest
from scipy.stats import mannwhitneyu, rankdata

from audits.disclosure.rank_test import mann_whitney_exact
from audits.errors import AuditParameterError


def _enumerated(x, y):
    # Every choice of which pooled scores are the members, equally likely under the null.
    ranks = rankdata(np.r_[x, y])
    observed = ranks[: len(x)].sum()
    sums = np.array([ranks[list(c)].sum() for c in itertools.combinations(range(len(ranks)), len(x))])
    return (sums >= observed - 1e-9).mean(), (sums <= observed + 1e-9).mean()


def test_perfect_separation_of_four_and_four_has_p_one_in_seventy():
    # Only one of the C(8, 4) = 70 equally likely splits puts all four members on top.
    assert mann_whitney_exact(np.arange(4.0) + 10, np.arange(4.0)) == pytest.approx((1 / 70, 1.0))
    assert mann_whitney_exact(np.arange(4.0), np.arange(4.0) + 10) == pytest.approx((1.0, 1 / 70))


@pytest.mark.parametrize(("m", "n"), [(3, 7), (8, 5), (6, 6)])
def test_without_ties_it_is_scipys_exact_mann_whitney(m, n):
    rng = np.random.default_rng(m * 10 + n)
    x, y = rng.normal(0.5, 1, m), rng.normal(0, 1, n)
    greater = mannwhitneyu(x, y, alternative="greater", method="exact").pvalue
    less = mannwhitneyu(x, y, alternative="less", method="exact").pvalue
    assert mann_whitney_exact(x, y) == pytest.approx((greater, less), rel=1e-12)


@pytest.mark.parametrize(
    ("x", "y"),
    [
        ([1, 2, 2, 3, 3], [0, 2, 3, 3, 1, 2]),
        ([1, 1, 1, 2], [0, 1, 1]),
        ([5, 5, 5], [5, 5, 4, 5]),
        ([2, 2, 2, 2], [1, 1, 1, 1]),
    ],
)
def test_with_ties_it_is_the_enumerated_conditional_permutation_test(x, y):
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    assert mann_whitney_exact(x, y) == pytest.approx(_enumerated(x, y), rel=1e-12)


def test_all_tied_scores_are_no_evidence_either_way():
    assert mann_whitney_exact(np.ones(4), np.ones(6)) == (1.0, 1.0)


def test_nan_scores_are_refused():
    with pytest.raises(AuditParameterError, match="free of NaN"):
        mann_whitney_exact(np.array([1.0, np.nan]), np.array([0.0]))
