"""In-memory counting with numpy: bincount on a ravelled multi-index, of a large table's distinct rows."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from dpsynth.domain import Domain
from dpsynth.engines.grouped import GroupedCounts
from dpsynth.errors import ParameterError


class NumpyEngine(GroupedCounts):
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
    Every row counts once: this is :class:`GroupedCounts` with unit weights (a
    large table held as its distinct rows and their counts).
    Results are cached per clique (in canonical domain order), so selection
    and measurement steps that ask for the same marginal count it once.
    """

    def __init__(self, codes: np.ndarray | Mapping[str, np.ndarray], domain: Domain):
        if isinstance(codes, Mapping):
            columns = {a: np.asarray(codes[a]) for a in domain.attributes}
        else:
            array = np.asarray(codes)
            if array.ndim != 2 or array.shape[1] != len(domain):
                raise ParameterError(
                    f"codes of shape {array.shape} do not match a domain of {len(domain)} attributes"
                )
            columns = {a: array[:, i] for i, a in enumerate(domain.attributes)}
        super().__init__(columns, None, domain)
