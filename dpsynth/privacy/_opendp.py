"""The one place where dpsynth switches on OpenDP features.

OpenDP guards its mechanisms behind opt-in features. dpsynth needs only
``"contrib"``: the measurements (discrete Gaussian, discrete Laplace, noisy max,
thresholded histograms, quantiles) and the zCDP conversion that are implemented
and proved by the OpenDP team but not yet formally vetted. dpsynth does NOT
enable ``"floating-point"`` (every count it noises is an integer) nor
``"honest-but-curious"`` (it defines no privacy map of its own).

For users this means: importing :mod:`dpsynth.privacy` enables ``"contrib"`` in
the OpenDP library of the whole Python process, so other code in the same
process that uses OpenDP sees that feature switched on as well.
"""

from __future__ import annotations

import opendp.prelude as dp

dp.enable_features("contrib")

__all__ = ["dp"]
