"""dpsynth.engines."""
