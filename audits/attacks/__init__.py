"""Membership attacks: black-box on the synthetic table, white-box on noisy marginals.

Every attack scores plain tables with
``attack.score(target_rows, synthetic_df, reference_df=None) -> numpy.ndarray``
(higher means "more likely a member") and plays the distinguishing game of
:mod:`audits.game` through its ``features`` / ``score_features`` steps.
"""

from audits.attacks.base import Attack, BlackBoxAttack, WhiteBoxAttack
from audits.attacks.density import DensityRatio
from audits.attacks.distance import DistanceToClosestRecord
from audits.attacks.query import ExactMatch, PartialMatch, RowCount
from audits.attacks.shadow import ShadowModel, summary_features
from audits.attacks.whitebox import CellPresence, MarginalCells, NoisyMarginal


def default_attacks(white_box: bool = False, seed: int = 0) -> list[Attack]:
    """The attacks a game runs when none are named.

    Parameters
    ----------
    white_box : bool, default False
        Add the white-box attacks on noisy marginals.
    seed : int, default 0
        Seed of the shadow model.

    Returns
    -------
    list of Attack
        Exact and partial matches, row count, distance to closest record,
        density ratio, shadow model; then marginal cells and cell presence.
    """
    attacks: list[Attack] = [
        ExactMatch(),
        PartialMatch(),
        RowCount(),
        DistanceToClosestRecord(),
        DensityRatio(),
        ShadowModel(seed=seed),
    ]
    if white_box:
        attacks += [MarginalCells(), CellPresence()]
    return attacks


__all__ = [
    "Attack",
    "BlackBoxAttack",
    "CellPresence",
    "DensityRatio",
    "DistanceToClosestRecord",
    "ExactMatch",
    "MarginalCells",
    "NoisyMarginal",
    "PartialMatch",
    "RowCount",
    "ShadowModel",
    "WhiteBoxAttack",
    "default_attacks",
    "summary_features",
]
