"""Canaries: the neighbouring datasets of a distinguishing game.

A :class:`Canary` holds a dataset ``base`` (D') and one ``target`` record. Under
the add/remove relation the two worlds are D' and D' plus the target; under
replace-one they are D' and D' with one of its rows replaced by the target.

Worst-case constructions use tiny datasets in the style of Annamalai, Ganev
and De Cristofaro (USENIX Security 2024), each aimed at one way a mechanism
can leak; a realistic construction picks the most exposed real record
(Meeus et al., 2023).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from audits._encoding import Encoder, is_numeric
from audits.errors import parameter_error

RELATIONS = ("add_remove", "replace_one")


@dataclass(frozen=True)
class Canary:
    """A target record and the dataset it is added to (or swapped into).

    Attributes
    ----------
    name : str
        Which construction made it.
    base : pandas.DataFrame
        D', the input of the world without the target.
    target : pandas.DataFrame
        One row with the columns of ``base``.
    description : str
        What the construction is designed to catch.
    replace_position : int
        Row of ``base`` the target replaces under the replace-one relation.
    """

    name: str
    base: pd.DataFrame
    target: pd.DataFrame
    description: str = ""
    replace_position: int = field(default=-1)

    def __post_init__(self) -> None:
        if len(self.target) != 1:
            raise parameter_error("len(target)", len(self.target), "1: a canary is one record")
        if list(self.target.columns) != list(self.base.columns):
            raise parameter_error(
                "target columns", list(self.target.columns), f"the columns of base, {list(self.base.columns)}"
            )
        if len(self.base) == 0:
            raise parameter_error("len(base)", 0, "at least 1")
        if not -len(self.base) <= self.replace_position < len(self.base):
            raise parameter_error("replace_position", self.replace_position, f"a row of base (0..{len(self.base) - 1})")

    def world(self, member: bool, relation: str = "add_remove") -> pd.DataFrame:
        """The input of one world of the game.

        Parameters
        ----------
        member : bool
            True for the world that holds the target.
        relation : {"add_remove", "replace_one"}
            Neighbouring relation of the privacy claim.

        Returns
        -------
        pandas.DataFrame
            A fresh copy, so a mechanism that edits its input cannot affect
            other runs.
        """
        if relation not in RELATIONS:
            raise parameter_error("relation", relation, f"one of {RELATIONS}")
        if not member:
            return self.base.copy()
        if relation == "add_remove":
            return pd.concat([self.base, self.target], ignore_index=True)
        rows = self.base.copy().reset_index(drop=True)
        position = self.replace_position % len(rows)
        rows = pd.concat(
            [rows.iloc[:position], self.target, rows.iloc[position + 1 :]], ignore_index=True
        )
        return rows.astype(self.base.dtypes.to_dict())

    def fingerprint(self) -> str:
        """A hash of the canary's content, to check a results file belongs to it."""
        digest = hashlib.sha256()
        for frame in (self.base, self.target):
            digest.update(frame.to_csv(index=False).encode())
        digest.update(f"{self.name}|{self.replace_position}".encode())
        return digest.hexdigest()[:16]


def _other_value(column: pd.Series, avoid: object, domain: Sequence | None) -> object:
    """A value for ``column`` different from ``avoid``, taken from the public side if given."""
    if is_numeric(column):
        bounds = list(domain) if domain is not None else [column.min(), column.max()]
        low, high = float(min(bounds)), float(max(bounds))
        far = high if abs(high - float(avoid)) >= abs(float(avoid) - low) else low
        if far == avoid:
            far = float(avoid) + 1.0
        return column.dtype.type(far)
    candidates = list(domain) if domain is not None else list(pd.unique(column.dropna()))
    for value in candidates:
        if value != avoid:
            return value
    raise parameter_error(
        f"values of column {column.name!r}", candidates, "at least two distinct values; give domain="
    )


def _row(values: Mapping[str, object], like: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({c: [values[c]] for c in like.columns}).astype(like.dtypes.to_dict())


def disagreeing(
    data: pd.DataFrame, size: int = 10, domain: Mapping[str, Sequence] | None = None
) -> Canary:
    """D' is ``size`` copies of one record; the target disagrees with it on every column.

    Parameters
    ----------
    data : pandas.DataFrame
        Supplies the columns, their dtypes and their values (the first row is copied).
    size : int, default 10
        Rows of D'.
    domain : mapping of column to values, optional
        Public values per column; the target's values are taken from here.
        Numeric columns take the bound (public, else observed) farthest from
        the copied value.

    Returns
    -------
    Canary
        Catches any mechanism whose output moves with a single record's values.
    """
    if size < 1:
        raise parameter_error("size", size, "at least 1")
    domain = domain or {}
    first = data.iloc[0]
    base = pd.concat([data.iloc[[0]]] * size, ignore_index=True)
    target = {c: _other_value(data[c], first[c], domain.get(c)) for c in data.columns}
    return Canary(
        "disagreeing",
        base,
        _row(target, data),
        "tiny dataset of identical records; the target differs on every column",
    )


def repeated_target(
    data: pd.DataFrame, copies: int = 3, size: int = 10, domain: Mapping[str, Sequence] | None = None
) -> Canary:
    """Like :func:`disagreeing`, but D' already holds ``copies - 1`` copies of the target.

    The neighbours still differ by one record; the count of the target's cell
    moves from ``copies - 1`` to ``copies``, which catches suppression of
    small counts and other thresholds that a single record can cross.

    Parameters
    ----------
    data : pandas.DataFrame
        As for :func:`disagreeing`.
    copies : int, default 3
        Copies of the target in the world that holds it.
    size : int, default 10
        Copies of the other record in D'.
    domain : mapping, optional
        As for :func:`disagreeing`.

    Returns
    -------
    Canary
    """
    if copies < 1:
        raise parameter_error("copies", copies, "at least 1")
    inner = disagreeing(data, size=size, domain=domain)
    base = pd.concat([inner.base] + [inner.target] * (copies - 1), ignore_index=True)
    return Canary(
        "repeated_target",
        base,
        inner.target,
        f"the target's cell count goes from {copies - 1} to {copies}",
        replace_position=0,
    )


def unique_value(data: pd.DataFrame, column: str | None = None, value: object = None) -> Canary:
    """The target holds a value of ``column`` found nowhere in D'.

    A mechanism that reads its category list (or a numeric bound) from its
    input can release that value only in the world that holds the target.

    Parameters
    ----------
    data : pandas.DataFrame
        Background records; D' is the rows of ``data`` without ``value``.
    column : str, optional
        Where the unique value sits; by default the first categorical column
        (else the first column).
    value : object, optional
        The unique value; by default the rarest category (numeric: the maximum,
        so D' keeps only rows below it).

    Returns
    -------
    Canary
    """
    if column is None:
        categorical = [c for c in data.columns if not is_numeric(data[c])]
        column = categorical[0] if categorical else data.columns[0]
    if column not in data.columns:
        raise parameter_error("column", column, f"one of {list(data.columns)}")
    values = data[column]
    if value is None:
        value = values.max() if is_numeric(values) else values.value_counts().index[-1]
    holders = data[values == value]
    base = data[values != value].reset_index(drop=True)
    if len(base) == 0:
        raise parameter_error("value", value, f"absent from some rows of column {column!r}")
    target = holders.iloc[[0]] if len(holders) else base.iloc[[0]].assign(**{column: value})
    return Canary(
        "unique_value",
        base,
        target.reset_index(drop=True).astype(data.dtypes.to_dict()),
        f"the target's {column}={value!r} is found nowhere else; catches domains read from the input",
        replace_position=0,
    )


def row_count_probe(data: pd.DataFrame) -> Canary:
    """The target is a copy of a row of D': only the number of rows changes.

    Use with the add/remove relation: it catches an output size copied from
    the input and little else.

    Parameters
    ----------
    data : pandas.DataFrame
        D'.

    Returns
    -------
    Canary
    """
    base = data.reset_index(drop=True)
    return Canary(
        "row_count_probe",
        base,
        base.iloc[[0]].reset_index(drop=True),
        "a duplicate of an existing record; catches an output size copied from the input",
    )


def vulnerable_target(data: pd.DataFrame, neighbours: int = 5) -> Canary:
    """The record with the largest mean distance to its nearest neighbours (Meeus et al., 2023).

    Parameters
    ----------
    data : pandas.DataFrame
        Real records; D' is all of them but the target.
    neighbours : int, default 5
        How many nearest neighbours the mean distance covers.

    Returns
    -------
    Canary
        A realistic (not worst-case) target: an outlier among real records.
    """
    if not 1 <= neighbours < len(data):
        raise parameter_error("neighbours", neighbours, f"between 1 and {len(data) - 1} (rows - 1)")
    points = Encoder([data], list(data.columns)).transform(data)
    squared = (points**2).sum(axis=1)
    distances = np.sqrt(np.maximum(squared[:, None] + squared[None, :] - 2 * points @ points.T, 0.0))
    np.fill_diagonal(distances, np.inf)
    nearest = np.sort(distances, axis=1)[:, :neighbours].mean(axis=1)
    position = int(np.argmax(nearest))
    base = data.drop(data.index[position]).reset_index(drop=True)
    return Canary(
        "vulnerable_target",
        base,
        data.iloc[[position]].reset_index(drop=True),
        f"the real record farthest on average from its {neighbours} nearest neighbours",
    )


CONSTRUCTIONS = {
    "disagreeing": disagreeing,
    "repeated_target": repeated_target,
    "unique_value": unique_value,
    "row_count_probe": row_count_probe,
    "vulnerable_target": vulnerable_target,
}


def make_canary(name: str, data: pd.DataFrame, **options: object) -> Canary:
    """Build a canary by the name of its construction.

    Parameters
    ----------
    name : str
        One of ``disagreeing``, ``repeated_target``, ``unique_value``,
        ``row_count_probe``, ``vulnerable_target``.
    data : pandas.DataFrame
        Background records for the construction.
    **options
        Passed to the construction.

    Returns
    -------
    Canary
    """
    if name not in CONSTRUCTIONS:
        raise parameter_error("canary", name, f"one of {sorted(CONSTRUCTIONS)} or a Canary")
    if not isinstance(data, pd.DataFrame) or len(data) == 0:
        raise parameter_error("data", type(data).__name__, "a non-empty DataFrame to build the canary from")
    return CONSTRUCTIONS[name](data, **options)
