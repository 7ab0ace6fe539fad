"""Runner of smartnoise-synth's MST and AIM, inside benchmarks/.venvs/smartnoise.

Every column is declared categorical, so smartnoise spends no budget on
preprocessing (``preprocessor_eps=0``). AIM gets ``degree=3``, the all-3-way
workload the other AIMs use (smartnoise's default is 2-way); the rest are
smartnoise's defaults.
"""

from __future__ import annotations

import _protocol
import numpy as np
import pandas as pd
from snsynth.aim import AIMSynthesizer
from snsynth.mst import MSTSynthesizer


def fit_sample(df: pd.DataFrame, domain: dict, task: dict) -> pd.DataFrame:
    """Fit smartnoise's MST or AIM on the coded table and sample ``task["rows"]`` rows."""
    np.random.seed(task["seed"])  # noqa: NPY002 (mbi samples from numpy's global generator)
    if task["method"] == "mst":
        model = MSTSynthesizer(epsilon=task["epsilon"], delta=task["delta"])
    else:
        # verbose prints each round's share of the budget used: the progress of a capped run
        model = AIMSynthesizer(epsilon=task["epsilon"], delta=task["delta"], degree=3, verbose=True)
    model.fit(df, categorical_columns=list(domain), preprocessor_eps=0.0)
    _protocol.progress("fitted; sampling")
    rows = model.sample(task["rows"])
    return pd.DataFrame(rows, columns=list(domain)) if not isinstance(rows, pd.DataFrame) else rows


if __name__ == "__main__":
    _protocol.run(fit_sample, ["smartnoise-synth", "mbi", "opendp"])
