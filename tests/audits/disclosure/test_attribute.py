import numpy as np
import pandas as pd
import pytest

from audits.disclosure.attribute import attribute_inference


def _run(train, control, synthetic, secret, numeric=(), tolerance=0.05, method="nearest"):
    known = [c for c in synthetic.columns if c != secret]
    return attribute_inference(
        train,
        control,
        synthetic,
        secret=secret,
        known=known,
        numeric=list(numeric),
        relative_tolerance=tolerance,
        confidence=0.95,
        ci_method="exact",
        method=method,
    )


def test_copied_records_give_every_secret_away(adult):
    train, control = adult.iloc[:100], adult.iloc[100:200]
    result = _run(train, control, train, "income", numeric=["age", "fnlwgt"])
    est = result.estimate
    assert est.attack.rate == 1.0 and result.cap_train == (1.0,) * 100
    assert est.risk == 1.0 and est.beats_baseline
    assert est.control.rate < 1.0
    assert result.tolerance is None and result.known[0] == "age"


def test_cap_is_the_share_of_closest_records_holding_the_true_secret():
    synthetic = pd.DataFrame({"key": ["k"] * 4 + ["other"], "secret": ["s", "s", "s", "t", "t"]})
    targets = pd.DataFrame({"key": ["k", "k"], "secret": ["s", "t"]})
    result = _run(targets, targets, synthetic, "secret")
    assert result.cap_train == (0.75, 0.25)
    # The guess is the tied records' majority, "s": right for the first target only.
    assert result.estimate.attack.successes == 1
    # Naive baseline: the value most synthetic records hold ("s" for 3 of 5).
    assert result.estimate.baseline.successes == 1


def test_numeric_secret_is_judged_within_tolerance_of_its_synthetic_range():
    synthetic = pd.DataFrame({"key": ["a", "b", "c"], "pay": [0.0, 50.0, 100.0]})
    # Tolerance 0.05 * range 100 = 5: a miss by 4 counts, a miss by 6 does not.
    targets = pd.DataFrame({"key": ["a", "b", "c"], "pay": [4.0, 56.0, 100.0]})
    result = _run(targets, targets, synthetic, "pay", numeric=["pay"])
    assert result.tolerance == pytest.approx(5.0)
    assert result.estimate.attack.successes == 2
    assert result.cap_train == (1.0, 0.0, 1.0)


def test_numeric_baseline_guesses_the_densest_window():
    synthetic = pd.DataFrame({"key": list("abcdef"), "pay": [0.0, 1.0, 2.0, 3.0, 90.0, 100.0]})
    targets = pd.DataFrame({"key": list("xyz"), "pay": [1.5, 11.0, 95.0]})
    # Tolerance 5: the guess 5 is right for the four values 0..3 and anything in [0, 10];
    # of the targets, for 1.5 only.
    result = _run(targets, targets, synthetic, "pay", numeric=["pay"])
    assert result.estimate.baseline.successes == 1


def test_missing_secrets_are_right_only_when_guessed_missing():
    synthetic = pd.DataFrame({"key": ["a", "b"], "pay": [np.nan, 7.0], "job": [None, "x"]})
    targets = pd.DataFrame({"key": ["a", "b"], "pay": [np.nan, np.nan], "job": [None, None]})
    numeric_result = _run(targets, targets, synthetic.drop(columns="job"), "pay", ["pay"])
    assert numeric_result.cap_train == (1.0, 0.0)
    categorical = _run(targets, targets, synthetic.drop(columns="pay"), "job")
    assert categorical.cap_train == (1.0, 0.0)


def test_model_attack_learns_a_rule_the_synthetic_table_follows():
    rng = np.random.default_rng(4)

    def table(n):
        x = rng.random(n)
        return pd.DataFrame(
            {
                "x": x,
                "c": pd.Series(rng.choice(["u", "v"], n), dtype="str"),
                "band": np.where(x > 0.5, "high", "low"),
                "pay": 100.0 * x,
            }
        )

    synthetic, targets = table(400), table(100)
    band = _run(targets, targets, synthetic.drop(columns="pay"), "band", ["x"], method="model")
    assert band.method == "model" and band.to_dict()["method"] == "model"
    # Trees split x near 0.5; only targets between the synthetic values around it can miss.
    assert band.estimate.attack.rate >= 0.97
    # Tolerance 5% of a range near 100: a tree fit to a line is within it almost everywhere.
    pay = _run(
        targets, targets, synthetic.drop(columns="band"), "pay", ["x", "pay"], method="model"
    )
    assert pay.estimate.attack.rate >= 0.97
    assert pay.estimate.baseline.rate < 0.2
