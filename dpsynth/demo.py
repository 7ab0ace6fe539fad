"""The demonstration job on the built-in Adult dataset (``make demo``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from dpsynth.datasets import adult_schema, load_adult
from dpsynth.io import write_text_atomic


def run_demo(out: Path) -> dict[str, Any]:
    """Load Adult, check it against its public codebook schema, write the schema.

    Parameters
    ----------
    out : pathlib.Path
        Output directory.

    Returns
    -------
    dict
        A summary of what was done and written.
    """
    df = load_adult("train")
    schema = adult_schema()
    schema.validate_frame(df)
    out.mkdir(parents=True, exist_ok=True)
    write_text_atomic(out / "schema.json", schema.to_json())
    summary = {
        "dataset": "UCI Adult (train), CC BY 4.0",
        "rows": len(df),
        "columns": len(df.columns),
        "missing_values": {c: int(n) for c, n in df.isna().sum().items() if n},
        "schema": str(out / "schema.json"),
    }
    write_text_atomic(out / "summary.json", json.dumps(summary, indent=2) + "\n")
    return summary
