"""dpsynth.privacy."""
