"""Drawing records from a fitted graphical model along its junction tree.

Records are generated clique by clique from the root of the junction tree:
the root's attributes from its marginal, then each child's new attributes
from their distribution given the separator with its parent, which the
running intersection property makes exact. Every step is vectorised over
the rows.

Two methods:

* ``"iid"``: independent records; empirical marginals deviate from the
  model's by ``O(1/sqrt(n))``.
* ``"low_variance"``: systematic (stratified) rounding. The root clique's
  counts are ``floor`` or ``ceil`` of ``n * P(cell)``; within each group of
  rows sharing a separator value, a child's new attributes are allocated in
  counts that are ``floor`` or ``ceil`` of the group size times their
  conditional probability, then shuffled within the group. Clique marginals
  therefore match the model's counts up to rounding, and each allocation is
  unbiased.

:func:`iter_samples` yields chunks so that memory follows the chunk, not
``n``; in low-variance mode each chunk is rounded on its own.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import numpy as np

from dpsynth.errors import parameter_error
from dpsynth.pgm.model import GraphicalModel

METHODS = ("low_variance", "iid")
#: dtype of the generated code arrays
CODE_DTYPE = np.int64


def as_generator(rng: np.random.Generator | int | None) -> np.random.Generator:
    """A numpy Generator from a Generator, a seed, or None (fresh entropy)."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or (isinstance(rng, int | np.integer) and not isinstance(rng, bool) and rng >= 0):
        return np.random.default_rng(rng)
    raise parameter_error("rng", rng, "a numpy Generator, a non-negative integer seed, or None")


@dataclass(frozen=True)
class _Step:
    """Sampling of one clique's new attributes given its separator."""

    sep: tuple[int, ...]           # domain positions of the separator attributes
    sep_shape: tuple[int, ...]
    new: tuple[int, ...]           # domain positions of the attributes drawn here
    new_shape: tuple[int, ...]
    conditional: np.ndarray        # [separator cells, new cells], rows sum to one
    offset_cdf: np.ndarray         # row-wise cdf plus row index, flattened (for searchsorted)


def _plan(model: GraphicalModel) -> list[_Step]:
    tree, domain = model.tree, model.domain
    position = {a: i for i, a in enumerate(domain.attributes)}
    parents = tree.parents()
    order = [tree.root] + [child for child, _ in reversed(tree.edges)]
    steps = []
    for index in order:
        clique = tree.cliques[index]
        sep = tree.separator(index, parents[index]) if index in parents else ()
        new = tuple(a for a in clique if a not in sep)
        table = np.exp(model.log_beliefs[index])
        table = np.transpose(table, [clique.index(a) for a in sep + new])
        sep_cells = int(np.prod([domain[a] for a in sep])) if sep else 1
        table = table.reshape(sep_cells, -1)
        mass = table.sum(axis=1, keepdims=True)
        # Separator values of probability zero are never reached; any row will do.
        conditional = np.where(mass > 0, table / np.where(mass > 0, mass, 1.0), 1.0 / table.shape[1])
        cdf = np.cumsum(conditional, axis=1)
        cdf /= cdf[:, -1:]
        # Rounding may leave the cdf a hair below 1 before trailing zero-probability
        # cells (excluded codes); those cells must stay impossible.
        cdf[_nothing_after(conditional)] = 1.0
        offset_cdf = (cdf + np.arange(sep_cells)[:, None]).ravel()
        steps.append(
            _Step(
                tuple(position[a] for a in sep), tuple(domain[a] for a in sep),
                tuple(position[a] for a in new), tuple(domain[a] for a in new),
                conditional, offset_cdf,
            )
        )
    return steps


def _nothing_after(table: np.ndarray) -> np.ndarray:
    """Per row, True at each cell after which only zeros follow (and at the last cell)."""
    positive_from = np.logical_or.accumulate(table[:, ::-1] > 0, axis=1)[:, ::-1]
    out = np.ones(table.shape, dtype=bool)
    out[:, :-1] = ~positive_from[:, 1:]
    return out


def _systematic(expected: np.ndarray, sizes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Integer counts per row of ``expected``: floor or ceil of each, summing to ``sizes``.

    One uniform offset per row places ``sizes[r]`` evenly spaced points on the
    row's cumulative sums, so every count is unbiased and off by less than one.
    """
    cum = np.cumsum(expected, axis=1)
    offset = rng.random((expected.shape[0], 1))
    ticks = np.ceil(cum - offset)
    # Rounding in the cumulative sums must not push a tick outside [0, size].
    np.clip(ticks, 0, sizes[:, None], out=ticks)
    # Where nothing is expected further on, the exact sum is the size and so is
    # its tick (ceil(size - offset) for any offset below 1); the float sum may fall
    # an ulp short, and the difference round down for offsets next to 1, which
    # would drop a row or hand one to a trailing zero-probability cell.
    ticks = np.where(_nothing_after(expected), sizes[:, None].astype(float), ticks)
    counts = np.diff(ticks, axis=1, prepend=0.0)
    return counts.astype(np.int64)


def _index_dtype(cells: int) -> np.dtype:
    """Smallest unsigned dtype for indices below ``cells`` (numpy radix-sorts 16-bit keys)."""
    return np.dtype(np.uint16) if cells <= 2**16 else np.dtype(np.int64)


def _draw(steps: list[_Step], d: int, rows: int, method: str, rng: np.random.Generator) -> np.ndarray:
    # Columns are filled one by one, so keep them column-major and transpose once at the end.
    out = np.empty((d, rows), dtype=CODE_DTYPE)
    for step in steps:
        sep_cells, new_cells = step.conditional.shape
        if step.sep:
            sep_index = np.ravel_multi_index(tuple(out[i] for i in step.sep), step.sep_shape)
        else:
            sep_index = np.zeros(rows, dtype=np.int64)
        if method == "iid":
            keys = sep_index + rng.random(rows)
            flat = np.searchsorted(step.offset_cdf, keys, side="right")
            codes = flat - sep_index * new_cells
            np.clip(codes, 0, new_cells - 1, out=codes)
        else:
            group_sizes = np.bincount(sep_index, minlength=sep_cells)
            counts = _systematic(step.conditional * group_sizes[:, None], group_sizes, rng)
            values = np.repeat(np.tile(np.arange(new_cells), sep_cells), counts.ravel())
            # Rows grouped by separator value, in a fresh random order within each group,
            # so the allocation is independent of everything drawn before given the group.
            shuffled = rng.permutation(rows)
            keys = sep_index.astype(_index_dtype(sep_cells))[shuffled]
            order = shuffled[np.argsort(keys, kind="stable")]
            codes = np.empty(rows, dtype=np.int64)
            codes[order] = values
        for position, column in zip(step.new, np.unravel_index(codes, step.new_shape), strict=True):
            out[position] = column
    records = np.ascontiguousarray(out.T)
    if method != "iid":
        # Whole-row gather: far cheaper than permuting the column-major array.
        records = records[rng.permutation(rows)]
    return records


def _check(model: GraphicalModel, n: int, method: str) -> None:
    if not isinstance(model, GraphicalModel):
        raise parameter_error("model", type(model).__name__, "a fitted GraphicalModel")
    if not (isinstance(n, int | np.integer) and not isinstance(n, bool) and n >= 0):
        raise parameter_error("n", n, "a non-negative integer number of rows")
    if method not in METHODS:
        raise parameter_error("method", method, f"one of {METHODS}")


def iter_samples(
    model: GraphicalModel,
    n: int,
    chunk_rows: int = 1_000_000,
    *,
    rng: np.random.Generator | int | None = None,
    method: str = "low_variance",
    conditions: Mapping[str, int] | None = None,
) -> Iterator[np.ndarray]:
    """Generate ``n`` records in chunks of at most ``chunk_rows`` rows.

    Parameters
    ----------
    model : GraphicalModel
        The fitted model.
    n : int
        Total number of rows.
    chunk_rows : int
        Rows per chunk (the last one may be shorter); memory follows it.
    rng : numpy.random.Generator or int or None
        Random generator or seed; the same seed gives the same records.
    method : {"low_variance", "iid"}
        See the module text; low-variance rounding applies per chunk.
    conditions : mapping of str to int, optional
        Fixed codes for some attributes; records follow the conditional model.

    Yields
    ------
    numpy.ndarray
        Integer codes, shape ``(rows, len(model.domain))``, columns in domain order.
    """
    _check(model, n, method)
    if not (isinstance(chunk_rows, int | np.integer) and chunk_rows >= 1):
        raise parameter_error("chunk_rows", chunk_rows, "a positive integer")
    generator = as_generator(rng)
    if conditions:
        model = model.condition(conditions)
    steps = _plan(model)
    d = len(model.domain)
    for start in range(0, int(n), int(chunk_rows)):
        yield _draw(steps, d, min(int(chunk_rows), int(n) - start), method, generator)


def sample(
    model: GraphicalModel,
    n: int,
    *,
    rng: np.random.Generator | int | None = None,
    method: str = "low_variance",
    conditions: Mapping[str, int] | None = None,
) -> np.ndarray:
    """Draw ``n`` records from the model.

    Parameters
    ----------
    model : GraphicalModel
        The fitted model.
    n : int
        Number of rows.
    rng : numpy.random.Generator or int or None
        Random generator or seed; the same seed gives the same records.
    method : {"low_variance", "iid"}
        See the module text.
    conditions : mapping of str to int, optional
        Fixed codes for some attributes; records follow the conditional model.

    Returns
    -------
    numpy.ndarray
        Integer codes, shape ``(n, len(model.domain))``, columns in domain order.
    """
    _check(model, n, method)
    generator = as_generator(rng)
    if conditions:
        model = model.condition(conditions)
    return _draw(_plan(model), len(model.domain), int(n), method, generator)
