"""The shadow model learns from summary statistics, in a game or from a reference table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from audits import AuditParameterError
from audits.attacks import ShadowModel, summary_features

REFERENCE = pd.DataFrame({"c": ["a", "b"] * 20, "v": np.arange(40, dtype=float)})
TARGET = pd.DataFrame({"c": ["rare"], "v": [100.0]})


def leaky(df: pd.DataFrame) -> pd.DataFrame:
    """Releases the input's mean and its category list: the target moves both."""
    return pd.DataFrame({"c": sorted(df["c"].unique()), "v": df["v"].mean()})


def test_summary_features_have_fixed_keys():
    features = summary_features(pd.DataFrame({"c": ["a", "zz"], "v": [1.0, 3.0]}), REFERENCE, ["c", "v"])
    assert features["rows"] == 2.0 and features["mean[v]"] == 2.0
    assert features["share[c=a]"] == 0.5 and features["share[c=b]"] == 0.0
    assert features["share[c=<other>]"] == 0.5


def test_trained_shadow_model_tells_members_from_non_members():
    model = ShadowModel(n_estimators=20, seed=0).train(leaky, REFERENCE, TARGET, n_shadow=20, sample_size=10)
    rng = np.random.default_rng(1)
    sample = REFERENCE.iloc[rng.choice(40, 10, replace=False)]
    with_target = model.score(TARGET, leaky(pd.concat([sample, TARGET], ignore_index=True)))
    without = model.score(TARGET, leaky(sample))
    assert with_target[0] > 0.5 > without[0]


def test_untrained_or_mismatched_use_is_refused():
    with pytest.raises(AuditParameterError, match="not trained"):
        ShadowModel().score(TARGET, REFERENCE)
    model = ShadowModel(n_estimators=5).train(leaky, REFERENCE, TARGET, n_shadow=8, sample_size=10)
    with pytest.raises(AuditParameterError, match="train one ShadowModel per target"):
        model.score(REFERENCE.iloc[[0]], REFERENCE)
