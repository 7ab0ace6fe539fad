"""The demonstration job on the built-in Adult dataset (``make demo``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from dpsynth.datasets import adult_schema, load_adult
from dpsynth.privacy.accountant import PrivacyBudget
from dpsynth.privacy.ledger import Ledger, data_fingerprint
from dpsynth.release.job import ReleaseRequest, run_release

DATASET_ID = "adult"
#: lifetime budget of the demo dataset: room for a few releases at epsilon 1
LIFETIME = {"epsilon": 4.0, "delta": 1e-6}


def run_demo(
    out: Path, *, ledger: Path | None = None, audit: str = "quick", progress: Callable[[str], None] | None = None
) -> dict[str, Any]:
    """Release Adult with MST at epsilon 1, audited and evaluated, into ``out``.

    The public codebook schema is used, the test split serves as the holdout
    (real records the synthesizer never sees), and the downstream task is
    predicting ``income``, with fairness slices by ``sex`` and ``race``.

    Parameters
    ----------
    out : pathlib.Path
        Output folder (must not already hold a release).
    ledger : pathlib.Path, optional
        Ledger file; default ``<out>/ledger.db``. The dataset is
        registered with a lifetime budget of epsilon 4, delta 1e-6 the first time.
    audit : {"none", "quick", "full"}
    progress : callable, optional
        Receives one line per stage.

    Returns
    -------
    dict
        What was written and spent.
    """
    out = Path(out)
    ledger_path = ledger or out / "ledger.db"
    train = load_adult("train")
    book = Ledger(ledger_path)
    if DATASET_ID not in book.datasets():
        book.init_dataset(DATASET_ID, data_fingerprint(train), PrivacyBudget.approx(**LIFETIME))
    result = run_release(
        ReleaseRequest(
            data=train,
            holdout=load_adult("test"),
            dataset_id=DATASET_ID,
            ledger=ledger_path,
            out=out,
            epsilon=1.0,
            delta=1e-9,
            method="mst",
            schema=adult_schema(),
            target="income",
            slices=("sex", "race"),
            audit=audit,
            seed=0,
            n_jobs=2,
            title="UCI Adult (train): MST at epsilon 1",
        ),
        progress=progress,
    )
    return {
        "dataset": "UCI Adult (train), CC BY 4.0; holdout: Adult test",
        "files": {name: str(path) for name, path in result.files.items()},
        "ledger": str(ledger_path),
        "ledger_entry": result.entry_id,
        "spent": result.spent,
        "audit_verdict": result.audit_verdict,
        "seconds": round(result.seconds, 1),
    }
