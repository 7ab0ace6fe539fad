import math

import numpy as np
import pandas as pd
import pytest

from dpsynth.errors import ParameterError
from dpsynth.schema import ColumnKind, ColumnSpec, Schema
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


def test_candidates_are_sized_exactly_when_the_quick_bound_is_over_the_limit():
    from dpsynth.domain import Domain
    from dpsynth.pgm import junction_tree, model_size
    from dpsynth.synthesizers.aim import _eligible, _ExtendedTreeSize

    # A chain a-b-c-d-e of 10-code pairs: closing it with (a, e) makes a cycle that a
    # triangulation covers with 3-way cliques, while the quick bound merges the whole path.
    domain = Domain(("a", "b", "c", "d", "e"), (10, 10, 10, 10, 10))
    chain = [("a", "b"), ("b", "c"), ("c", "d"), ("d", "e")]
    exact = model_size(domain, [*chain, ("a", "e")])[1]
    bound = _ExtendedTreeSize(junction_tree(domain, chain)).nbytes_with(("a", "e"))
    assert exact < bound
    limit = (exact + bound) / 2
    assert ("a", "e") in _eligible(domain, chain, {("a", "e"): 1.0}, limit)
    assert ("a", "e") not in _eligible(domain, chain, {("a", "e"): 1.0}, exact - 1)


def test_rare_codes_are_merged_after_the_one_way_measurements():
    rng = np.random.default_rng(0)
    n = 5000
    # 20 codes, two of them common: at epsilon 1 the 18 rare ones fall under 3 sigma.
    codes = np.where(rng.random(n) < 0.98, rng.integers(0, 2, n), rng.integers(2, 20, n))
    df = pd.DataFrame({"x": codes.astype("int64"), "y": rng.integers(0, 2, n).astype("int64")})
    schema = Schema((
        ColumnSpec("x", ColumnKind.CATEGORICAL, categories=tuple(range(20)), dtype="int64"),
        ColumnSpec("y", ColumnKind.CATEGORICAL, categories=(0, 1), dtype="int64"),
    ))
    merged = AIM(epsilon=1.0, random_state=0).fit(df, schema)
    assert merged.compression_.domain["x"] < 20
    assert merged.model_.domain["x"] == merged.compression_.domain["x"]
    assert set(merged.sample(2000)["x"]) <= set(range(20))
    kept = AIM(epsilon=1.0, random_state=0, compress=False).fit(df, schema)
    assert kept.compression_.domain["x"] == 20
