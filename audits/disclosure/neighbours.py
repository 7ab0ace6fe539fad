"""Nearest rows under the Gower-like (Manhattan) distance, computed in blocks.

Exact brute-force search: the encoded tables are wide (one column per
category) and at most a few thousand targets are attacked, where trees do not
help. Blocks bound the memory to ``block`` x ``len(rows)`` distances.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import pairwise_distances

_BLOCK = 512


def nearest(
    queries: np.ndarray, rows: np.ndarray, k: int, *, exclude_self: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` rows closest to each query, closest first.

    Parameters
    ----------
    queries, rows : numpy.ndarray
        Encoded tables with the same number of columns.
    k : int
        Neighbours wanted, at most ``len(rows)`` (``len(rows) - 1`` with ``exclude_self``).
    exclude_self : bool, default False
        ``queries`` is ``rows``: skip each row's own entry (not its duplicates).

    Returns
    -------
    distances, indices : numpy.ndarray
        Arrays of shape ``(len(queries), k)``.
    """
    distances = np.empty((len(queries), k))
    indices = np.empty((len(queries), k), dtype=int)
    for start in range(0, len(queries), _BLOCK):
        stop = min(start + _BLOCK, len(queries))
        block = pairwise_distances(queries[start:stop], rows, metric="manhattan")
        if exclude_self:
            block[np.arange(stop - start), np.arange(start, stop)] = np.inf
        if k < block.shape[1]:
            part = np.argpartition(block, k - 1, axis=1)[:, :k]
        else:
            part = np.broadcast_to(np.arange(block.shape[1]), block.shape)
        picked = np.take_along_axis(block, part, axis=1)
        # Stable order by distance, then by row index, so ties resolve the same way every run.
        order = np.lexsort((part, picked), axis=1)
        indices[start:stop] = np.take_along_axis(part, order, axis=1)
        distances[start:stop] = np.take_along_axis(picked, order, axis=1)
    return distances, indices
