"""Runner of OpenDP 0.16's MST and AIM (``opendp.extras.mbi``), inside benchmarks/.venvs/opendp.

Every column's codes are declared as public keys, so OpenDP spends nothing on
key discovery and, as it requires when keys span all columns, runs under pure
zCDP with the task's ``rho`` (the same rho dpsynth derives from epsilon and delta).
"""

from __future__ import annotations

import _protocol
import numpy as np
import opendp.extras.mbi._mst as opendp_mst
import opendp.prelude as dp
import pandas as pd
import polars as pl

# OpenDP 0.16's MST gives each of its d-1 selections prior(d_out / (d-1)); on Adult the sum of
# those shares exceeds d_out by an ulp and the last selection is refused ("insufficient budget").
# Shaving a relative 1e-12 off each share spends (negligibly) less and lets it run.
_exact_prior = opendp_mst.prior


def _prior_with_margin(x: float) -> float:
    return _exact_prior(x * (1 - 1e-12))


opendp_mst.prior = _prior_with_margin


def fit_sample(df: pd.DataFrame, domain: dict, task: dict) -> pd.DataFrame:
    """Release a contingency table with OpenDP's MST or AIM (defaults) and synthesize from it."""
    dp.enable_features("contrib")
    np.random.seed(task["seed"])  # noqa: NPY002 (mbi samples from numpy's global generator)
    context = dp.Context.compositor(
        data=pl.from_pandas(df).lazy(),
        privacy_unit=dp.unit_of(contributions=1),
        privacy_loss=dp.loss_of(rho=task["rho"]),
    )
    algorithm = dp.mbi.MST() if task["method"] == "mst" else dp.mbi.AIM()
    table = (
        context.query(rho=task["rho"])
        .select(*domain)
        .contingency_table(keys={c: list(range(k)) for c, k in domain.items()}, algorithm=algorithm)
        .release()
    )
    _protocol.progress("released; synthesizing")
    synthetic = table.synthesize(rows=task["rows"]).to_pandas()
    # OpenDP adds a null key to every column's keys, and the noisy model gives it some mass;
    # a null has no code in the shared binning, so those rows are dropped and counted.
    nulls = synthetic.isna().any(axis=1)
    _protocol.notes["rows_with_null_dropped"] = int(nulls.sum())
    return synthetic[~nulls]


if __name__ == "__main__":
    _protocol.run(fit_sample, ["opendp", "mbi", "jax"])
