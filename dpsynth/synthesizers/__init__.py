"""Synthesizers: MST, AIM and the independent baseline.

Each composes the stages below it (encoding, engines, privacy, pgm) through
the shared life cycle of :class:`~dpsynth.synthesizers.base.Synthesizer`:
``Synth(epsilon=..., delta=...).fit(df, schema).sample(n)``.
"""

from dpsynth.synthesizers.aim import AIM
from dpsynth.synthesizers.base import Synthesizer
from dpsynth.synthesizers.independent import Independent
from dpsynth.synthesizers.mst import MST

SYNTHESIZERS: dict[str, type[Synthesizer]] = {
    "MST": MST,
    "AIM": AIM,
    "Independent": Independent,
}

__all__ = ["AIM", "MST", "SYNTHESIZERS", "Independent", "Synthesizer"]
