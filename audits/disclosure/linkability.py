"""Linkability: joining two halves of the same people's records through the release.

The attacker holds two tables about the same ``n`` people: one with columns A,
one with columns B (disjoint), without the key that joins them. For each
A-record the attacker finds the closest synthetic record on A, then the
B-records closest to that synthetic record on B; the link is right when the
person's own B-record is among the ``n_neighbors`` closest (ties broken at
random). Distances are Gower-like. When several people share the same
B-record no attacker can tell them apart, so the result reports the share of
unique B-records, the ceiling of what linking can achieve.

Success on training records is compared with the same attack on holdout
records (the control: links that the population's correlations alone allow)
and with a naive baseline that links each A-record to ``n_neighbors`` random
B-records.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from audits.disclosure.encoding import Encoded, GowerEncoder
from audits.disclosure.neighbours import gower_distances, nearest
from audits.disclosure.stats import RiskEstimate


@dataclass(frozen=True)
class LinkabilityResult:
    """Linkage of two column sets of the same records through the release.

    Attributes
    ----------
    columns_a, columns_b : tuple of str
        The two disjoint column sets.
    n_neighbors : int
        How many closest B-records count as a hit.
    unique_b_share : float
        Share of training targets whose B-record is unique among the targets'.
        With ``n_neighbors = 1`` even an attacker holding the training data
        links the others only by chance, so the attack's success cannot exceed
        about this share (less when A-records repeat too).
    estimate : RiskEstimate
        Attack (training), control (holdout) and baseline (random links).
    """

    columns_a: tuple[str, ...]
    columns_b: tuple[str, ...]
    n_neighbors: int
    unique_b_share: float
    estimate: RiskEstimate

    def to_dict(self) -> dict:
        """JSON-ready dictionary."""
        return {
            "columns_a": list(self.columns_a),
            "columns_b": list(self.columns_b),
            "n_neighbors": self.n_neighbors,
            "unique_b_share": self.unique_b_share,
            "estimate": self.estimate.to_dict(),
        }


_CHUNK = 512


def _links(
    people: pd.DataFrame,
    encoders: tuple[GowerEncoder, GowerEncoder],
    synthetic_a: Encoded,
    synthetic_b: Encoded,
    n_neighbors: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """Whether each person's A-record is linked to their own B-record.

    B-records tied with the person's own at the cut-off are ordered at random,
    as an attacker who cannot tell them apart would pick one.
    """
    encoder_a, encoder_b = encoders
    via = nearest(encoder_a.transform(people), synthetic_a, 1)[1][:, 0]
    pool = encoder_b.transform(people)
    hit_probability = np.empty(len(people))
    for start in range(0, len(people), _CHUNK):
        rows = np.arange(start, min(start + _CHUNK, len(people)))
        distances = gower_distances(synthetic_b.take(via[rows]), pool)
        own = distances[np.arange(len(rows)), rows][:, None]
        closer = (distances < own).sum(axis=1)
        tied = (distances == own).sum(axis=1)
        hit_probability[rows] = np.clip((n_neighbors - closer) / tied, 0.0, 1.0)
    return rng.random(len(people)) < hit_probability


def unique_share(people: pd.DataFrame, encoder: GowerEncoder) -> float:
    """Share of people whose B-record differs from every other one's: a perfect linker's best rate."""
    encoded = encoder.transform(people)
    table = pd.DataFrame(np.hstack([encoded.numeric, encoded.codes]))
    return float((~table.duplicated(keep=False)).mean())


def linkability(
    train_targets: pd.DataFrame,
    control_targets: pd.DataFrame,
    synthetic: pd.DataFrame,
    *,
    columns_a: Sequence[str],
    columns_b: Sequence[str],
    numeric: Sequence[str],
    n_neighbors: int,
    rng: np.random.Generator,
    confidence: float,
    ci_method: str,
) -> LinkabilityResult:
    """Link the A and B halves of training and holdout targets through the release.

    Parameters
    ----------
    train_targets, control_targets : pandas.DataFrame
        Equal numbers of training and holdout records, more than ``n_neighbors``.
    synthetic : pandas.DataFrame
        The release.
    columns_a, columns_b : sequence of str
        Disjoint, non-empty column sets.
    numeric : sequence of str
        Columns treated as numeric.
    n_neighbors : int
        Closest B-records that count as a hit.
    rng : numpy.random.Generator
        Breaks ties and draws the baseline's random links.
    confidence : float
        Confidence of the risk interval.
    ci_method : {"exact", "wilson"}
        Binomial interval.

    Returns
    -------
    LinkabilityResult
    """
    encoders = (
        GowerEncoder(synthetic, columns_a, numeric),
        GowerEncoder(synthetic, columns_b, numeric),
    )
    synthetic_a = encoders[0].transform(synthetic)
    synthetic_b = encoders[1].transform(synthetic)
    attack = _links(train_targets, encoders, synthetic_a, synthetic_b, n_neighbors, rng)
    control = _links(control_targets, encoders, synthetic_a, synthetic_b, n_neighbors, rng)
    n = len(train_targets)
    # n_neighbors distinct random B-records hold the right one with probability n_neighbors / n.
    baseline = rng.random(n) < n_neighbors / n
    estimate = RiskEstimate.from_counts(
        int(attack.sum()),
        int(control.sum()),
        int(baseline.sum()),
        trials=n,
        control_trials=len(control_targets),
        baseline_trials=n,
        confidence=confidence,
        ci_method=ci_method,
    )
    return LinkabilityResult(
        tuple(columns_a),
        tuple(columns_b),
        n_neighbors,
        unique_share(train_targets, encoders[1]),
        estimate,
    )
