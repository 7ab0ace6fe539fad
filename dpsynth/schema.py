"""What is PUBLIC about each column of a table.

A :class:`Schema` lists the columns in order and, for each, its kind and the
knowledge about it that may be used without spending privacy budget: the
category list, numeric bounds, bins, whether missing values may occur.

Where that knowledge came from matters and is recorded per column in
``source``:

``"public"``
    declared by the user (from a codebook, a standard, a data dictionary);
    costs nothing and leaks nothing.
``"dp"``
    discovered from the private data by a differentially private mechanism;
    its cost is charged to the accountant.
``"data"``
    read from the private data WITHOUT differential privacy (what
    :func:`infer_schema` does by default). Using such a schema breaks the
    guarantee for that knowledge (a category held by one person reveals that
    person), so it requires an explicit acknowledgement, ``public=True``, which
    the release manifest records.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from enum import Enum
from typing import Any

import numpy as np
import pandas as pd

from dpsynth.errors import InputDataError, NonPublicSchemaError, Problem, SchemaError

SCHEMA_FORMAT_VERSION = 1


class ColumnKind(str, Enum):
    """The kind of a column, which decides how it is encoded."""

    CATEGORICAL = "categorical"
    INTEGER = "integer"
    CONTINUOUS = "continuous"
    DATETIME = "datetime"
    BOOLEAN = "boolean"

    @property
    def is_numeric(self) -> bool:
        """Integer and continuous columns are binned on a numeric range."""
        return self in (ColumnKind.INTEGER, ColumnKind.CONTINUOUS)


#: the provenance of a column's public knowledge
SOURCES = ("public", "dp", "data")
#: resolutions a datetime column's synthetic values can be drawn at: whole days, or a time unit
RESOLUTIONS = ("D", "s", "ms", "us", "ns")
#: a datetime column's resolution left to DP discovery: whole days if its noisy counts show dates
AUTO_RESOLUTION = "auto"

#: what to do with a value outside the declared domain, per kind
UNKNOWN_POLICIES: dict[ColumnKind, tuple[str, ...]] = {
    ColumnKind.CATEGORICAL: ("error", "other"),
    ColumnKind.BOOLEAN: ("error",),
    ColumnKind.INTEGER: ("clip", "error"),
    ColumnKind.CONTINUOUS: ("clip", "error"),
    ColumnKind.DATETIME: ("clip", "error"),
}

DEFAULT_UNKNOWN_POLICY = {kind: policies[0] for kind, policies in UNKNOWN_POLICIES.items()}

#: default number of bins for a numeric or datetime column without explicit edges
DEFAULT_BINS = 16


def integer_dtype_limits(dtype: str | None) -> tuple[float, float] | None:
    """The smallest and largest value an integer dtype holds (numpy's or pandas' nullable), else None."""
    if dtype is None:
        return None
    try:
        resolved = pd.api.types.pandas_dtype(dtype)
    except (TypeError, ValueError, NotImplementedError):  # not a dtype: the encoder says so
        return None
    resolved = getattr(resolved, "numpy_dtype", resolved)  # pandas' Int8 holds what int8 holds
    if not (isinstance(resolved, np.dtype) and resolved.kind in "iu"):
        return None
    info = np.iinfo(resolved)
    return float(info.min), float(info.max)


@dataclass(frozen=True)
class ColumnSpec:
    """Public knowledge about one column.

    Parameters
    ----------
    name : str
        Column name in the raw table.
    kind : ColumnKind or str
        ``categorical``, ``integer``, ``continuous``, ``datetime`` or ``boolean``.
    categories : sequence, optional
        The category list of a categorical column, in code order. ``None`` means
        not known yet (to be discovered with DP).
    lower, upper : number or ISO date string, optional
        Bounds of a numeric or datetime column. ``None`` means not known yet.
    bins : int, optional
        Number of equal-width bins between ``lower`` and ``upper``.
    bin_edges : sequence of number or ISO date string, optional
        Explicit, strictly increasing bin edges; overrides ``bins`` and bounds.
    nullable : bool
        Whether missing values may occur (they get a code of their own).
    nullable_assumed : bool
        ``nullable`` was assumed from the dtype (``infer_schema(df,
        kinds_only=True)``), not declared: a synthesizer then decides from its
        noisy counts whether missing values occur at all.
    on_unknown : str, optional
        Policy for a value outside the declared domain: ``"error"`` refuses the
        table; ``"other"`` (categorical) maps it to a reserved "other" code;
        ``"clip"`` (numeric, datetime) clips it to the bounds. The number of
        values affected is always reported. Defaults: categorical ``"error"``,
        boolean ``"error"``, numeric and datetime ``"clip"``.
    source : str
        Provenance of the knowledge: ``"public"``, ``"dp"`` or ``"data"``.
    dtype : str, optional
        The pandas dtype of the raw column, restored on decoding.
    kind_from_data : bool
        The kind, nullability and format were read from the values rather
        than from declared types: a CSV file has no types, so whether a
        column is integer, decimal, date or text (and whether it holds a
        missing value) depends on every value of it. Such a schema counts as
        read from the data: a synthesizer refuses it unless ``public=True``.
    resolution : str, optional
        Datetime columns only: the resolution synthetic values are drawn at,
        ``"D"`` (whole days, midnight UTC: a column of dates) or a time unit
        (``"s"``, ``"ms"``, ``"us"``, ``"ns"``). By default, the resolution of
        the dtype. A coarser unit of the two applies. ``"auto"`` leaves it to
        DP discovery: ``"D"`` if a noisy count shows (almost) every value at
        midnight, the dtype's otherwise.
    """

    name: str
    kind: ColumnKind
    categories: tuple[Any, ...] | None = None
    lower: Any = None
    upper: Any = None
    bins: int | None = None
    bin_edges: tuple[Any, ...] | None = None
    nullable: bool = False
    nullable_assumed: bool = False
    on_unknown: str | None = None
    source: str = "public"
    dtype: str | None = None
    resolution: str | None = None
    kind_from_data: bool = False

    def __post_init__(self) -> None:
        try:
            kind = ColumnKind(self.kind)
        except ValueError:
            kinds = ", ".join(k.value for k in ColumnKind)
            raise SchemaError(
                [Problem(self.name, f"kind {self.kind!r} is unknown", f"use one of: {kinds}")]
            ) from None
        object.__setattr__(self, "kind", kind)
        if self.categories is not None:
            object.__setattr__(self, "categories", tuple(self.categories))
        if self.bin_edges is not None:
            object.__setattr__(self, "bin_edges", tuple(self.bin_edges))
        if kind is ColumnKind.DATETIME:
            # Timestamps become ISO text, as JSON stores them, so a loaded schema equals its source.
            for key in ("lower", "upper"):
                object.__setattr__(self, key, _iso(getattr(self, key)))
            if self.bin_edges is not None:
                object.__setattr__(self, "bin_edges", tuple(_iso(e) for e in self.bin_edges))
        if self.on_unknown is None:
            object.__setattr__(self, "on_unknown", DEFAULT_UNKNOWN_POLICY[kind])
        problems = list(self._problems())
        if problems:
            raise SchemaError(problems)

    # -- validation -----------------------------------------------------------------
    def _problems(self) -> Iterator[Problem]:
        name, kind = self.name, self.kind
        if not isinstance(name, str) or not name:
            yield Problem(None, f"column name {name!r} is not a non-empty string", "name it")
            return
        if self.source not in SOURCES:
            yield Problem(name, f"source {self.source!r} is unknown", f"use one of {SOURCES}")
        if not isinstance(self.nullable, (bool, np.bool_)):
            yield Problem(name, f"nullable ({self.nullable!r}) is not a boolean", "use true or false")
        if not isinstance(self.nullable_assumed, (bool, np.bool_)):
            yield Problem(
                name, f"nullable_assumed ({self.nullable_assumed!r}) is not a boolean", "use true or false"
            )
        elif self.nullable_assumed and not self.nullable:
            yield Problem(
                name, "nullable_assumed is true but nullable is false",
                "remove nullable_assumed, or set nullable: true",
            )
        if not isinstance(self.kind_from_data, (bool, np.bool_)):
            yield Problem(
                name, f"kind_from_data ({self.kind_from_data!r}) is not a boolean", "use true or false"
            )
        if self.on_unknown not in UNKNOWN_POLICIES[kind]:
            yield Problem(
                name,
                f"on_unknown {self.on_unknown!r} is not allowed for a {kind.value} column",
                f"use one of {UNKNOWN_POLICIES[kind]}",
            )
        if self.resolution is not None:
            if kind is not ColumnKind.DATETIME:
                yield Problem(name, f"a {kind.value} column cannot have a resolution", "remove it")
            elif self.resolution not in (*RESOLUTIONS, AUTO_RESOLUTION):
                yield Problem(
                    name, f"resolution {self.resolution!r} is unknown",
                    f"use one of {RESOLUTIONS} ('D' for dates)",
                )
        if kind is ColumnKind.CATEGORICAL:
            yield from self._category_problems()
        elif self.categories is not None:
            yield Problem(name, f"a {kind.value} column cannot have categories", "remove them")
        if kind.is_numeric or kind is ColumnKind.DATETIME:
            yield from self._range_problems()
        elif any(v is not None for v in (self.lower, self.upper, self.bins, self.bin_edges)):
            yield Problem(
                name,
                f"a {kind.value} column cannot have bounds or bins",
                "remove lower, upper, bins and bin_edges",
            )

    def _category_problems(self) -> Iterator[Problem]:
        if self.categories is None:
            return
        cats = self.categories
        if len(cats) == 0 and self.on_unknown != "other":
            yield Problem(self.name, "the category list is empty", "list the categories")
        seen: dict[str, Any] = {}
        for c in cats:
            if c is None or (isinstance(c, (float, np.floating)) and math.isnan(c)):
                yield Problem(
                    self.name,
                    "the category list contains a missing value",
                    "remove it and set nullable: true instead",
                )
                continue
            if not isinstance(c, (str, int, float, bool, np.integer, np.floating, np.bool_)):
                yield Problem(
                    self.name,
                    f"category {c!r} has type {type(c).__name__}",
                    "use strings or numbers as categories",
                )
                continue
            key = category_key(c)
            if key in seen:
                what = "is listed twice" if seen[key] == c else f"matches the same values as {seen[key]!r}"
                yield Problem(self.name, f"category {c!r} {what}", "list it once")
            seen.setdefault(key, c)

    def _range_problems(self) -> Iterator[Problem]:
        name = self.name
        if self.bins is not None and (
            isinstance(self.bins, (bool, np.bool_))
            or not isinstance(self.bins, (int, np.integer))
            or self.bins < 1
        ):
            yield Problem(name, f"bins ({self.bins!r}) is not a positive integer", "use bins >= 1")
        try:
            lower, upper = self.numeric_bound(self.lower), self.numeric_bound(self.upper)
        except (TypeError, ValueError) as exc:
            yield Problem(name, f"a bound cannot be read ({exc})", _bound_fix(self.kind))
            return
        for label, bound in (("lower", lower), ("upper", upper)):
            if bound is not None and not math.isfinite(bound):
                yield Problem(name, f"{label} bound ({bound}) is not finite", "use a finite bound")
        if lower is not None and upper is not None and not lower < upper:
            yield Problem(
                name,
                f"lower ({self.lower!r}) is not below upper ({self.upper!r})",
                "make lower < upper",
            )
        if self.kind is ColumnKind.INTEGER:
            for label, bound in (("lower", lower), ("upper", upper)):
                if bound is not None and math.isfinite(bound) and bound != int(bound):
                    yield Problem(
                        name,
                        f"{label} bound ({bound}) of an integer column is not a whole number",
                        "use whole-number bounds",
                    )
        yield from self._dtype_range_problems(lower, upper)
        if self.bin_edges is not None:
            try:
                edges = [self.numeric_bound(e) for e in self.bin_edges]
            except (TypeError, ValueError) as exc:
                yield Problem(name, f"a bin edge cannot be read ({exc})", _bound_fix(self.kind))
                return
            if len(edges) < 2:
                yield Problem(name, "bin_edges has fewer than 2 edges", "give at least 2 edges")
            elif not all(math.isfinite(e) for e in edges):
                yield Problem(name, "bin_edges contains a non-finite edge", "use finite edges")
            elif any(b <= a for a, b in zip(edges, edges[1:], strict=False)):
                yield Problem(name, "bin_edges is not strictly increasing", "sort the edges")

    def _dtype_range_problems(self, lower: float | None, upper: float | None) -> Iterator[Problem]:
        """A range a declared integer dtype cannot hold (refused before any budget is spent)."""
        limits = integer_dtype_limits(self.dtype) if self.kind.is_numeric else None
        if limits is None:
            return
        low, high = limits
        for label, bound in (("lower", lower), ("upper", upper)):
            if bound is not None and math.isfinite(bound) and not low <= bound <= high:
                yield Problem(
                    self.name, f"{label} bound ({bound:g}) is outside what dtype {self.dtype!r} holds "
                    f"({low:g} to {high:g})", "declare bounds within that range, or a wider dtype",
                )

    def numeric_bound(self, value: Any) -> float | None:
        """A bound or edge as a float (datetimes as nanoseconds since the epoch)."""
        if value is None:
            return None
        if self.kind is ColumnKind.DATETIME:
            return float(pd.Timestamp(value).value)
        if isinstance(value, bool):
            raise TypeError(f"{value!r} is a boolean, not a number")
        return float(value)

    # -- what is known ----------------------------------------------------------------
    @property
    def is_complete(self) -> bool:
        """True when the column can be encoded without any discovery step."""
        if self.kind is ColumnKind.CATEGORICAL:
            return self.categories is not None
        if self.kind is ColumnKind.BOOLEAN:
            return True
        if self.resolution == AUTO_RESOLUTION:
            return False
        return self.bin_edges is not None or (self.lower is not None and self.upper is not None)

    def to_dict(self) -> dict[str, Any]:
        """JSON-compatible dict, omitting fields that hold no information."""
        raw = asdict(self)
        raw["kind"] = self.kind.value
        out: dict[str, Any] = {}
        for key, value in raw.items():
            if value is None:
                continue
            if isinstance(value, tuple):
                value = [_json_scalar(v) for v in value]
            else:
                value = _json_scalar(value)
            out[key] = value
        if not self.nullable:
            out.pop("nullable", None)
        if not self.nullable_assumed:
            out.pop("nullable_assumed", None)
        if not self.kind_from_data:
            out.pop("kind_from_data", None)
        return out

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> ColumnSpec:
        """Inverse of :meth:`to_dict`; unknown keys are refused with their name."""
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(raw) - known)
        name = raw.get("name")
        if unknown:
            raise SchemaError(
                [Problem(name, f"unknown key(s) {unknown}", f"use only {sorted(known)}")]
            )
        if "name" not in raw or "kind" not in raw:
            raise SchemaError([Problem(name, "a column needs 'name' and 'kind'", "add them")])
        return cls(**dict(raw))


def _derived_problem(spec: ColumnSpec) -> Problem:
    """Why a column's knowledge is not public, and the three ways out."""
    acknowledge = (
        "or pass public=True (--public on the command line) to acknowledge the leak; "
        "the manifest records it"
    )
    if spec.source == "data":
        return Problem(
            spec.name,
            "its categories or bounds were read from the private data without DP",
            "declare them from a public source, let dpsynth discover them with DP "
            f"(drop them from the schema), {acknowledge}",
        )
    return Problem(
        spec.name,
        f"its kind ({spec.kind.value}) was read from the values of a file without column types "
        "(a CSV): one value can change it, and missing values and date formats with it",
        "give dpsynth the CSV's path, whose kinds every engine decides with DP; declare the "
        "kinds in a schema (dpsynth schema infer <file> -o schema.json writes them; check each "
        "against a public description of the data, delete kind_from_data, pass --schema); give "
        f"the table as Parquet; {acknowledge}",
    )


def _iso(value: Any) -> Any:
    if isinstance(value, (pd.Timestamp, datetime, np.datetime64)):
        return pd.Timestamp(value).isoformat()
    return value


def _bound_fix(kind: ColumnKind) -> str:
    if kind is ColumnKind.DATETIME:
        return "write datetime bounds as ISO strings such as '2024-01-31'"
    return "write bounds as numbers"


def _json_scalar(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value


@dataclass(frozen=True)
class Schema:
    """An ordered list of :class:`ColumnSpec`, one per column of the table.

    Parameters
    ----------
    columns : sequence of ColumnSpec
        The columns, in the order of the table.
    """

    columns: tuple[ColumnSpec, ...]
    _index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        columns = tuple(self.columns)
        names = [c.name for c in columns]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise SchemaError(
                [Problem(n, "the column is declared more than once", "declare it once") for n in dupes]
            )
        if not columns:
            raise SchemaError("the schema declares no column")
        object.__setattr__(self, "columns", columns)
        object.__setattr__(self, "_index", {n: i for i, n in enumerate(names)})

    # -- access ---------------------------------------------------------------------
    @property
    def names(self) -> tuple[str, ...]:
        """Column names in order."""
        return tuple(c.name for c in self.columns)

    def __len__(self) -> int:
        return len(self.columns)

    def __iter__(self) -> Iterator[ColumnSpec]:
        return iter(self.columns)

    def __contains__(self, name: object) -> bool:
        return name in self._index

    def __getitem__(self, name: str) -> ColumnSpec:
        try:
            return self.columns[self._index[name]]
        except KeyError:
            raise SchemaError(
                [Problem(name, "the column is not in the schema", f"use one of {list(self.names)}")]
            ) from None

    def with_column(self, spec: ColumnSpec) -> Schema:
        """A copy with the column of the same name replaced by ``spec``."""
        self[spec.name]
        return Schema(tuple(spec if c.name == spec.name else c for c in self.columns))

    def with_kinds_from_data(self) -> Schema:
        """A copy with every column marked ``kind_from_data`` (its types were read from its values)."""
        return Schema(tuple(replace(c, kind_from_data=True) for c in self.columns))

    def select(self, names: Iterable[str]) -> Schema:
        """A schema over the given columns, in the order given."""
        return Schema(tuple(self[n] for n in names))

    # -- provenance -----------------------------------------------------------------
    @property
    def data_derived_columns(self) -> tuple[str, ...]:
        """Columns whose knowledge (domain, or kind) was read from the private data without DP."""
        return tuple(c.name for c in self.columns if c.source == "data" or c.kind_from_data)

    @property
    def incomplete_columns(self) -> tuple[str, ...]:
        """Columns that need DP discovery before they can be encoded."""
        return tuple(c.name for c in self.columns if not c.is_complete)

    def require_public(self, public: bool = False, *, kinds_by_dp: bool = False) -> None:
        """Refuse a schema read from the private data unless acknowledged.

        Parameters
        ----------
        public : bool
            The user's acknowledgement that the data-derived parts of the schema
            may be treated as public. The release manifest records it.
        kinds_by_dp : bool
            The kinds marked ``kind_from_data`` will be decided with DP
            (:func:`dpsynth.encoding.formats.vote_kinds`): they are not refused.

        Raises
        ------
        NonPublicSchemaError
            If some column's knowledge came from the data and ``public`` is False.
        """
        derived = [
            c.name for c in self.columns
            if c.source == "data" or (c.kind_from_data and not kinds_by_dp)
        ]
        if derived and not public:
            raise NonPublicSchemaError([_derived_problem(self[name]) for name in derived])

    def mark_public(self) -> Schema:
        """A copy whose data-derived columns are declared public by the user."""
        return Schema(
            tuple(replace(c, source="public") if c.source == "data" else c for c in self.columns)
        )

    # -- checking a table -----------------------------------------------------------
    def check_frame(self, df: pd.DataFrame) -> list[Problem]:
        """Every problem that stops ``df`` from being encoded under this schema.

        Checks structure (empty table, duplicate, missing or undeclared columns)
        and values (all-missing columns, missing values where none may occur,
        non-finite numbers, unparseable values, undeclared categories or
        out-of-range values under policy ``"error"``). It reads only the data
        passed in and spends no privacy budget.

        Parameters
        ----------
        df : pandas.DataFrame
            The raw table.

        Returns
        -------
        list of Problem
            Empty when the table can be encoded.
        """
        problems: list[Problem] = []
        cols = [str(c) for c in df.columns]
        for name in sorted({c for c in cols if cols.count(c) > 1}):
            problems.append(
                Problem(name, "the table has more than one column of this name", "rename one")
            )
        if problems:
            return problems
        if len(df) == 0:
            problems.append(Problem(None, "the table has no rows", "pass a non-empty table"))
        for name in self.names:
            if name not in df.columns:
                problems.append(
                    Problem(name, "the schema declares it but the table lacks it", "add the column or remove it from the schema")
                )
        for name in cols:
            if name not in self:
                problems.append(
                    Problem(name, "the table has it but the schema does not declare it", "declare it in the schema or drop it")
                )
        if problems:
            return problems
        for spec in self.columns:
            problems.extend(check_column(spec, df[spec.name]))
        return problems

    def validate_frame(self, df: pd.DataFrame) -> None:
        """Raise :class:`InputDataError` listing every problem of ``df``, if any."""
        problems = self.check_frame(df)
        if problems:
            raise InputDataError(problems)

    # -- persistence ----------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """JSON-compatible representation."""
        return {"format": SCHEMA_FORMAT_VERSION, "columns": [c.to_dict() for c in self.columns]}

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Schema:
        """Build a schema from :meth:`to_dict` output, reporting every problem at once."""
        if not isinstance(raw, Mapping) or not isinstance(raw.get("columns"), list):
            raise SchemaError("a schema is an object with a list under 'columns'")
        specs, problems = [], []
        for i, col in enumerate(raw["columns"]):
            if not isinstance(col, Mapping):
                problems.append(Problem(None, f"column entry {i} is not an object", "write each column as an object"))
                continue
            try:
                specs.append(ColumnSpec.from_dict(col))
            except SchemaError as exc:
                problems.extend(exc.problems)
        if problems:
            raise SchemaError(problems)
        return cls(tuple(specs))

    def to_json(self, path: str | os.PathLike[str] | None = None, indent: int = 2) -> str:
        """Serialise to JSON; also write it to ``path`` when given."""
        text = json.dumps(self.to_dict(), indent=indent, ensure_ascii=False) + "\n"
        if path is not None:
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(text)
        return text

    @classmethod
    def from_json(cls, path_or_text: str | os.PathLike[str]) -> Schema:
        """Load a schema from a JSON file path or a JSON string."""
        text = str(path_or_text)
        if not text.lstrip().startswith("{"):
            try:
                with open(path_or_text, encoding="utf-8") as fh:
                    text = fh.read()
            except OSError as exc:
                raise SchemaError(
                    f"cannot read schema file {os.fspath(path_or_text)!r}: {exc.strerror}"
                ) from None
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SchemaError(f"the schema is not valid JSON: {exc}") from None
        return cls.from_dict(raw)


# ---------------------------------------------------------------------------------------
# Checking one column against its spec
# ---------------------------------------------------------------------------------------
def check_column(spec: ColumnSpec, series: pd.Series) -> list[Problem]:
    """Problems of one raw column under its spec (see :meth:`Schema.check_frame`)."""
    name = spec.name
    missing = series.isna()
    if len(series) and bool(missing.all()):
        return [Problem(name, "every value is missing", "drop the column or fill it")]
    problems = []
    if missing.any() and not spec.nullable:
        problems.append(
            Problem(
                name,
                f"{int(missing.sum())} missing value(s) but the schema says none may occur",
                "set nullable: true for this column",
            )
        )
    present = series[~missing]
    not_scalar = _first_unhashable(present)
    if not_scalar is not None:
        return problems + [
            Problem(name, f"value {not_scalar!r} is not a single value", "flatten or drop the column",
                    not_scalar)
        ]
    kind = spec.kind
    if kind is ColumnKind.CATEGORICAL:
        if spec.categories is not None and spec.on_unknown == "error":
            unknown = _undeclared(present, spec.categories)
            if unknown:
                shown = ", ".join(repr(v) for v in unknown[:5])
                problems.append(
                    Problem(
                        name,
                        f"value(s) {shown} are not among the declared categories"
                        + (f" (and {len(unknown) - 5} more)" if len(unknown) > 5 else ""),
                        "add them to the category list or set on_unknown: other",
                        unknown[0],
                    )
                )
    elif kind is ColumnKind.BOOLEAN:
        bad = _non_boolean(present)
        if bad:
            problems.append(
                Problem(name, f"value {bad[0]!r} is not a boolean", "use True/False (or 0/1)", bad[0])
            )
    elif kind.is_numeric:
        problems.extend(_numeric_problems(spec, present))
    elif kind is ColumnKind.DATETIME:
        problems.extend(_datetime_problems(spec, present))
    return problems


def _first_unhashable(values: pd.Series) -> Any:
    """The first list, dict or other unhashable value of an object column, else None."""
    if values.dtype != np.dtype(object):
        return None
    try:
        pd.unique(values.to_numpy())
    except TypeError:
        return next(v for v in values if not isinstance(v, Hashable))
    return None


def category_key(value: Any) -> str:
    """The text by which a raw value is matched to a declared category.

    A raw value matches a category when both have the same key: strings are
    taken as written, booleans as ``"True"``/``"False"``, numbers in their
    shortest form with whole numbers written without a fraction. So ``1``,
    ``1.0``, ``np.int8(1)`` and the string ``"1"`` (as a CSV gives it) all match
    the category ``1``, while the strings ``"1.0"`` and ``" 1"`` do not.

    Parameters
    ----------
    value : object
        A non-missing raw value or a declared category.

    Returns
    -------
    str
    """
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        number = float(value)
        return str(int(number)) if number.is_integer() else repr(number)
    return str(value)


def _undeclared(values: pd.Series, categories: Sequence[Any]) -> list[Any]:
    declared = {category_key(c) for c in categories}
    return [v for v in _distinct(values) if category_key(v) not in declared]


_BOOLEAN_VALUES = {True, False, "True", "False", "true", "false", "TRUE", "FALSE"}


def _non_boolean(values: pd.Series) -> list[Any]:
    return [v for v in _distinct(values) if not _is_boolean_value(v)]


def _distinct(values: pd.Series) -> list[Any]:
    """The distinct values in order of appearance, as Python scalars.

    Taken in the column's own dtype, not through an object array: an Arrow
    string column is then one hash pass in Arrow (measured 15x faster on a
    million rows), and only the few distinct values become Python objects.
    """
    return [v.item() if isinstance(v, np.generic) else v for v in values.unique()]


def _is_boolean_value(v: Any) -> bool:
    try:
        return v in _BOOLEAN_VALUES
    except TypeError:
        return False


def _numeric_problems(spec: ColumnSpec, present: pd.Series) -> list[Problem]:
    name = spec.name
    dtype = present.dtype
    if (
        pd.api.types.is_datetime64_any_dtype(dtype)
        or pd.api.types.is_timedelta64_dtype(dtype)
        or pd.api.types.is_bool_dtype(dtype)
    ):
        return [
            Problem(name, f"the column holds {dtype} values, not numbers",
                    "declare it with the kind of its values, or convert them to numbers first")
        ]
    numbers = pd.to_numeric(present, errors="coerce")
    unparsed = numbers.isna()
    if unparsed.any():
        bad = present[unparsed].iloc[0]
        return [Problem(name, f"value {bad!r} is not a number", "clean the column or declare it categorical", bad)]
    values = numbers.to_numpy(dtype=float)
    problems = []
    finite = np.isfinite(values)
    if not finite.all():
        bad = values[~finite][0]
        problems.append(
            Problem(name, f"value {bad} is not finite", "replace infinities by missing values or bounds", bad)
        )
    if spec.kind is ColumnKind.INTEGER and finite.any():
        frac = values[finite] != np.round(values[finite])
        if frac.any():
            bad = values[finite][frac][0]
            problems.append(
                Problem(name, f"value {bad} is not a whole number in an integer column", "declare the column continuous", bad)
            )
    if spec.on_unknown == "error":
        problems.extend(_range_problems(spec, values[finite]))
    return problems


def _datetime_problems(spec: ColumnSpec, present: pd.Series) -> list[Problem]:
    name = spec.name
    dtype = present.dtype
    if pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype):
        return [
            Problem(name, f"the column holds {dtype} values, not datetimes",
                    "parse it into datetimes first (pandas.to_datetime) or declare it numeric")
        ]
    try:
        # Times compare in UTC: aware values are converted, naive ones taken as UTC.
        if pd.api.types.is_datetime64_any_dtype(dtype):
            parsed = pd.to_datetime(present, utc=True)
        else:
            parsed = pd.to_datetime(present, errors="coerce", utc=True, format="mixed")
    except (TypeError, ValueError, OverflowError):
        return [Problem(name, "the values cannot be read as datetimes", "use ISO dates such as 2024-01-31")]
    unparsed = parsed.isna()
    if unparsed.any():
        bad = present[unparsed].iloc[0]
        return [Problem(name, f"value {bad!r} is not a datetime", "use ISO dates such as 2024-01-31", bad)]
    if spec.on_unknown == "error" and len(parsed):
        ends = (spec.lower, spec.upper) if spec.bin_edges is None else (spec.bin_edges[0], spec.bin_edges[-1])
        if None not in ends:
            lo, hi = (_utc_timestamp(e) for e in ends)
            return _outside_problems(spec, int(((parsed < lo) | (parsed > hi)).sum()))
    return []


def _utc_timestamp(value: Any) -> pd.Timestamp:
    ts = pd.Timestamp(value)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def _domain_range(spec: ColumnSpec) -> tuple[float | None, float | None]:
    if spec.bin_edges is not None:
        return spec.numeric_bound(spec.bin_edges[0]), spec.numeric_bound(spec.bin_edges[-1])
    return spec.numeric_bound(spec.lower), spec.numeric_bound(spec.upper)


def _range_problems(spec: ColumnSpec, values: np.ndarray) -> list[Problem]:
    lo, hi = _domain_range(spec)
    if lo is None or hi is None or values.size == 0:
        return []
    return _outside_problems(spec, int(((values < lo) | (values > hi)).sum()))


def _outside_problems(spec: ColumnSpec, n_outside: int) -> list[Problem]:
    if not n_outside:
        return []
    lo, hi = (spec.lower, spec.upper) if spec.bin_edges is None else (spec.bin_edges[0], spec.bin_edges[-1])
    return [
        Problem(
            spec.name,
            f"{n_outside} value(s) lie outside [{lo}, {hi}]",
            "widen the bounds or set on_unknown: clip",
        )
    ]


# ---------------------------------------------------------------------------------------
# Proposing a schema
# ---------------------------------------------------------------------------------------
def infer_kind(series: pd.Series) -> ColumnKind:
    """Propose a kind from the column's dtype (structure only, no values read)."""
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return ColumnKind.BOOLEAN
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return ColumnKind.DATETIME
    if pd.api.types.is_integer_dtype(dtype):
        return ColumnKind.INTEGER
    if pd.api.types.is_float_dtype(dtype):
        return ColumnKind.CONTINUOUS
    return ColumnKind.CATEGORICAL


def infer_schema(
    df: pd.DataFrame,
    *,
    kinds_only: bool = False,
    bins: int = DEFAULT_BINS,
    max_categories: int = 1000,
    types_from_values: bool = False,
) -> Schema:
    """Propose a schema for ``df``.

    Kinds come from the dtypes. With ``kinds_only=True`` nothing else is read,
    the result is marked ``source="public"`` and the missing categories and
    bounds are left for DP discovery. Otherwise categories, bounds and
    nullability are READ FROM THE DATA and every such column is marked
    ``source="data"``: using that schema then requires ``public=True``.

    Parameters
    ----------
    df : pandas.DataFrame
        The raw table.
    kinds_only : bool
        Propose kinds only; every column is nullable unless its dtype cannot
        hold a missing value (numpy integers and booleans). No value is read:
        a naive datetime column gets ``resolution="auto"``, so DP discovery
        decides whether it holds dates.
    bins : int
        Number of bins for numeric and datetime columns.
    max_categories : int
        A text column with more distinct values than this is refused (it is
        probably an identifier or free text), with a message saying so.
    types_from_values : bool
        The dtypes themselves were read from the values (``df`` is a CSV file
        as :func:`dpsynth.io.read_table` reads it): every column is marked
        ``kind_from_data``, so using the schema requires ``public=True``.
        With ``kinds_only``, nothing else is taken from those dtypes: every
        column is nullable (assumed), names no dtype, and a datetime column
        gets ``resolution="auto"``. Without it, the dtypes are taken as public
        structure of the table.

    Returns
    -------
    Schema
    """
    if df.shape[1] == 0:
        raise InputDataError([Problem(None, "the table has no columns", "pass a table with columns")])
    cols = [str(c) for c in df.columns]
    dupes = sorted({c for c in cols if cols.count(c) > 1})
    if dupes:
        raise InputDataError([Problem(n, "the table has more than one column of this name", "rename one") for n in dupes])
    specs = []
    for name in df.columns:
        series = df[name]
        kind = infer_kind(series)
        dtype = str(series.dtype)
        if kinds_only:
            # Dtypes read from a CSV's values say nothing public: not whether a column may
            # hold a missing value (a blank makes integers Int64), nor its dtype or time zone
            # (one offset makes times UTC). Only the kind is proposed, marked to be checked.
            nullable = True if types_from_values else _dtype_holds_missing(series.dtype)
            resolution = None
            if kind is ColumnKind.DATETIME:
                resolution = AUTO_RESOLUTION if types_from_values else _proposed_resolution(series.dtype)
            specs.append(
                ColumnSpec(
                    name=str(name),
                    kind=kind,
                    bins=bins if (kind.is_numeric or kind is ColumnKind.DATETIME) else None,
                    nullable=nullable,
                    nullable_assumed=nullable,
                    dtype=None if types_from_values else dtype,
                    resolution=resolution,
                    kind_from_data=types_from_values,
                )
            )
            continue
        spec = _spec_from_values(str(name), series, kind, dtype, bins, max_categories)
        specs.append(replace(spec, kind_from_data=types_from_values))
    return Schema(tuple(specs))


def _proposed_resolution(dtype: Any) -> str | None:
    """``"auto"`` for a naive datetime dtype: whether it holds dates is left to DP discovery.

    Whether every value sits at midnight is a property of the values, which
    one row can change, so a kinds-only schema does not read it. A
    time-zone-aware column holds instants: None, the dtype's resolution.
    """
    return None if getattr(dtype, "tz", None) is not None else AUTO_RESOLUTION


def _whole_days(series: pd.Series) -> str | None:
    """``"D"`` for a naive datetime column of dates (every present value at midnight), else None.

    Read from the values: only for a schema marked ``source="data"``.
    """
    if not pd.api.types.is_datetime64_any_dtype(series.dtype) or getattr(series.dt, "tz", None) is not None:
        return None
    present = series.dropna()
    if present.empty:
        return None
    return "D" if bool((present == present.dt.normalize()).all()) else None


def _dtype_holds_missing(dtype: Any) -> bool:
    return not (isinstance(dtype, np.dtype) and dtype.kind in "biu")


def _spec_from_values(
    name: str, series: pd.Series, kind: ColumnKind, dtype: str, bins: int, max_categories: int
) -> ColumnSpec:
    present = series.dropna()
    nullable = bool(series.isna().any())
    if present.empty:
        raise InputDataError([Problem(name, "every value is missing", "drop the column or fill it")])
    if kind is ColumnKind.BOOLEAN:
        return ColumnSpec(name, kind, nullable=nullable, source="data", dtype=dtype)
    if kind is ColumnKind.CATEGORICAL:
        values = pd.unique(present.to_numpy(dtype=object))
        if len(values) > max_categories:
            raise InputDataError(
                [
                    Problem(
                        name,
                        f"{len(values)} distinct values (more than max_categories={max_categories})",
                        "drop identifier or free-text columns, or raise max_categories",
                    )
                ]
            )
        cats = sorted(values, key=lambda v: (str(type(v)), v))
        return ColumnSpec(name, kind, categories=tuple(cats), nullable=nullable, source="data", dtype=dtype)
    if kind is ColumnKind.DATETIME:
        ts = pd.to_datetime(present)
        if getattr(ts.dt, "tz", None) is not None:
            ts = ts.dt.tz_convert("UTC").dt.tz_localize(None)
        lo, hi = ts.min(), ts.max()
        if lo == hi:
            hi = lo + pd.Timedelta(days=1)
        return ColumnSpec(
            name, kind, lower=lo.isoformat(), upper=hi.isoformat(), bins=bins,
            nullable=nullable, source="data", dtype=dtype, resolution=_whole_days(series),
        )
    values = pd.to_numeric(present, errors="coerce").to_numpy(dtype=float)
    values = values[np.isfinite(values)]
    if values.size == 0:
        raise InputDataError([Problem(name, "no finite numeric value", "clean the column")])
    lo, hi = float(values.min()), float(values.max())
    if kind is ColumnKind.INTEGER:
        lo, hi = int(math.floor(lo)), int(math.ceil(hi))
        if lo == hi:
            # one value: widen by one, downwards when it is the dtype's largest
            limits = integer_dtype_limits(dtype)
            lo, hi = (lo - 1, hi) if limits is not None and lo + 1 > limits[1] else (lo, lo + 1)
        n_bins = min(bins, hi - lo + 1)
    else:
        if lo == hi:
            hi = lo + 1.0
        n_bins = bins
    return ColumnSpec(
        name, kind, lower=lo, upper=hi, bins=n_bins, nullable=nullable, source="data", dtype=dtype
    )
