"""The one small protocol every counting engine implements."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from dpsynth.domain import Domain

Clique = tuple[str, ...]


@runtime_checkable
class CountingEngine(Protocol):
    """Exact contingency tables over cliques of encoded columns.

    Attributes
    ----------
    domain : Domain
        The encoded domain; clique attributes must belong to it.
    """

    domain: Domain

    def row_count(self) -> int:
        """Exact number of rows (private: charge it before it reaches any output)."""
        ...

    def counts(self, cliques: Sequence[Clique]) -> list[np.ndarray]:
        """Exact counts of each clique over its full domain, zero cells included.

        Parameters
        ----------
        cliques : sequence of tuple of str
            Attribute tuples; each result has shape ``domain.marginal_shape(clique)``
            with axes in the order of the clique as given.

        Returns
        -------
        list of numpy.ndarray
            One int64 array per clique.
        """
        ...
