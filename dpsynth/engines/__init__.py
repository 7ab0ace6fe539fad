"""Counting engines: exact marginal counts over cliques of encoded columns.

Counting is the only step after encoding that reads the data. Every engine
implements :class:`~dpsynth.engines.base.CountingEngine`; the counts it returns
are exact and must never leave the privacy layer without noise. DuckDB and
Spark also compute, in place, the aggregates DP discovery needs
(:class:`DuckDBProfiler`, :class:`SparkProfiler`).
"""

from dpsynth.engines.base import CountingEngine
from dpsynth.engines.duckdb_engine import DuckDBEngine
from dpsynth.engines.grouped import GroupedCounts
from dpsynth.engines.numpy_engine import NumpyEngine
from dpsynth.engines.profile import DuckDBProfiler, SparkProfiler
from dpsynth.engines.spark_engine import SparkEngine

__all__ = [
    "CountingEngine", "DuckDBEngine", "DuckDBProfiler", "GroupedCounts", "NumpyEngine", "SparkEngine",
    "SparkProfiler",
]
