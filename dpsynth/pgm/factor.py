"""Dense factors over tuples of attributes, and clique-indexed vectors of them.

A :class:`Factor` is a dense table whose axes are named by attributes. It is
used in log space (a log-potential or a log-belief) as well as in probability
or count space; the method names say which arithmetic applies (``logsumexp``
marginalises log tables, ``sum`` marginalises count tables). Products of log
factors are sums, computed by numpy broadcasting over the union of axes.

A :class:`CliqueVector` maps cliques to factors and supports the few vector
operations estimation needs (add, subtract, scale, dot, norms).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence

import numpy as np

from dpsynth.domain import Domain
from dpsynth.errors import ParameterError, parameter_error

Clique = tuple[str, ...]


def sum_axes(values: np.ndarray, axes: Sequence[int]) -> np.ndarray:
    """``values.sum(axis=axes)``, other axes kept in order; ``values`` itself if ``axes`` is empty.

    By einsum: on clique tables (10^5 cells, a few axes summed out) numpy's
    strided reduction takes 5-25 ns a cell, einsum's inner loop 2-4 times less.
    """
    axes = tuple(axes)
    if not axes:
        return values
    kept = [i for i in range(values.ndim) if i not in axes]
    return np.einsum(values, list(range(values.ndim)), kept)


def logsumexp(values: np.ndarray, axes: Sequence[int]) -> np.ndarray:
    """Stable ``log(sum(exp(values)))`` over ``axes`` (other axes kept, in order).

    Slices that are entirely ``-inf`` give ``-inf`` rather than ``nan``.

    Parameters
    ----------
    values : numpy.ndarray
        Log-space table.
    axes : sequence of int
        Axes to sum out.

    Returns
    -------
    numpy.ndarray
        Table over the remaining axes.
    """
    axes = tuple(axes)
    if not axes:
        return values.copy()
    peak = values.max(axis=axes, keepdims=True)
    # An all -inf slice has peak -inf; shifting by 0 keeps exp() at 0 instead of nan.
    peak[~np.isfinite(peak)] = 0.0
    shifted = values - peak
    np.exp(shifted, out=shifted)
    total = sum_axes(shifted, axes)
    with np.errstate(divide="ignore"):
        out = np.log(total)
    out += peak.reshape(out.shape)
    return out


class Factor:
    """A dense table whose axes are named by attributes.

    Parameters
    ----------
    attributes : tuple of str
        One name per axis of ``values``, without duplicates.
    values : numpy.ndarray
        The table; ``values.ndim == len(attributes)``.
    """

    __slots__ = ("attributes", "values")

    def __init__(self, attributes: Iterable[str], values: np.ndarray):
        attributes = tuple(attributes)
        values = np.asarray(values, dtype=float)
        if len(set(attributes)) != len(attributes):
            raise parameter_error("attributes", attributes, "distinct attribute names")
        if values.ndim != len(attributes):
            raise ParameterError(
                f"values have {values.ndim} axes but attributes {attributes!r} name "
                f"{len(attributes)}; give one attribute per axis"
            )
        self.attributes: Clique = attributes
        self.values: np.ndarray = values

    @classmethod
    def zeros(cls, domain: Domain, attributes: Iterable[str]) -> Factor:
        """All-zero factor over ``attributes`` (uniform in log space)."""
        attributes = tuple(attributes)
        return cls(attributes, np.zeros(domain.marginal_shape(attributes)))

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of the table."""
        return self.values.shape

    @property
    def domain(self) -> Domain:
        """Domain of this factor's attributes."""
        return Domain(self.attributes, self.values.shape)

    def _axes(self, attributes: Iterable[str]) -> tuple[int, ...]:
        try:
            return tuple(self.attributes.index(a) for a in attributes)
        except ValueError:
            raise ParameterError(
                f"attributes {tuple(attributes)!r} are not all in this factor's "
                f"attributes {self.attributes!r}"
            ) from None

    def transpose(self, attributes: Iterable[str]) -> Factor:
        """The same table with its axes in the order of ``attributes``."""
        attributes = tuple(attributes)
        if set(attributes) != set(self.attributes):
            raise parameter_error(
                "attributes", attributes, f"a permutation of {self.attributes!r}"
            )
        return Factor(attributes, np.transpose(self.values, self._axes(attributes)))

    def expand(self, domain: Domain, attributes: Iterable[str]) -> Factor:
        """Broadcast to a superset of attributes, in the order of ``attributes``.

        The table is constant along the new axes (a copy of ``values`` for each
        of their codes), as a log-potential that does not depend on them.
        """
        attributes = tuple(attributes)
        missing = set(self.attributes) - set(attributes)
        if missing:
            raise parameter_error("attributes", attributes, f"a superset of {self.attributes!r}")
        kept = [a for a in attributes if a in self.attributes]
        table = np.transpose(self.values, self._axes(kept))
        shape = [self.values.shape[self.attributes.index(a)] if a in self.attributes else 1
                 for a in attributes]
        table = table.reshape(shape)
        return Factor(attributes, np.broadcast_to(table, domain.marginal_shape(attributes)).copy())

    def _drop_axes(self, keep: Iterable[str]) -> tuple[tuple[int, ...], Clique]:
        keep = set(keep)
        self._axes(keep)
        drop = tuple(i for i, a in enumerate(self.attributes) if a not in keep)
        return drop, tuple(a for a in self.attributes if a in keep)

    def logsumexp(self, keep: Iterable[str]) -> Factor:
        """Marginalise a log table onto ``keep`` (kept in this factor's order)."""
        drop, kept = self._drop_axes(keep)
        return Factor(kept, logsumexp(self.values, drop))

    def sum(self, keep: Iterable[str]) -> Factor:
        """Marginalise a count or probability table onto ``keep`` (this factor's order)."""
        drop, kept = self._drop_axes(keep)
        return Factor(kept, sum_axes(self.values, drop) if drop else self.values.copy())

    def _aligned(self, other: Factor) -> tuple[Clique, np.ndarray, np.ndarray]:
        """Both tables broadcastable over the union of attributes (self's order first)."""
        union = self.attributes + tuple(a for a in other.attributes if a not in self.attributes)
        left = self.values.reshape(self.values.shape + (1,) * (len(union) - len(self.attributes)))
        order = [a for a in union if a in other.attributes]
        right = np.transpose(other.values, other._axes(order))
        shape = [right.shape[order.index(a)] if a in other.attributes else 1 for a in union]
        return union, left, right.reshape(shape)

    def _combine(self, other: Factor | float, op) -> Factor:
        if isinstance(other, Factor):
            union, left, right = self._aligned(other)
            return Factor(union, op(left, right))
        return Factor(self.attributes, op(self.values, float(other)))

    def __add__(self, other: Factor | float) -> Factor:
        """Sum; for log tables this is the factor product."""
        return self._combine(other, np.add)

    __radd__ = __add__

    def __sub__(self, other: Factor | float) -> Factor:
        """Difference; for log tables this is the factor quotient."""
        return self._combine(other, np.subtract)

    def __mul__(self, other: Factor | float) -> Factor:
        """Product (of count or probability tables, or by a scalar)."""
        return self._combine(other, np.multiply)

    __rmul__ = __mul__

    def __neg__(self) -> Factor:
        return Factor(self.attributes, -self.values)

    def exp(self) -> Factor:
        """Elementwise exponential (log table to probability table)."""
        return Factor(self.attributes, np.exp(self.values))

    def log(self) -> Factor:
        """Elementwise logarithm; zero cells become ``-inf``."""
        with np.errstate(divide="ignore"):
            return Factor(self.attributes, np.log(self.values))

    def normalize(self, total: float = 1.0, log: bool = True) -> Factor:
        """Scale so the table sums to ``total`` (of ``exp(values)`` when ``log``)."""
        if log:
            return Factor(self.attributes, self.values - logsumexp(self.values, range(self.values.ndim)) + np.log(total))
        return Factor(self.attributes, self.values * (total / self.values.sum()))

    def dot(self, other: Factor) -> float:
        """Inner product with a factor over the same attributes."""
        return float(np.vdot(self.values, other.transpose(self.attributes).values))

    def __repr__(self) -> str:
        return f"Factor({self.attributes!r}, shape={self.values.shape})"


class CliqueVector(Mapping[Clique, Factor]):
    """An immutable mapping ``clique -> Factor`` with vector arithmetic.

    Parameters
    ----------
    factors : mapping of clique to Factor
        Each factor's attributes must equal its clique.
    """

    __slots__ = ("_factors",)

    def __init__(self, factors: Mapping[Clique, Factor]):
        for clique, factor in factors.items():
            if tuple(clique) != factor.attributes:
                raise ParameterError(
                    f"factor over {factor.attributes!r} is filed under clique {clique!r}; "
                    "file each factor under its own attributes"
                )
        self._factors: dict[Clique, Factor] = {tuple(c): f for c, f in factors.items()}

    @classmethod
    def zeros(cls, domain: Domain, cliques: Iterable[Iterable[str]]) -> CliqueVector:
        """All-zero factors over ``cliques``."""
        cliques = [tuple(c) for c in cliques]
        return cls({c: Factor.zeros(domain, c) for c in cliques})

    @classmethod
    def from_arrays(cls, arrays: Mapping[Clique, np.ndarray]) -> CliqueVector:
        """Wrap raw tables, each filed under its clique."""
        return cls({tuple(c): Factor(c, v) for c, v in arrays.items()})

    def __getitem__(self, clique: Clique) -> Factor:
        return self._factors[tuple(clique)]

    def __iter__(self) -> Iterator[Clique]:
        return iter(self._factors)

    def __len__(self) -> int:
        return len(self._factors)

    @property
    def cliques(self) -> tuple[Clique, ...]:
        """The cliques, in insertion order."""
        return tuple(self._factors)

    def _zip(self, other: CliqueVector) -> Iterator[tuple[Clique, Factor, Factor]]:
        if set(self._factors) != set(other._factors):
            raise ParameterError(
                f"clique vectors over different cliques ({sorted(self._factors)} and "
                f"{sorted(other._factors)}) cannot be combined"
            )
        for c, f in self._factors.items():
            yield c, f, other[c]

    def __add__(self, other: CliqueVector) -> CliqueVector:
        return CliqueVector({c: a + b for c, a, b in self._zip(other)})

    def __sub__(self, other: CliqueVector) -> CliqueVector:
        return CliqueVector({c: a - b for c, a, b in self._zip(other)})

    def __mul__(self, scalar: float) -> CliqueVector:
        return CliqueVector({c: f * scalar for c, f in self._factors.items()})

    __rmul__ = __mul__

    def __neg__(self) -> CliqueVector:
        return CliqueVector({c: -f for c, f in self._factors.items()})

    def dot(self, other: CliqueVector) -> float:
        """Sum of the cliquewise inner products."""
        return sum(a.dot(b) for _, a, b in self._zip(other))

    def size(self) -> int:
        """Total number of cells."""
        return sum(f.values.size for f in self._factors.values())

    def __repr__(self) -> str:
        return f"CliqueVector({list(self._factors)})"
