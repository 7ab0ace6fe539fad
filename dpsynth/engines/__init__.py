"""Counting engines: exact marginal counts over cliques of encoded columns.

Counting is the only step after encoding that reads the data. Every engine
implements :class:`~dpsynth.engines.base.CountingEngine`; the counts it returns
are exact and must never leave the privacy layer without noise.
"""

from dpsynth.engines.base import CountingEngine
from dpsynth.engines.numpy_engine import NumpyEngine

__all__ = ["CountingEngine", "NumpyEngine"]
