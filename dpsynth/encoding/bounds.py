"""DP bounds of a numeric or datetime column from one noisy histogram over public buckets.

The exponential mechanism over a wide public grid of candidates (a DP
quantile) fails on small tables: every candidate below the smallest value has
the same score, and with hundreds of them one wins by noise alone, so the
released lower bound of ages 18 to 89 can be minus ten million. A histogram
over public, log-spaced buckets does not have that failure mode:

1. count the rows in each bucket ``[e_i, e_{i+1})`` of a public grid of edges
   (:func:`default_bucket_edges`: 0 and ``+-m * 10**k`` for twelve mantissas
   per decade; the first day of each year for datetimes), one count vector
   with sensitivity 1;
2. add Gaussian (zCDP) or Laplace (pure DP) noise once, through OpenDP;
3. estimate where the mass lies (:func:`kept_mass`): a bucket whose noisy
   count crosses a threshold keeps it; so does a run of 2, 4 or 8 adjacent
   buckets whose noisy sum crosses the (higher) threshold of its width, its
   mass spread over those of its buckets not kept at a finer width. The
   thresholds are set so that, over every width and every run of empty
   buckets, a spurious one is kept with probability at most
   :data:`FALSE_BUCKET_RATE` (:func:`bucket_threshold`). Wider runs find the
   thin tails of a small table that single buckets miss;
4. read the bounds as quantiles of the kept mass, interpolated linearly inside
   their bucket (:func:`range_from_histogram`).

Steps 3 and 4 are post-processing of the released histogram: they cost
nothing. When nothing crosses a threshold the table is too small for the
budget to say anything about the column's range, and no bounds are returned.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from dpsynth.schema import ColumnKind

#: mantissas of the bucket edges within each decade
MANTISSAS = (1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0)
#: public range of the default numeric buckets
BUCKET_RANGE = (-1e9, 1e9)
#: smallest magnitude of a non-zero default edge
SMALLEST_EDGE = 1e-3
#: public range of the default datetime buckets (first day of each year)
DATETIME_BUCKET_RANGE = ("1900-01-01", "2101-01-01")
#: chance that noise alone keeps at least one empty bucket of the grid
FALSE_BUCKET_RATE = 1e-4
#: widths (in buckets) of the aligned runs of adjacent buckets :func:`kept_mass` tests (zCDP)
RUN_WIDTHS = (1, 2, 4, 8)


def default_bucket_edges(kind: ColumnKind) -> np.ndarray:
    """Public bucket edges of a numeric or datetime column (datetimes in UTC seconds).

    Numeric: 0 and ``+-m * 10**k`` for every mantissa ``m`` of
    :data:`MANTISSAS` and every decade from :data:`SMALLEST_EDGE` to the end
    of :data:`BUCKET_RANGE` (rounded to whole numbers for integer columns).
    Datetime: the first day of every year of :data:`DATETIME_BUCKET_RANGE`.
    """
    if kind is ColumnKind.DATETIME:
        years = pd.date_range(*DATETIME_BUCKET_RANGE, freq="YS")
        return years.as_unit("s").asi8.astype(float)
    top = BUCKET_RANGE[1]
    exponents = np.arange(round(math.log10(SMALLEST_EDGE)), round(math.log10(top)) + 1)
    positive = np.unique((np.asarray(MANTISSAS)[None, :] * 10.0 ** exponents[:, None]).ravel())
    positive = positive[positive <= top]
    edges = np.concatenate([-positive[::-1], [0.0], positive])
    if kind is ColumnKind.INTEGER:
        edges = np.unique(np.round(edges))
    return edges


def bucket_counts(region_counts: np.ndarray) -> np.ndarray:
    """Counts of the buckets ``(-inf, e_0), [e_0, e_1), ..., [e_{k-1}, inf)`` from region counts.

    Parameters
    ----------
    region_counts : array of 2k + 1 ints
        Rows in ``x < e_0, x = e_0, e_0 < x < e_1, x = e_1, ..., x = e_{k-1},
        x > e_{k-1}`` (what a column profiler's ``interval_counts`` returns).

    Returns
    -------
    numpy.ndarray of k + 1 ints
        Each row in exactly one bucket, so the vector has L1 and L2
        sensitivity 1 under add/remove.
    """
    regions = np.asarray(region_counts, dtype=np.int64)
    if regions.ndim != 1 or regions.size % 2 != 1:
        raise ValueError(f"expected 2k + 1 region counts, got {regions.size}")
    # bucket 0 is region 0; bucket i >= 1 is "x = e_{i-1}" plus the open interval after it
    return np.concatenate([regions[:1], regions[1::2] + regions[2::2]])


def bucket_threshold(
    scale: float, n_runs: int, *, mode: str, false_rate: float = FALSE_BUCKET_RATE, width: int = 1
) -> float:
    """The noisy count (or sum of ``width`` noisy counts) a run of buckets must reach to be kept.

    With ``n_runs`` runs of empty buckets, each run's noise exceeds the
    returned threshold with probability at most ``false_rate / n_runs``, so by
    the union bound some empty run is kept with probability at most
    ``false_rate``.

    Parameters
    ----------
    scale : float
        Gaussian sigma (``mode="zcdp"``) or Laplace scale (``mode="pure"``).
    n_runs : int
        Runs tested at this width.
    mode : {"zcdp", "pure"}
        The noise.
    false_rate : float
        Chance of keeping at least one empty run.
    width : int
        Buckets summed per run (zCDP only; pure DP tests single buckets).

    Notes
    -----
    OpenDP's discrete Gaussian of scale sigma is sigma-sub-Gaussian (Canonne,
    Kamath & Steinke 2020), so a sum of ``width`` of them exceeds ``t`` with
    probability at most ``exp(-t**2 / (2 width sigma**2))``. A discrete
    Laplace of scale b exceeds ``t`` with probability at most ``exp(-t / b) / 2``
    (the continuous bound, which the discrete distribution's tail does not exceed
    at integer thresholds).
    """
    per_run = false_rate / n_runs
    if mode == "zcdp":
        return float(scale * math.sqrt(2.0 * width * math.log(1.0 / per_run)))
    if width != 1:
        raise ValueError("pure DP tests single buckets only")
    return float(scale * math.log(0.5 / per_run))


def kept_mass(noisy: np.ndarray, scale: float, *, mode: str, false_rate: float = FALSE_BUCKET_RATE) -> np.ndarray:
    """Where a noisy histogram's mass lies, bucket by bucket (post-processing).

    Runs of :data:`RUN_WIDTHS` adjacent buckets (aligned: buckets ``[w j, w (j
    + 1))``) are tested from the narrowest: a run whose noisy sum reaches its
    threshold (:func:`bucket_threshold`, ``false_rate`` shared evenly among
    the widths) keeps what it holds beyond its buckets already kept at a
    finer width, spread evenly over its other buckets. Pure DP tests single
    buckets only.

    Parameters
    ----------
    noisy : array of numbers
        The noisy bucket counts.
    scale : float
        Gaussian sigma or Laplace scale of their noise.
    mode : {"zcdp", "pure"}
        The noise.
    false_rate : float
        Chance that some run of empty buckets is kept.

    Returns
    -------
    numpy.ndarray of float
        Non-negative mass per bucket; all zero if nothing was kept.
    """
    counts = np.asarray(noisy, dtype=float)
    widths = RUN_WIDTHS if mode == "zcdp" else (1,)
    mass = np.zeros_like(counts)
    kept = np.zeros(counts.size, dtype=bool)
    for width in widths:
        n_runs = -(-counts.size // width)
        threshold = bucket_threshold(scale, n_runs, mode=mode, false_rate=false_rate / len(widths), width=width)
        for start in range(0, counts.size, width):
            run = slice(start, start + width)
            if counts[run].sum() < threshold or kept[run].all():
                continue
            rest = max(counts[run].sum() - mass[run][kept[run]].sum(), 0.0)
            fresh = ~kept[run]
            mass[run][fresh] = rest / fresh.sum()
            kept[run] = True
    return mass


def range_from_histogram(
    mass: np.ndarray,
    edges: np.ndarray,
    quantiles: tuple[float, float],
) -> tuple[float, float] | None:
    """Lower and upper bound read from the kept mass of a noisy histogram (post-processing).

    Parameters
    ----------
    mass : array of k + 1 non-negative numbers
        The mass of each bucket of :func:`bucket_counts`, as :func:`kept_mass` estimates it.
    edges : array of k increasing numbers
        The public edges.
    quantiles : (float, float)
        Quantiles of the mass released as the bounds.

    Returns
    -------
    (float, float) or None
        ``lower <= upper``, both within ``[edges[0], edges[-1]]``. Inside a
        bucket the mass is taken as uniform; the open-ended outer buckets
        stand at their finite edge. None when there is no mass.
    """
    kept = np.asarray(mass, dtype=float)
    edges = np.asarray(edges, dtype=float)
    # bucket i spans [lows[i], highs[i]]; the outer buckets collapse onto the grid's ends
    lows = np.concatenate([[edges[0]], edges])
    highs = np.concatenate([edges, [edges[-1]]])
    if not kept.any():
        return None
    cumulative = np.cumsum(kept) / kept.sum()
    return _at(quantiles[0], cumulative, kept, lows, highs), _at(quantiles[1], cumulative, kept, lows, highs)


def _at(q: float, cumulative: np.ndarray, kept: np.ndarray, lows: np.ndarray, highs: np.ndarray) -> float:
    """The q-quantile of the kept mass, linear inside its bucket."""
    i = int(np.searchsorted(cumulative, q, side="left"))
    i = min(i, cumulative.size - 1)
    before = cumulative[i - 1] if i else 0.0
    share = cumulative[i] - before
    fraction = 0.0 if share <= 0 else (q - before) / share
    return float(lows[i] + min(max(fraction, 0.0), 1.0) * (highs[i] - lows[i]))


__all__ = [
    "BUCKET_RANGE",
    "DATETIME_BUCKET_RANGE",
    "FALSE_BUCKET_RATE",
    "MANTISSAS",
    "bucket_counts",
    "RUN_WIDTHS",
    "bucket_threshold",
    "default_bucket_edges",
    "kept_mass",
    "range_from_histogram",
]
