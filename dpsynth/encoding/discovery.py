"""Differentially private discovery of what a schema leaves unknown.

A partial :class:`~dpsynth.schema.Schema` may omit the categories of a
categorical column or the bounds of a numeric or datetime column (see
:attr:`Schema.incomplete_columns`). Reading them from the data would leak
(a category held by one person reveals that person), so they are discovered
with DP mechanisms and charged to the accountant:

* categories: a Gaussian thresholded histogram (OpenDP
  ``make_gaussian_threshold``). Only values held by enough rows to cross the
  noisy threshold are released; the rest are mapped to the "other" code, so
  discovered categorical columns get ``on_unknown="other"``. The step is
  delta-approximate: it needs a budget with delta and a zCDP accountant.
* bounds: one noisy histogram of the column over PUBLIC log-spaced buckets
  (Gaussian noise in zCDP, Laplace in pure DP, through OpenDP), read as the
  5% and 95% quantiles of the buckets that cross a noise threshold
  (:mod:`dpsynth.encoding.bounds`); values beyond them are clipped
  (``on_unknown="clip"``). Unlike a DP quantile over a wide grid, whose
  candidates below the data all score alike and win by noise on a small
  table, a bound can only land in a bucket that holds data (or, with a
  chance of :data:`~dpsynth.encoding.bounds.FALSE_BUCKET_RATE`, in one that
  noise alone pushed over the threshold). A table too small for its budget
  to show any bucket is refused, saying so.
* quantile bin edges (``quantile_bins=True``): DP quantiles (OpenDP's
  ``make_private_quantile`` mechanism) chosen among a PUBLIC grid of
  candidates, inside the discovered bounds.
* whether a datetime column holds dates (``resolution="auto"``, what a
  kinds-only schema proposes): a noisy two-cell histogram of its values at
  midnight UTC and off it. The column holds dates (``"D"``) unless the noisy
  count off midnight clears both what noise alone passes with probability
  1e-6 (4.75 sd of the Gaussian, 13.1 scales of the Laplace) and
  :data:`OFF_MIDNIGHT_SHARE` of the column. The step takes
  :data:`RESOLUTION_SHARE` of the column's budget when its range is
  discovered too, all of it otherwise.

The data is read through a :class:`~dpsynth.encoding.profile.ColumnProfiler`,
which computes the exact aggregates the mechanisms need where the table
lives: a pandas DataFrame in memory, a CSV or Parquet file or a DuckDB
relation in DuckDB (:class:`~dpsynth.engines.DuckDBProfiler`), a Spark
DataFrame on Spark (:class:`~dpsynth.engines.SparkProfiler`). A quantile needs
only the counts of the regions its candidates cut the line into
(:func:`~dpsynth.privacy.mechanisms.private_quantile_of_regions`), so no
column is ever held in memory. Every aggregate is computed before the first
mechanism runs: a table that cannot be read spends nothing.

The buckets and the candidate grids must not depend on the data. The
default buckets are :func:`~dpsynth.encoding.bounds.default_bucket_edges`
(twelve per decade of magnitude; the first day of each year for datetimes);
the default quantile candidates :data:`DEFAULT_NUMERIC_RANGE` with
:data:`STEPS_PER_DECADE` steps per decade of magnitude (rounded to whole
numbers for integer columns) and the first day of every month from
:data:`DEFAULT_DATETIME_RANGE`. A bound already declared narrows both. Pass
``candidates={"column": [...]}`` to use your own, as bucket edges and as
quantile candidates alike.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from dpsynth.encoding.bounds import (
    bucket_counts,
    default_bucket_edges,
    kept_mass,
    range_from_histogram,
)
from dpsynth.encoding.formats import FALSE_FORMAT_RATE
from dpsynth.encoding.profile import ColumnProfiler, profiler_of, utc_seconds
from dpsynth.errors import InputDataError, PrivacyError, parameter_error
from dpsynth.privacy.accountant import Accountant, Charge
from dpsynth.privacy.histograms import NoisyHistogram
from dpsynth.privacy.mechanisms import (
    Neighbouring,
    gaussian_sigma,
    private_quantile_of_regions,
    quantile_charge,
    threshold_charge,
    threshold_for_delta,
    thresholded_histogram,
)
from dpsynth.schema import (
    AUTO_RESOLUTION,
    DEFAULT_BINS,
    ColumnKind,
    ColumnSpec,
    Schema,
    integer_dtype_limits,
)


class DiscoveryWarning(UserWarning):
    """DP discovery released a domain the synthetic column cannot use (no category at all)."""


#: public default range of the candidate grid for numeric bounds
DEFAULT_NUMERIC_RANGE = (-1e9, 1e9)
#: candidates per decade of magnitude: 1, 1.5, 2, ..., 9.5 times a power of ten
STEPS_PER_DECADE = 19
#: public default range of datetime candidates (first day of each month)
DEFAULT_DATETIME_RANGE = ("1900-01-01", "2100-12-01")
#: quantiles taken as the lower and upper bound by default
DEFAULT_BOUND_QUANTILES = (0.05, 0.95)
#: default delta spent per discovered categorical column
DEFAULT_CATEGORY_DELTA = 1e-9

#: share of a datetime column's budget that decides its resolution, when its range is discovered too
RESOLUTION_SHARE = 0.25
#: below this share of values off midnight (noisy), a datetime column is taken to hold dates
OFF_MIDNIGHT_SHARE = 0.01

_SMALLEST_MAGNITUDE = 1e-3


@dataclass(frozen=True)
class DiscoveryResult:
    """A completed schema and the charges its discovery made.

    Attributes
    ----------
    schema : Schema
        The input schema with every incomplete column completed, ``source="dp"``.
    charges : tuple of Charge
        One per mechanism run, with the column and what was discovered; they
        have already been charged to the accountant passed in.
    """

    schema: Schema
    charges: tuple[Charge, ...]


# ---------------------------------------------------------------------------------------
# public candidate grids
# ---------------------------------------------------------------------------------------
def default_numeric_candidates(kind: ColumnKind) -> np.ndarray:
    """The public default grid: 0 and +-m * 10**k, m in 1, 1.5, ..., 9.5, over the default range."""
    mantissas = 1 + 0.5 * np.arange(STEPS_PER_DECADE)
    top = DEFAULT_NUMERIC_RANGE[1]
    exponents = np.arange(np.log10(_SMALLEST_MAGNITUDE), np.log10(top) + 1)
    positive = np.unique((mantissas[None, :] * 10.0 ** exponents[:, None]).ravel())
    positive = positive[positive <= top]
    grid = np.concatenate([-positive[::-1], [0.0], positive])
    grid = grid[(grid >= DEFAULT_NUMERIC_RANGE[0]) & (grid <= top)]
    if kind is ColumnKind.INTEGER:
        grid = np.unique(np.round(grid))
    return grid


def default_datetime_candidates() -> pd.DatetimeIndex:
    """The public default grid of datetimes: the first day of each month of the default range."""
    return pd.date_range(*DEFAULT_DATETIME_RANGE, freq="MS")


def _given_grid(spec: ColumnSpec, given: Mapping[str, Sequence[Any]]) -> np.ndarray | None:
    """The user's public grid of a column, on the scale discovery works on, or None."""
    if spec.name not in given:
        return None
    raw = given[spec.name]
    try:
        grid = utc_seconds(raw) if spec.kind is ColumnKind.DATETIME else np.asarray(raw, dtype=float)
    except (TypeError, ValueError) as exc:
        raise parameter_error(f"candidates[{spec.name!r}]", raw, f"readable values ({exc})") from None
    return np.unique(np.round(grid)) if spec.kind is ColumnKind.INTEGER else np.unique(grid)


def _within_dtype(spec: ColumnSpec, grid: np.ndarray) -> np.ndarray:
    """The public grid cut to what the column's dtype holds, with the dtype's ends as points.

    The released bounds lie within the grid, so a column of ``int8`` or ``uint8``
    is never given a range its dtype cannot hold (which would be refused after
    discovery had spent its budget).
    """
    limits = integer_dtype_limits(spec.dtype) if spec.kind is ColumnKind.INTEGER else None
    if limits is None or grid.size == 0:
        return grid
    low, high = limits
    ends = ([low] if grid.min() < low else []) + ([high] if grid.max() > high else [])
    if not ends:
        return grid
    return np.unique(np.concatenate([grid[(grid >= low) & (grid <= high)], ends]))


def _inside_declared(spec: ColumnSpec, grid: np.ndarray) -> np.ndarray:
    """The grid strictly inside the bounds already declared, refused if fewer than 2 remain."""
    if spec.lower is not None:
        grid = grid[grid > _bound_seconds(spec, spec.lower)]
    if spec.upper is not None:
        grid = grid[grid < _bound_seconds(spec, spec.upper)]
    if grid.size < 2 or not np.all(np.isfinite(grid)):
        raise parameter_error(
            f"candidates[{spec.name!r}]",
            f"{grid.size} usable candidate(s)",
            "at least 2 finite values strictly inside any declared bound",
        )
    return grid


def _candidates(spec: ColumnSpec, given: Mapping[str, Sequence[Any]]) -> np.ndarray:
    """Public candidates of the column's DP quantiles (its quantile bin edges)."""
    grid = _given_grid(spec, given)
    if grid is None:
        if spec.kind is ColumnKind.DATETIME:
            grid = utc_seconds(default_datetime_candidates())
        else:
            grid = default_numeric_candidates(spec.kind)
    return _inside_declared(spec, _within_dtype(spec, grid))


def _bucket_edges(spec: ColumnSpec, given: Mapping[str, Sequence[Any]]) -> np.ndarray:
    """Public edges of the buckets of the column's bounds histogram."""
    grid = _given_grid(spec, given)
    return _inside_declared(spec, _within_dtype(spec, default_bucket_edges(spec.kind) if grid is None else grid))


def _bound_seconds(spec: ColumnSpec, value: Any) -> float:
    if spec.kind is ColumnKind.DATETIME:
        return float(utc_seconds([value])[0])
    return float(value)


# ---------------------------------------------------------------------------------------
# the plan: what each incomplete column costs, known before the data is read
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Step:
    column: str
    what: str
    charge: Charge
    alpha: float | None = None
    candidates: np.ndarray | None = None
    sigma: float | None = None  # of the thresholded category histogram
    threshold: int | None = None
    histogram: NoisyHistogram | None = None  # of a bounds or resolution step
    cost: float | None = None  # budget of a quantile step


def _edge_alphas(spec: ColumnSpec, bound_quantiles: tuple[float, float]) -> list[tuple[str, float]]:
    """The inner quantile bin edges of a column (``quantile_bins=True``): ``bins - 1`` of equal mass."""
    low, high = bound_quantiles
    bins = spec.bins or DEFAULT_BINS
    return [(f"edge {i}", low + (high - low) * i / bins) for i in range(1, bins)]


def _noisy_histogram_step(
    name: str, what: str, cells: int, cost: float, mode: str, relation: Neighbouring, **extra: Any
) -> _Step:
    """A noisy histogram of ``cells`` counts: Gaussian in zCDP, Laplace in pure DP; priced, not run."""
    histogram = NoisyHistogram.for_cost(cost, mode=mode, relation=relation, cells=cells, step="discover",
                                        column=name, discovered=what)
    return _Step(name, what, histogram.charge, histogram=histogram, **extra)


def _plan(
    schema: Schema,
    *,
    mode: str,
    cost_per_column: float,
    category_delta: float,
    candidates: Mapping[str, Sequence[Any]],
    bound_quantiles: tuple[float, float],
    quantile_bins: bool,
    relation: Neighbouring,
) -> list[_Step]:
    steps: list[_Step] = []
    for name in schema.incomplete_columns:
        spec = schema[name]
        if spec.kind is ColumnKind.CATEGORICAL:
            if mode != "zcdp":
                raise PrivacyError(
                    f"column {name!r}: discovering categories is a delta-approximate step that a "
                    "pure-DP budget does not allow; declare the categories or use a zCDP budget"
                )
            sigma = gaussian_sigma(cost_per_column, relation=relation)
            threshold = threshold_for_delta(sigma, category_delta, relation=relation)
            charge = threshold_charge(
                sigma, threshold, relation=relation, column=name, discovered="categories"
            )
            steps.append(_Step(name, "categories", charge, sigma=sigma, threshold=threshold))
            continue
        ranged = spec.lower is None or spec.upper is None or quantile_bins
        cost = cost_per_column
        if spec.resolution == AUTO_RESOLUTION:
            resolution_cost = RESOLUTION_SHARE * cost if ranged else cost
            steps.append(_noisy_histogram_step(name, "resolution", 2, resolution_cost, mode, relation))
            cost -= resolution_cost
        if not ranged:
            continue
        # The bounds histogram is worth two quantiles: with quantile bins, the column's
        # budget is split evenly among lower, upper and the inner edges.
        inner = _edge_alphas(spec, bound_quantiles) if quantile_bins else []
        share = cost / (len(inner) + 2)
        edges = _bucket_edges(spec, candidates)
        steps.append(_noisy_histogram_step(
            name, "bounds", int(edges.size + 1), 2 * share if inner else cost, mode, relation, candidates=edges
        ))
        grid = _candidates(spec, candidates) if inner else None
        for what, alpha in inner:
            charge = quantile_charge(
                grid, alpha, share, mode=mode, relation=relation, column=name, discovered=what
            )
            steps.append(_Step(name, what, charge, alpha=alpha, candidates=grid, cost=share))
    return steps


def _check_options(
    cost_per_column: float, category_delta: float, bound_quantiles: tuple[float, float]
) -> tuple[float, float]:
    if not (np.isfinite(cost_per_column) and cost_per_column > 0):
        raise parameter_error("cost_per_column", cost_per_column, "a finite number > 0")
    if not 0 < category_delta < 1:
        raise parameter_error("category_delta", category_delta, "strictly between 0 and 1")
    low, high = (float(q) for q in bound_quantiles)
    if not 0 <= low < high <= 1:
        raise parameter_error(
            "bound_quantiles", bound_quantiles, "two quantiles 0 <= low < high <= 1"
        )
    return low, high


def discovery_plan(
    schema: Schema,
    *,
    mode: str = "zcdp",
    cost_per_column: float,
    category_delta: float = DEFAULT_CATEGORY_DELTA,
    candidates: Mapping[str, Sequence[Any]] | None = None,
    bound_quantiles: tuple[float, float] = DEFAULT_BOUND_QUANTILES,
    quantile_bins: bool = False,
    relation: Neighbouring | str = Neighbouring.ADD_REMOVE,
) -> list[Charge]:
    """Price the discovery of ``schema``'s incomplete columns without reading data.

    Same parameters as :func:`discover_schema` (``mode`` is the accountant's).

    Returns
    -------
    list of Charge
        What :func:`discover_schema` will charge, step by step.
    """
    bounds = _check_options(cost_per_column, category_delta, bound_quantiles)
    steps = _plan(
        schema,
        mode=mode,
        cost_per_column=cost_per_column,
        category_delta=category_delta,
        candidates=candidates or {},
        bound_quantiles=bounds,
        quantile_bins=quantile_bins,
        relation=Neighbouring(relation),
    )
    return [s.charge for s in steps]


# ---------------------------------------------------------------------------------------
# running it
# ---------------------------------------------------------------------------------------
def _ordered(values: Any) -> tuple[Any, ...]:
    """Released categories as plain Python values, in natural order when comparable."""
    plain = [v.item() if isinstance(v, np.generic) else v for v in values]
    try:
        return tuple(sorted(plain))
    except TypeError:
        return tuple(sorted(plain, key=lambda v: (type(v).__name__, str(v))))


def _as_bound(spec: ColumnSpec, value: float) -> Any:
    if spec.kind is ColumnKind.DATETIME:
        return pd.Timestamp(round(value * 1e9), unit="ns").isoformat()
    if spec.kind is ColumnKind.INTEGER:
        return int(round(value))
    return float(value)


def _complete_range(
    spec: ColumnSpec, found: dict[str, float], grid: np.ndarray, quantile_bins: bool
) -> ColumnSpec:
    """Post-process the released quantiles (no privacy cost) into valid bounds or edges."""
    known = {
        "lower": None if spec.lower is None else _bound_seconds(spec, spec.lower),
        "upper": None if spec.upper is None else _bound_seconds(spec, spec.upper),
    }
    lower = found.get("lower", known["lower"])
    upper = found.get("upper", known["upper"])
    if lower > upper:
        lower, upper = upper, lower
    if lower == upper:
        # the noisy quantiles met: widen to the next public candidate
        above = grid[grid > upper]
        below = grid[grid < lower]
        if above.size:
            upper = float(above[0])
        else:
            lower = float(below[-1])
    edges = sorted(
        {lower, upper, *(v for k, v in found.items() if k.startswith("edge") and lower < v < upper)}
    )
    changes: dict[str, Any] = {
        "lower": _as_bound(spec, lower),
        "upper": _as_bound(spec, upper),
        "source": "dp",
        "on_unknown": "clip",
    }
    if quantile_bins:
        changes["bin_edges"] = tuple(_as_bound(spec, e) for e in edges)
        changes["bins"] = None
    elif spec.bins is None:
        changes["bins"] = DEFAULT_BINS
    return replace(spec, **changes)


def discover_schema(
    data: pd.DataFrame | ColumnProfiler,
    schema: Schema,
    *,
    accountant: Accountant,
    cost_per_column: float,
    category_delta: float = DEFAULT_CATEGORY_DELTA,
    candidates: Mapping[str, Sequence[Any]] | None = None,
    bound_quantiles: tuple[float, float] = DEFAULT_BOUND_QUANTILES,
    quantile_bins: bool = False,
    relation: Neighbouring | str = Neighbouring.ADD_REMOVE,
) -> DiscoveryResult:
    """Complete a partial schema with DP, charging ``accountant`` for every step.

    The whole plan is priced first: if it does not fit in what the accountant
    has left, nothing is read and nothing is charged. Every aggregate is then
    computed before the first mechanism runs, so a table that lacks a column
    or holds unreadable values is refused before anything is charged.

    Parameters
    ----------
    data : pandas.DataFrame or ColumnProfiler
        The private table: a DataFrame (profiled in memory), or a profiler of
        a table that lives elsewhere (:class:`~dpsynth.engines.DuckDBProfiler`
        for CSV or Parquet files and DuckDB relations,
        :class:`~dpsynth.engines.SparkProfiler` for Spark DataFrames).
    schema : Schema
        The public, partial schema. Complete columns are returned unchanged.
    accountant : Accountant
        Charged step by step; its mode (zCDP or pure) picks the noise.
    cost_per_column : float
        Budget of each discovered column: rho in zCDP mode, epsilon in pure
        mode. A numeric or datetime column spends it on its bounds histogram;
        with ``quantile_bins`` the histogram gets two shares and each inner
        edge's quantile one.
    category_delta : float
        delta of the thresholded histogram of each categorical column (the
        chance that a value held by one row is released).
    candidates : mapping of column name to sequence, optional
        Public candidate grids replacing the defaults (datetimes as ISO
        strings or timestamps).
    bound_quantiles : (float, float)
        Quantiles of the bounds histogram's kept mass released as the lower
        and upper bound.
    quantile_bins : bool
        Also release the bin edges of numeric and datetime columns as DP
        quantiles (``bins`` of them, equal mass) instead of equal-width bins.
    relation : Neighbouring
        The neighbouring relation protected.

    Returns
    -------
    DiscoveryResult

    Raises
    ------
    InputDataError
        If a column to discover is absent, of a type that cannot hold its
        kind, or holds values that cannot be read as it; before any charge.
    """
    if not isinstance(accountant, Accountant):
        raise parameter_error("accountant", accountant, "an Accountant")
    profiler = profiler_of(data)
    bounds = _check_options(cost_per_column, category_delta, bound_quantiles)
    rel = Neighbouring(relation)
    problems = profiler.problems([schema[n] for n in schema.incomplete_columns])
    if problems:
        raise InputDataError(problems)
    steps = _plan(
        schema,
        mode=accountant.mode,
        cost_per_column=cost_per_column,
        category_delta=category_delta,
        candidates=candidates or {},
        bound_quantiles=bounds,
        quantile_bins=quantile_bins,
        relation=rel,
    )
    accountant.price(s.charge for s in steps)
    # Every exact aggregate first (one query per column): a refusal here spends nothing.
    categories: dict[str, dict[str, int]] = {}
    regions: dict[tuple[str, str], np.ndarray] = {}
    midnights: dict[str, np.ndarray] = {}
    for step in steps:
        if step.what == "categories":
            categories[step.column] = profiler.category_counts(step.column)
        elif step.what == "resolution":
            midnights[step.column] = profiler.midnight_counts(step.column)
        else:
            # one aggregation for the bucket edges, one for the quantile grid
            key = (step.column, "bounds" if step.what == "bounds" else "grid")
            if key not in regions:
                kind = schema[step.column].kind
                regions[key] = profiler.interval_counts(step.column, kind, step.candidates)
    charges: list[Charge] = []
    found: dict[str, dict[str, float]] = {}
    for step in steps:
        spec = schema[step.column]
        params = {"column": step.column, "discovered": step.what}
        if step.what == "bounds":
            found.setdefault(step.column, {}).update(
                _noisy_bounds(spec, step, regions[(step.column, "bounds")], bounds, quantile_bins,
                              accountant=accountant)
            )
        elif step.what == "categories":
            released = thresholded_histogram(
                categories[step.column],
                step.sigma,
                step.threshold,
                accountant=accountant,
                relation=rel,
                **params,
            )
            cats = _ordered(profiler.category_values(step.column, released))
            if not cats:  # said from the released (DP) result only: nothing private in it
                warnings.warn(
                    f"column {step.column!r}: DP discovery released no category (none is held by "
                    f"enough rows to pass the noisy threshold of about {step.threshold} rows), so "
                    "every synthetic value of this column is the \"other\" label; fix: declare its "
                    "categories in the schema, drop the column if it identifies rows, or give "
                    "discovery more budget (a larger epsilon or discovery_fraction)",
                    DiscoveryWarning,
                    stacklevel=2,
                )
            schema = schema.with_column(
                replace(spec, categories=cats, source="dp", on_unknown="other")
            )
        elif step.what == "resolution":
            resolution = _noisy_resolution(step, midnights[step.column], accountant=accountant)
            schema = schema.with_column(replace(spec, resolution=resolution))
        else:
            value = private_quantile_of_regions(
                regions[(step.column, "grid")],
                step.candidates,
                step.alpha,
                step.cost,
                accountant=accountant,
                relation=rel,
                **params,
            )
            found.setdefault(step.column, {})[step.what] = value
        charges.append(accountant.steps[-1])
    for name, values in found.items():
        edges = next(s.candidates for s in steps if s.column == name and s.what == "bounds")
        schema = schema.with_column(_complete_range(schema[name], values, edges, quantile_bins))
    return DiscoveryResult(schema=schema, charges=tuple(charges))


def _noisy_resolution(step: _Step, counts: np.ndarray, *, accountant: Accountant) -> str | None:
    """``"D"`` unless the noisy count off midnight stands out of the noise and is a fair share (post-processing).

    Standing out: noise alone passes it with probability
    :data:`~dpsynth.encoding.formats.FALSE_FORMAT_RATE` (:func:`~dpsynth.privacy.histograms.noise_cut`).
    """
    at, off = (float(v) for v in step.histogram.run(counts, accountant=accountant))
    cut = step.histogram.cut(FALSE_FORMAT_RATE)
    times = off >= cut and off >= OFF_MIDNIGHT_SHARE * (max(at, 0.0) + off)
    return None if times else "D"


def _warn_beyond_grid(spec: ColumnSpec, mass: np.ndarray, edges: np.ndarray, quantiles: tuple[float, float]) -> None:
    """Warn when more of the kept mass than the bound quantiles leave out lies past the grid's ends.

    A released bound cannot go past the public grid, so such values are clipped
    to its end. Read from the noisy histogram: post-processing, no privacy cost.
    """
    if spec.kind is ColumnKind.DATETIME or not mass.sum() > 0:
        return
    share = mass / mass.sum()
    # at an integer dtype's end the grid ends where the values must: nothing lies past it
    low, high = (integer_dtype_limits(spec.dtype) if spec.kind is ColumnKind.INTEGER else None) or (-np.inf, np.inf)
    beyond = []
    if spec.lower is None and share[0] > quantiles[0] and edges[0] > low:
        beyond.append(f"{share[0]:.0%} below {edges[0]:g}")
    if spec.upper is None and share[-1] > 1.0 - quantiles[1] and edges[-1] < high:
        beyond.append(f"{share[-1]:.0%} above {edges[-1]:g}")
    if beyond:
        warnings.warn(DiscoveryWarning(
            f"column {spec.name!r}: about {' and '.join(beyond)}, past the public grid of candidate bounds "
            "(noisy estimate): its released range stops at the grid and those values are clipped to it; "
            f"pass candidates={{{spec.name!r}: [...]}} with edges covering its values, or declare its bounds"
        ), stacklevel=4)


def _noisy_bounds(
    spec: ColumnSpec,
    step: _Step,
    regions: np.ndarray,
    quantiles: tuple[float, float],
    quantile_bins: bool,
    *,
    accountant: Accountant,
) -> dict[str, float]:
    """Run the bounds histogram (charged) and read the missing bounds from it (post-processing)."""
    histogram = step.histogram
    noisy = histogram.run(bucket_counts(regions), accountant=accountant)
    mass = kept_mass(noisy, histogram.noise, mode=histogram.mode)
    found = range_from_histogram(mass, step.candidates, quantiles)
    if found is None:
        raise PrivacyError(
            f"column {spec.name!r}: no bucket of its noisy histogram stood out from the noise "
            f"({histogram.description}, rho {accountant.steps[-1].rho:.3g}): the budget is too small for a table "
            "of this size to show its range; declare its lower and upper bounds in the schema "
            "(`dpsynth schema infer` writes one to fill in; if the column is not a number at all, "
            f"declare its kind as {ColumnKind.CATEGORICAL.value!r} there, since at a small budget the "
            "kinds DP decides can be wrong), or give discovery more budget (a larger epsilon, or in "
            "Python a larger discovery_fraction)"
        )
    _warn_beyond_grid(spec, mass, step.candidates, quantiles)
    lower, upper = found
    out = {}
    if spec.lower is None or quantile_bins:
        out["lower"] = lower
    if spec.upper is None or quantile_bins:
        out["upper"] = upper
    return out
