"""White-box attacks on marginal-based models: read the noisy cells that hold the target.

A marginal-based synthesizer (MST, AIM, PrivBayes, ...) measures noisy counts
of some contingency tables. The attacker who sees them knows, for each table,
the cell the target falls in and, from the data it knows, that cell's count
without the target. The noisy count minus that expected count is a direct
look at the noise the mechanism added; weighted by the noise variance and
summed over tables it is the likelihood-ratio statistic for Gaussian noise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from audits.attacks.base import WhiteBoxAttack
from audits.errors import parameter_error


@dataclass(frozen=True)
class NoisyMarginal:
    """One noisy contingency table as a fitted model holds it.

    Attributes
    ----------
    attributes : tuple of str
        The columns the table counts over.
    counts : pandas.Series
        Noisy counts indexed by the cells' raw values (a MultiIndex in the
        order of ``attributes`` for two or more columns).
    scale : float, optional
        Standard deviation of the noise on each cell, when known.
    """

    attributes: tuple[str, ...]
    counts: pd.Series
    scale: float | None = None

    def cell_key(self, row: pd.Series) -> object:
        """Index key of the cell that holds ``row``."""
        values = tuple(row[a] for a in self.attributes)
        return values[0] if len(values) == 1 else values


def _cell_count(table: pd.DataFrame | None, marginal: NoisyMarginal, row: pd.Series) -> int:
    if table is None or len(table) == 0:
        return 0
    mask = np.ones(len(table), dtype=bool)
    for a in marginal.attributes:
        mask &= (table[a] == row[a]).to_numpy(dtype=bool)
    return int(mask.sum())


def _check_measurements(measurements: Sequence[NoisyMarginal]) -> None:
    if not measurements or not all(isinstance(m, NoisyMarginal) for m in measurements):
        raise parameter_error(
            "measurements", type(measurements).__name__, "a non-empty sequence of NoisyMarginal"
        )


class MarginalCells(WhiteBoxAttack):
    """Sum over tables of (noisy target cell - expected count) / scale^2.

    A table without the target's cell contributes (0 - expected). Tables
    without a known scale get weight 1.
    """

    name = "marginal_cells"

    def features(
        self, target: pd.DataFrame, measurements: Sequence[NoisyMarginal], reference: pd.DataFrame | None
    ) -> dict[str, float]:
        _check_measurements(measurements)
        row = target.iloc[0]
        total, missing = 0.0, 0
        for m in measurements:
            key = m.cell_key(row)
            present = key in m.counts.index
            missing += not present
            noisy = float(m.counts.loc[key]) if present else 0.0
            weight = 1.0 / m.scale**2 if m.scale else 1.0
            total += weight * (noisy - _cell_count(reference, m, row))
        return {"weighted_residual": total, "missing_cells": float(missing)}

    def score_features(self, features: pd.DataFrame) -> np.ndarray:
        return features["weighted_residual"].to_numpy(dtype=float)


class CellPresence(WhiteBoxAttack):
    """Number of tables whose domain includes the target's cell.

    With a public domain every table has the cell in both worlds and the
    score is constant; a domain read from the input drops cells of values the
    input lacks, which this attack sees at once.
    """

    name = "cell_presence"

    def features(
        self, target: pd.DataFrame, measurements: Sequence[NoisyMarginal], reference: pd.DataFrame | None
    ) -> dict[str, float]:
        _check_measurements(measurements)
        row = target.iloc[0]
        return {"present": float(sum(m.cell_key(row) in m.counts.index for m in measurements))}

    def score_features(self, features: pd.DataFrame) -> np.ndarray:
        return features["present"].to_numpy(dtype=float)
