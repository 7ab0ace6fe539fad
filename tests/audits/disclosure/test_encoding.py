import numpy as np
import pandas as pd
import pytest

from audits.disclosure.encoding import GowerEncoder, category_labels, is_numeric
from audits.disclosure.neighbours import gower_distances


@pytest.fixture
def synthetic():
    return pd.DataFrame(
        {
            "age": [20.0, 40.0, 60.0, np.nan],
            "job": pd.Series(["a", "b", None, "a"], dtype="str"),
            "flag": [True, False, True, True],
        }
    )


def test_distance_is_a_gower_like_distance(synthetic):
    enc = GowerEncoder(synthetic, ["age", "job", "flag"], ["age"])
    rows = enc.transform(synthetic)
    d = gower_distances(rows, rows)
    # Numeric: |20 - 40| / range 40 = 0.5; categorical mismatch: 1 each.
    assert d[0, 1] == pytest.approx(0.5 + 1 + 1)
    assert np.diag(d).tolist() == [0.0] * 4
    # Missing is a category of its own for categories.
    missing_job = enc.transform(pd.DataFrame({"age": [20.0], "job": [None], "flag": [True]}))
    assert gower_distances(missing_job, rows)[0, 2] == pytest.approx(1.0)  # age: 40 / 40


def test_unseen_categories_differ_from_every_synthetic_value_and_from_each_other(synthetic):
    enc = GowerEncoder(synthetic, ["job"], [])
    rows = enc.transform(synthetic)
    unseen = enc.transform(pd.DataFrame({"job": ["zzz", "yyy"]}))
    assert gower_distances(unseen, rows).tolist() == [[1.0] * 4, [1.0] * 4]
    assert gower_distances(unseen, unseen).tolist() == [[0.0, 1.0], [1.0, 0.0]]
    # Codes given to unseen labels are kept for later tables.
    again = enc.transform(pd.DataFrame({"job": ["yyy"]}))
    assert gower_distances(again, unseen).tolist() == [[1.0, 0.0]]


def test_numeric_missing_costs_one_plus_the_gap_to_the_median(synthetic):
    enc = GowerEncoder(synthetic, ["age"], ["age"])
    rows = enc.transform(pd.DataFrame({"age": [40.0, np.nan]}))
    # Missing values sit at the synthetic median (40) with an indicator.
    assert gower_distances(rows, rows)[0, 1] == pytest.approx(1.0)


def test_constant_numeric_column_keeps_raw_units():
    enc = GowerEncoder(pd.DataFrame({"x": [3.0, 3.0]}), ["x"], ["x"])
    rows = enc.transform(pd.DataFrame({"x": [3.0, 5.0]}))
    assert gower_distances(rows, rows)[0, 1] == pytest.approx(2.0)


def test_column_kinds_and_labels():
    assert is_numeric(pd.Series([1, 2])) and not is_numeric(pd.Series([True, False]))
    assert not is_numeric(pd.Series(["a"], dtype="str"))
    labels = category_labels(pd.Series(["x", None, "nan"], dtype="str"))
    assert labels[0] == "x" and labels[2] == "nan" and labels[1] != "nan"
