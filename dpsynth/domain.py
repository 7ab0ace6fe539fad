"""The integer-coded world: ordered attributes and their numbers of codes.

A :class:`Domain` is small, immutable and cheap to copy. Every stage below the
encoder (engines, measurements, the graphical model) speaks in terms of a
domain: attribute ``a`` takes the codes ``0 .. domain[a] - 1``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from dpsynth.errors import ParameterError, parameter_error


@dataclass(frozen=True)
class Domain:
    """Ordered attributes with their numbers of codes.

    Parameters
    ----------
    attributes : tuple of str
        Attribute names, in order, without duplicates.
    shape : tuple of int
        Number of codes of each attribute (each at least 1).
    """

    attributes: tuple[str, ...]
    shape: tuple[int, ...]
    _positions: dict[str, int] = field(init=False, repr=False, compare=False, hash=False)
    _sizes: dict[str, int] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        attributes = tuple(self.attributes)
        shape = tuple(int(s) for s in self.shape)
        if len(attributes) != len(shape):
            raise ParameterError(
                f"attributes ({len(attributes)}) and shape ({len(shape)}) must have the same length"
            )
        if len(set(attributes)) != len(attributes):
            dupes = sorted({a for a in attributes if attributes.count(a) > 1})
            raise parameter_error("attributes", dupes, "unique attribute names")
        for name, size in zip(attributes, shape, strict=True):
            if size < 1:
                raise parameter_error(f"size of attribute {name!r}", size, "at least 1")
        object.__setattr__(self, "attributes", attributes)
        object.__setattr__(self, "shape", shape)
        # Position lookups are on every hot path (marginals, model sizes): keep them O(1).
        object.__setattr__(self, "_positions", {a: i for i, a in enumerate(attributes)})
        object.__setattr__(self, "_sizes", dict(zip(attributes, shape, strict=True)))

    @classmethod
    def from_dict(cls, sizes: Mapping[str, int]) -> Domain:
        """Build a domain from an ordered mapping ``attribute -> number of codes``."""
        return cls(tuple(sizes), tuple(sizes.values()))

    def to_dict(self) -> dict[str, int]:
        """Return the domain as an ordered ``attribute -> number of codes`` dict."""
        return dict(zip(self.attributes, self.shape, strict=True))

    def __len__(self) -> int:
        return len(self.attributes)

    def __iter__(self) -> Iterator[str]:
        return iter(self.attributes)

    def __contains__(self, attribute: object) -> bool:
        return attribute in self._positions

    def __getitem__(self, attribute: str) -> int:
        try:
            return self._sizes[attribute]
        except KeyError:
            return self.shape[self.index(attribute)]

    def index(self, attribute: str) -> int:
        """Position of ``attribute``; a clear error if it is not in the domain."""
        try:
            return self._positions[attribute]
        except (KeyError, TypeError):
            raise ParameterError(
                f"attribute {attribute!r} is not in the domain; known attributes: "
                f"{', '.join(self.attributes)}"
            ) from None

    def project(self, attributes: Iterable[str]) -> Domain:
        """Sub-domain over ``attributes``, in the order given."""
        attributes = tuple(attributes)
        return Domain(attributes, tuple(self[a] for a in attributes))

    def canonical(self, attributes: Iterable[str]) -> tuple[str, ...]:
        """``attributes`` reordered to follow the domain's own order."""
        wanted = set(attributes)
        for a in wanted:
            self.index(a)
        return tuple(a for a in self.attributes if a in wanted)

    def size(self, attributes: Sequence[str] | None = None) -> int:
        """Number of cells of the marginal over ``attributes`` (all if None)."""
        if attributes is None:
            return math.prod(self.shape)
        sizes = self._sizes
        try:
            return math.prod([sizes[a] for a in attributes])
        except KeyError:
            return math.prod(self[a] for a in attributes)

    def marginal_shape(self, attributes: Sequence[str]) -> tuple[int, ...]:
        """Shape of the contingency table over ``attributes``."""
        return tuple(self[a] for a in attributes)

    def merge(self, other: Domain) -> Domain:
        """Union of two domains; shared attributes must agree on their size."""
        sizes = self.to_dict()
        for a, n in other.to_dict().items():
            if a in sizes and sizes[a] != n:
                raise ParameterError(
                    f"attribute {a!r} has {sizes[a]} codes in one domain and {n} in the other"
                )
            sizes[a] = n
        return Domain.from_dict(sizes)

    def without(self, attributes: Iterable[str]) -> Domain:
        """Domain with ``attributes`` removed."""
        drop = set(attributes)
        return self.project(a for a in self.attributes if a not in drop)

    def __repr__(self) -> str:
        inner = ", ".join(f"{a}: {n}" for a, n in zip(self.attributes, self.shape, strict=True))
        return f"Domain({inner})"
