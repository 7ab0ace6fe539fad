"""Distance to closest record ranks copied records first, with or without a reference."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import cdist

from audits.attacks import DistanceToClosestRecord

SYNTHETIC = pd.DataFrame({"c": ["a", "b", "b"], "v": [0.0, 5.0, 10.0]})


def test_copy_scores_above_a_distant_record():
    targets = pd.DataFrame({"c": ["a", "a"], "v": [0.0, 9.0]})
    scores = DistanceToClosestRecord().score(targets, SYNTHETIC)
    assert scores[0] == 0.0 and scores[0] > scores[1]


def test_distance_uses_one_hot_and_range_scaling():
    target = pd.DataFrame({"c": ["a"], "v": [10.0]})
    features = DistanceToClosestRecord().features(target, SYNTHETIC, None)
    # ("b", 10) is sqrt(2) away (one category mismatch); ("a", 0) is nearer, at
    # distance 1: the numeric gap spans the whole range 0..10.
    assert features["d_syn"] == pytest.approx(1.0)
    assert np.isnan(features["d_ref"])


def test_reference_turns_the_score_into_a_ratio():
    target = pd.DataFrame({"c": ["a"], "v": [0.0]})
    reference = pd.DataFrame({"c": ["b"], "v": [0.0]})
    score = DistanceToClosestRecord(smoothing=0.1).score(target, SYNTHETIC, reference)[0]
    assert score == pytest.approx(np.log((np.sqrt(2.0) + 0.1) / 0.1))


def test_many_targets_share_one_encoding_and_match_brute_force():
    rng = np.random.default_rng(0)
    synthetic = pd.DataFrame({"v": rng.uniform(0, 10, 300), "w": rng.uniform(0, 1, 300)})
    targets = pd.DataFrame({"v": rng.uniform(0, 10, 50), "w": rng.uniform(0, 1, 50)})
    pooled = pd.concat([targets, synthetic])
    low, span = pooled.min(), pooled.max() - pooled.min()
    expected = cdist((targets - low) / span, (synthetic - low) / span).min(axis=1)
    assert DistanceToClosestRecord().score(targets, synthetic) == pytest.approx(-expected)
