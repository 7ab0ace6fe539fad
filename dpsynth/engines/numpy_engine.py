"""In-memory counting with numpy: bincount on a ravelled multi-index."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from dpsynth.domain import Domain
from dpsynth.engines.base import Clique
from dpsynth.errors import ParameterError


class NumpyEngine:
    """Count marginals of an encoded table held in memory.

    Parameters
    ----------
    codes : numpy.ndarray or mapping of str to numpy.ndarray
        Either an ``(n, d)`` integer array whose columns follow ``domain``, or
        one 1-D integer array per attribute.
    domain : Domain
        Number of codes of each attribute.

    Notes
    -----
    Results are cached per clique (in canonical domain order), so selection
    and measurement steps that ask for the same marginal count it once.
    """

    def __init__(self, codes: np.ndarray | Mapping[str, np.ndarray], domain: Domain):
        self.domain = domain
        if isinstance(codes, Mapping):
            columns = {a: np.asarray(codes[a]) for a in domain.attributes}
        else:
            array = np.asarray(codes)
            if array.ndim != 2 or array.shape[1] != len(domain):
                raise ParameterError(
                    f"codes of shape {array.shape} do not match a domain of {len(domain)} attributes"
                )
            columns = {a: array[:, i] for i, a in enumerate(domain.attributes)}
        lengths = {len(c) for c in columns.values()}
        if len(lengths) > 1:
            raise ParameterError(f"encoded columns have different lengths: {sorted(lengths)}")
        for a, col in columns.items():
            if col.size and (col.min() < 0 or col.max() >= domain[a]):
                raise ParameterError(
                    f"codes of attribute {a!r} lie outside 0..{domain[a] - 1}; encode the table "
                    "with the encoder of the same schema"
                )
        self._columns = columns
        self._n = lengths.pop() if lengths else 0
        self._cache: dict[Clique, np.ndarray] = {}

    def row_count(self) -> int:
        """Exact number of rows (private)."""
        return self._n

    def counts(self, cliques: Sequence[Clique]) -> list[np.ndarray]:
        """Exact counts of each clique; see :class:`~dpsynth.engines.base.CountingEngine`."""
        return [self._count(tuple(c)) for c in cliques]

    def _count(self, clique: Clique) -> np.ndarray:
        canonical = self.domain.canonical(clique)
        if len(canonical) != len(clique):
            raise ParameterError(f"clique {clique!r} repeats an attribute")
        table = self._cache.get(canonical)
        if table is None:
            table = self._bincount(canonical)
            self._cache[canonical] = table
        order = [canonical.index(a) for a in clique]
        return table.transpose(order) if order != list(range(len(order))) else table

    def _bincount(self, clique: Clique) -> np.ndarray:
        shape = self.domain.marginal_shape(clique)
        if not clique:
            return np.array(self._n, dtype=np.int64)
        flat = np.zeros(self._n, dtype=np.int64)
        for a, size in zip(clique, shape, strict=True):
            flat *= size
            flat += self._columns[a]
        size = int(np.prod(shape))
        return np.bincount(flat, minlength=size).astype(np.int64).reshape(shape)
