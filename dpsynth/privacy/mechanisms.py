"""Noise mechanisms: thin wrappers over OpenDP, each charged before it draws.

Every mechanism comes in two parts:

* a ``*_charge`` function that prices the step from its parameters alone (no
  data), with the cost taken from OpenDP's own privacy map, so a plan can be
  priced before any data is read;
* the mechanism itself, which takes an :class:`~dpsynth.privacy.accountant.Accountant`,
  charges it (a refused charge raises and draws no noise) and only then calls
  the OpenDP sampler.

Neighbouring relation
---------------------
The privacy unit is one row. By default two tables are neighbours when one is
the other with one row added or removed (:attr:`Neighbouring.ADD_REMOVE`).
With :attr:`Neighbouring.REPLACE` one row is changed instead; that moves a
row from one cell of a count vector to another, so the L1 sensitivity of a
count vector doubles (1 -> 2) and its L2 sensitivity grows by sqrt(2).

Randomness
----------
All noise comes from OpenDP's exact samplers (discrete Gaussian, discrete
Laplace, Gumbel and exponential noise for selection), which draw from the
operating system's cryptographic generator and CANNOT be seeded: a
``random_state`` elsewhere in dpsynth governs only non-private randomness
(sampling synthetic rows), never this noise.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from enum import Enum
from fractions import Fraction
from functools import lru_cache
from typing import Any

import numpy as np

from dpsynth.errors import PrivacyError, parameter_error
from dpsynth.privacy._opendp import dp
from dpsynth.privacy.accountant import Accountant, Charge, rho_of_pure_epsilon


class Neighbouring(str, Enum):
    """Which pairs of tables differential privacy protects against telling apart."""

    ADD_REMOVE = "add/remove one row"
    REPLACE = "replace one row"


#: squared L2 and L1 sensitivity of one count vector (a marginal) per relation
_L2_SQUARED = {Neighbouring.ADD_REMOVE: 1, Neighbouring.REPLACE: 2}
_L1 = {Neighbouring.ADD_REMOVE: 1, Neighbouring.REPLACE: 2}


def _relation(relation: Neighbouring | str) -> Neighbouring:
    try:
        return Neighbouring(relation)
    except ValueError:
        choices = [r.value for r in Neighbouring]
        raise parameter_error("relation", relation, f"one of {choices}") from None


def _positive(name: str, value: float) -> float:
    value = float(value)
    if not (math.isfinite(value) and value > 0):
        raise parameter_error(name, value, "a finite number > 0")
    return value


def _count_vector(counts: Any) -> list[int]:
    array = np.asarray(counts)
    if array.ndim != 1:
        raise parameter_error("counts", f"array of shape {array.shape}", "a 1-D vector of counts")
    if array.size and not np.issubdtype(array.dtype, np.integer):
        if not np.issubdtype(array.dtype, np.floating) or not np.all(array == np.round(array)):
            raise parameter_error("counts", f"array of dtype {array.dtype}", "whole numbers")
    return array.astype(np.int64).tolist()


# ---------------------------------------------------------------------------------------
# Gaussian noise on a count vector (zCDP)
# ---------------------------------------------------------------------------------------
@lru_cache(maxsize=256)
def _gaussian_vector(sigma: float) -> Any:
    space = dp.vector_domain(dp.atom_domain(T=int)), dp.l2_distance(T=int)
    return dp.m.make_gaussian(*space, scale=sigma)


def gaussian_sigma(rho: float, *, relation: Neighbouring | str = Neighbouring.ADD_REMOVE) -> float:
    """The sigma of Gaussian noise on one count vector that costs ``rho``.

    rho = Delta_2**2 / (2 sigma**2) with Delta_2**2 = 1 (add/remove) or 2 (replace).
    """
    rho = _positive("rho", rho)
    return math.sqrt(_L2_SQUARED[_relation(relation)] / (2.0 * rho))


def gaussian_charge(
    sigma: float,
    *,
    relation: Neighbouring | str = Neighbouring.ADD_REMOVE,
    step: str = "measure",
    **params: Any,
) -> Charge:
    """The cost of :func:`gaussian_counts` with noise ``sigma`` on one count vector.

    A row adds 1 to exactly one cell of a marginal: L2 sensitivity 1 under
    add/remove, sqrt(2) under replace (one cell -1, another +1). OpenDP's map
    gives rho at L2 distance 1; zCDP of a Gaussian scales with the squared
    sensitivity, so replace costs exactly twice that.
    """
    sigma = _positive("sigma", sigma)
    rel = _relation(relation)
    rho = float(_gaussian_vector(sigma).map(1)) * _L2_SQUARED[rel]
    return Charge(step, rho=rho, params={**params, "sigma": sigma, "relation": rel.value})


def gaussian_counts(
    counts: Sequence[int] | np.ndarray,
    sigma: float,
    *,
    accountant: Accountant,
    relation: Neighbouring | str = Neighbouring.ADD_REMOVE,
    step: str = "measure",
    **params: Any,
) -> np.ndarray:
    """Add discrete Gaussian noise of scale ``sigma`` to a vector of counts (zCDP).

    Parameters
    ----------
    counts : 1-D array of whole numbers
        Exact counts of ONE marginal (each row counted in one cell).
    sigma : float
        Standard deviation of the noise (up to discretisation).
    accountant : Accountant
        Charged with :func:`gaussian_charge` before any noise is drawn.
    relation : Neighbouring
        Neighbouring relation; sets the sensitivity (see :func:`gaussian_charge`).
    step : str
        Name of the step in the itemised spend.
    **params
        Recorded with the charge (e.g. ``clique=("age", "sex")``).

    Returns
    -------
    numpy.ndarray of int64
        The noisy counts (may be negative).
    """
    values = _count_vector(counts)
    charge = gaussian_charge(sigma, relation=relation, step=step, cells=len(values), **params)
    accountant.charge(charge)
    return np.asarray(_gaussian_vector(float(sigma))(values), dtype=np.int64)


# ---------------------------------------------------------------------------------------
# Laplace noise on a count vector (pure DP)
# ---------------------------------------------------------------------------------------
@lru_cache(maxsize=256)
def _laplace_vector(scale: float) -> Any:
    space = dp.vector_domain(dp.atom_domain(T=int)), dp.l1_distance(T=int)
    return dp.m.make_laplace(*space, scale=scale)


def laplace_scale(
    epsilon: float, *, relation: Neighbouring | str = Neighbouring.ADD_REMOVE
) -> float:
    """The Laplace scale on one count vector that costs ``epsilon``: Delta_1 / epsilon."""
    epsilon = _positive("epsilon", epsilon)
    return _L1[_relation(relation)] / epsilon


def laplace_charge(
    scale: float,
    *,
    relation: Neighbouring | str = Neighbouring.ADD_REMOVE,
    step: str = "measure",
    **params: Any,
) -> Charge:
    """The cost of :func:`laplace_counts`: epsilon = Delta_1 / scale (OpenDP's map).

    L1 sensitivity of one marginal: 1 under add/remove, 2 under replace.
    The step is pure DP; its rho is epsilon**2 / 2.
    """
    scale = _positive("scale", scale)
    rel = _relation(relation)
    epsilon = float(_laplace_vector(scale).map(_L1[rel]))
    return Charge(
        step,
        rho=rho_of_pure_epsilon(epsilon),
        epsilon=epsilon,
        params={**params, "laplace_scale": scale, "relation": rel.value},
    )


def laplace_counts(
    counts: Sequence[int] | np.ndarray,
    scale: float,
    *,
    accountant: Accountant,
    relation: Neighbouring | str = Neighbouring.ADD_REMOVE,
    step: str = "measure",
    **params: Any,
) -> np.ndarray:
    """Add discrete Laplace noise of scale ``scale`` to a vector of counts (pure DP).

    Same parameters as :func:`gaussian_counts`; the variance of the noise is
    about 2 * scale**2 (exactly that of the discrete Laplace of that scale).
    """
    values = _count_vector(counts)
    charge = laplace_charge(scale, relation=relation, step=step, cells=len(values), **params)
    accountant.charge(charge)
    return np.asarray(_laplace_vector(float(scale))(values), dtype=np.int64)


# ---------------------------------------------------------------------------------------
# selection: exponential mechanism / report noisy max
# ---------------------------------------------------------------------------------------
@lru_cache(maxsize=256)
def _noisy_max(scale: float, monotonic: bool, zcdp: bool) -> Any:
    space = (
        dp.vector_domain(dp.atom_domain(T=float, nan=False)),
        dp.linf_distance(T=float, monotonic=monotonic),
    )
    measure = dp.zero_concentrated_divergence() if zcdp else dp.max_divergence()
    return dp.m.make_noisy_max(*space, measure, scale=scale)


def exponential_epsilon(rho: float) -> float:
    """The epsilon of a zCDP-mode selection that costs ``rho``: sqrt(8 rho) (see below)."""
    rho = _positive("rho", rho)
    return math.sqrt(8.0 * rho)


def exponential_charge(
    epsilon: float,
    *,
    sensitivity: float,
    mode: str = "zcdp",
    monotonic: bool = False,
    step: str = "select",
    **params: Any,
) -> Charge:
    """The cost of :func:`exponential_select` at ``epsilon`` with score ``sensitivity``.

    The exponential mechanism at epsilon (scores of sensitivity Delta, noise
    scale 2 Delta / epsilon, or Delta / epsilon for monotonic scores) is
    epsilon-DP. In ``"zcdp"`` mode it runs as report-noisy-max with Gumbel
    noise, which is the exponential mechanism exactly, and costs
    rho = epsilon**2 / 8: it satisfies epsilon-bounded range, and bounded
    range implies epsilon**2 / 8-zCDP (Cesar & Rogers 2021), four times
    cheaper than the generic epsilon**2 / 2 of a pure-DP step. In ``"pure"``
    mode it runs with exponential noise (permute-and-flip, at least as
    accurate) and costs epsilon, with rho = epsilon**2 / 2 for information.
    Both costs are read from OpenDP's privacy map.
    """
    epsilon = _positive("epsilon", epsilon)
    sensitivity = _positive("sensitivity", sensitivity)
    if mode not in ("zcdp", "pure"):
        raise parameter_error("mode", mode, "'zcdp' or 'pure'")
    scale = (1.0 if monotonic else 2.0) * sensitivity / epsilon
    cost = float(_noisy_max(scale, bool(monotonic), mode == "zcdp").map(sensitivity))
    rho, pure = (cost, epsilon) if mode == "zcdp" else (rho_of_pure_epsilon(cost), cost)
    return Charge(
        step,
        rho=rho,
        epsilon=pure,
        params={
            **params,
            "select_epsilon": epsilon,
            "sensitivity": sensitivity,
            "noise_scale": scale,
        },
    )


def exponential_select(
    scores: Sequence[float] | np.ndarray,
    epsilon: float,
    *,
    sensitivity: float,
    accountant: Accountant,
    monotonic: bool = False,
    step: str = "select",
    **params: Any,
) -> int:
    """Choose the index of one of k candidates, favouring high scores (epsilon-DP).

    In zCDP mode the choice is ``i`` with probability proportional to
    ``exp(epsilon * score_i / (2 * sensitivity))`` (``/ sensitivity`` when
    ``monotonic``). See :func:`exponential_charge` for the cost.

    Parameters
    ----------
    scores : 1-D array of float
        One finite score per candidate; higher is better.
    epsilon : float
        Pure-DP parameter of the selection.
    sensitivity : float
        Largest change of any score when one row changes, under the
        neighbouring relation the caller protects.
    accountant : Accountant
        Charged first; its mode picks Gumbel (zCDP) or exponential (pure) noise.
    monotonic : bool
        True if one row moves every score in the same direction.

    Returns
    -------
    int
        Index of the chosen candidate.
    """
    values = np.asarray(scores, dtype=float)
    if values.ndim != 1 or values.size == 0 or not np.all(np.isfinite(values)):
        raise parameter_error("scores", scores, "a non-empty 1-D vector of finite numbers")
    charge = exponential_charge(
        epsilon,
        sensitivity=sensitivity,
        mode=accountant.mode,
        monotonic=monotonic,
        step=step,
        candidates=int(values.size),
        **params,
    )
    accountant.charge(charge)
    meas = _noisy_max(charge.params["noise_scale"], bool(monotonic), accountant.mode == "zcdp")
    return int(meas(values.tolist()))


# ---------------------------------------------------------------------------------------
# a count vector in either mode: Gaussian noise in zCDP, Laplace noise in pure DP
# ---------------------------------------------------------------------------------------
def vector_noise(cost: float, *, mode: str, relation: Neighbouring | str = Neighbouring.ADD_REMOVE) -> float:
    """The noise of one count vector that costs ``cost``: sigma for rho (``"zcdp"``), Laplace scale for epsilon (``"pure"``)."""
    if mode == "zcdp":
        return gaussian_sigma(cost, relation=relation)
    if mode == "pure":
        return laplace_scale(cost, relation=relation)
    raise parameter_error("mode", mode, "'zcdp' or 'pure'")


def vector_charge(
    noise_scale: float,
    *,
    mode: str,
    relation: Neighbouring | str = Neighbouring.ADD_REMOVE,
    step: str = "measure",
    **params: Any,
) -> Charge:
    """:func:`gaussian_charge` (``"zcdp"``) or :func:`laplace_charge` (``"pure"``) of noise ``noise_scale``."""
    if mode == "zcdp":
        return gaussian_charge(noise_scale, relation=relation, step=step, **params)
    if mode == "pure":
        return laplace_charge(noise_scale, relation=relation, step=step, **params)
    raise parameter_error("mode", mode, "'zcdp' or 'pure'")


# ---------------------------------------------------------------------------------------
# noisy total count
# ---------------------------------------------------------------------------------------
def count_charge(
    noise_scale: float,
    *,
    mode: str = "zcdp",
    relation: Neighbouring | str = Neighbouring.ADD_REMOVE,
    step: str = "count",
    **params: Any,
) -> Charge:
    """The cost of :func:`noisy_count`: a count vector of one cell.

    Under replace-one the row count is the same in both neighbours: it is
    public by that definition, needs no noise, and is refused here so that
    nobody spends budget on it by mistake.
    """
    rel = _relation(relation)
    if rel is Neighbouring.REPLACE:
        raise PrivacyError(
            "relation ('replace one row') keeps the row count unchanged, so the count is public "
            "under it: use the exact count, or protect add/remove one row"
        )
    return vector_charge(noise_scale, mode=mode, relation=rel, step=step, **params)


def noisy_count(
    n: int,
    noise_scale: float,
    *,
    accountant: Accountant,
    relation: Neighbouring | str = Neighbouring.ADD_REMOVE,
    step: str = "count",
    **params: Any,
) -> int:
    """The number of rows plus discrete Gaussian (zCDP) or Laplace (pure) noise.

    Returns the raw noisy integer (it may be negative for tiny tables); clip
    it afterwards if needed, which is post-processing and costs nothing.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise parameter_error("n", n, "a whole number >= 0")
    charge = count_charge(noise_scale, mode=accountant.mode, relation=relation, step=step, **params)
    accountant.charge(charge)
    if accountant.mode == "zcdp":
        return int(_gaussian_vector(float(noise_scale))([int(n)])[0])
    return int(_laplace_vector(float(noise_scale))([int(n)])[0])


# ---------------------------------------------------------------------------------------
# discovery helpers: thresholded histogram and quantiles
# ---------------------------------------------------------------------------------------
_HIST_DISTANCE = {Neighbouring.ADD_REMOVE: (1, 1, 1), Neighbouring.REPLACE: (2, 2, 1)}


@lru_cache(maxsize=256)
def _gaussian_threshold(sigma: float, threshold: int) -> Any:
    space = (
        dp.map_domain(dp.atom_domain(T=str), dp.atom_domain(T=int)),
        dp.l02inf_distance(dp.absolute_distance(T=int)),
    )
    return dp.m.make_gaussian_threshold(*space, scale=sigma, threshold=threshold)


def threshold_charge(
    sigma: float,
    threshold: int,
    *,
    relation: Neighbouring | str = Neighbouring.ADD_REMOVE,
    step: str = "discover",
    **params: Any,
) -> Charge:
    """The (rho, delta) cost of :func:`thresholded_histogram` (OpenDP's map).

    One row adds 1 to one key's count: (L0, L1, Linf) = (1, 1, 1) under
    add/remove, (2, 2, 1) under replace. delta is the chance that a key held
    by few rows crosses the threshold; it shrinks fast as the threshold grows.
    """
    sigma = _positive("sigma", sigma)
    if isinstance(threshold, bool) or not isinstance(threshold, (int, np.integer)) or threshold < 1:
        raise parameter_error("threshold", threshold, "a whole number >= 1")
    rel = _relation(relation)
    rho, delta = _gaussian_threshold(sigma, int(threshold)).map(_HIST_DISTANCE[rel])
    return Charge(
        step,
        rho=float(rho),
        delta=float(delta),
        params={**params, "sigma": sigma, "threshold": int(threshold), "relation": rel.value},
    )


def threshold_for_delta(
    sigma: float, delta: float, *, relation: Neighbouring | str = Neighbouring.ADD_REMOVE
) -> int:
    """The smallest threshold at which the thresholded histogram costs at most ``delta``."""
    if not 0 < float(delta) < 1:
        raise parameter_error("delta", delta, "strictly between 0 and 1")
    low, high = 1, 2
    while threshold_charge(sigma, high, relation=relation).delta > delta:
        low, high = high, high * 2
    while low < high:
        mid = (low + high) // 2
        if threshold_charge(sigma, mid, relation=relation).delta > delta:
            low = mid + 1
        else:
            high = mid
    return high


def thresholded_histogram(
    counts: Mapping[str, int],
    sigma: float,
    threshold: int,
    *,
    accountant: Accountant,
    relation: Neighbouring | str = Neighbouring.ADD_REMOVE,
    step: str = "discover",
    **params: Any,
) -> dict[str, int]:
    """Release the keys (with noisy counts) whose noisy count reaches ``threshold``.

    Parameters
    ----------
    counts : mapping of str to int
        Exact count of rows per key; every row counted under one key.
    sigma, threshold
        Gaussian noise scale and release threshold (see :func:`threshold_for_delta`).
    accountant : Accountant
        Charged with :func:`threshold_charge` first; must be in zCDP mode.

    Returns
    -------
    dict of str to int
        The released keys and their noisy counts.
    """
    if accountant.mode != "zcdp":
        raise PrivacyError(
            "discovering unknown values needs an approximate (delta > 0) step, which a pure-DP "
            "budget does not allow: declare the values in the schema or use a zCDP budget"
        )
    clean = {str(k): int(v) for k, v in counts.items()}
    charge = threshold_charge(sigma, threshold, relation=relation, step=step, **params)
    accountant.charge(charge)
    return dict(_gaussian_threshold(float(sigma), int(threshold))(clean))


@lru_cache(maxsize=256)
def _quantile(candidates: tuple[float, ...], alpha: float, scale: float, zcdp: bool) -> Any:
    space = dp.vector_domain(dp.atom_domain(T=float, nan=False)), dp.symmetric_distance()
    measure = dp.zero_concentrated_divergence() if zcdp else dp.max_divergence()
    return dp.m.make_private_quantile(
        *space, measure, candidates=list(candidates), alpha=alpha, scale=scale
    )


_QUANTILE_DISTANCE = {Neighbouring.ADD_REMOVE: 1, Neighbouring.REPLACE: 2}


def _quantile_setup(
    candidates: Sequence[float], alpha: float, cost: float, mode: str, relation: Neighbouring
) -> tuple[tuple[float, ...], float]:
    cands = tuple(float(c) for c in candidates)
    if len(cands) < 2 or not all(math.isfinite(c) for c in cands):
        raise parameter_error("candidates", candidates, "at least 2 finite numbers")
    if any(b <= a for a, b in zip(cands, cands[1:], strict=False)):
        raise parameter_error("candidates", "the candidate grid", "strictly increasing")
    if not 0 <= float(alpha) <= 1:
        raise parameter_error("alpha", alpha, "in [0, 1]")
    cost = _positive("rho" if mode == "zcdp" else "epsilon", cost)
    d_in = _QUANTILE_DISTANCE[relation]
    # the map scales as 1/scale (pure) or 1/scale**2 (zCDP): solve at scale 1
    unit = float(_quantile(cands, float(alpha), 1.0, mode == "zcdp").map(d_in))
    scale = unit / cost if mode == "pure" else math.sqrt(unit / cost)
    return cands, scale


def quantile_charge(
    candidates: Sequence[float],
    alpha: float,
    cost: float,
    *,
    mode: str = "zcdp",
    relation: Neighbouring | str = Neighbouring.ADD_REMOVE,
    step: str = "discover",
    **params: Any,
) -> Charge:
    """The cost of one :func:`private_quantile`: ``cost`` is rho (zCDP) or epsilon (pure).

    The candidate grid must be public (not read from the data). The charge is
    OpenDP's map at the scale that spends ``cost``.
    """
    rel = _relation(relation)
    if mode not in ("zcdp", "pure"):
        raise parameter_error("mode", mode, "'zcdp' or 'pure'")
    cands, scale = _quantile_setup(candidates, alpha, cost, mode, rel)
    spent = float(
        _quantile(cands, float(alpha), scale, mode == "zcdp").map(_QUANTILE_DISTANCE[rel])
    )
    rho, epsilon = (spent, None) if mode == "zcdp" else (rho_of_pure_epsilon(spent), spent)
    return Charge(
        step,
        rho=rho,
        epsilon=epsilon,
        params={
            **params,
            "alpha": float(alpha),
            "candidates": len(cands),
            "noise_scale": scale,
            "relation": rel.value,
        },
    )


def private_quantile(
    values: Sequence[float] | np.ndarray,
    candidates: Sequence[float],
    alpha: float,
    cost: float,
    *,
    accountant: Accountant,
    relation: Neighbouring | str = Neighbouring.ADD_REMOVE,
    step: str = "discover",
    **params: Any,
) -> float:
    """The alpha-quantile of ``values``, chosen among public ``candidates`` (DP).

    An exponential mechanism over the candidates (OpenDP's
    ``make_private_quantile``) scores each by how far its rank is from
    ``alpha * n``. ``cost`` is rho in zCDP mode, epsilon in pure mode.

    Returns
    -------
    float
        One of the candidates.
    """
    data = np.asarray(values, dtype=float)
    if data.ndim != 1 or not np.all(np.isfinite(data)):
        raise parameter_error("values", "the values", "a 1-D vector of finite numbers")
    rel = _relation(relation)
    charge = quantile_charge(
        candidates, alpha, cost, mode=accountant.mode, relation=rel, step=step, **params
    )
    accountant.charge(charge)
    cands = tuple(float(c) for c in candidates)
    meas = _quantile(cands, float(alpha), charge.params["noise_scale"], accountant.mode == "zcdp")
    return float(meas(data.tolist()))


# OpenDP scores a quantile in whole numbers: alpha becomes num / den, exactly when its
# denominator is below this, else truncated to a multiple of 1 / this (unknown row count)
_ALPHA_GRANULARITY = 10_000
_U64_MAX = 2**64 - 1


def _alpha_fraction(alpha: float) -> tuple[int, int]:
    """OpenDP's ``(alpha_num, alpha_den)`` for a table of unknown size."""
    exact = Fraction(float(alpha))
    if exact.denominator < _ALPHA_GRANULARITY:
        return exact.numerator, exact.denominator
    return int(float(alpha) * float(_ALPHA_GRANULARITY)), _ALPHA_GRANULARITY


def _region_vector(region_counts: Any, k: int) -> np.ndarray:
    counts = np.asarray(region_counts)
    if counts.shape != (2 * k + 1,):
        raise parameter_error(
            "region_counts", f"array of shape {counts.shape}", f"a 1-D vector of 2 * {k} + 1 counts"
        )
    if counts.size and not np.issubdtype(counts.dtype, np.integer):
        raise parameter_error("region_counts", f"array of dtype {counts.dtype}", "whole numbers")
    if (counts < 0).any():
        raise parameter_error("region_counts", "a negative count", "counts >= 0")
    return counts.astype(np.int64)


def quantile_scores(region_counts: Sequence[int] | np.ndarray, alpha: float) -> list[int]:
    """The scores OpenDP's quantile gives ``k`` candidates, from the counts of their regions.

    ``region_counts`` holds the number of values in each of the ``2k + 1``
    regions of the increasing candidates ``c_0 < ... < c_{k-1}``:
    ``x < c_0, x = c_0, c_0 < x < c_1, ..., x = c_{k-1}, x > c_{k-1}``.
    Candidate ``i`` scores

        | (den - num) * min(#(x < c_i), L) - num * min(#(x > c_i), L) |

    (lower is better), with ``alpha ~ num / den`` and ``L = (2**64 - 1) // den``
    as ``make_quantile_score_candidates`` of OpenDP 0.16 computes them on the
    raw values of a table of unknown size; the two agree exactly.

    Parameters
    ----------
    region_counts : 1-D array of whole numbers
        Length ``2k + 1``, ``k >= 1``.
    alpha : float
        The quantile, in [0, 1].

    Returns
    -------
    list of int
        One score per candidate (whole numbers below 2**64).
    """
    counts = np.asarray(region_counts)
    if counts.ndim != 1 or counts.size < 3 or counts.size % 2 == 0:
        raise parameter_error("region_counts", f"array of shape {counts.shape}", "2k + 1 counts, k >= 1")
    counts = _region_vector(counts, counts.size // 2)
    if not 0 <= float(alpha) <= 1:
        raise parameter_error("alpha", alpha, "in [0, 1]")
    num, den = _alpha_fraction(alpha)
    limit = _U64_MAX // den
    below = np.concatenate([[0], np.cumsum(counts)]).tolist()  # below[j]: rows in regions < j
    total = below[-1]
    scores = []
    for i in range(counts.size // 2):
        lt, gt = below[2 * i + 1], total - below[2 * i + 2]
        scores.append(abs((den - num) * min(lt, limit) - num * min(gt, limit)))
    return scores


@lru_cache(maxsize=256)
def _lowest_score(scale: float, zcdp: bool) -> Any:
    space = dp.vector_domain(dp.atom_domain(T="u64")), dp.linf_distance(T="u64")
    measure = dp.zero_concentrated_divergence() if zcdp else dp.max_divergence()
    return dp.m.make_noisy_max(*space, measure, scale=scale, negate=True)


def _selection_cost(alpha: float, noise_scale: float, zcdp: bool, relation: Neighbouring) -> float:
    """OpenDP's map of the noisy minimum :func:`private_quantile_of_regions` runs.

    The scores move by at most ``d * max(num, den - num)`` when ``d`` rows are
    added or removed; the noisy minimum runs at ``noise_scale * den``, as
    ``make_private_quantile`` composes them.
    """
    num, den = _alpha_fraction(alpha)
    sensitivity = _QUANTILE_DISTANCE[relation] * max(num, den - num)
    return float(_lowest_score(float(noise_scale) * den, zcdp).map(sensitivity))


def private_quantile_of_regions(
    region_counts: Sequence[int] | np.ndarray,
    candidates: Sequence[float],
    alpha: float,
    cost: float,
    *,
    accountant: Accountant,
    relation: Neighbouring | str = Neighbouring.ADD_REMOVE,
    step: str = "discover",
    **params: Any,
) -> float:
    """:func:`private_quantile` from the counts of the candidates' regions, not the values.

    The same mechanism at the same cost (:func:`quantile_charge`): the scores
    are :func:`quantile_scores`, equal to those OpenDP computes on the values,
    and OpenDP's noisy minimum (``make_noisy_max(negate=True)``) selects one at
    the noise scale ``make_private_quantile`` uses; the cost is OpenDP's map
    of that noisy minimum, checked against the charge before it runs. Only
    ``2k + 1`` counts are needed, which an engine computes in one aggregation,
    so the table may be of any size.

    Parameters
    ----------
    region_counts : 1-D array of whole numbers
        Rows in each of the ``2k + 1`` regions of the ``k`` candidates (see
        :func:`quantile_scores`); only finite values are counted.
    candidates : sequence of float
        The public, strictly increasing grid.
    alpha, cost, accountant, relation, step, **params
        As :func:`private_quantile`.

    Returns
    -------
    float
        One of the candidates.
    """
    rel = _relation(relation)
    cands, _ = _quantile_setup(candidates, alpha, 1.0, "zcdp", rel)
    counts = _region_vector(region_counts, len(cands))
    charge = quantile_charge(
        cands, alpha, cost, mode=accountant.mode, relation=rel, step=step, **params
    )
    zcdp, scale = accountant.mode == "zcdp", charge.params["noise_scale"]
    spent = charge.rho if zcdp else charge.epsilon
    if _selection_cost(alpha, scale, zcdp, rel) > spent:
        raise PrivacyError(
            "the noisy minimum over the quantile scores costs more than make_private_quantile "
            "(an OpenDP version dpsynth does not know?): use the raw values (private_quantile)"
        )
    scores = quantile_scores(counts, alpha)
    accountant.charge(charge)
    _, den = _alpha_fraction(alpha)
    return cands[int(_lowest_score(scale * den, zcdp)(scores))]
