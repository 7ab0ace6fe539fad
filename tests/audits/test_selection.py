"""Rules are chosen on validation scores, in either direction, and counted exactly."""

from __future__ import annotations

import numpy as np

from audits.selection import Rule, choose_rule, confusion


def test_separable_scores_give_a_perfect_rule():
    scores = np.r_[np.zeros(50), np.ones(50)]
    labels = np.r_[np.zeros(50, int), np.ones(50, int)]
    rule = choose_rule(scores, labels, delta=0.0, alpha=0.05)
    assert rule.direction == 1 and rule.threshold == 1.0
    assert confusion(rule, scores, labels) == (50, 0, 0, 50)


def test_reversed_scores_are_caught_by_the_other_direction():
    scores = np.r_[np.full(50, 5.0), np.full(50, -5.0)]
    labels = np.r_[np.zeros(50, int), np.ones(50, int)]
    rule = choose_rule(scores, labels, delta=0.0, alpha=0.05)
    assert rule.direction == -1
    assert confusion(rule, scores, labels) == (50, 0, 0, 50)


def test_uninformative_scores_give_a_zero_validation_bound():
    rng = np.random.default_rng(0)
    scores = rng.normal(size=400)
    labels = np.r_[np.zeros(200, int), np.ones(200, int)]
    assert choose_rule(scores, labels, delta=0.0, alpha=0.05).validation_epsilon == 0.0


def test_confusion_counts_ties_and_nan():
    rule = Rule(threshold=1.0, direction=1, validation_epsilon=0.0, validation_advantage=0.0)
    scores = np.array([1.0, 0.5, np.nan, 2.0])
    labels = np.array([1, 1, 0, 0])
    assert confusion(rule, scores, labels) == (1, 1, 1, 1)


def test_rule_from_missing_scores_serialises():
    rule = Rule(threshold=-np.inf, direction=1, validation_epsilon=0.0, validation_advantage=0.0)
    assert rule.to_dict()["threshold"] is None
