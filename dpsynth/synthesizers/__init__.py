"""Synthesizers: MST, AIM and the independent baseline.

Each composes the stages below it (encoding, engines, privacy, pgm) through
the shared life cycle of :class:`~dpsynth.synthesizers.base.Synthesizer`:
``Synth(epsilon=..., delta=...).fit(df, schema).sample(n)``. Rows stream to
a CSV or Parquet file with ``sample(n, path=...)``, and are generated on Spark
in partitions with :func:`spark_samples`.
"""

from typing import Any

from dpsynth.errors import parameter_error
from dpsynth.synthesizers.aim import AIM
from dpsynth.synthesizers.base import Synthesizer
from dpsynth.synthesizers.independent import Independent
from dpsynth.synthesizers.mst import MST
from dpsynth.synthesizers.spark_sampling import spark_samples

SYNTHESIZERS: dict[str, type[Synthesizer]] = {
    "MST": MST,
    "AIM": AIM,
    "Independent": Independent,
}

#: the methods by their command-line names
METHODS: dict[str, type[Synthesizer]] = {"mst": MST, "aim": AIM, "independent": Independent}


def make_synthesizer(method: str, *, workload: Any = None, **params: Any) -> Synthesizer:
    """The synthesizer of a method name (``"mst"``, ``"aim"``, ``"independent"``).

    ``workload`` applies to AIM only; giving it to another method is an error.
    Other keyword arguments go to the constructor.
    """
    if method not in METHODS:
        raise parameter_error("method", method, f"one of {sorted(METHODS)}")
    if workload is not None:
        if method != "aim":
            raise parameter_error("workload", workload, f"omitted for method {method!r} (only aim takes one)")
        params["workload"] = workload
    return METHODS[method](**params)


__all__ = ["AIM", "METHODS", "MST", "make_synthesizer", "SYNTHESIZERS", "Independent", "Synthesizer", "spark_samples"]
