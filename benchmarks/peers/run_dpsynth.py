"""Runner of dpsynth's own MST and AIM (main venv), under the same protocol as the peers."""

from __future__ import annotations

import _protocol
import pandas as pd

from dpsynth.schema import ColumnKind, ColumnSpec, Schema
from dpsynth.synthesizers import AIM, MST


def fit_sample(df: pd.DataFrame, domain: dict, task: dict) -> pd.DataFrame:
    """Fit our MST or AIM on the coded table; each column's codes are its public categories."""
    schema = Schema(tuple(
        ColumnSpec(name, ColumnKind.CATEGORICAL, categories=tuple(range(size)), dtype="int64")
        for name, size in domain.items()
    ))
    common = {"epsilon": task["epsilon"], "delta": task["delta"], "random_state": task["seed"]}
    model = MST(**common) if task["method"] == "mst" else AIM(**common, progress=True)
    model.fit(df, schema)
    return model.sample(task["rows"])


if __name__ == "__main__":
    _protocol.run(fit_sample, ["dpsynth"])
