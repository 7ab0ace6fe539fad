"""dpsynth.release."""
