"""The problems of a table counted in place, worded as ``Schema.check_frame`` words them.

An engine that counts in SQL first learns, from its grouped table, how many
rows of each column got a :class:`~dpsynth.engines.sql.Refusal` sentinel; it
then asks the source for a few offending values, and :func:`column_problems`
turns both into the :class:`~dpsynth.errors.Problem` list the pandas path
(``TableEncoder.encode``) would raise, so a user sees the same refusal
whichever engine reads the table.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from typing import Any

import numpy as np

from dpsynth.engines.sql import ColumnPlan, Refusal
from dpsynth.errors import Problem

#: ``examples(plan, refusal) -> (a few distinct offending raw values, how many distinct there are)``
Examples = Callable[[ColumnPlan, Refusal], tuple[Sequence[Any], int]]

#: how many offending values a message shows
SHOWN = 5


def structure_problems(names: Sequence[str], source_columns: Collection[str]) -> list[Problem]:
    """Columns the schema declares but the source lacks, and the reverse."""
    problems = [
        Problem(n, "the schema declares it but the table lacks it", "add the column or remove it from the schema")
        for n in names if n not in source_columns
    ]
    problems += [
        Problem(n, "the table has it but the schema does not declare it", "declare it in the schema or drop it")
        for n in source_columns if n not in names
    ]
    return problems


def column_problems(plan: ColumnPlan, codes: np.ndarray, weights: np.ndarray, examples: Examples) -> list[Problem]:
    """Every problem of one column, from its grouped codes.

    Parameters
    ----------
    plan : ColumnPlan
        The column's coding.
    codes : numpy.ndarray
        The column's code in each distinct row of the grouped table.
    weights : numpy.ndarray
        Number of rows behind each distinct row.
    examples : callable
        Fetches offending raw values of one kind of refusal from the source.

    Returns
    -------
    list of Problem
        In the order ``check_column`` reports them; empty if the column is fine.
    """
    name, spec = plan.name, plan.spec
    rows = {int(r): int(weights[codes == r].sum()) for r in np.unique(codes[codes < 0])}
    missing = rows.get(Refusal.MISSING, 0)
    if plan.missing_code is not None:
        missing += int(weights[codes == plan.missing_code].sum())
    if weights.sum() and missing == weights.sum():
        return [Problem(name, "every value is missing", "drop the column or fill it")]
    problems = []
    if Refusal.MISSING in rows:
        problems.append(Problem(name, f"{rows[Refusal.MISSING]} missing value(s) but the schema says none may occur",
                                "set nullable: true for this column"))
    if Refusal.UNKNOWN in rows:
        values, n_distinct = examples(plan, Refusal.UNKNOWN)
        shown = ", ".join(repr(v) for v in values[:SHOWN])
        more = f" (and {n_distinct - SHOWN} more)" if n_distinct > SHOWN else ""
        problems.append(Problem(name, f"value(s) {shown} are not among the declared categories{more}",
                                "add them to the category list or set on_unknown: other", values[0]))
    # A column of unreadable values is reported for that alone, as check_column does.
    for refusal, text, fix in (
        (Refusal.NOT_NUMBER, "value {!r} is not a number", "clean the column or declare it categorical"),
        (Refusal.NOT_BOOLEAN, "value {!r} is not a boolean", "use True/False (or 0/1)"),
        (Refusal.NOT_DATETIME, "value {!r} is not a datetime", "use ISO dates such as 2024-01-31"),
    ):
        if refusal in rows:
            bad = examples(plan, refusal)[0][0]
            return problems + [Problem(name, text.format(bad), fix, bad)]
    for refusal, text, fix in (
        (Refusal.NOT_FINITE, "value {} is not finite", "replace infinities by missing values or bounds"),
        (Refusal.NOT_WHOLE, "value {} is not a whole number in an integer column", "declare the column continuous"),
    ):
        if refusal in rows:
            bad = float(examples(plan, refusal)[0][0])
            problems.append(Problem(name, text.format(bad), fix, bad))
    if Refusal.OUTSIDE in rows:
        lo, hi = (spec.lower, spec.upper) if spec.bin_edges is None else (spec.bin_edges[0], spec.bin_edges[-1])
        problems.append(Problem(name, f"{rows[Refusal.OUTSIDE]} value(s) lie outside [{lo}, {hi}]",
                                "widen the bounds or set on_unknown: clip"))
    return problems
