"""Canaries build neighbouring datasets of the kind each construction promises."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from audits import AuditParameterError, Canary, make_canary
from audits.canaries import (
    disagreeing,
    repeated_target,
    row_count_probe,
    unique_value,
    vulnerable_target,
)

DATA = pd.DataFrame(
    {
        "colour": ["red", "blue", "red", "green", "blue", "red"],
        "age": [30, 42, 35, 51, 28, 33],
    }
)


def _rows(frame: pd.DataFrame) -> list[tuple]:
    return sorted(map(tuple, frame.astype(object).to_numpy().tolist()), key=str)


@pytest.mark.parametrize("name", ["disagreeing", "repeated_target", "unique_value", "row_count_probe", "vulnerable_target"])
def test_worlds_are_neighbours_under_both_relations(name):
    canary = make_canary(name, DATA)
    without, with_target = canary.world(False), canary.world(True, "add_remove")
    assert len(with_target) == len(without) + 1
    assert _rows(with_target) == sorted(_rows(without) + _rows(canary.target), key=str)
    swapped = canary.world(True, "replace_one")
    assert len(swapped) == len(without)
    removed = list(_rows(without))
    for row in _rows(swapped):
        if row in removed:
            removed.remove(row)
    assert len(removed) == 1
    assert list(swapped.dtypes) == list(without.dtypes)


def test_disagreeing_target_differs_on_every_column_and_uses_the_public_domain():
    canary = disagreeing(DATA, size=4, domain={"colour": ["red", "violet"]})
    assert len(canary.base) == 4 and canary.base.drop_duplicates().shape[0] == 1
    assert canary.target["colour"][0] == "violet"
    assert canary.target["age"][0] == 51  # farthest bound from 30
    assert (canary.base.iloc[0] != canary.target.iloc[0]).all()
    assert disagreeing(DATA, domain={"age": (0, 120)}).target["age"][0] == 120


def test_repeated_target_holds_copies_minus_one_in_the_base():
    canary = repeated_target(DATA, copies=3, size=5)
    matches = (canary.base == canary.target.iloc[0]).all(axis=1).sum()
    assert matches == 2
    assert (canary.world(True) == canary.target.iloc[0]).all(axis=1).sum() == 3


def test_unique_value_is_absent_from_the_base():
    canary = unique_value(DATA)
    assert canary.target["colour"][0] == "green"
    assert "green" not in set(canary.base["colour"])
    numeric = unique_value(DATA, column="age")
    assert numeric.target["age"][0] == 51 and numeric.base["age"].max() < 51


def test_row_count_probe_duplicates_a_record():
    canary = row_count_probe(DATA)
    assert canary.target.iloc[0].equals(canary.base.iloc[0])


def test_vulnerable_target_is_the_outlier():
    rng = np.random.default_rng(0)
    data = pd.DataFrame({"x": np.r_[rng.normal(0, 1, 30), 50.0], "y": ["a"] * 31})
    canary = vulnerable_target(data, neighbours=5)
    assert canary.target["x"][0] == 50.0
    assert len(canary.base) == 30


def test_fingerprint_changes_with_the_content():
    assert disagreeing(DATA).fingerprint() != disagreeing(DATA, size=11).fingerprint()
    assert disagreeing(DATA).fingerprint() == disagreeing(DATA).fingerprint()


def test_errors_name_the_parameter():
    with pytest.raises(AuditParameterError, match=r"canary \('nope'\) must be one of"):
        make_canary("nope", DATA)
    with pytest.raises(AuditParameterError, match=r"len\(target\) \(2\) must be 1"):
        Canary("x", DATA, DATA.iloc[:2])
    with pytest.raises(AuditParameterError, match=r"relation \('swap'\) must be one of"):
        disagreeing(DATA).world(True, "swap")
