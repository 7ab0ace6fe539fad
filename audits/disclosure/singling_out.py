"""Singling out: predicates that hold for exactly one synthetic record, tried on real records.

An attacker who can write down a predicate that exactly one person in the
training data satisfies has singled that person out. From the release the
attacker builds conjunctions over ``n_columns`` random columns of a random
synthetic record: ``column == value`` for categories and inner numeric values,
``column <= value`` or ``column >= value`` when the value is the synthetic
minimum or maximum (the outliers that single people out), ``column is
missing`` for missing values. Only predicates that hold for exactly one
synthetic record are kept.

Success is the share of these predicates that hold for exactly one record of
the training data; the control is the same share on the holdout. Both are
counted on tables of equal size (a random subset of the larger), because the
chance that a predicate isolates one record depends on the table's size. The
naive baseline builds predicates from values drawn column by column from the
synthetic table, without the uniqueness filter.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from audits.disclosure.encoding import category_labels, numeric_values
from audits.disclosure.stats import RiskEstimate

#: Candidate predicates drawn per predicate wanted before giving up.
_TRIES_PER_PREDICATE = 20


@dataclass(frozen=True)
class SinglingOutResult:
    """Singling out of training records by predicates unique in the release.

    Attributes
    ----------
    n_columns : int
        Columns per predicate.
    n_predicates : int
        Predicates unique in the synthetic table that were tried.
    n_records : int
        Size of the equal-size training and holdout tables they were tried on.
    estimate : RiskEstimate
        Attack (training), control (holdout) and baseline (random predicates).
    """

    n_columns: int
    n_predicates: int
    n_records: int
    estimate: RiskEstimate

    def to_dict(self) -> dict:
        """JSON-ready dictionary."""
        return {
            "n_columns": self.n_columns,
            "n_predicates": self.n_predicates,
            "n_records": self.n_records,
            "estimate": self.estimate.to_dict(),
        }


class _Columns:
    """Columns of several tables in comparable form: floats, or shared integer codes."""

    def __init__(self, frames: Sequence[pd.DataFrame], columns: Sequence[str], numeric: set[str]):
        self.columns = list(columns)
        self.numeric = [c in numeric for c in self.columns]
        self.tables: list[list[np.ndarray]] = [[] for _ in frames]
        for col, is_num in zip(self.columns, self.numeric, strict=True):
            if is_num:
                for table, frame in zip(self.tables, frames, strict=True):
                    table.append(numeric_values(frame[col]))
            else:
                labels = np.concatenate([category_labels(f[col]) for f in frames])
                codes = pd.factorize(labels)[0].astype(float)
                bounds = np.cumsum([0] + [len(f) for f in frames])
                for i, table in enumerate(self.tables):
                    table.append(codes[bounds[i] : bounds[i + 1]])


def _holds(table: list[np.ndarray], predicate: tuple) -> np.ndarray:
    mask = np.ones(len(table[0]), dtype=bool)
    for col, op, value in predicate:
        values = table[col]
        if op == "missing":
            mask &= np.isnan(values)
        elif op == "==":
            mask &= values == value
        elif op == "<=":
            mask &= values <= value
        else:
            mask &= values >= value
    return mask


def _predicate(row: np.ndarray, cols: np.ndarray, low: np.ndarray, high: np.ndarray) -> tuple:
    """Terms (column, op, value) from one record; ``low``/``high`` are synthetic extremes."""
    terms = []
    for col in sorted(int(c) for c in cols):
        value = float(row[col])
        if np.isnan(value):
            # A fixed value keeps equal predicates equal (NaN != NaN).
            terms.append((col, "missing", 0.0))
        elif value <= low[col]:
            terms.append((col, "<=", value))
        elif value >= high[col]:
            terms.append((col, ">=", value))
        else:
            terms.append((col, "==", value))
    return tuple(terms)


def singling_out(
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    synthetic: pd.DataFrame,
    *,
    numeric: Sequence[str],
    n_predicates: int,
    n_columns: int,
    rng: np.random.Generator,
    confidence: float,
    ci_method: str,
) -> SinglingOutResult | None:
    """Build predicates unique in the release and count how many isolate one real record.

    Parameters
    ----------
    train, holdout, synthetic : pandas.DataFrame
        Tables with the same columns.
    numeric : sequence of str
        Columns treated as numeric.
    n_predicates : int
        Predicates wanted (fewer when the release has too few unique ones).
    n_columns : int
        Columns per predicate (at most the number of columns).
    rng : numpy.random.Generator
        Draws records, columns and subsets.
    confidence : float
        Confidence of the risk interval.
    ci_method : {"exact", "wilson"}
        Binomial interval.

    Returns
    -------
    SinglingOutResult or None
        None when no predicate unique in the synthetic table was found.
    """
    size = min(len(train), len(holdout))
    train = train.iloc[np.sort(rng.choice(len(train), size, replace=False))]
    holdout = holdout.iloc[np.sort(rng.choice(len(holdout), size, replace=False))]
    columns = _Columns([synthetic, train, holdout], list(synthetic.columns), set(numeric))
    syn, real, control = columns.tables
    n_columns = min(n_columns, len(columns.columns))
    matrix = np.column_stack(syn)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-missing columns
        low, high = np.nanmin(matrix, axis=0), np.nanmax(matrix, axis=0)
    # Category codes carry no order: only numeric columns get range terms.
    categorical = ~np.array(columns.numeric)
    low[categorical], high[categorical] = -np.inf, np.inf

    found: dict[tuple, None] = {}  # insertion-ordered, so runs are reproducible
    for _ in range(_TRIES_PER_PREDICATE * n_predicates):
        if len(found) == n_predicates:
            break
        row = matrix[rng.integers(len(matrix))]
        cols = rng.choice(len(columns.columns), n_columns, replace=False)
        predicate = _predicate(row, cols, low, high)
        if predicate not in found and _holds(syn, predicate).sum() == 1:
            found[predicate] = None
    if not found:
        return None
    predicates = list(found)

    baseline = 0
    for _ in predicates:
        cols = rng.choice(len(columns.columns), n_columns, replace=False)
        # Each column's value from its own random synthetic record: no joint structure used.
        row = matrix[rng.integers(len(matrix), size=matrix.shape[1]), np.arange(matrix.shape[1])]
        baseline += int(_holds(real, _predicate(row, cols, low, high)).sum() == 1)

    estimate = RiskEstimate.from_counts(
        sum(int(_holds(real, p).sum() == 1) for p in predicates),
        sum(int(_holds(control, p).sum() == 1) for p in predicates),
        baseline,
        trials=len(predicates),
        control_trials=len(predicates),
        baseline_trials=len(predicates),
        confidence=confidence,
        ci_method=ci_method,
    )
    return SinglingOutResult(n_columns, len(predicates), size, estimate)
