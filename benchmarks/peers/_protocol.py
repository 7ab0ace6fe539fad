"""The file protocol between synth_vs_peers.py and the per-peer runner scripts.

A runner runs inside its peer's own venv, so this module needs only the standard
library and pandas (any version since 1.x). The harness writes a task JSON:

    {"method": "mst" | "aim", "epsilon": float, "delta": float, "seed": int,
     "rho": float (the zCDP budget dpsynth derives from epsilon and delta),
     "train_csv": path, "domain": {column: size}, "rows": int,
     "out_csv": path, "result_json": path}

``train_csv`` holds the binned Adult table as integer codes ``0..size-1`` per
column. The runner writes the synthetic table (same columns, integer codes) to
``out_csv`` and its own timings and :data:`notes` to ``result_json``. Progress lines go to stderr,
which the harness keeps, so a run stopped at its time cap says how far it got.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from importlib import metadata

import pandas as pd

FitSample = Callable[[pd.DataFrame, dict, dict], pd.DataFrame]
#: facts a runner reports about its run (e.g. rows it had to drop), saved in ``result_json``
notes: dict[str, object] = {}


def progress(message: str) -> None:
    """Report a stage of the run on stderr, flushed at once (the process may be killed)."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def run(fit_sample: FitSample, packages: list[str]) -> None:
    """Run one task: read the table, call ``fit_sample(df, domain, task)``, write the outputs.

    Parameters
    ----------
    fit_sample : callable
        Fits the peer's synthesizer to ``df`` (integer codes, domain ``{column: size}``)
        with the task's ``method``, ``epsilon``, ``delta`` and ``seed``, and returns
        ``task["rows"]`` synthetic rows with the same columns as integer codes.
    packages : list of str
        Distributions whose installed versions are recorded beside the timings.
    """
    with open(sys.argv[1]) as handle:
        task = json.load(handle)
    domain = {str(k): int(v) for k, v in task["domain"].items()}
    df = pd.read_csv(task["train_csv"], dtype={c: "int64" for c in domain})[list(domain)]
    progress(f"loaded {len(df)} rows; fitting {task['method']} at epsilon={task['epsilon']}")
    start = time.perf_counter()
    synthetic = fit_sample(df, domain, task)
    seconds = time.perf_counter() - start
    progress(f"done in {seconds:.1f} s")
    synthetic = synthetic[list(domain)].astype("int64")
    synthetic.to_csv(task["out_csv"], index=False)
    with open(task["result_json"], "w") as handle:
        json.dump({"fit_sample_seconds": seconds, "notes": notes,
                   "versions": {name: metadata.version(name) for name in packages}}, handle)
