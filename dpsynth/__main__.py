"""``python -m dpsynth`` runs the command line."""

import sys

from dpsynth.cli import main

sys.exit(main())
