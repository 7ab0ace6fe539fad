"""Utility of a synthetic table, measured against the real one.

Entry point: :func:`evaluate_utility`. It compares a synthetic table with the
real training table (and, for the downstream task, a real holdout table) and
returns a :class:`UtilityReport`:

- total-variation distance (TVD) of every 1- and 2-way marginal and of a
  seeded sample of 3-way marginals, on columns discretised by
  :class:`ColumnBins` (numeric and datetime columns on the schema's public
  bins, categoricals by value, a missing value as a value of its own);
- the difference of the correlation matrices: Pearson and Spearman over the
  numeric columns, Cramér's V over every pair of (discretised) columns;
- per numeric column, the Wasserstein-1 distance divided by the public range
  and the two-sample Kolmogorov-Smirnov statistic;
- downstream machine learning (:func:`fit_downstream`): train on synthetic,
  test on the real holdout, against train on real; and the honest alternative
  at the same budget, a differentially private logistic regression
  (diffprivlib) trained directly on the real data.

Every figure here is computed from the REAL data. None of it is covered by the
differential-privacy guarantee of the release and none of it is for release:
every result carries ``covered_by_dp = False`` and :data:`NOT_COVERED_NOTICE`.
The DP baseline model is trained only to be compared; it is not released and
its spend is not charged to the ledger.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from scipy.stats.contingency import association

from dpsynth.errors import InputDataError, Problem, SchemaError, parameter_error
from dpsynth.schema import DEFAULT_BINS, ColumnKind, ColumnSpec, Schema

#: the warning every evaluation result and the report carry
NOT_COVERED_NOTICE = (
    "Computed from the real data: these figures are NOT covered by the differential-privacy "
    "guarantee and are not for release."
)

#: label of the code given to missing values
MISSING_LABEL = "<missing>"
#: label of the code given to a category the schema does not declare
OTHER_LABEL = "<other>"

#: number of equal-width confidence bins of the expected calibration error
ECE_BINS = 10

# HistGradientBoostingClassifier accepts native categorical features of at most 255 codes.
_MAX_NATIVE_CATEGORIES = 255


# ---------------------------------------------------------------------------------------
# Discretisation shared by every fidelity figure
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ColumnBins:
    """How one column is cut into labelled codes for marginal comparisons.

    Parameters
    ----------
    spec : ColumnSpec
        The column's public knowledge.
    labels : tuple of str
        One label per code, the last one :data:`MISSING_LABEL`.
    edges : numpy.ndarray or None
        Bin edges of a numeric or datetime column (datetimes in nanoseconds).
    categories : tuple of str or None
        Category values (as strings) of a categorical column, in code order.
    """

    spec: ColumnSpec
    labels: tuple[str, ...]
    edges: np.ndarray | None = None
    categories: tuple[str, ...] | None = None

    @property
    def size(self) -> int:
        """Number of codes, the missing code included."""
        return len(self.labels)

    @property
    def missing_code(self) -> int:
        """The code of a missing value (always the last)."""
        return len(self.labels) - 1

    def codes(self, series: pd.Series) -> np.ndarray:
        """Codes ``0 .. size - 1`` of the values of ``series``."""
        missing = series.isna().to_numpy()
        kind = self.spec.kind
        if kind is ColumnKind.CATEGORICAL:
            assert self.categories is not None
            lookup = {c: i for i, c in enumerate(self.categories)}
            other = len(self.categories)
            text = series.astype(object).to_numpy()
            out = np.fromiter(
                (lookup.get(str(v), other) for v in text), dtype=np.int64, count=len(text)
            )
        elif kind is ColumnKind.BOOLEAN:
            values = series.astype(object).to_numpy()
            out = np.fromiter((_truth(v) for v in values), dtype=np.int64, count=len(values))
        else:
            assert self.edges is not None
            values = np.clip(numeric_values(series, kind), self.edges[0], self.edges[-1])
            inner = np.nan_to_num(values, nan=self.edges[0])
            out = np.searchsorted(self.edges, inner, side="right") - 1
            out = np.clip(out, 0, len(self.edges) - 2).astype(np.int64)
        out[missing] = self.missing_code
        return out


def _truth(value: Any) -> int:
    """1 for a true boolean value (True, 1, "true", "1"), else 0; missing values are coded apart."""
    if isinstance(value, str):
        return int(value.strip().lower() in ("true", "1"))
    try:
        return int(bool(value))
    except (TypeError, ValueError):
        return 0


def numeric_values(series: pd.Series, kind: ColumnKind) -> np.ndarray:
    """Float values of a numeric column, datetimes as nanoseconds; missing as NaN."""
    if kind is ColumnKind.DATETIME:
        if pd.api.types.is_datetime64_any_dtype(series.dtype):
            ts = pd.to_datetime(series)
        else:
            ts = pd.to_datetime(series, errors="coerce", format="mixed")
        if getattr(ts.dt, "tz", None) is not None:
            ts = ts.dt.tz_convert("UTC").dt.tz_localize(None)
        ns = ts.astype("datetime64[ns]")
        out = ns.to_numpy().astype(np.int64).astype(float)
        out[ns.isna().to_numpy()] = np.nan
        return out
    return pd.to_numeric(series, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def public_edges(spec: ColumnSpec) -> np.ndarray:
    """Bin edges of a numeric or datetime column from its PUBLIC schema only."""
    if spec.bin_edges is not None:
        return np.array([spec.numeric_bound(e) for e in spec.bin_edges], dtype=float)
    lower, upper = spec.numeric_bound(spec.lower), spec.numeric_bound(spec.upper)
    if lower is None or upper is None:
        raise SchemaError(
            [
                Problem(
                    spec.name,
                    "has no public bounds or bin edges to bin it for evaluation",
                    "pass the schema completed by discovery (the fitted synthesizer's schema)",
                )
            ]
        )
    return np.linspace(lower, upper, (spec.bins or DEFAULT_BINS) + 1)


def _edge_label(value: float, kind: ColumnKind) -> str:
    if kind is ColumnKind.DATETIME:
        return pd.Timestamp(int(value)).strftime("%Y-%m-%d")
    return f"{value:g}"


def column_bins(spec: ColumnSpec, observed: Iterable[pd.Series] = ()) -> ColumnBins:
    """The :class:`ColumnBins` of a column.

    Parameters
    ----------
    spec : ColumnSpec
        The column's public knowledge.
    observed : iterable of pandas.Series
        Values of the column in the tables being compared; used only for a
        categorical column whose schema lists no categories (evaluation only:
        these labels come from the real data and are not for release).

    Returns
    -------
    ColumnBins
    """
    kind = spec.kind
    if kind is ColumnKind.CATEGORICAL:
        if spec.categories is not None:
            cats = tuple(str(c) for c in spec.categories)
        else:
            seen: set[str] = set()
            for s in observed:
                seen.update(str(v) for v in pd.unique(s.dropna().astype(object).to_numpy()))
            cats = tuple(sorted(seen))
        return ColumnBins(spec, (*cats, OTHER_LABEL, MISSING_LABEL), categories=cats)
    if kind is ColumnKind.BOOLEAN:
        return ColumnBins(spec, ("False", "True", MISSING_LABEL))
    edges = public_edges(spec)
    labels = tuple(
        f"[{_edge_label(a, kind)}, {_edge_label(b, kind)}{']' if i == len(edges) - 2 else ')'}"
        for i, (a, b) in enumerate(zip(edges[:-1], edges[1:], strict=True))
    )
    return ColumnBins(spec, (*labels, MISSING_LABEL), edges=edges)


def schema_bins(schema: Schema, frames: Sequence[pd.DataFrame] = ()) -> dict[str, ColumnBins]:
    """:class:`ColumnBins` of every column, reporting every incomplete column at once."""
    bins: dict[str, ColumnBins] = {}
    problems: list[Problem] = []
    for spec in schema:
        try:
            bins[spec.name] = column_bins(spec, [f[spec.name] for f in frames])
        except SchemaError as exc:
            problems.extend(exc.problems)
    if problems:
        raise SchemaError(problems)
    return bins


def check_frames(schema: Schema, frames: Mapping[str, pd.DataFrame | None]) -> None:
    """Refuse tables that lack a schema column or have no rows, listing every problem."""
    problems = []
    for role, df in frames.items():
        if df is None:
            continue
        if len(df) == 0:
            problems.append(Problem(None, f"the {role} table has no rows", "pass a non-empty table"))
        for name in schema.names:
            if name not in df.columns:
                problems.append(
                    Problem(name, f"the {role} table lacks this schema column", "add the column")
                )
    if problems:
        raise InputDataError(problems)


def encode_codes(df: pd.DataFrame, bins: Mapping[str, ColumnBins]) -> dict[str, np.ndarray]:
    """Codes of every column of ``df`` under ``bins``."""
    return {name: b.codes(df[name]) for name, b in bins.items()}


def joint_tvd(
    real: Sequence[np.ndarray], synthetic: Sequence[np.ndarray], sizes: Sequence[int]
) -> float:
    """Total-variation distance between the empirical joint distributions of code columns.

    Only the cells that occur are counted (sparse), so large marginals are cheap.
    """
    rk = np.ravel_multi_index(tuple(real), tuple(sizes))
    sk = np.ravel_multi_index(tuple(synthetic), tuple(sizes))
    _, inverse = np.unique(np.concatenate([rk, sk]), return_inverse=True)
    cells = int(inverse.max()) + 1
    p = np.bincount(inverse[: len(rk)], minlength=cells) / len(rk)
    q = np.bincount(inverse[len(rk) :], minlength=cells) / len(sk)
    return float(0.5 * np.abs(p - q).sum())


def sample_triples(names: Sequence[str], n: int, seed: int) -> list[tuple[str, ...]]:
    """``n`` distinct 3-column subsets of ``names`` (all of them if there are fewer), seeded."""
    total = math.comb(len(names), 3)
    if n >= total:
        return list(itertools.combinations(names, 3))
    rng = np.random.default_rng(seed)
    if n > total // 2:
        picked = rng.choice(total, size=n, replace=False)
        every = list(itertools.combinations(range(len(names)), 3))
        chosen = {every[i] for i in picked}
    else:
        chosen = set()
        while len(chosen) < n:
            chosen.add(tuple(sorted(rng.choice(len(names), size=3, replace=False).tolist())))
    return [tuple(names[i] for i in t) for t in sorted(chosen)]


# ---------------------------------------------------------------------------------------
# Result objects
# ---------------------------------------------------------------------------------------
def json_number(value: float | None) -> float | None:
    """A float for JSON: NaN and infinities become None."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _matrix(m: np.ndarray) -> list[list[float | None]]:
    return [[json_number(v) for v in row] for row in m]


def _stats(values: Sequence[float]) -> dict[str, Any]:
    arr = np.asarray(values, dtype=float)
    if arr.size == 0:
        return {"count": 0, "mean": None, "max": None}
    return {"count": int(arr.size), "mean": float(arr.mean()), "max": float(arr.max())}


@dataclass(frozen=True)
class MarginalTVD:
    """The TVD of one marginal (over 1, 2 or 3 columns)."""

    columns: tuple[str, ...]
    tvd: float


@dataclass(frozen=True)
class Distribution:
    """One column's discretised distribution in the real and the synthetic table."""

    column: str
    labels: tuple[str, ...]
    real: tuple[float, ...]
    synthetic: tuple[float, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-compatible dict; codes absent from both tables are left out."""
        keep = [i for i, (r, s) in enumerate(zip(self.real, self.synthetic, strict=True)) if r or s]
        return {
            "labels": [self.labels[i] for i in keep],
            "real": [self.real[i] for i in keep],
            "synthetic": [self.synthetic[i] for i in keep],
        }


@dataclass(frozen=True)
class CorrelationComparison:
    """Correlation and association matrices of the real and the synthetic table.

    Pearson and Spearman cover the numeric (and datetime) columns; Cramér's V
    covers every column, discretised as for the marginals, so it also serves
    as the mixed association matrix of categorical and numeric columns.
    """

    numeric_columns: tuple[str, ...]
    pearson_real: np.ndarray
    pearson_synthetic: np.ndarray
    spearman_real: np.ndarray
    spearman_synthetic: np.ndarray
    association_columns: tuple[str, ...]
    cramers_v_real: np.ndarray
    cramers_v_synthetic: np.ndarray

    @staticmethod
    def _diff(a: np.ndarray, b: np.ndarray) -> dict[str, float | None]:
        k = a.shape[0]
        if k < 2:
            return {"max_abs_diff": None, "mean_abs_diff": None}
        off = ~np.eye(k, dtype=bool)
        d = np.abs(a - b)[off]
        d = d[np.isfinite(d)]
        if d.size == 0:
            return {"max_abs_diff": None, "mean_abs_diff": None}
        return {"max_abs_diff": float(d.max()), "mean_abs_diff": float(d.mean())}

    @property
    def pearson_diff(self) -> dict[str, float | None]:
        """Largest and mean absolute off-diagonal difference of the Pearson matrices."""
        return self._diff(self.pearson_real, self.pearson_synthetic)

    @property
    def spearman_diff(self) -> dict[str, float | None]:
        """Largest and mean absolute off-diagonal difference of the Spearman matrices."""
        return self._diff(self.spearman_real, self.spearman_synthetic)

    @property
    def cramers_v_diff(self) -> dict[str, float | None]:
        """Largest and mean absolute off-diagonal difference of the Cramér's V matrices."""
        return self._diff(self.cramers_v_real, self.cramers_v_synthetic)

    def to_dict(self) -> dict[str, Any]:
        """JSON-compatible dict (NaN, e.g. for a constant column, becomes null)."""
        return {
            "numeric_columns": list(self.numeric_columns),
            "pearson": {
                "real": _matrix(self.pearson_real),
                "synthetic": _matrix(self.pearson_synthetic),
                **self.pearson_diff,
            },
            "spearman": {
                "real": _matrix(self.spearman_real),
                "synthetic": _matrix(self.spearman_synthetic),
                **self.spearman_diff,
            },
            "association": {
                "method": "cramers_v",
                "columns": list(self.association_columns),
                "real": _matrix(self.cramers_v_real),
                "synthetic": _matrix(self.cramers_v_synthetic),
                **self.cramers_v_diff,
            },
        }


@dataclass(frozen=True)
class NumericDistance:
    """Distance between the real and synthetic values of one numeric column.

    ``wasserstein`` is the Wasserstein-1 distance divided by the width of the
    public range (so 0.1 means mass moved by a tenth of the range on average);
    ``ks_statistic`` the largest gap between the two empirical CDFs. Both are
    computed on present values clipped to the public range.
    """

    column: str
    wasserstein: float
    ks_statistic: float
    ks_pvalue: float
    real_mean: float | None
    synthetic_mean: float | None
    real_missing: float
    synthetic_missing: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-compatible dict."""
        return {k: (json_number(v) if isinstance(v, float) else v) for k, v in self.__dict__.items()}


@dataclass(frozen=True)
class ModelScores:
    """Scores of one classifier on (a subset of) the real holdout.

    ``auc`` is the macro average of one-vs-rest ROC AUCs over the classes
    present in the test rows (for two classes, the usual AUC); ``brier`` the
    Brier score (binary: mean squared error of the positive-class probability;
    multiclass: mean summed squared error); ``ece`` the expected calibration
    error of the top-class confidence over :data:`ECE_BINS` equal-width bins.
    """

    accuracy: float | None
    auc: float | None
    brier: float | None
    ece: float | None
    n_test: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-compatible dict."""
        return {
            "accuracy": json_number(self.accuracy),
            "auc": json_number(self.auc),
            "brier": json_number(self.brier),
            "ece": json_number(self.ece),
            "n_test": self.n_test,
        }


@dataclass(frozen=True)
class DownstreamPredictions:
    """Class probabilities of the compared models on every usable holdout row.

    ``rows`` are the positions, in the holdout table, of the rows whose target
    is present; ``y`` their class indices into ``classes``; ``proba`` maps a
    model name (``train_real``, ``train_synthetic``, ``dp_baseline``) to an
    ``(len(rows), len(classes))`` probability matrix.
    """

    target: str
    classes: tuple[str, ...]
    rows: np.ndarray
    y: np.ndarray
    proba: dict[str, np.ndarray]
    n_train: dict[str, int]
    dp_epsilon: float | None
    dp_data_norm: float | None
    notes: tuple[str, ...] = ()

    def scores(self, mask: np.ndarray | None = None) -> dict[str, ModelScores]:
        """:class:`ModelScores` of every model, on the rows selected by ``mask``."""
        keep = np.ones(len(self.y), dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
        return {name: score_probabilities(self.y[keep], p[keep]) for name, p in self.proba.items()}


@dataclass(frozen=True)
class DownstreamResult:
    """Downstream task: who predicts the target on real holdout rows best."""

    target: str
    classes: tuple[str, ...]
    model: str
    scores: dict[str, ModelScores]
    n_train: dict[str, int]
    dp_epsilon: float | None
    dp_data_norm: float | None
    notes: tuple[str, ...] = ()

    def table(self) -> pd.DataFrame:
        """One row per model, one column per score."""
        rows = {name: s.to_dict() for name, s in self.scores.items()}
        out = pd.DataFrame.from_dict(rows, orient="index")
        out["n_train"] = [self.n_train.get(name) for name in out.index]
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-compatible dict."""
        return {
            "target": self.target,
            "classes": list(self.classes),
            "model": self.model,
            "scores": {name: s.to_dict() for name, s in self.scores.items()},
            "n_train": dict(self.n_train),
            "dp_epsilon": json_number(self.dp_epsilon),
            "dp_data_norm": json_number(self.dp_data_norm),
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class UtilityReport:
    """Everything :func:`evaluate_utility` measured. Not covered by DP; not for release."""

    n_real: int
    n_synthetic: int
    n_holdout: int | None
    marginals: tuple[MarginalTVD, ...]
    distributions: tuple[Distribution, ...]
    correlations: CorrelationComparison
    numeric: tuple[NumericDistance, ...]
    downstream: DownstreamResult | None
    seed: int
    n_three_way: int
    notes: tuple[str, ...] = ()
    covered_by_dp: bool = field(default=False, init=False)
    notice: str = field(default=NOT_COVERED_NOTICE, init=False)

    def tvds(self, order: int) -> list[float]:
        """TVDs of every computed marginal over ``order`` columns."""
        return [m.tvd for m in self.marginals if len(m.columns) == order]

    def marginal_table(self) -> pd.DataFrame:
        """One row per marginal: its columns, order and TVD, worst first."""
        out = pd.DataFrame(
            {
                "columns": [" x ".join(m.columns) for m in self.marginals],
                "order": [len(m.columns) for m in self.marginals],
                "tvd": [m.tvd for m in self.marginals],
            }
        )
        return out.sort_values(["order", "tvd"], ascending=[True, False], ignore_index=True)

    def summary(self) -> pd.DataFrame:
        """The headline figures as a ``metric -> value`` table."""
        rows: list[tuple[str, float | None]] = []
        for order, name in ((1, "1-way"), (2, "2-way"), (3, "3-way (sampled)")):
            s = _stats(self.tvds(order))
            rows += [(f"{name} TVD mean", s["mean"]), (f"{name} TVD max", s["max"])]
        c = self.correlations
        rows += [
            ("Pearson max abs diff", c.pearson_diff["max_abs_diff"]),
            ("Spearman max abs diff", c.spearman_diff["max_abs_diff"]),
            ("Cramer's V max abs diff", c.cramers_v_diff["max_abs_diff"]),
        ]
        if self.numeric:
            rows += [
                ("Wasserstein/range max", max(n.wasserstein for n in self.numeric)),
                ("KS statistic max", max(n.ks_statistic for n in self.numeric)),
            ]
        if self.downstream is not None:
            for name, s in self.downstream.scores.items():
                rows += [(f"{name} accuracy", s.accuracy), (f"{name} AUC", s.auc)]
        return pd.DataFrame(rows, columns=["metric", "value"])

    def to_dict(self) -> dict[str, Any]:
        """JSON-compatible dict, the ``utility`` section of the release record."""
        return {
            "covered_by_dp": self.covered_by_dp,
            "notice": self.notice,
            "rows": {"real": self.n_real, "synthetic": self.n_synthetic, "holdout": self.n_holdout},
            "settings": {"seed": self.seed, "n_three_way": self.n_three_way},
            "marginals": {
                "one_way": _stats(self.tvds(1)),
                "two_way": _stats(self.tvds(2)),
                "three_way": _stats(self.tvds(3)),
                "items": [{"columns": list(m.columns), "tvd": m.tvd} for m in self.marginals],
            },
            "distributions": {d.column: d.to_dict() for d in self.distributions},
            "correlations": self.correlations.to_dict(),
            "numeric": [n.to_dict() for n in self.numeric],
            "downstream": None if self.downstream is None else self.downstream.to_dict(),
            "notes": list(self.notes),
        }


# ---------------------------------------------------------------------------------------
# Fidelity
# ---------------------------------------------------------------------------------------
def marginal_tvds(
    real_codes: Mapping[str, np.ndarray],
    synthetic_codes: Mapping[str, np.ndarray],
    bins: Mapping[str, ColumnBins],
    *,
    columns: Sequence[str] | None = None,
    n_three_way: int = 50,
    seed: int = 0,
) -> list[MarginalTVD]:
    """TVD of every 1- and 2-way marginal and of ``n_three_way`` sampled 3-way ones."""
    names = list(columns if columns is not None else bins)
    subsets: list[tuple[str, ...]] = [(a,) for a in names]
    subsets += list(itertools.combinations(names, 2))
    if n_three_way > 0 and len(names) >= 3:
        subsets += sample_triples(names, n_three_way, seed)
    return [
        MarginalTVD(
            cols,
            joint_tvd(
                [real_codes[c] for c in cols],
                [synthetic_codes[c] for c in cols],
                [bins[c].size for c in cols],
            ),
        )
        for cols in subsets
    ]


def cramers_v(a: np.ndarray, b: np.ndarray, size_a: int, size_b: int) -> float:
    """Cramér's V of two code columns (0 when either is constant)."""
    table = np.bincount(a * size_b + b, minlength=size_a * size_b).reshape(size_a, size_b)
    table = table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0]
    if min(table.shape) < 2:
        return 0.0
    return float(association(table, method="cramer"))


def _cramers_matrix(codes: Mapping[str, np.ndarray], bins: Mapping[str, ColumnBins]) -> np.ndarray:
    names = list(bins)
    m = np.eye(len(names))
    for i, j in itertools.combinations(range(len(names)), 2):
        a, b = names[i], names[j]
        m[i, j] = m[j, i] = cramers_v(codes[a], codes[b], bins[a].size, bins[b].size)
    return m


def compare_correlations(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    schema: Schema,
    bins: Mapping[str, ColumnBins],
    real_codes: Mapping[str, np.ndarray],
    synthetic_codes: Mapping[str, np.ndarray],
) -> CorrelationComparison:
    """Pearson/Spearman matrices of the numeric columns and Cramér's V of all columns."""
    numeric = [c.name for c in schema if c.kind.is_numeric or c.kind is ColumnKind.DATETIME]

    def frame(df: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame({n: numeric_values(df[n], schema[n].kind) for n in numeric})

    rf, sf = frame(real), frame(synthetic)
    with warnings.catch_warnings():
        # a constant column has no correlation: NaN, reported as null
        warnings.simplefilter("ignore", RuntimeWarning)
        matrices = {
            (method, role): df.corr(method=method).to_numpy()
            for method in ("pearson", "spearman")
            for role, df in (("real", rf), ("synthetic", sf))
        }
    return CorrelationComparison(
        numeric_columns=tuple(numeric),
        pearson_real=matrices["pearson", "real"],
        pearson_synthetic=matrices["pearson", "synthetic"],
        spearman_real=matrices["spearman", "real"],
        spearman_synthetic=matrices["spearman", "synthetic"],
        association_columns=tuple(bins),
        cramers_v_real=_cramers_matrix(real_codes, bins),
        cramers_v_synthetic=_cramers_matrix(synthetic_codes, bins),
    )


def numeric_distance(real: pd.Series, synthetic: pd.Series, spec: ColumnSpec) -> NumericDistance:
    """Wasserstein-1 (over the public range) and KS statistic of one numeric column."""
    edges = public_edges(spec)
    lo, hi = float(edges[0]), float(edges[-1])
    r, s = numeric_values(real, spec.kind), numeric_values(synthetic, spec.kind)
    rp, sp = np.clip(r[~np.isnan(r)], lo, hi), np.clip(s[~np.isnan(s)], lo, hi)
    if rp.size and sp.size:
        w = stats.wasserstein_distance(rp, sp) / (hi - lo)
        ks = stats.ks_2samp(rp, sp)
        ks_stat, ks_p = float(ks.statistic), float(ks.pvalue)
    else:
        # one side has no value at all: the distributions share nothing
        w, ks_stat, ks_p = 1.0, 1.0, 0.0
    return NumericDistance(
        column=spec.name,
        wasserstein=float(w),
        ks_statistic=ks_stat,
        ks_pvalue=ks_p,
        real_mean=float(rp.mean()) if rp.size else None,
        synthetic_mean=float(sp.mean()) if sp.size else None,
        real_missing=float(np.isnan(r).mean()),
        synthetic_missing=float(np.isnan(s).mean()),
    )


# ---------------------------------------------------------------------------------------
# Downstream machine learning
# ---------------------------------------------------------------------------------------
def expected_calibration_error(y: np.ndarray, proba: np.ndarray, n_bins: int = ECE_BINS) -> float:
    """Expected calibration error of the top-class confidence.

    The rows are grouped by their top probability into ``n_bins`` equal-width
    bins on [0, 1]; ECE is the row-weighted mean, over bins, of
    ``|accuracy in bin - mean confidence in bin|``.
    """
    conf = proba.max(axis=1)
    correct = (proba.argmax(axis=1) == y).astype(float)
    which = np.minimum((conf * n_bins).astype(int), n_bins - 1)
    total = 0.0
    for b in np.unique(which):
        inside = which == b
        total += inside.sum() * abs(correct[inside].mean() - conf[inside].mean())
    return float(total / len(y))


def score_probabilities(y: np.ndarray, proba: np.ndarray) -> ModelScores:
    """Accuracy, macro one-vs-rest AUC, Brier score and ECE of ``proba`` against ``y``."""
    from sklearn.metrics import roc_auc_score

    n = len(y)
    if n == 0:
        return ModelScores(None, None, None, None, 0)
    accuracy = float((proba.argmax(axis=1) == y).mean())
    aucs = []
    for k in range(proba.shape[1]):
        positive = y == k
        if positive.any() and not positive.all():
            aucs.append(roc_auc_score(positive, proba[:, k]))
    onehot = np.eye(proba.shape[1])[y]
    squared = ((proba - onehot) ** 2).sum(axis=1).mean()
    # for two classes both columns carry the same error: halve to the usual binary Brier score
    brier = squared / 2 if proba.shape[1] == 2 else squared
    return ModelScores(
        accuracy=accuracy,
        auc=float(np.mean(aucs)) if aucs else None,
        brier=float(brier),
        ece=expected_calibration_error(y, proba),
        n_test=n,
    )


def tree_features(
    df: pd.DataFrame, bins: Mapping[str, ColumnBins], features: Sequence[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Feature matrix for a gradient-boosted tree and its categorical mask.

    Numeric and datetime columns keep their values (missing as NaN, which the
    model handles); categorical and boolean columns become codes.
    """
    cols, mask = [], []
    for name in features:
        b = bins[name]
        kind = b.spec.kind
        if kind in (ColumnKind.CATEGORICAL, ColumnKind.BOOLEAN):
            cols.append(b.codes(df[name]).astype(float))
            mask.append(b.size <= _MAX_NATIVE_CATEGORIES)
        else:
            cols.append(numeric_values(df[name], kind))
            mask.append(False)
    return np.column_stack(cols), np.array(mask, dtype=bool)


def dp_features(
    df: pd.DataFrame, bins: Mapping[str, ColumnBins], features: Sequence[str]
) -> tuple[np.ndarray, float]:
    """Feature matrix for the DP logistic regression and its PUBLIC row-norm bound.

    Each categorical or boolean column is one-hot over its codes (exactly one 1
    per row); each numeric or datetime column is scaled to [0, 1] by its public
    range (values outside are clipped), with a missing-value indicator when the
    column is nullable (a missing value sets the indicator and leaves the value
    at 0). Every column therefore adds at most 1 to a row's squared norm, and
    ``sqrt(len(features))`` bounds every row's L2 norm without looking at the data.
    """
    blocks = []
    for name in features:
        b = bins[name]
        kind = b.spec.kind
        if kind in (ColumnKind.CATEGORICAL, ColumnKind.BOOLEAN):
            blocks.append(np.eye(b.size)[b.codes(df[name])])
            continue
        assert b.edges is not None
        lo, hi = float(b.edges[0]), float(b.edges[-1])
        v = numeric_values(df[name], kind)
        missing = np.isnan(v)
        scaled = np.where(missing, 0.0, (np.clip(v, lo, hi) - lo) / (hi - lo))
        blocks.append(scaled[:, None])
        if b.spec.nullable:
            blocks.append(missing.astype(float)[:, None])
    return np.hstack(blocks), math.sqrt(len(features))


def _aligned_proba(model: Any, X: np.ndarray, n_classes: int) -> np.ndarray:
    """Probabilities over all ``n_classes`` (classes unseen in training get 0)."""
    out = np.zeros((X.shape[0], n_classes))
    out[:, np.asarray(model.classes_, dtype=int)] = model.predict_proba(X)
    return out


def _fit_tree(X: np.ndarray, y: np.ndarray, mask: np.ndarray, seed: int) -> Any:
    from sklearn.dummy import DummyClassifier
    from sklearn.ensemble import HistGradientBoostingClassifier

    if len(np.unique(y)) < 2:
        return DummyClassifier(strategy="prior").fit(X, y)
    # early stopping on a seeded 10% validation split at every size: small or noisy
    # (synthetic) training tables then stop before fitting their noise
    model = HistGradientBoostingClassifier(
        categorical_features=mask if mask.any() else None, early_stopping=True, random_state=seed
    )
    return model.fit(X, y)


def _fit_dp(X: np.ndarray, y: np.ndarray, epsilon: float, data_norm: float, seed: int) -> Any:
    from diffprivlib.models import LogisticRegression
    from sklearn.dummy import DummyClassifier

    if len(np.unique(y)) < 2:
        return DummyClassifier(strategy="prior").fit(X, y)
    model = LogisticRegression(epsilon=epsilon, data_norm=data_norm, random_state=seed)
    with warnings.catch_warnings():
        # diffprivlib passes arguments its dependencies deprecated (multi_class, disp/iprint)
        warnings.filterwarnings("ignore", category=FutureWarning, message=".*multi_class.*")
        warnings.filterwarnings("ignore", category=DeprecationWarning, message=".*L-BFGS-B.*")
        return model.fit(X, y)


def fit_downstream(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    holdout: pd.DataFrame,
    schema: Schema,
    target: str,
    *,
    epsilon: float | None = None,
    seed: int = 0,
    bins: Mapping[str, ColumnBins] | None = None,
) -> DownstreamPredictions:
    """Train the compared classifiers and predict the real holdout.

    ``train_real`` and ``train_synthetic`` are scikit-learn
    HistGradientBoostingClassifiers trained on the real and on the synthetic
    table; ``dp_baseline`` (when ``epsilon`` is given) is diffprivlib's
    epsilon-DP LogisticRegression trained on the real table at ``epsilon``,
    with features scaled by the public schema only (:func:`dp_features`).
    Rows whose target is missing are left out of training and testing. A
    training table with a single class yields a constant (prior) predictor.

    Parameters
    ----------
    real, synthetic, holdout : pandas.DataFrame
        Real training table, synthetic table, real holdout table.
    schema : Schema
        Public schema of every column.
    target : str
        Column to predict; every other schema column is a feature.
    epsilon : float, optional
        Budget of the DP baseline (the release's epsilon); no baseline if None.
    seed : int
        Seed of the models' own randomness.
    bins : mapping, optional
        Precomputed :func:`schema_bins` of the three tables.

    Returns
    -------
    DownstreamPredictions
    """
    if target not in schema:
        raise parameter_error("target", target, f"one of the schema columns {list(schema.names)}")
    if epsilon is not None and not (isinstance(epsilon, (int, float)) and 0 < epsilon < math.inf):
        raise parameter_error("epsilon", epsilon, "a positive finite number")
    check_frames(schema, {"real": real, "synthetic": synthetic, "holdout": holdout})
    if bins is None:
        bins = schema_bins(schema, [real, synthetic, holdout])
    tb = bins[target]
    features = [n for n in schema.names if n != target]
    if not features:
        raise parameter_error("target", target, "a column of a table with at least one other column")
    codes = {role: tb.codes(df[target]) for role, df in (("real", real), ("synthetic", synthetic), ("holdout", holdout))}
    present = {role: c != tb.missing_code for role, c in codes.items()}
    used = np.unique(np.concatenate([c[present[role]] for role, c in codes.items()]))
    index = {int(code): i for i, code in enumerate(used)}
    classes = tuple(tb.labels[int(c)] for c in used)
    ys = {role: np.array([index[int(v)] for v in c[present[role]]], dtype=int) for role, c in codes.items()}
    notes = []
    if len(classes) < 2:
        notes.append(f"the target {target!r} takes a single value: the task is trivial")

    def rows(df: pd.DataFrame, role: str) -> pd.DataFrame:
        return df.loc[present[role]] if not present[role].all() else df

    test = rows(holdout, "holdout")
    X_test, mask = tree_features(test, bins, features)
    proba: dict[str, np.ndarray] = {}
    n_train: dict[str, int] = {}
    for name, role, df in (("train_real", "real", real), ("train_synthetic", "synthetic", synthetic)):
        X, _ = tree_features(rows(df, role), bins, features)
        model = _fit_tree(X, ys[role], mask, seed)
        proba[name] = _aligned_proba(model, X_test, len(classes))
        n_train[name] = len(ys[role])
        if len(np.unique(ys[role])) < 2:
            notes.append(f"{name}: the training table has fewer than two target classes")
    data_norm = None
    if epsilon is not None:
        Xd, data_norm = dp_features(rows(real, "real"), bins, features)
        Xd_test, _ = dp_features(test, bins, features)
        model = _fit_dp(Xd, ys["real"], float(epsilon), data_norm, seed)
        proba["dp_baseline"] = _aligned_proba(model, Xd_test, len(classes))
        n_train["dp_baseline"] = len(ys["real"])
    else:
        notes.append("no epsilon given: the DP baseline model was not trained")
    return DownstreamPredictions(
        target=target,
        classes=classes,
        rows=np.flatnonzero(present["holdout"]),
        y=ys["holdout"],
        proba=proba,
        n_train=n_train,
        dp_epsilon=None if epsilon is None else float(epsilon),
        dp_data_norm=data_norm,
        notes=tuple(notes),
    )


def downstream_result(predictions: DownstreamPredictions) -> DownstreamResult:
    """Score :class:`DownstreamPredictions` on the whole holdout."""
    return DownstreamResult(
        target=predictions.target,
        classes=predictions.classes,
        model="HistGradientBoostingClassifier (train_real, train_synthetic); "
        "diffprivlib LogisticRegression (dp_baseline)",
        scores=predictions.scores(),
        n_train=predictions.n_train,
        dp_epsilon=predictions.dp_epsilon,
        dp_data_norm=predictions.dp_data_norm,
        notes=predictions.notes,
    )


# ---------------------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------------------
def evaluate_utility(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    schema: Schema,
    *,
    holdout: pd.DataFrame | None = None,
    target: str | None = None,
    epsilon: float | None = None,
    n_three_way: int = 50,
    seed: int = 0,
    predictions: DownstreamPredictions | None = None,
) -> UtilityReport:
    """Measure how well ``synthetic`` reproduces ``real``.

    The result is computed from the real data: it is NOT covered by the
    differential-privacy guarantee and is not for release.

    Parameters
    ----------
    real : pandas.DataFrame
        The real table the synthesizer was trained on.
    synthetic : pandas.DataFrame
        The synthetic table (same columns).
    schema : Schema
        The schema used for the release, with public bounds or bins for every
        numeric and datetime column.
    holdout : pandas.DataFrame, optional
        Real rows NOT used for training; needed, with ``target``, for the
        downstream task.
    target : str, optional
        Column the downstream classifiers predict.
    epsilon : float, optional
        The release's epsilon: the budget of the DP baseline model.
    n_three_way : int
        Number of 3-way marginals sampled (all of them if there are fewer).
    seed : int
        Seed of the 3-way sample and of the models.
    predictions : DownstreamPredictions, optional
        Models already fitted by :func:`fit_downstream` on this ``holdout``
        (e.g. shared with :func:`dpsynth.release.slices.evaluate_slices`);
        used instead of fitting them again.

    Returns
    -------
    UtilityReport

    Raises
    ------
    InputDataError
        If a table lacks a schema column or has no rows.
    SchemaError
        If a numeric or datetime column has no public bounds or bins.
    ParameterError
        For a bad ``target``, ``epsilon`` or ``n_three_way``, or a target
        without a holdout.
    """
    if not isinstance(n_three_way, (int, np.integer)) or n_three_way < 0:
        raise parameter_error("n_three_way", n_three_way, "a non-negative integer")
    if target is not None and holdout is None:
        raise parameter_error("holdout", None, "a real holdout table when a target is given")
    if target is not None and target not in schema:
        raise parameter_error("target", target, f"one of the schema columns {list(schema.names)}")
    check_frames(schema, {"real": real, "synthetic": synthetic, "holdout": holdout})
    frames = [real, synthetic] + ([holdout] if holdout is not None else [])
    bins = schema_bins(schema, frames)
    rc, sc = encode_codes(real, bins), encode_codes(synthetic, bins)
    distributions = tuple(
        Distribution(
            name,
            b.labels,
            tuple((np.bincount(rc[name], minlength=b.size) / len(real)).tolist()),
            tuple((np.bincount(sc[name], minlength=b.size) / len(synthetic)).tolist()),
        )
        for name, b in bins.items()
    )
    numeric = tuple(
        numeric_distance(real[c.name], synthetic[c.name], c)
        for c in schema
        if c.kind.is_numeric or c.kind is ColumnKind.DATETIME
    )
    downstream = None
    notes = []
    if predictions is None and target is not None and holdout is not None:
        predictions = fit_downstream(
            real, synthetic, holdout, schema, target, epsilon=epsilon, seed=seed, bins=bins
        )
    if predictions is not None:
        downstream = downstream_result(predictions)
    else:
        notes.append("no target and holdout given: the downstream task was not run")
    return UtilityReport(
        n_real=len(real),
        n_synthetic=len(synthetic),
        n_holdout=None if holdout is None else len(holdout),
        marginals=tuple(marginal_tvds(rc, sc, bins, n_three_way=n_three_way, seed=seed)),
        distributions=distributions,
        correlations=compare_correlations(real, synthetic, schema, bins, rc, sc),
        numeric=numeric,
        downstream=downstream,
        seed=seed,
        n_three_way=n_three_way,
        notes=tuple(notes),
    )
