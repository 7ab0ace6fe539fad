import math

import pytest

from dpsynth.errors import ParameterError
from dpsynth.synthesizers import AIM


def test_workload_columns_are_checked_before_any_spend(correlated):
    df, schema = correlated
    with pytest.raises(ParameterError, match=r"unknown: \['zzz'\]"):
        AIM(workload=[("a", "zzz")]).fit(df, schema)


def test_aim_spends_exactly_its_budget_and_measures_selected_marginals(correlated):
    df, schema = correlated
    synth = AIM(epsilon=2.0, random_state=0, max_rounds=10).fit(df, schema)
    report = synth.privacy_report()
    assert math.fsum(s["rho"] for s in report["steps"]) == pytest.approx(report["budget"]["rho"], rel=1e-9)
    measured = [s for s in report["steps"] if s["step"] == "measure selected marginal"]
    selected = [s for s in report["steps"] if s["step"] == "select a marginal"]
    assert len(measured) == len(selected) == synth.rounds_ >= 1
    assert not synth.interrupted_


def test_custom_weighted_workload(correlated):
    df, schema = correlated
    synth = AIM(epsilon=2.0, workload=[(("a", "b"), 2.0), (("b", "c"), 1.0)], random_state=0, max_rounds=6)
    synth.fit(df, schema)
    measured = {tuple(s["clique"]) for s in synth.privacy_report()["steps"] if s["step"] == "measure selected marginal"}
    assert measured <= {("a",), ("b",), ("c",), ("a", "b"), ("b", "c")}
    assert len(synth.sample(100)) == 100


def test_model_size_limit_excludes_large_candidates(correlated):
    df, schema = correlated
    # 1 KiB: only candidates whose junction tree stays tiny remain eligible
    synth = AIM(epsilon=2.0, max_model_mb=1 / 1024, random_state=0, max_rounds=8).fit(df, schema)
    from dpsynth.pgm import model_size

    assert model_size(synth.model_.domain, synth.model_.cliques)[1] <= 1024
