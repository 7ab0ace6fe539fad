"""dpsynth: differentially private synthetic data with evidence.

Public entry points:

- :mod:`dpsynth.schema` -- what is public about each column;
- :mod:`dpsynth.datasets` -- the built-in UCI Adult data;
- :mod:`dpsynth.errors` -- typed exceptions.
"""

from dpsynth._version import __version__
from dpsynth.domain import Domain
from dpsynth.schema import ColumnKind, ColumnSpec, Schema, infer_schema

__all__ = ["ColumnKind", "ColumnSpec", "Domain", "Schema", "__version__", "infer_schema"]
