"""Gower-like distances between encoded rows, and the nearest rows, computed in blocks.

The distance is the sum of the numeric part's Manhattan distance (scaled
values and missing indicators) and the number of categorical columns that
differ. Search is exact brute force: at most a few thousand targets are
attacked, and blocks bound the memory to ``block x len(rows)`` distances.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.distance import cdist

from audits.disclosure.encoding import Encoded

_BLOCK = 512


def gower_distances(a: Encoded, b: Encoded) -> np.ndarray:
    """Distances between every row of ``a`` and every row of ``b``.

    Parameters
    ----------
    a, b : Encoded
        Rows encoded by the same encoder.

    Returns
    -------
    numpy.ndarray
        Shape ``(len(a), len(b))``.
    """
    out = np.zeros((len(a), len(b)))
    if a.numeric.shape[1]:
        out += cdist(a.numeric, b.numeric, "cityblock")
    if a.codes.shape[1]:
        # Hamming is the share of differing columns; rounding keeps the counts exact for ties.
        out += np.rint(cdist(a.codes, b.codes, "hamming") * a.codes.shape[1])
    return out


def nearest(queries: Encoded, rows: Encoded, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` rows closest to each query, closest first.

    Parameters
    ----------
    queries, rows : Encoded
        Rows encoded by the same encoder.
    k : int
        Neighbours wanted, at most ``len(rows)``.

    Returns
    -------
    distances, indices : numpy.ndarray
        Arrays of shape ``(len(queries), k)``.
    """
    distances = np.empty((len(queries), k))
    indices = np.empty((len(queries), k), dtype=int)
    for start in range(0, len(queries), _BLOCK):
        stop = min(start + _BLOCK, len(queries))
        block = gower_distances(queries.take(np.arange(start, stop)), rows)
        if k < block.shape[1]:
            part = np.argpartition(block, k - 1, axis=1)[:, :k]
        else:
            part = np.broadcast_to(np.arange(block.shape[1]), block.shape)
        picked = np.take_along_axis(block, part, axis=1)
        # Order by distance, then by row index, so ties resolve the same way every run.
        order = np.lexsort((part, picked), axis=1)
        indices[start:stop] = np.take_along_axis(part, order, axis=1)
        distances[start:stop] = np.take_along_axis(picked, order, axis=1)
    return distances, indices
