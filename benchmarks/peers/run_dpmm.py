"""Runner of dpmm's MST and AIM pipelines, inside benchmarks/.venvs/dpmm.

The table is already binned, so dpmm's own binning step is disabled and the
public domain ``{column: size}`` is handed to the model. AIM gets ``degree=3``,
the all-3-way workload the other AIMs use (dpmm's default is 2-way); the rest
are dpmm's defaults.
"""

from __future__ import annotations

import _protocol
import pandas as pd
from dpmm.pipelines import AIMPipeline, MSTPipeline


def fit_sample(df: pd.DataFrame, domain: dict, task: dict) -> pd.DataFrame:
    """Fit dpmm's MST or AIM on the coded table and generate ``task["rows"]`` rows."""
    common = {"epsilon": task["epsilon"], "delta": task["delta"], "disable_processing": True}
    if task["method"] == "mst":
        pipeline = MSTPipeline(**common)
    else:
        pipeline = AIMPipeline(**common, gen_kwargs={"degree": 3})
    pipeline.fit(df, domain=domain, random_state=task["seed"])
    _protocol.progress("fitted; generating")
    return pipeline.generate(n_records=task["rows"], random_state=task["seed"])


if __name__ == "__main__":
    _protocol.run(fit_sample, ["dpmm", "opendp", "numpy", "pandas"])
