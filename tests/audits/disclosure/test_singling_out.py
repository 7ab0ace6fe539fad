import numpy as np
import pandas as pd
import pytest
from scipy.stats import binomtest

from audits.disclosure.singling_out import _holds, _predicate, singling_out


def _run(train, holdout, synthetic, n_columns=3, n_predicates=100, seed=0):
    numeric = [c for c in synthetic.columns if pd.api.types.is_numeric_dtype(synthetic[c])]
    return singling_out(
        train,
        holdout,
        synthetic,
        numeric=numeric,
        n_predicates=n_predicates,
        n_columns=n_columns,
        rng=np.random.default_rng(seed),
        confidence=0.95,
        ci_method="exact",
    )


def test_predicates_unique_in_a_copy_single_out_every_time(adult):
    train, holdout = adult.iloc[:300], adult.iloc[300:600]
    result = _run(train, holdout, train)
    est = result.estimate
    assert result.n_predicates == 100 and result.n_records == 300
    assert est.attack.rate == 1.0 and est.risk == 1.0
    # 100/100 at 97.5% (Bonferroni half of 95%): the exact lower bound is 0.0125 ** (1 / 100).
    assert est.attack.ci[0] == pytest.approx(0.0125 ** (1 / 100))
    assert est.control.rate < 0.5


def test_extremes_become_ranges_and_missing_values_a_missing_test():
    low = np.array([0.0, 0.0])
    high = np.array([10.0, 10.0])
    assert _predicate(np.array([0.0, 10.0]), np.array([1, 0]), low, high) == (
        (0, "<=", 0.0),
        (1, ">=", 10.0),
    )
    assert _predicate(np.array([np.nan, 5.0]), np.array([0, 1]), low, high) == (
        (0, "missing", 0.0),
        (1, "==", 5.0),
    )
    table = [np.array([np.nan, 1.0, np.nan]), np.array([5.0, 5.0, 4.0])]
    assert _holds(table, ((0, "missing", 0.0), (1, "==", 5.0))).tolist() == [True, False, False]


def test_no_unique_predicate_gives_no_result():
    same = pd.DataFrame({"a": ["x"] * 10, "b": [1.0] * 10})
    assert _run(same, same, same) is None


def test_tables_are_compared_at_equal_size(adult):
    result = _run(adult.iloc[:400], adult.iloc[400:600], adult.iloc[600:900], n_predicates=20)
    assert result.n_records == 200


def test_baseline_counts_random_predicates(adult):
    result = _run(adult.iloc[:300], adult.iloc[300:600], adult.iloc[600:900], n_predicates=50)
    base = result.estimate.baseline
    assert base.trials == 50
    assert base.ci == pytest.approx(
        tuple(binomtest(base.successes, 50).proportion_ci(confidence_level=0.975))
    )
