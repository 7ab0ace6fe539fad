"""Typed errors of the audits package.

``audits`` stands alone (it never imports ``dpsynth``), so it keeps its own
small error family. Messages follow one pattern: the parameter or column, the
value, what it must be, and what to do.
"""

from __future__ import annotations


class AuditError(Exception):
    """Base class of every error the audits package raises on purpose."""


class AuditParameterError(AuditError, ValueError):
    """An argument of an audit function is invalid."""


class AuditRunError(AuditError, RuntimeError):
    """The audited callable failed during one run of the game."""


class ResultsFileError(AuditError, ValueError):
    """A results file cannot be resumed: it belongs to another game or is damaged."""


def parameter_error(name: str, value: object, requirement: str) -> AuditParameterError:
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
    AuditParameterError
        ``name (value) must be requirement``.
    """
    return AuditParameterError(f"{name} ({value!r}) must be {requirement}")
