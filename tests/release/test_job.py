import json

import numpy as np
import pandas as pd
import pytest

from dpsynth.cli import main
from dpsynth.errors import BudgetExceededError, InputDataError, LedgerError
from dpsynth.privacy.accountant import PrivacyBudget
from dpsynth.privacy.ledger import Ledger, data_fingerprint
from dpsynth.release import job
from dpsynth.release.job import ReleaseRequest, run_release
from dpsynth.schema import ColumnKind, ColumnSpec, Schema

SCHEMA = Schema(
    (
        ColumnSpec("sex", ColumnKind.CATEGORICAL, categories=("F", "M")),
        ColumnSpec("age", ColumnKind.INTEGER, lower=18, upper=80, bins=8),
        ColumnSpec("smoker", ColumnKind.BOOLEAN),
        ColumnSpec("y", ColumnKind.CATEGORICAL, categories=("no", "yes")),
    )
)


def _table(n, seed):
    rng = np.random.default_rng(seed)
    sex = rng.choice(["F", "M"], n)
    age = rng.integers(18, 81, n)
    smoker = rng.random(n) < 0.3
    y = np.where((age > 50) | smoker, "yes", "no")
    return pd.DataFrame({"sex": sex, "age": age, "smoker": smoker, "y": y})


@pytest.fixture
def setup(tmp_path):
    df = _table(600, 0)
    data = tmp_path / "data.csv"
    df.to_csv(data, index=False)
    ledger_path = tmp_path / "ledger.db"
    Ledger(ledger_path).init_dataset("toy", data_fingerprint(pd.read_csv(data)), PrivacyBudget.approx(2.0, 1e-6))
    return tmp_path, data, ledger_path


def _request(tmp_path, data, ledger_path, **kw):
    params = dict(
        data=data, dataset_id="toy", ledger=ledger_path, out=tmp_path / "out", epsilon=1.0, delta=1e-9,
        method="independent", schema=SCHEMA, audit="none", seed=0,
    )
    params.update(kw)
    return ReleaseRequest(**params)


def _release_rows(ledger_path):
    return [r for r in Ledger(ledger_path).history("toy") if r["kind"] == "release"]


def test_release_writes_files_charges_ledger_and_verifies(setup, capsys):
    tmp_path, data, ledger_path = setup
    holdout = _table(600, 1)
    result = run_release(_request(tmp_path, data, ledger_path, holdout=holdout, target="y", slices=("sex",)))
    out = tmp_path / "out"
    assert {p.name for p in out.iterdir()} == {"synthetic.csv", "manifest.json", "report.html", "report.json"}
    (row,) = _release_rows(ledger_path)
    assert row["entry_id"] == result.entry_id
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["ledger"]["entry_id"] == result.entry_id
    assert row["output_hash"] == manifest["output"]["sha256"]
    assert list(out.parent.glob(".out.staging-*")) == []

    args = ["verify", str(out / "manifest.json"), "--data", str(out / "synthetic.csv"), "--ledger", str(ledger_path)]
    assert main(args) == 0
    synthetic = out / "synthetic.csv"
    synthetic.write_text(synthetic.read_text().replace("F,", "M,", 1))
    assert main(args) == 7
    assert "changed after release" in capsys.readouterr().err


def test_overspend_is_refused_before_reading_the_data(setup):
    tmp_path, _, ledger_path = setup
    request = _request(tmp_path, tmp_path / "does-not-exist.csv", ledger_path, epsilon=5.0)
    with pytest.raises(BudgetExceededError, match="nothing was read or charged"):
        run_release(request)
    assert _release_rows(ledger_path) == []


def test_unknown_dataset_says_how_to_register(setup):
    tmp_path, data, ledger_path = setup
    with pytest.raises(LedgerError, match="dpsynth budget init"):
        run_release(_request(tmp_path, data, ledger_path, dataset_id="other"))


def test_bad_input_leaves_no_row_and_no_file(setup):
    tmp_path, data, ledger_path = setup
    df = pd.read_csv(data)
    df.loc[0, "sex"] = "X"
    with pytest.raises(InputDataError, match="'X'"):
        run_release(_request(tmp_path, df, ledger_path))
    assert _release_rows(ledger_path) == []
    assert not (tmp_path / "out").exists()


def test_failure_after_fitting_cancels_the_reservation(setup, monkeypatch):
    tmp_path, data, ledger_path = setup

    def broken(*args, **kwargs):
        raise RuntimeError("evaluation crashed")

    monkeypatch.setattr(job, "evaluate_utility", broken)
    with pytest.raises(RuntimeError, match="evaluation crashed"):
        run_release(_request(tmp_path, data, ledger_path))
    assert _release_rows(ledger_path) == []
    assert Ledger(ledger_path).status("toy")["reserved"] == []
    assert not (tmp_path / "out").exists()
    assert list(tmp_path.glob(".out.staging-*")) == []


def test_quick_audit_is_recorded_in_manifest_and_report(setup, monkeypatch):
    tmp_path, data, ledger_path = setup
    monkeypatch.setitem(job.GAME_RUNS, "quick", 12)
    monkeypatch.setitem(job.RISK_ATTACKS, "quick", 50)
    run_release(_request(tmp_path, data, ledger_path, audit="quick", holdout=_table(600, 2)))
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    audit = manifest["audit"]
    assert audit["verdict"] in ("violation detected", "no violation detected at this power")
    assert audit["mechanism_verification"]["runs_per_world"] == 12
    assert "release_risk" in audit
    assert {row["attack"].split(" ")[0] for row in audit["attacks"]} >= {"membership", "singling_out"}
    assert 'id="audit"' in (tmp_path / "out" / "report.html").read_text()


def test_existing_release_is_never_overwritten(setup):
    tmp_path, data, ledger_path = setup
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "manifest.json").write_text("{}")
    with pytest.raises(Exception, match="already holds a release"):
        run_release(_request(tmp_path, data, ledger_path))
