"""White-box attacks read the noisy cells that hold the target."""

from __future__ import annotations

import pandas as pd
import pytest

from audits import AuditParameterError
from audits.attacks import CellPresence, MarginalCells, NoisyMarginal

TARGET = pd.DataFrame({"a": ["x"], "b": ["q"]})
REFERENCE = pd.DataFrame({"a": ["x", "x", "y"], "b": ["q", "p", "p"]})


def _marginals(xq: float) -> list[NoisyMarginal]:
    two_way = pd.Series(
        [xq, 1.0, 1.0], index=pd.MultiIndex.from_tuples([("x", "q"), ("x", "p"), ("y", "p")])
    )
    one_way = pd.Series([2.5, 0.5], index=["x", "y"])
    return [NoisyMarginal(("a", "b"), two_way, scale=2.0), NoisyMarginal(("a",), one_way)]


def test_residuals_are_weighted_by_noise_variance():
    # (3 - 1) / 2^2 from the two-way table plus (2.5 - 2) / 1 from the one-way table.
    assert MarginalCells().score(TARGET, _marginals(3.0), REFERENCE)[0] == pytest.approx(1.0)
    assert MarginalCells().score(TARGET, _marginals(1.0), REFERENCE)[0] == pytest.approx(0.5)


def test_missing_cells_are_counted_and_seen_by_presence():
    measurements = [NoisyMarginal(("a",), pd.Series([1.0], index=["y"]))]
    features = MarginalCells().features(TARGET, measurements, None)
    assert features == {"weighted_residual": 0.0, "missing_cells": 1.0}
    assert CellPresence().score(TARGET, measurements)[0] == 0.0
    assert CellPresence().score(TARGET, _marginals(1.0))[0] == 2.0


def test_measurements_must_be_noisy_marginals():
    with pytest.raises(AuditParameterError, match=r"measurements \('list'\) must be a non-empty"):
        MarginalCells().score(TARGET, [])
