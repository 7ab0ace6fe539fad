"""Exact Mann-Whitney test of "members score like non-members", ties included.

Under the null hypothesis that member and non-member scores are exchangeable
(no leakage: both drawn from one distribution), every way of choosing which
``m`` of the ``m + n`` pooled scores belong to members is equally likely. The
test statistic is the rank sum of the members, ties given their mid-rank, which
orders audits exactly as the AUC does (``AUC = U / (m n)``). Its null
distribution is counted over all ``C(m + n, m)`` choices *given the pooled
scores*, so tied scores are handled exactly: this is the conditional
permutation test, valid at every sample size and for any tie pattern.

The count is a dynamic programme over the pooled scores, with states (members
chosen so far, twice their rank sum): twice a mid-rank is an integer, so the
states are exact. Its cost grows as ``(m + n)^2 min(m, n)^2``; callers use it
only for small audits.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from audits.errors import parameter_error


# 512 entries hold every tie pattern of small audits on a few score levels, e.g. the 231 ways 20
# scores fall on 3 levels, so repeated audits on coarse scores count each pattern once.
@lru_cache(maxsize=512)
def _null_counts(doubled_ranks: tuple[int, ...], m: int) -> np.ndarray:
    # counts[k, s]: subsets of k scores seen so far whose doubled ranks sum to s. Floats, because
    # C(m + n, m) overflows int64 beyond 67 scores; a relative error of 1e-16 does not matter here.
    top = sum(doubled_ranks[-m:])
    counts = np.zeros((m + 1, top + 1))
    counts[0, 0] = 1.0
    for w in doubled_ranks:
        # numpy treats overlapping operands as if copied first, so each score joins a subset once.
        counts[1:, w:] += counts[:-1, : top + 1 - w]
    return counts[m]


def mann_whitney_exact(
    member_scores: np.ndarray, non_member_scores: np.ndarray
) -> tuple[float, float]:
    """Exact one-sided p-values of the Mann-Whitney test, conditional on ties.

    Parameters
    ----------
    member_scores, non_member_scores : numpy.ndarray
        Scores of members and non-members (higher: more likely a member),
        at least one of each, none NaN (infinite scores rank as usual).

    Returns
    -------
    p_greater : float
        Probability under the null that the members' mid-rank sum is at least
        the one observed: small when members score higher (AUC above 0.5).
    p_less : float
        Probability under the null that it is at most the one observed: small
        when members score lower (AUC below 0.5).

    Notes
    -----
    Each p-value is a tail of the exact permutation distribution given the
    pooled scores, so ``P(p_greater <= alpha) <= alpha`` under the null for
    every ``alpha``, with or without ties. Without ties it equals
    ``scipy.stats.mannwhitneyu(..., method="exact")``; with ties scipy's exact
    method is not conditional on them, and this one is.
    """
    x = np.asarray(member_scores, dtype=float)
    y = np.asarray(non_member_scores, dtype=float)
    pooled = np.concatenate([x, y])
    if len(x) < 1 or len(y) < 1 or np.isnan(pooled).any():
        raise parameter_error(
            "member_scores, non_member_scores", (len(x), len(y)), "non-empty and free of NaN"
        )
    # Twice the mid-rank: (scores below) + (scores at or below) + 1, an exact integer.
    ordered = np.sort(pooled)
    doubled = (
        np.searchsorted(ordered, pooled, side="left")
        + np.searchsorted(ordered, pooled, side="right")
        + 1
    )
    # Count subsets of the smaller group (fewer states); a high rank sum of the non-members is a
    # low one of the members, so the two tails swap.
    swap = len(y) < len(x)
    chosen = doubled[len(x) :] if swap else doubled[: len(x)]
    # The null counts depend on the pooled ranks only, not on their order: sorted, they are one
    # cache entry per (m, n) when there are no ties.
    counts = _null_counts(tuple(np.sort(doubled).tolist()), len(chosen))
    observed = int(chosen.sum())
    total = counts.sum()
    high, low = float(counts[observed:].sum() / total), float(counts[: observed + 1].sum() / total)
    return (low, high) if swap else (high, low)
