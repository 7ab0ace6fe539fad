"""Membership inference on one release: were these real records in the training data?

Targets are an equal number of training records (members) and holdout records
(non-members from the same population). Two scores, higher meaning "member":

- ``dcr``: minus the distance to the closest synthetic record. Copies and
  near-copies of training records show up here.
- ``density_ratio``: log of the synthetic table's density at the target over
  the population's density there, estimated on the holdout (as in DOMIAS, van
  Breugel et al. 2023). Being close to synthetic rows only counts when the
  target is not simply in a dense, typical region. Both densities are kernel
  estimates with a Laplace kernel on the Gower-like distance; each holdout
  target is left out of its own reference estimate, so members and
  non-members are scored against references that exclude them alike.

Each score is summarised by its AUC (DeLong interval, checked at 0.5 by the
exact Mann-Whitney test in small audits) and by the advantage
TPR - FPR at a threshold chosen on half of the targets and counted on the other.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import logsumexp

from audits.disclosure.encoding import Encoded
from audits.disclosure.neighbours import gower_distances, nearest
from audits.disclosure.stats import Advantage, auc_with_ci, split_advantage

_CHUNK = 512


@dataclass(frozen=True)
class MembershipScore:
    """How well one score separates training records from holdout records.

    Attributes
    ----------
    name : str
        ``"dcr"`` or ``"density_ratio"``.
    auc : float
        Area under the ROC curve; 0.5 is chance.
    auc_ci : tuple of float
        DeLong interval at the audit's confidence; in small audits its lower end
        exceeds 0.5 only when the exact Mann-Whitney test rejects no leakage
        (see :func:`audits.disclosure.stats.auc_with_ci`).
    advantage : Advantage
        TPR - FPR at a threshold chosen on held-apart targets.
    beats_baseline : bool
        Whether the AUC interval lies above 0.5 (the coin-flip baseline).
    """

    name: str
    auc: float
    auc_ci: tuple[float, float]
    advantage: Advantage
    beats_baseline: bool

    def to_dict(self) -> dict:
        """JSON-ready dictionary."""
        return {
            "name": self.name,
            "auc": self.auc,
            "auc_ci": list(self.auc_ci),
            "advantage": self.advantage.to_dict(),
            "beats_baseline": self.beats_baseline,
        }


@dataclass(frozen=True)
class MembershipResult:
    """Membership inference of training records against holdout records.

    Attributes
    ----------
    n_members, n_non_members : int
        Numbers of targets of each kind.
    scores : tuple of MembershipScore
        One entry per score.
    """

    n_members: int
    n_non_members: int
    scores: tuple[MembershipScore, ...]

    def to_dict(self) -> dict:
        """JSON-ready dictionary."""
        return {
            "n_members": self.n_members,
            "n_non_members": self.n_non_members,
            "scores": [s.to_dict() for s in self.scores],
        }


def bandwidth(synthetic: Encoded, rng: np.random.Generator, sample: int = 1000) -> float:
    """Kernel width: median distance from a synthetic row to its nearest distinct synthetic row.

    It is the scale at which the synthetic table itself resolves records, and
    the attacker can compute it from the release alone. The median is taken
    over at most ``sample`` random synthetic rows.
    """
    if len(synthetic) < 2:
        return 1.0
    rows = np.sort(rng.choice(len(synthetic), min(sample, len(synthetic)), replace=False))
    distances = gower_distances(synthetic.take(rows), synthetic)
    # Nearest positive distance: skips the row itself and its duplicates.
    closest = np.where(distances > 0, distances, np.inf).min(axis=1)
    closest = closest[np.isfinite(closest)]
    return float(np.median(closest)) if closest.size else 1.0


def log_kernel_density(
    targets: Encoded, rows: Encoded, width: float, exclude: np.ndarray | None = None
) -> np.ndarray:
    """Log of the mean Laplace kernel exp(-d / width) between each target and ``rows``.

    Parameters
    ----------
    targets, rows : Encoded
        Rows encoded by the same encoder.
    width : float
        Kernel width.
    exclude : numpy.ndarray, optional
        For each target, the index of a row of ``rows`` to leave out (or -1).

    Returns
    -------
    numpy.ndarray
        One value per target (an unnormalised log density).
    """
    out = np.empty(len(targets))
    for start in range(0, len(targets), _CHUNK):
        chunk = np.arange(start, min(start + _CHUNK, len(targets)))
        block = -gower_distances(targets.take(chunk), rows) / width
        count = np.full(len(block), float(len(rows)))
        if exclude is not None:
            own = exclude[start : start + _CHUNK]
            hit = np.flatnonzero(own >= 0)
            block[hit, own[hit]] = -np.inf
            count[hit] -= 1.0
        out[start : start + _CHUNK] = logsumexp(block, axis=1) - np.log(count)
    return out


def membership_inference(
    members: Encoded,
    non_members: Encoded,
    non_member_rows: np.ndarray,
    synthetic: Encoded,
    holdout: Encoded,
    *,
    rng: np.random.Generator,
    confidence: float,
    ci_method: str,
) -> MembershipResult:
    """Score members and non-members and summarise each score.

    Parameters
    ----------
    members, non_members : Encoded
        Targets (training and holdout records), at least four of each.
    non_member_rows : numpy.ndarray
        Index in ``holdout`` of each non-member, left out of its own reference density.
    synthetic, holdout : Encoded
        Synthetic table and whole holdout table (the reference).
    rng : numpy.random.Generator
        Draws the rows that set the kernel width and the threshold-selection split.
    confidence : float
        Confidence of every interval.
    ci_method : {"exact", "wilson"}
        Binomial interval for TPR and FPR.

    Returns
    -------
    MembershipResult
    """
    targets = Encoded.concat([members, non_members])
    m = len(members)
    dcr = -nearest(targets, synthetic, 1)[0][:, 0]
    width = bandwidth(synthetic, rng)
    exclude = np.r_[np.full(m, -1), non_member_rows].astype(int)
    ratio = log_kernel_density(targets, synthetic, width) - log_kernel_density(
        targets, holdout, width, exclude
    )
    scores = []
    for name, score in (("dcr", dcr), ("density_ratio", ratio)):
        auc, auc_ci = auc_with_ci(score[:m], score[m:], confidence)
        advantage = split_advantage(score[:m], score[m:], rng, confidence, ci_method)
        scores.append(MembershipScore(name, auc, auc_ci, advantage, bool(auc_ci[0] > 0.5)))
    return MembershipResult(m, len(non_members), tuple(scores))
