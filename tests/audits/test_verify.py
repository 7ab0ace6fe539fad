"""Mode A end to end: planted bugs are caught, honest references are not flagged.

The mechanisms below are written here, on diffprivlib's samplers (an
implementation independent of the code under test). Each is a histogram over
a tiny public domain, released by sampling synthetic rows from it:

* honest: Laplace noise of scale 1/epsilon on every cell of the public
  domain (L1 sensitivity 1 under add/remove), so epsilon-DP;
* planted bugs, each claimed as epsilon = 1: categories read from the input,
  output size equal to the input's row count, half the claimed noise, no
  noise at all, and suppression of cells with small true counts.

Expected bounds (95%, 30% of the runs for validation): a bug that makes the
two worlds' outputs disjoint reaches the ceiling of the test runs (3.6 for
140 runs per world); half the noise is Laplace at true epsilon 2, whose best
event (noisy count above the true one) has TPR 1/2 and FPR e^-2/2, giving
about 1.65 with 700 test runs per world; randomized response at epsilon 2 gives
about 1.8 with 700 (its 1% quantile is 1.62).
"""

from __future__ import annotations

import json
import time

import numpy as np
import pandas as pd
import pytest
from diffprivlib.mechanisms import Binary, Laplace

import audits
from audits.attacks import (
    CellPresence,
    ExactMatch,
    MarginalCells,
    NoisyMarginal,
    PartialMatch,
    RowCount,
)
from audits.canaries import disagreeing, repeated_target, row_count_probe, unique_value
from audits.epsilon import epsilon_ceiling

DOMAIN = {"a": ["x", "y", "z"], "b": ["p", "q"]}
CELLS = [(a, b) for a in DOMAIN["a"] for b in DOMAIN["b"]]
BACKGROUND = pd.DataFrame({"a": ["x", "y", "x", "y", "z"], "b": ["p", "q", "q", "p", "q"]})


def _codes(values: pd.Series, categories: list[str]) -> np.ndarray:
    return np.searchsorted(np.array(categories, dtype=object), values.to_numpy(dtype=object))


def _cell_counts(df: pd.DataFrame, domain: dict[str, list[str]]) -> np.ndarray:
    cells = _codes(df["a"], domain["a"]) * len(domain["b"]) + _codes(df["b"], domain["b"])
    return np.bincount(cells, minlength=len(domain["a"]) * len(domain["b"])).astype(float)


def _release(counts: np.ndarray, domain: dict[str, list[str]], rows: int, rng: np.random.RandomState) -> pd.DataFrame:
    weights = np.clip(counts, 0.0, None)
    weights = weights / weights.sum() if weights.sum() > 0 else np.full(len(weights), 1.0 / len(weights))
    picked = rng.choice(len(weights), size=rows, p=weights)
    nb = len(domain["b"])
    # Object columns keep these millisecond-scale mechanisms fast.
    return pd.DataFrame(
        {"a": np.array(domain["a"], dtype=object)[picked // nb], "b": np.array(domain["b"], dtype=object)[picked % nb]},
        dtype=object,
    )


def histogram(df, seed, epsilon=1.0, rows=200, noise_epsilon=None, domain=None, noise=True, sensitivity=1):
    """Laplace histogram released as ``rows`` sampled rows; knobs plant the bugs."""
    rng = np.random.RandomState(seed)
    domain = domain or DOMAIN
    counts = _cell_counts(df, domain)
    if noise:
        mechanism = Laplace(epsilon=noise_epsilon or epsilon, sensitivity=sensitivity, random_state=rng)
        counts = np.array([mechanism.randomise(c) for c in counts])
    return _release(counts, domain, rows, rng)


def honest(df, seed):
    return histogram(df, seed)


def honest_replace_one(df, seed):
    return histogram(df, seed, sensitivity=2)


def categories_from_input(df, seed):
    observed = {c: sorted(df[c].unique()) for c in DOMAIN}
    return histogram(df, seed, domain=observed)


def size_from_input(df, seed):
    return histogram(df, seed, rows=len(df))


def half_noise(df, seed):
    return histogram(df, seed, noise_epsilon=2.0, rows=1000)


def measured_categories_from_input(df, seed):
    """White-box view of the categories-from-input bug: noisy cells over observed values only."""
    mechanism = Laplace(epsilon=1.0, sensitivity=1, random_state=np.random.RandomState(seed))
    counts = df.groupby(["a", "b"]).size()
    noisy = pd.Series([mechanism.randomise(float(c)) for c in counts], index=counts.index)
    return [NoisyMarginal(("a", "b"), noisy, scale=np.sqrt(2.0))]


def no_noise(df, seed):
    return histogram(df, seed, noise=False)


def suppresses_small_cells(df, seed):
    """Noisy counts, but cells whose true count is below 3 are suppressed (a k-anonymity habit)."""
    rng = np.random.RandomState(seed)
    counts = _cell_counts(df, DOMAIN)
    mechanism = Laplace(epsilon=1.0, sensitivity=1, random_state=rng)
    noisy = np.array([mechanism.randomise(c) for c in counts])
    return _release(np.where(counts < 3, 0.0, noisy), DOMAIN, 200, rng)


def ignores_input(df, seed):
    return _release(np.ones(len(CELLS)), DOMAIN, 50, np.random.RandomState(seed))


CANARY = disagreeing(BACKGROUND, size=10, domain=DOMAIN)


def randomized_response(df, seed):
    """epsilon = 2: report whether the canary's target is in the input, by randomized response."""
    present = bool((df["a"].eq(CANARY.target["a"][0]) & df["b"].eq(CANARY.target["b"][0])).any())
    bit = Binary(epsilon=2.0, value0="0", value1="1", random_state=seed).randomise(str(int(present)))
    return CANARY.target.copy() if bit == "1" else CANARY.base.iloc[[0]].reset_index(drop=True)


@pytest.mark.parametrize(
    ("mechanism", "canary", "runs", "attacks"),
    [
        (categories_from_input, unique_value(BACKGROUND, column="a", value="z"), 200, None),
        (size_from_input, row_count_probe(BACKGROUND), 200, [RowCount(), ExactMatch()]),
        (half_noise, CANARY, 1000, [ExactMatch()]),
        (no_noise, CANARY, 200, None),
        (suppresses_small_cells, repeated_target(BACKGROUND, copies=3, domain=DOMAIN), 200, [ExactMatch(), PartialMatch()]),
    ],
    ids=["categories_from_input", "size_from_input", "half_noise", "no_noise", "suppresses_small_cells"],
)
def test_planted_bugs_claimed_at_epsilon_1_are_detected(mechanism, canary, runs, attacks):
    result = audits.verify_mechanism(
        mechanism, epsilon=1.0, delta=0.0, runs=runs, canary=canary, attacks=attacks, seed=1, progress=False
    )
    assert result.verdict == "violation detected"
    assert result.epsilon_lower_bound > 1.0
    assert result.epsilon_lower_bound <= result.ceiling


QUERY_ATTACKS = [ExactMatch(), PartialMatch(), RowCount()]


def test_white_box_attacks_see_a_domain_read_from_the_input():
    result = audits.verify_mechanism(
        ignores_input, 1.0, 0.0, runs=100, canary=unique_value(BACKGROUND, column="a", value="z"),
        attacks=[MarginalCells(), CellPresence()], white_box=measured_categories_from_input,
        seed=1, progress=False,
    )
    assert result.verdict == "violation detected"
    assert result.selected.attack == "cell_presence"
    assert result.epsilon_lower_bound == pytest.approx(result.ceiling)


@pytest.mark.parametrize(
    ("mechanism", "canary", "relation", "attacks"),
    [
        (honest, CANARY, "add_remove", None),
        (honest, unique_value(BACKGROUND, column="a", value="z"), "add_remove", QUERY_ATTACKS),
        (honest, row_count_probe(BACKGROUND), "add_remove", QUERY_ATTACKS),
        (honest_replace_one, CANARY, "replace_one", None),
    ],
    ids=["disagreeing", "unique_value", "row_count_probe", "replace_one"],
)
def test_honest_laplace_histogram_yields_no_violation(mechanism, canary, relation, attacks):
    result = audits.verify_mechanism(
        mechanism, epsilon=1.0, delta=0.0, runs=200, canary=canary, relation=relation,
        attacks=attacks, seed=2, progress=False,
    )
    assert result.verdict == "no violation detected at this power"
    assert result.epsilon_lower_bound <= 1.0
    # The largest corrected row of the per-attack table is a valid bound too.
    assert max(a.bound.epsilon for a in result.attacks) <= 1.0


def test_generator_that_ignores_its_input_yields_zero():
    result = audits.verify_mechanism(ignores_input, 1.0, 0.0, runs=200, canary=CANARY, seed=3, progress=False)
    assert result.epsilon_lower_bound == 0.0
    assert result.verdict == "no violation detected at this power"


def test_randomized_response_at_epsilon_2_is_audited_tightly():
    result = audits.verify_mechanism(
        randomized_response, 2.0, 0.0, runs=1000, canary=CANARY, attacks=[ExactMatch()], seed=4, progress=False
    )
    assert result.epsilon_lower_bound >= 1.6
    assert result.verdict == "no violation detected at this power"


def test_two_hundred_runs_per_world_finish_within_a_minute_on_two_workers():
    start = time.perf_counter()
    result = audits.verify_mechanism(honest, 1.0, 0.0, runs=200, canary=CANARY, n_jobs=2, seed=5, progress=False)
    assert time.perf_counter() - start < 60.0
    assert result.runs_per_world == 200


def test_result_is_json_serialisable_and_words_are_careful():
    result = audits.verify_mechanism(no_noise, 1.0, 1e-5, runs=40, canary=CANARY, attacks=[ExactMatch()], progress=False)
    payload = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert payload["verdict"] == "violation detected"
    assert payload["ceiling"] == pytest.approx(epsilon_ceiling(28, 1e-5))
    table = result.summary()
    assert list(table["attack"]) == ["exact_match", "exact_match"]
    assert (table["ceiling"] > 0).all()
    text = (str(result) + json.dumps(payload) + table.to_string()).lower()
    assert "safe" not in text and "private" not in text


def test_named_canary_is_built_from_data():
    result = audits.verify_mechanism(
        no_noise, 1.0, 0.0, runs=20, canary="disagreeing", data=BACKGROUND,
        canary_options={"domain": DOMAIN}, attacks=[ExactMatch()], progress=False,
    )
    assert result.canary == "disagreeing"
    with pytest.raises(audits.AuditParameterError, match=r"data \(None\) must be a DataFrame"):
        audits.verify_mechanism(no_noise, 1.0, 0.0, runs=20, canary="disagreeing")


def test_power_note_when_runs_cannot_reach_the_claim():
    result = audits.verify_mechanism(no_noise, 5.0, 0.0, runs=20, canary=CANARY, attacks=[ExactMatch()], progress=False)
    assert result.verdict == "no violation detected at this power"
    assert any("could not be detected" in note for note in result.notes())
