"""Tests of dpsynth.release.utility: exact values on small tables, behaviour on Adult."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pandas as pd
import pytest
from diffprivlib.utils import PrivacyLeakWarning

from dpsynth.errors import InputDataError, ParameterError, SchemaError
from dpsynth.release.utility import (
    MISSING_LABEL,
    NOT_COVERED_NOTICE,
    OTHER_LABEL,
    column_bins,
    cramers_v,
    dp_features,
    evaluate_utility,
    expected_calibration_error,
    fit_downstream,
    sample_triples,
    schema_bins,
    score_probabilities,
)
from dpsynth.schema import ColumnSpec, Schema


def _schema(*specs: ColumnSpec) -> Schema:
    return Schema(specs)


CAT = ColumnSpec("c", "categorical", categories=("a", "b"), nullable=True)
NUM = ColumnSpec("x", "continuous", lower=0.0, upper=100.0, bins=10)


# -- discretisation -------------------------------------------------------------------
def test_numeric_bins_use_public_edges_and_clip():
    b = column_bins(NUM)
    assert b.labels[0] == "[0, 10)" and b.labels[-2] == "[90, 100]" and b.labels[-1] == MISSING_LABEL
    codes = b.codes(pd.Series([-5.0, 0.0, 9.99, 10.0, 100.0, 250.0, None]))
    assert codes.tolist() == [0, 0, 0, 1, 9, 9, 10]


def test_categorical_bins_keep_unknown_and_missing_apart():
    b = column_bins(CAT)
    assert b.labels == ("a", "b", OTHER_LABEL, MISSING_LABEL)
    codes = b.codes(pd.Series(["a", "zz", None, "b"], dtype="string"))
    assert codes.tolist() == [0, 2, 3, 1]


def test_datetime_bins_from_iso_bounds():
    spec = ColumnSpec("d", "datetime", lower="2020-01-01", upper="2020-01-11", bins=10)
    b = column_bins(spec)
    assert b.labels[0] == "[2020-01-01, 2020-01-02)"
    text = pd.Series(["2020-01-01", "2020-01-05 12:00", "2021-01-01", None], dtype="string")
    assert b.codes(text).tolist() == [0, 4, 9, 10]
    assert b.codes(pd.Series(pd.to_datetime(text, format="mixed"))).tolist() == [0, 4, 9, 10]


def test_incomplete_numeric_columns_are_all_named():
    s = _schema(ColumnSpec("x", "integer"), ColumnSpec("y", "continuous", lower=0.0), CAT)
    with pytest.raises(SchemaError) as info:
        schema_bins(s)
    assert [p.column for p in info.value.problems] == ["x", "y"]
    assert "schema completed by discovery" in str(info.value)


# -- marginals -------------------------------------------------------------------------
def test_tvd_exact_on_small_tables():
    s = _schema(CAT)
    real = pd.DataFrame({"c": pd.Series(["a", "a", "b", "b"], dtype="string")})
    synth = pd.DataFrame({"c": pd.Series(["a", "a", "a", "b"], dtype="string")})
    assert evaluate_utility(real, synth, s).tvds(1) == [pytest.approx(0.25)]
    # a missing value is a value of its own: half the mass moved
    real = pd.DataFrame({"c": pd.Series(["a", None], dtype="string")})
    synth = pd.DataFrame({"c": pd.Series(["a", "a"], dtype="string")})
    assert evaluate_utility(real, synth, s).tvds(1) == [pytest.approx(0.5)]
    synth = pd.DataFrame({"c": pd.Series(["b", "b"], dtype="string")})
    real = pd.DataFrame({"c": pd.Series(["a", "a"], dtype="string")})
    assert evaluate_utility(real, synth, s).tvds(1) == [pytest.approx(1.0)]


def test_identical_tables_match_exactly(adult_real, schema):
    r = evaluate_utility(adult_real, adult_real.copy(), schema, n_three_way=5)
    assert max(m.tvd for m in r.marginals) == 0.0
    c = r.correlations
    assert c.pearson_diff["max_abs_diff"] == 0.0 and c.cramers_v_diff["max_abs_diff"] == 0.0
    assert all(n.wasserstein == 0.0 and n.ks_statistic == 0.0 for n in r.numeric)


def test_shuffled_columns_keep_one_way_and_break_dependence(adult_real, adult_shuffled, schema):
    r = evaluate_utility(adult_real, adult_shuffled, schema, n_three_way=10, seed=3)
    k = len(schema)
    assert len(r.tvds(1)) == k and len(r.tvds(2)) == k * (k - 1) // 2 and len(r.tvds(3)) == 10
    # a permutation preserves every count
    assert max(r.tvds(1)) == 0.0
    # education determines education-num: real mass sits on 16 of 256 cells (one per
    # education), the shuffled pair puts about 1 - sum p_i^2 of it off those cells; the
    # diagonal mass of a 3,000-row permutation varies by about sqrt(sum p_i^2 / n) < 0.008,
    # so 0.03 is about 4 standard deviations
    pair = next(m for m in r.marginals if set(m.columns) == {"education", "education-num"})
    p = adult_real["education"].value_counts(normalize=True).to_numpy()
    assert pair.tvd == pytest.approx(1 - (p**2).sum(), abs=0.03)
    v = r.correlations
    i, j = v.association_columns.index("education"), v.association_columns.index("education-num")
    assert v.cramers_v_real[i, j] == pytest.approx(1.0)
    assert v.cramers_v_synthetic[i, j] < 0.2


def test_three_way_sample_is_seeded_and_distinct():
    names = [f"c{i}" for i in range(8)]
    a, b = sample_triples(names, 20, seed=5), sample_triples(names, 20, seed=5)
    assert a == b and len(set(a)) == 20 and all(len(set(t)) == 3 for t in a)
    assert sample_triples(names, 20, seed=6) != a
    assert len(sample_triples(names, 50, seed=0)) == 50  # more than half of the 56: other branch
    assert len(sample_triples(names, 1000, seed=0)) == math.comb(8, 3)


# -- correlations and numeric distances -------------------------------------------------
def test_cramers_v_extremes():
    a = np.array([0, 1, 2, 0, 1, 2])
    assert cramers_v(a, a, 3, 3) == pytest.approx(1.0)
    # a product table (every cell 2) has no association at all
    x, y = np.repeat([0, 1], 6), np.tile([0, 1, 2], 4)
    assert cramers_v(x, y, 2, 3) == pytest.approx(0.0)
    assert cramers_v(np.zeros(4, dtype=int), np.array([0, 1, 0, 1]), 1, 2) == 0.0


def test_wasserstein_is_the_shift_over_the_public_range():
    s = _schema(NUM)
    real = pd.DataFrame({"x": np.linspace(0, 50, 101)})
    synth = pd.DataFrame({"x": np.linspace(0, 50, 101) + 10})
    r = evaluate_utility(real, synth, s)
    (d,) = r.numeric
    assert d.wasserstein == pytest.approx(10 / 100)
    # the CDFs differ by the 20 grid points in [0, 10): 20/101 of the mass
    assert d.ks_statistic == pytest.approx(20 / 101)
    assert d.real_mean == pytest.approx(25) and d.synthetic_mean == pytest.approx(35)


# -- scores --------------------------------------------------------------------------------
def test_ece_of_known_cases():
    y = np.array([0, 1, 0, 1])
    overconfident = np.array([[0.9, 0.1], [0.9, 0.1], [0.1, 0.9], [0.1, 0.9]])
    # every row at confidence 0.9, half of them right: |0.5 - 0.9|
    assert expected_calibration_error(y, overconfident) == pytest.approx(0.4)
    honest = np.array([[0.5, 0.5]] * 4)
    assert expected_calibration_error(y, honest) == pytest.approx(0.0)


def test_scores_of_perfect_and_uninformative_predictions():
    y = np.array([0, 1, 1, 0, 2])
    s = score_probabilities(y, np.eye(3)[y])
    assert (s.accuracy, s.auc, s.brier, s.ece) == (1.0, 1.0, 0.0, 0.0)
    yb = np.array([0, 1, 1, 0])
    flat = score_probabilities(yb, np.full((4, 2), 0.5))
    assert flat.auc == 0.5 and flat.brier == pytest.approx(0.25)


# -- downstream ------------------------------------------------------------------------------
def test_dp_features_bounded_by_public_norm(adult_real, schema):
    bins = schema_bins(schema, [adult_real])
    features = [n for n in schema.names if n != "income"]
    odd = adult_real.head(50).copy()
    odd.loc[0, "capital-gain"] = 10**9  # outside the public range: clipped, not rescaled
    X, norm = dp_features(odd, bins, features)
    assert norm == pytest.approx(math.sqrt(len(features)))
    assert np.linalg.norm(X, axis=1).max() <= norm + 1e-12
    assert X.min() >= 0.0 and X.max() <= 1.0
    X2, _ = dp_features(adult_real.head(50), bins, features)
    assert X.shape == X2.shape  # the layout depends on the schema, not on the values


def test_training_on_a_copy_of_real_scores_like_real(adult_real, adult_holdout, schema):
    with warnings.catch_warnings():
        warnings.simplefilter("error", PrivacyLeakWarning)
        p = fit_downstream(
            adult_real, adult_real.copy(), adult_holdout, schema, "income", epsilon=1.0, seed=0
        )
    scores = p.scores()
    assert scores["train_real"] == scores["train_synthetic"]
    assert p.classes == ("<=50K", ">50K")
    assert set(scores) == {"train_real", "train_synthetic", "dp_baseline"}
    # a gradient-boosted tree on Adult is far better than the majority class (~0.76)
    assert scores["train_real"].accuracy > 0.8 and scores["train_real"].auc > 0.85


def test_dp_baseline_learns_an_easy_task_at_a_large_epsilon():
    s = _schema(NUM, ColumnSpec("y", "categorical", categories=("lo", "hi")))
    x = np.linspace(0, 100, 2000)
    df = pd.DataFrame({"x": x, "y": pd.Series(np.where(x > 50, "hi", "lo"), dtype="string")})
    p = fit_downstream(df, df, df, s, "y", epsilon=1e4, seed=0)
    assert p.scores()["dp_baseline"].accuracy > 0.9


def test_single_class_training_table_gives_a_prior_predictor(adult_real, adult_holdout, schema):
    synth = adult_real[adult_real["income"] == "<=50K"].reset_index(drop=True)
    p = fit_downstream(adult_real, synth, adult_holdout, schema, "income", seed=0)
    proba = p.proba["train_synthetic"]
    assert np.allclose(proba, [[1.0, 0.0]])
    assert any("fewer than two target classes" in n for n in p.notes)
    assert "dp_baseline" not in p.proba


def test_report_is_json_and_marked_not_covered(adult_real, adult_shuffled, adult_holdout, schema):
    r = evaluate_utility(
        adult_real, adult_shuffled, schema, holdout=adult_holdout, target="income",
        epsilon=1.0, n_three_way=5,
    )
    d = json.loads(json.dumps(r.to_dict(), allow_nan=False))
    assert d["covered_by_dp"] is False and d["notice"] == NOT_COVERED_NOTICE
    assert d["downstream"]["scores"]["dp_baseline"]["n_test"] == len(adult_holdout)
    assert set(d["distributions"]) == set(schema.names)
    assert d["marginals"]["one_way"]["count"] == len(schema)
    summary = r.summary()
    assert list(summary.columns) == ["metric", "value"]
    assert "train_synthetic AUC" in set(summary["metric"])
    table = r.marginal_table()
    assert len(table) == len(r.marginals) and table["order"].is_monotonic_increasing


# -- bad input ----------------------------------------------------------------------------------
def test_bad_arguments_are_named(adult_real, schema):
    with pytest.raises(ParameterError, match=r"^holdout \(None\) must be"):
        evaluate_utility(adult_real, adult_real, schema, target="income")
    with pytest.raises(ParameterError, match=r"^target \('salary'\) must be one of"):
        evaluate_utility(adult_real, adult_real, schema, holdout=adult_real, target="salary")
    with pytest.raises(ParameterError, match=r"^epsilon \(0\) must be a positive"):
        fit_downstream(adult_real, adult_real, adult_real, schema, "income", epsilon=0)
    with pytest.raises(ParameterError, match=r"^n_three_way \(-1\)"):
        evaluate_utility(adult_real, adult_real, schema, n_three_way=-1)


def test_missing_columns_are_listed_at_once(adult_real, schema):
    synth = adult_real.drop(columns=["age", "sex"])
    with pytest.raises(InputDataError) as info:
        evaluate_utility(adult_real, synth, schema)
    assert [p.column for p in info.value.problems] == ["age", "sex"]
    assert "synthetic table lacks" in str(info.value)


def test_every_column_kind_end_to_end():
    """Datetime, boolean, nullable numeric and a categorical without a category list."""
    rng = np.random.default_rng(0)
    n = 600
    days = rng.integers(0, 365, n)
    flag = days > 180
    df = pd.DataFrame(
        {
            "when": pd.Timestamp("2023-01-01") + pd.to_timedelta(days, unit="D"),
            "flag": flag,
            "score": np.where(rng.random(n) < 0.1, np.nan, rng.normal(50, 10, n)),
            "city": pd.Series(rng.choice(["north", "south"], n), dtype="string"),
        }
    )
    s = _schema(
        ColumnSpec("when", "datetime", lower="2023-01-01", upper="2024-01-01", bins=12),
        ColumnSpec("flag", "boolean"),
        ColumnSpec("score", "continuous", lower=0.0, upper=100.0, nullable=True),
        ColumnSpec("city", "categorical", nullable=True),
    )
    r = evaluate_utility(df, df.copy(), s, holdout=df, target="flag", epsilon=1.0)
    assert max(m.tvd for m in r.marginals) == 0.0
    assert [n.column for n in r.numeric] == ["when", "score"]
    assert r.numeric[1].real_missing == pytest.approx(np.isnan(df["score"]).mean())
    assert r.correlations.numeric_columns == ("when", "score")
    # flag is a function of the date: a tree trained on either copy predicts it almost exactly
    assert r.downstream.scores["train_synthetic"].accuracy > 0.95
    assert r.downstream.classes == ("False", "True")
    bins = schema_bins(s, [df])
    X, norm = dp_features(df, bins, ["when", "score", "city"])
    # when (1) + score and its missing indicator (2) + city one-hot (2 values, other, missing)
    assert X.shape == (n, 1 + 2 + 4) and norm == pytest.approx(math.sqrt(3))
    assert np.linalg.norm(X, axis=1).max() <= norm + 1e-12


def test_boolean_values_in_any_spelling():
    b = column_bins(ColumnSpec("b", "boolean", nullable=True))
    values = pd.Series([True, False, 1.0, 0, "true", "False", "1", None], dtype=object)
    assert b.codes(values).tolist() == [1, 0, 1, 0, 1, 0, 1, 2]
