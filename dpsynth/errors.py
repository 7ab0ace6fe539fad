"""Typed exceptions for dpsynth.

Every message names what is wrong (the column, the parameter, the value) and
says what to do about it. Input problems are collected and raised together
(one :class:`InputDataError` listing every problem), so a user fixes a table in
one pass rather than one error at a time.

All exceptions derive from :class:`DPSynthError`; the command line catches that
class and prints a one-line message instead of a traceback.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


class DPSynthError(Exception):
    """Base class of every error dpsynth raises on purpose."""

    #: exit code the command line uses for this family of errors
    exit_code: int = 1


class ParameterError(DPSynthError, ValueError):
    """A function or constructor argument is invalid."""

    exit_code = 2


def parameter_error(name: str, value: object, requirement: str) -> ParameterError:
    """Build the one standard message for a bad parameter.

    Parameters
    ----------
    name : str
        Name of the parameter as the user wrote it.
    value : object
        The offending value.
    requirement : str
        What the value must be, phrased to complete "must be ...".

    Returns
    -------
    ParameterError
        ``name (value) must be requirement``, in the style of OpenDP.
    """
    return ParameterError(f"{name} ({value!r}) must be {requirement}")


@dataclass(frozen=True)
class Problem:
    """One problem found in the input: where, what, and how to fix it."""

    column: str | None
    message: str
    fix: str
    value: object = None

    def __str__(self) -> str:
        where = f"column {self.column!r}: " if self.column is not None else ""
        return f"{where}{self.message}; fix: {self.fix}"


class InputDataError(DPSynthError, ValueError):
    """The input table cannot be used as it is. Lists every problem at once."""

    exit_code = 3

    def __init__(self, problems: Iterable[Problem] | str):
        if isinstance(problems, str):
            problems = [Problem(None, problems, "see the documentation of the input format")]
        self.problems: tuple[Problem, ...] = tuple(problems)
        if len(self.problems) == 1:
            text = str(self.problems[0])
        else:
            lines = "\n".join(f"  - {p}" for p in self.problems)
            text = f"{len(self.problems)} problems in the input:\n{lines}"
        super().__init__(text)


class DataReadError(InputDataError):
    """A data file could not be read (missing, unreadable, wrong format)."""


class SchemaError(DPSynthError, ValueError):
    """A schema is malformed or inconsistent with itself."""

    exit_code = 3

    def __init__(self, problems: Iterable[Problem] | str):
        if isinstance(problems, str):
            problems = [Problem(None, problems, "correct the schema")]
        self.problems = tuple(problems)
        if len(self.problems) == 1:
            text = str(self.problems[0])
        else:
            lines = "\n".join(f"  - {p}" for p in self.problems)
            text = f"{len(self.problems)} problems in the schema:\n{lines}"
        super().__init__(text)


class NonPublicSchemaError(SchemaError):
    """A schema read from the private data is used without acknowledgement."""


class PrivacyError(DPSynthError):
    """Base class of errors about privacy parameters and accounting."""

    exit_code = 4


class BudgetExceededError(PrivacyError):
    """A charge or a release would exceed the available privacy budget."""


class LedgerError(PrivacyError):
    """The persistent privacy-budget ledger cannot be used as asked."""


class LedgerIntegrityError(LedgerError):
    """The ledger's rows do not match their hash chain or their totals."""


class ModelTooLargeError(DPSynthError, MemoryError):
    """A graphical model or marginal would not fit in the configured memory cap."""

    exit_code = 5


class NotFittedError(DPSynthError, RuntimeError):
    """A method that needs a fitted object was called before ``fit``."""

    exit_code = 2


class EngineError(DPSynthError):
    """A counting engine cannot run as asked (missing extra, bad source)."""

    exit_code = 6
