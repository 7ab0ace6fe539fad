"""How many values encoding moved into the declared domain, per column.

These counts are computed from the PRIVATE data without any noise. They are
for the data owner only (a warning on their console, their logs) so that no
value is clipped or mapped to "other" silently. They must never be written
into a release, a manifest or a report that leaves the building: a count of
one reveals that one person lies outside the declared domain.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, ClassVar


class OutOfDomainWarning(UserWarning):
    """Some values lay outside the declared domain and were clipped or mapped to "other"."""


@dataclass(frozen=True)
class ColumnReport:
    """Values of one column moved into the domain (private counts).

    Attributes
    ----------
    clipped : int
        Numeric or datetime values outside the bounds, clipped into the
        first or last bin (policy ``clip``).
    other : int
        Categorical values outside the declared categories, given the
        "other" code (policy ``other``).
    """

    clipped: int = 0
    other: int = 0

    @property
    def affected(self) -> int:
        """Number of values that did not keep their raw value's place."""
        return self.clipped + self.other


@dataclass(frozen=True)
class EncodingReport:
    """Per-column counts of values clipped or mapped to "other".

    PRIVATE: computed from the raw data without noise. Show it to the data
    owner; never put it into a release un-noised (see the module docstring).

    Attributes
    ----------
    columns : mapping of str to ColumnReport
        One entry per column, in schema order.
    """

    #: marks the object as holding un-noised statistics of the private data
    private: ClassVar[bool] = True

    columns: Mapping[str, ColumnReport] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "columns", MappingProxyType(dict(self.columns)))

    def __reduce__(self) -> tuple[Any, ...]:
        # A mapping proxy does not pickle; rebuild from a plain dict.
        return (type(self), (dict(self.columns),))

    @property
    def clipped(self) -> dict[str, int]:
        """Columns with clipped values -> how many."""
        return {c: r.clipped for c, r in self.columns.items() if r.clipped}

    @property
    def other(self) -> dict[str, int]:
        """Columns with values mapped to "other" -> how many."""
        return {c: r.other for c, r in self.columns.items() if r.other}

    @property
    def affected(self) -> int:
        """Total number of values clipped or mapped to "other"."""
        return sum(r.affected for r in self.columns.values())

    def messages(self) -> list[str]:
        """One line per affected column, for the data owner."""
        lines = [
            f"column {c!r}: {n} value(s) outside the declared bounds were clipped to them"
            for c, n in self.clipped.items()
        ]
        lines += [
            f"column {c!r}: {n} value(s) outside the declared categories were mapped to \"other\""
            for c, n in self.other.items()
        ]
        return lines

    def warn(self) -> None:
        """Issue one :class:`OutOfDomainWarning` listing the affected columns, if any."""
        lines = self.messages()
        if lines:
            warnings.warn(
                "PRIVATE (do not publish): " + "; ".join(lines), OutOfDomainWarning, stacklevel=3
            )

    def __repr__(self) -> str:
        return f"EncodingReport(PRIVATE, clipped={self.clipped}, other={self.other})"
