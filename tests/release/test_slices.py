"""Tests of dpsynth.release.slices: the stated rules on tables built to break them."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from dpsynth.errors import ParameterError
from dpsynth.release.slices import SliceRule, evaluate_slices
from dpsynth.release.utility import NOT_COVERED_NOTICE, fit_downstream


def _scramble_subgroup(real: pd.DataFrame, column: str, value: str, seed: int) -> pd.DataFrame:
    """Permute every other column independently inside one subgroup only."""
    rng = np.random.default_rng(seed)
    out = real.copy()
    rows = np.flatnonzero((real[column] == value).to_numpy())
    for c in real.columns:
        if c != column:
            out.loc[rows, c] = real[c].to_numpy()[rng.permutation(rows)]
    return out


def test_a_copy_raises_no_flag(adult_real, schema):
    r = evaluate_slices(adult_real, adult_real.copy(), schema, by=["sex", "race"])
    assert not r.flagged and not r.flagged_rare_classes
    assert all(s.tvd_2way == 0.0 and s.excess_2way <= 0.0 for s in r.slices)
    assert {(s.column, s.value) for s in r.slices} >= {("sex", "Female"), ("race", "Black")}
    assert all(rc.relative_error == 0.0 for rc in r.rare_classes)


def test_a_subgroup_whose_dependences_are_erased_is_flagged(adult_real, schema):
    synth = _scramble_subgroup(adult_real, "sex", "Female", seed=0)
    r = evaluate_slices(adult_real, synth, schema, by=["sex"], seed=0)
    by_value = {s.value: s for s in r.slices}
    female, male = by_value["Female"], by_value["Male"]
    assert female.flags == ("fidelity",)
    assert male.flags == () and male.tvd_2way == 0.0
    # the one-way marginals of the other columns within the subgroup are untouched
    assert female.tvd_1way == pytest.approx(0.0)
    assert female.excess_2way > r.rule.ratio * r.overall["sex"]["excess_2way"]


def test_a_vanished_rare_class_is_flagged(adult_real, schema):
    synth = adult_real.copy()
    synth["race"] = synth["race"].replace("Amer-Indian-Eskimo", "White")
    n = int((adult_real["race"] == "Amer-Indian-Eskimo").sum())
    assert n >= 20  # the sample holds enough of them to judge
    rule = SliceRule(min_size=20)
    r = evaluate_slices(adult_real, synth, schema, by=["race"], rule=rule)
    (gone,) = [c for c in r.rare_classes if c.value == "Amer-Indian-Eskimo"]
    assert gone.flagged and gone.relative_error == 1.0 and gone.synthetic_frequency == 0.0
    (flagged,) = r.flagged_rare_classes
    assert flagged == gone
    (sl,) = [s for s in r.slices if s.value == "Amer-Indian-Eskimo"]
    assert "share" in sl.flags and sl.n_synthetic == 0 and sl.tvd_2way is None


def test_small_subgroups_are_reported_not_judged(adult_real, schema):
    synth = _scramble_subgroup(adult_real, "race", "Other", seed=0)
    r = evaluate_slices(adult_real, synth, schema, by=["race"], rule=SliceRule(min_size=100))
    (other,) = [s for s in r.slices if s.value == "Other"]
    assert other.n_real < 100 and not other.judged and other.flags == ()
    assert other.excess_2way > 0.1  # visibly damaged, yet too small to flag


def test_a_subgroup_the_synthetic_model_mispredicts_is_flagged(adult_real, adult_holdout, schema):
    synth = adult_real.copy()
    synth.loc[synth["sex"] == "Female", "income"] = ">50K"
    r = evaluate_slices(
        adult_real, synth, schema, by=["sex"], holdout=adult_holdout, target="income", seed=0
    )
    by_value = {s.value: s for s in r.slices}
    assert "downstream" in by_value["Female"].flags
    assert "downstream" not in by_value["Male"].flags
    assert by_value["Female"].accuracy_gap > 0.5
    assert by_value["Female"].n_holdout == int((adult_holdout["sex"] == "Female").sum())


def test_reusing_predictions_gives_the_same_figures(adult_real, adult_shuffled, adult_holdout, schema):
    p = fit_downstream(adult_real, adult_shuffled, adult_holdout, schema, "income", seed=0)
    a = evaluate_slices(adult_real, adult_shuffled, schema, by=["sex"], holdout=adult_holdout, predictions=p)
    b = evaluate_slices(
        adult_real, adult_shuffled, schema, by=["sex"], holdout=adult_holdout, target="income"
    )
    assert a.to_dict() == b.to_dict()


def test_report_is_json_and_marked_not_covered(adult_real, adult_shuffled, adult_holdout, schema):
    r = evaluate_slices(
        adult_real, adult_shuffled, schema, by=["sex", "race"], holdout=adult_holdout,
        target="income", epsilon=1.0,
    )
    d = json.loads(json.dumps(r.to_dict(), allow_nan=False))
    assert d["covered_by_dp"] is False and d["notice"] == NOT_COVERED_NOTICE
    assert "2x" in d["rule"]["text"] and set(d["overall"]) == {"sex", "race"}
    assert set(d["slices"][0]["scores"]) == {"train_real", "train_synthetic", "dp_baseline"}
    assert len(r.table()) == len(r.slices)
    rare = r.rare_table()
    assert rare["relative_error"].is_monotonic_decreasing


def test_bad_arguments_are_named(adult_real, schema):
    with pytest.raises(ParameterError, match=r"^by \(\['gender'\]\) must be schema columns"):
        evaluate_slices(adult_real, adult_real, schema, by=["gender"])
    with pytest.raises(ParameterError, match=r"^by \(\[\]\)"):
        evaluate_slices(adult_real, adult_real, schema, by=[])
    with pytest.raises(ParameterError, match=r"^holdout \(None\) must be a real holdout"):
        evaluate_slices(adult_real, adult_real, schema, by=["sex"], target="income")
    with pytest.raises(ParameterError, match=r"^ratio \(0.5\) must be a number >= 1"):
        SliceRule(ratio=0.5)


def test_a_holdout_without_target_gives_fidelity_only(adult_real, adult_holdout, schema):
    r = evaluate_slices(adult_real, adult_real.copy(), schema, by=["sex"], holdout=adult_holdout)
    assert all(s.scores is None and s.n_holdout is None for s in r.slices)
    assert r.overall["sex"]["accuracy_gap"] is None
