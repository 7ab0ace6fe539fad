"""Choose a decision rule on validation runs; count it on test runs.

A decision rule is an attack, a threshold and a direction ("member" when the
score is at least the threshold, or at most it). Rules are compared by the
epsilon lower bound they reach on the validation runs, so the rule chosen is
the one most likely to certify a large epsilon; the test runs, untouched by
the choice, then give the reported bound with no correction for it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from audits.epsilon import epsilon_lower_bounds


@dataclass(frozen=True)
class Rule:
    """One decision rule and how it did on the validation runs.

    Attributes
    ----------
    threshold : float
        Score at which the guess changes.
    direction : int
        +1: guess "member" when score >= threshold; -1: when score <= threshold.
    validation_epsilon : float
        Epsilon lower bound of the rule on the validation runs.
    validation_advantage : float
        TPR - FPR on the validation runs (breaks ties).
    """

    threshold: float
    direction: int
    validation_epsilon: float
    validation_advantage: float

    def guesses(self, scores: np.ndarray) -> np.ndarray:
        """True where the rule guesses "member"."""
        scores = np.asarray(scores, dtype=float)
        return scores >= self.threshold if self.direction > 0 else scores <= self.threshold

    def to_dict(self) -> dict[str, float | int | None]:
        """JSON-serialisable fields (an infinite threshold, from missing scores, becomes None)."""
        fields = asdict(self)
        if not np.isfinite(self.threshold):
            fields["threshold"] = None
        return fields


def choose_rule(
    scores: np.ndarray, labels: np.ndarray, delta: float, alpha: float
) -> Rule:
    """The threshold and direction with the largest validation bound.

    Parameters
    ----------
    scores : numpy.ndarray
        Validation scores of one attack.
    labels : numpy.ndarray
        1 for runs with the target in the input, 0 without.
    delta, alpha : float
        Delta of the claim and 1 - confidence, as used for the final bound.

    Returns
    -------
    Rule
        Ties in the bound go to the larger TPR - FPR.
    """
    scores = np.nan_to_num(np.asarray(scores, dtype=float), nan=-np.inf)
    labels = np.asarray(labels, dtype=int)
    members = np.sort(scores[labels == 1])
    others = np.sort(scores[labels == 0])
    n1, n0 = len(members), len(others)
    candidates = np.unique(scores)
    best: Rule | None = None
    for direction in (1, -1):
        if direction > 0:
            tp = n1 - np.searchsorted(members, candidates, side="left")
            fp = n0 - np.searchsorted(others, candidates, side="left")
        else:
            tp = np.searchsorted(members, candidates, side="right")
            fp = np.searchsorted(others, candidates, side="right")
        bounds = epsilon_lower_bounds(tp, fp, n1, n0, delta, alpha)
        advantage = tp / n1 - fp / n0
        pick = np.lexsort((advantage, bounds))[-1]
        rule = Rule(float(candidates[pick]), direction, float(bounds[pick]), float(advantage[pick]))
        if best is None or (rule.validation_epsilon, rule.validation_advantage) > (
            best.validation_epsilon,
            best.validation_advantage,
        ):
            best = rule
    assert best is not None
    return best


def confusion(rule: Rule, scores: np.ndarray, labels: np.ndarray) -> tuple[int, int, int, int]:
    """Counts (tp, fn, fp, tn) of a rule on scored runs.

    Parameters
    ----------
    rule : Rule
        The decision rule.
    scores : numpy.ndarray
        Scores of the runs.
    labels : numpy.ndarray
        1 for runs with the target, 0 without.

    Returns
    -------
    tuple of int
        ``(tp, fn, fp, tn)``.
    """
    guess = rule.guesses(np.nan_to_num(np.asarray(scores, dtype=float), nan=-np.inf))
    labels = np.asarray(labels, dtype=int)
    tp = int((guess & (labels == 1)).sum())
    fp = int((guess & (labels == 0)).sum())
    return tp, int((labels == 1).sum()) - tp, fp, int((labels == 0).sum()) - fp
