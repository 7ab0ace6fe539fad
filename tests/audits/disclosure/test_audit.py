"""End to end: a copying generator discloses everything; one blind to its input, nothing."""

import json
import os

import numpy as np
import pandas as pd
import pytest

from audits.disclosure import ReleaseAuditResult, run_release_audit
from audits.errors import AuditParameterError

SECRETS = ["income", "age", "occupation"]
LINK = (["fnlwgt", "workclass", "sex"], ["age", "hours-per-week", "occupation", "education"])
N = 150


@pytest.fixture(scope="module")
def tables(adult):
    # Distinct A- and B-parts, so that a perfect linker can link every record.
    people = adult.drop_duplicates(subset=LINK[0]).drop_duplicates(subset=LINK[1])
    people = people.reset_index(drop=True)
    return people.iloc[:300], people.iloc[300:600], people.iloc[600:900]


def copy_generator(real: pd.DataFrame) -> pd.DataFrame:
    return real.copy()


def _audit(train, holdout, synthetic, **kwargs):
    options = dict(secret_columns=SECRETS, link_columns=LINK, n_attacks=N, seed=3)
    return run_release_audit(train, holdout, synthetic, **{**options, **kwargs})


def test_a_copying_generator_yields_maximal_risk_on_every_attack(tables):
    train, holdout, _ = tables
    result = _audit(train, holdout, copy_generator(train))
    dcr = result.membership.scores[0]
    assert dcr.name == "dcr" and dcr.auc == 1.0 and dcr.advantage.advantage == 1.0
    assert result.membership.scores[1].beats_baseline  # density ratio sees it too
    estimates = [a.estimate for a in result.attribute_inference]
    estimates += [result.singling_out.estimate, result.linkability.estimate]
    # All N (or n predicates) succeed; the exact lower bound at 97.5% is 0.0125 ** (1 / N).
    for est in estimates:
        assert est.attack.rate == 1.0 and est.risk == 1.0 and est.beats_baseline
        assert est.attack.ci[0] == pytest.approx(0.0125 ** (1 / est.attack.trials))
    caps = result.cap_table()
    assert len(caps) == 2 * N * len(SECRETS)
    assert (caps.loc[caps["table"] == "train", "cap"] == 1.0).all()
    assert sorted(caps.loc[caps["table"] == "train", "row"].unique()) == sorted(
        result.target_rows["train"]
    )
    assert result.warnings == []


def test_a_generator_blind_to_its_input_yields_risk_intervals_holding_zero(tables):
    train, holdout, population = tables

    def blind_generator(real: pd.DataFrame) -> pd.DataFrame:
        # Ignores its input: returns other records of the same population.
        return population.copy()

    # 2 membership scores x (AUC, advantage) + 3 secrets + singling out + linkability = 9
    # intervals; Bonferroni keeps the chance that any misses its true value below 5%.
    result = _audit(train, holdout, blind_generator(train), confidence=1 - 0.05 / 9)
    for score in result.membership.scores:
        assert score.auc_ci[0] <= 0.5 <= score.auc_ci[1]
        assert score.advantage.ci[0] <= 0.0 <= score.advantage.ci[1]
    estimates = [a.estimate for a in result.attribute_inference]
    estimates += [result.singling_out.estimate, result.linkability.estimate]
    assert len(estimates) == 5
    for est in estimates:
        assert est.risk_ci[0] <= 0.0 <= est.risk_ci[1]


def test_result_is_json_and_summarised(tables):
    train, holdout, population = tables
    result = _audit(train, holdout, population, n_attacks=40)
    data = json.loads(result.to_json())
    assert set(data) == {
        "settings",
        "target_rows",
        "membership",
        "attribute_inference",
        "singling_out",
        "linkability",
        "notes",
        "warnings",
    }
    assert data["settings"]["n_targets"] == 40 and data["settings"]["seed"] == 3
    assert len(data["attribute_inference"][0]["cap_train"]) == 40
    assert len(set(data["target_rows"]["holdout"])) == 40
    assert max(data["target_rows"]["train"]) < len(train)
    summary = result.summary()
    assert list(summary["metric"]).count("risk") == len(SECRETS) + 2
    assert list(summary["metric"]).count("auc") == 2
    assert summary[["value", "ci_low", "ci_high"]].notna().all().all()
    assert (summary["ci_low"] <= summary["value"]).all()
    assert (summary["value"] <= summary["ci_high"]).all()
    text = json.dumps(data).lower()
    assert "safe" not in text and "private" not in text


def test_same_seed_same_result_other_seed_other_targets(tables):
    train, holdout, population = tables
    first = _audit(train, holdout, population, n_attacks=30).to_dict()
    assert _audit(train, holdout, population, n_attacks=30).to_dict() == first
    other = _audit(train, holdout, population, n_attacks=30, seed=4).to_dict()
    assert (
        other["attribute_inference"][0]["cap_train"] != first["attribute_inference"][0]["cap_train"]
    )


def test_attacks_can_be_chosen_and_others_keep_their_draws(tables):
    train, holdout, population = tables
    full = _audit(train, holdout, population, n_attacks=30)
    only = _audit(train, holdout, population, n_attacks=30, attacks=["linkability"])
    assert only.membership is None and only.attribute_inference == () and only.singling_out is None
    assert only.linkability == full.linkability


def test_mixed_types_with_missing_values_and_string_dtypes():
    rng = np.random.default_rng(5)
    n = 120

    def table():
        frame = pd.DataFrame(
            {
                "x": rng.normal(size=n),
                "n": rng.integers(0, 5, n),
                "c": pd.Series(rng.choice(["a", "b", "c"], n), dtype="str"),
                "flag": rng.random(n) < 0.3,
            }
        )
        frame.loc[rng.random(n) < 0.1, "x"] = np.nan
        frame.loc[rng.random(n) < 0.1, "c"] = None
        return frame

    result = run_release_audit(table(), table(), table(), n_attacks=60, seed=0)
    assert isinstance(result, ReleaseAuditResult)
    assert result.settings["numeric_columns"] == ["x", "n"]
    assert result.settings["link_columns"] == [["x", "n"], ["c", "flag"]]
    assert [a.secret for a in result.attribute_inference] == ["x", "n", "c", "flag"]
    json.loads(result.to_json())


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_attacks": 2}, r"n_attacks \(2\) must be an integer >= 4"),
        ({"confidence": 95}, r"confidence \(95\) must be strictly between 0 and 1"),
        ({"secret_columns": ["salary"]}, r"secret_columns \(\['salary'\]\) must be"),
        ({"link_columns": (["age"], ["age", "sex"])}, r"two disjoint column sets"),
        ({"attacks": ["dcr"]}, r"attacks \(\['dcr'\]\) must be a non-empty list drawn from"),
        ({"numeric_tolerance": -1}, r"numeric_tolerance \(-1\) must be a number >= 0"),
        ({"attribute_method": "knn"}, r"attribute_method \('knn'\) must be one of"),
    ],
)
def test_bad_parameters_are_refused_with_their_name_and_value(tables, kwargs, message):
    train, holdout, population = tables
    with pytest.raises(AuditParameterError, match=message):
        run_release_audit(train, holdout, population, **kwargs)


def test_tables_must_share_columns(tables):
    train, holdout, population = tables
    with pytest.raises(AuditParameterError, match=r"synthetic columns .*'missing': \['income'\]"):
        run_release_audit(train, holdout, population.drop(columns="income"))
    with pytest.raises(AuditParameterError, match=r"len\(holdout\) \(2\) must be at least 4"):
        run_release_audit(train, holdout.iloc[:2], population)
    with pytest.raises(AuditParameterError, match=r"holdout \('list'\) must be a pandas DataFrame"):
        run_release_audit(train, [], population)


def test_model_attack_on_a_blind_generator_holds_zero(tables):
    train, holdout, population = tables
    result = _audit(
        train,
        holdout,
        population,
        attacks=["attribute_inference"],
        attribute_method="model",
        confidence=1 - 0.05 / len(SECRETS),
    )
    assert result.settings["attribute_method"] == "model"
    for attack in result.attribute_inference:
        assert attack.method == "model"
        assert attack.estimate.risk_ci[0] <= 0.0 <= attack.estimate.risk_ci[1]


@pytest.mark.slow
def test_risk_intervals_cover_zero_at_their_level_for_blind_generators(adult):
    """Over repeated blind releases, 95% risk intervals miss 0 at most about 5% of the time.

    Each interval combines two 97.5% intervals, so its miss rate is at most 5%. The
    count of misses is compared with the 99.9% quantile of Binomial(k, 0.05). Runs 4
    releases by default; DPSYNTH_TEST_SCALE multiplies them.
    """
    from scipy.stats import binom

    repeats = 4 * int(os.environ.get("DPSYNTH_TEST_SCALE", "1"))
    rng = np.random.default_rng(11)
    misses = intervals = 0
    for r in range(repeats):
        order = rng.permutation(len(adult))
        train, holdout, population = (adult.iloc[order[i * 300 : (i + 1) * 300]] for i in range(3))
        result = run_release_audit(
            train,
            holdout,
            population,
            secret_columns=SECRETS,
            attacks=["attribute_inference", "singling_out"],
            n_attacks=100,
            seed=r,
        )
        estimates = [a.estimate for a in result.attribute_inference]
        estimates.append(result.singling_out.estimate)
        for est in estimates:
            intervals += 1
            misses += not est.risk_ci[0] <= 0.0 <= est.risk_ci[1]
    assert misses <= binom.ppf(0.999, intervals, 0.05)
