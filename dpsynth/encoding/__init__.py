"""dpsynth.encoding."""
