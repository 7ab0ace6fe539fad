"""Query attacks count exact and partial matches of the target, and output rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from audits import AuditParameterError
from audits.attacks import ExactMatch, PartialMatch, RowCount
from audits.attacks.query import column_matches

SYNTHETIC = pd.DataFrame({"c": ["a", "a", "b", "b"], "v": [1.0, 1.04, 5.0, 1.0]})
TARGETS = pd.DataFrame({"c": ["a", "b", "z"], "v": [1.0, 1.0, 9.0]})


def test_exact_match_scores_the_share_of_identical_rows():
    assert ExactMatch().score(TARGETS, SYNTHETIC).tolist() == [0.25, 0.25, 0.0]
    # Each target is compared alone: for the first, values span 1..5, so within
    # 2% of that range (0.08) 1.04 counts as 1.0.
    assert ExactMatch(tolerance=0.02).score(TARGETS, SYNTHETIC).tolist() == [0.5, 0.25, 0.0]


def test_partial_match_averages_column_shares():
    scores = PartialMatch(tolerance=0.0).score(TARGETS, SYNTHETIC)
    assert scores == pytest.approx([(0.5 + 0.5) / 2, (0.5 + 0.5) / 2, 0.0])
    features = PartialMatch(tolerance=0.0).features(TARGETS.iloc[[0]], SYNTHETIC, None)
    assert features == {"share[c]": 0.5, "share[v]": 0.5, "near_share": 0.75}


def test_missing_values_match_missing_values():
    synthetic = pd.DataFrame({"c": ["a", None], "v": [np.nan, 2.0]})
    target = pd.DataFrame({"c": [None], "v": [np.nan]})
    assert column_matches(target, synthetic, None, 0.0).tolist() == [[False, True], [True, False]]


def test_row_count_and_plain_table_checks():
    assert RowCount().score(TARGETS, SYNTHETIC).tolist() == [4.0, 4.0, 4.0]
    with pytest.raises(AuditParameterError, match=r"synthetic_df columns \(\['v'\]\) must be present"):
        ExactMatch().score(TARGETS, SYNTHETIC[["c"]])
    with pytest.raises(AuditParameterError, match=r"tolerance \(2\) must be in \[0, 1\)"):
        ExactMatch(tolerance=2)
