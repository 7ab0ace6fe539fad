import json
import re

import numpy as np
import pandas as pd
import pytest

from dpsynth.cli import main
from dpsynth.encoding.formats import TEXT_DTYPE
from dpsynth.errors import BudgetExceededError, InputDataError, LedgerError
from dpsynth.privacy.accountant import PrivacyBudget, epsilon_of_rho
from dpsynth.privacy.ledger import Ledger, data_fingerprint
from dpsynth.release import job
from dpsynth.release.job import ReleaseRequest, run_release
from dpsynth.release.manifest import manifest_digest
from dpsynth.release.source import files_fingerprint, read_frame
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


def test_the_report_states_the_lifetime_budget_and_the_manifests_time(setup):
    tmp_path, data, ledger_path = setup
    run_release(_request(tmp_path, data, ledger_path, epsilon=0.5))
    run_release(_request(tmp_path, data, ledger_path, out=tmp_path / "second"))
    manifest = json.loads((tmp_path / "second" / "manifest.json").read_text())
    report = json.loads((tmp_path / "second" / "report.json").read_text())
    budget, status = report["budget"], Ledger(ledger_path).status("toy")
    first, second = (r["rho"] for r in _release_rows(ledger_path))
    assert budget["earlier_releases"] == 1 and budget["in_progress"] == 0.0
    assert budget["spent_before"] == pytest.approx(first) and budget["this_release"] == pytest.approx(second)
    # after the commit the ledger shows what the report said would remain
    assert budget["remaining_after"] == pytest.approx(status["remaining"]["rho"], rel=1e-9)
    assert budget["lifetime"]["rho"] == pytest.approx(first + second + budget["remaining_after"])
    # rounded down to 6 digits, so that asking for it is not refused
    exact = epsilon_of_rho(budget["remaining_after"], 1e-9)
    assert exact * (1 - 1e-5) <= budget["next_epsilon"] <= exact
    assert report["provenance"]["created"] == manifest["created"]
    # the shareable manifest names the ledger file, not the folders around it; the report does
    assert manifest["ledger"]["path"] == "ledger.db" and budget["ledger"] == str(ledger_path.resolve())
    # each step's sigma has its own column; the relation the guarantee states is not repeated per step
    measured = [s for s in report["spend"] if "sigma" in s]
    assert measured and all("sigma" not in s["description"] for s in report["spend"])
    assert manifest["guarantee"]["neighbouring_relation"] == "add/remove one row"
    assert all("relation" not in s["description"] for s in report["spend"])


def test_overspend_is_refused_before_reading_the_data(setup):
    tmp_path, data, ledger_path = setup
    request = _request(tmp_path, tmp_path / "does-not-exist.csv", ledger_path, epsilon=5.0)
    with pytest.raises(BudgetExceededError, match="nothing was read or charged") as refused:
        run_release(request)
    assert _release_rows(ledger_path) == []
    # the refusal names the largest epsilon the budget pays for at the release's delta
    advised = re.search(r"at delta = 1e-09, lower epsilon to at most ([0-9.e-]+)", str(refused.value))
    assert advised, str(refused.value)
    # the schema declares every domain: no discovery delta is allowed for, nor talked of
    assert "discovery" not in str(refused.value)
    run_release(_request(tmp_path, data, ledger_path, epsilon=float(advised.group(1))))
    assert len(_release_rows(ledger_path)) == 1


def test_the_advised_epsilon_fits_a_release_that_reserves_delta_for_discovery(setup):
    # Without a schema a CSV release reserves part of its delta for category discovery, which
    # lowers what the lifetime budget affords it: the advice allows for that.
    tmp_path, _, ledger_path = setup
    data = tmp_path / "larger.csv"  # large enough for DP discovery at these budgets
    _table(20000, 1).to_csv(data, index=False)
    Ledger(ledger_path).init_dataset("big", data_fingerprint(pd.read_csv(data)), PrivacyBudget.approx(2.0, 1e-6))
    run_release(_request(tmp_path, data, ledger_path, dataset_id="big", schema=None, epsilon=1.0, delta=1e-6))
    with pytest.raises(BudgetExceededError) as refused:
        run_release(_request(tmp_path, data, ledger_path, dataset_id="big", schema=None, epsilon=5.0,
                             delta=1e-6, out=tmp_path / "second"))
    advised = float(re.search(r"lower epsilon to at most ([0-9.e-]+)", str(refused.value)).group(1))
    left = Ledger(ledger_path).status("big")["remaining"]
    assert advised < left["epsilon"]  # budget show's figure assumes no delta reserved
    run_release(_request(tmp_path, data, ledger_path, dataset_id="big", schema=None, epsilon=advised,
                         delta=1e-6, out=tmp_path / "second"))
    releases = [r for r in Ledger(ledger_path).history("big") if r["kind"] == "release"]
    assert len(releases) == 2 and releases[1]["step_delta"] > 0
    # the report's budget rows add up to the lifetime, the rho out of reach included
    budget = json.loads((tmp_path / "second" / "report.json").read_text())["budget"]
    parts = ("spent_before", "this_release", "in_progress", "remaining_after", "lowered_by_delta_used")
    assert budget["lowered_by_delta_used"] > 0
    assert sum(budget[k] for k in parts) == pytest.approx(budget["lifetime"]["rho"], rel=1e-9)
    # figured from what the release used, not what it reserved: the ledger agrees after the commit
    after = Ledger(ledger_path).status("big")
    assert budget["remaining_after"] == pytest.approx(after["remaining"]["rho"], rel=1e-9)
    assert budget["lowered_by_delta_used"] == pytest.approx(after["lowered_by_delta_used"], rel=1e-9)


@pytest.mark.parametrize(
    ("lifetime", "request_kw", "expected"),
    [
        # a pure lifetime takes no zCDP release: said before anything is read
        (PrivacyBudget.pure(1.0), {"epsilon": 0.5}, (LedgerError, "pure epsilon-DP lifetime budget")),
        # a lifetime in rho alone has no delta for discovery: the advice says to declare the domains
        (PrivacyBudget.zcdp(0.005), {"epsilon": 5.0},
         (BudgetExceededError, "has no delta: declare every column's categories")),
        # the discovery share of the release's delta exceeds what is left of the lifetime delta
        (PrivacyBudget.approx(1.0, 1e-6), {"epsilon": 5.0, "delta": 1e-4},
         (BudgetExceededError, "too little of its lifetime delta is left")),
    ],
)
def test_a_refusal_before_reading_gives_advice_that_fits_the_ledger(tmp_path, lifetime, request_kw, expected):
    ledger_path = tmp_path / "ledger.db"
    Ledger(ledger_path).init_dataset("toy", "f" * 64, lifetime)
    error, text = expected
    with pytest.raises(error, match=text) as refused:
        run_release(_request(tmp_path, tmp_path / "does-not-exist.csv", ledger_path, schema=None, **request_kw))
    assert "nothing was read" in str(refused.value)
    assert "it is spent" not in str(refused.value)


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


def test_a_failed_run_removes_the_folders_it_made_for_its_output(setup, monkeypatch):
    tmp_path, data, ledger_path = setup
    (tmp_path / "kept").mkdir()

    def broken(*args, **kwargs):
        raise RuntimeError("the engine could not start")

    monkeypatch.setattr("dpsynth.synthesizers.base.NumpyEngine", broken)
    with pytest.raises(RuntimeError, match="could not start"):
        run_release(_request(tmp_path, data, ledger_path, out=tmp_path / "kept" / "new" / "deeper" / "out"))
    assert list((tmp_path / "kept").iterdir()) == []


@pytest.mark.parametrize("error", [RuntimeError("evaluation crashed"), KeyboardInterrupt()])
def test_a_failure_after_drawing_noise_is_charged_what_it_spent(setup, monkeypatch, error):
    tmp_path, data, ledger_path = setup

    def broken(*args, **kwargs):
        raise error

    monkeypatch.setattr(job, "evaluate_utility", broken)
    said = []
    with pytest.raises(type(error)) as raised:
        run_release(_request(tmp_path, data, ledger_path), progress=said.append)
    # The synthetic rows existed (staged, counted in the progress): retrying uncharged
    # would average the noise away.
    (row,) = _release_rows(ledger_path)
    assert row["mechanism"] == f"independent (failed: {type(error).__name__})"
    assert row["output_hash"] is None
    assert row["rho"] == pytest.approx(PrivacyBudget.approx(1.0, 1e-9).rho, rel=1e-9)
    # said on the error itself, which the command line prints even with --quiet
    assert any(f"ledger entry {row['entry_id']} charges what it spent" in n for n in raised.value.__notes__)
    assert Ledger(ledger_path).status("toy")["reserved"] == []
    assert not (tmp_path / "out").exists()
    assert list(tmp_path.glob(".out.staging-*")) == []
    Ledger(ledger_path).verify()


def test_a_failure_before_any_mechanism_charges_nothing(setup, monkeypatch):
    tmp_path, data, ledger_path = setup

    def broken(*args, **kwargs):
        raise RuntimeError("the engine could not start")

    monkeypatch.setattr("dpsynth.synthesizers.base.NumpyEngine", broken)
    with pytest.raises(RuntimeError, match="could not start"):
        run_release(_request(tmp_path, data, ledger_path))
    assert _release_rows(ledger_path) == []
    assert Ledger(ledger_path).status("toy")["reserved"] == []


def test_quick_audit_is_recorded_in_manifest_and_report(setup, monkeypatch):
    tmp_path, data, ledger_path = setup
    monkeypatch.setitem(job.GAME_RUNS, "quick", 12)
    monkeypatch.setitem(job.RISK_ATTACKS, "quick", 50)
    run_release(_request(tmp_path, data, ledger_path, audit="quick", holdout=_table(600, 2)))
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    audit = manifest["audit"]
    assert audit["verdict"] in ("violation detected", "no violation detected at this power")
    assert audit["mechanism_verification"]["runs_per_world"] == 12
    # 12 runs cannot certify epsilon 1: the game's caveat sits beside the verdict, not only nested
    assert audit["ceiling"] <= 1.0
    assert any("could not be detected" in note for note in audit["notes"])
    # Mode B reads real rows: its figures stay in the internal report, out of the manifest.
    assert "release_risk" not in audit and "attacks" not in audit
    assert any("internal report only" in note for note in audit["notes"])
    internal = json.loads((tmp_path / "out" / "report.json").read_text())["audit"]
    assert "release_risk" in internal
    assert {row["attack"].split(" ")[0] for row in internal["attacks"]} >= {"membership", "singling_out"}
    assert 'id="audit"' in (tmp_path / "out" / "report.html").read_text()


def test_the_audit_runs_on_columns_whose_released_domain_has_one_value(tmp_path, monkeypatch):
    # DP discovery at a small epsilon often keeps one category, or none (every value
    # "<other>"), and a flag may be False in every sampled row: the game's target must
    # still differ from the copied record, on the released domain, not on 50 rows.
    monkeypatch.setitem(job.GAME_RUNS, "quick", 12)
    data, ledger_path = tmp_path / "data.csv", tmp_path / "ledger.db"
    _table(600, 0).assign(site="A", flag=False, unit="ward 7").to_csv(data, index=False)
    Ledger(ledger_path).init_dataset("toy", data_fingerprint(read_frame(data)), PrivacyBudget.approx(2.0, 1e-6))
    schema = Schema((
        *SCHEMA.columns,
        ColumnSpec("site", ColumnKind.CATEGORICAL, categories=("A",)),
        ColumnSpec("flag", ColumnKind.BOOLEAN),
        ColumnSpec("unit", ColumnKind.CATEGORICAL, categories=(), on_unknown="other"),
    ))
    run_release(_request(tmp_path, data, ledger_path, schema=schema, audit="quick"))
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["audit"]["mechanism_verification"]["runs_per_world"] == 12
    assert any("site, unit" in note and "one value" in note for note in manifest["audit"]["notes"])


@pytest.mark.parametrize("holdout", [False, True])
def test_a_release_whose_every_column_has_one_released_value_skips_the_game(tmp_path, monkeypatch, holdout):
    # e.g. one column whose DP discovery kept no category: no record can differ, and the
    # release must be recorded, not fail in its audit after being charged
    monkeypatch.setitem(job.RISK_ATTACKS, "quick", 50)
    data, ledger_path = tmp_path / "data.csv", tmp_path / "ledger.db"
    pd.DataFrame({"unit": ["ward 7"] * 300}).to_csv(data, index=False)
    Ledger(ledger_path).init_dataset("toy", data_fingerprint(read_frame(data)), PrivacyBudget.approx(2.0, 1e-6))
    schema = Schema((ColumnSpec("unit", ColumnKind.CATEGORICAL, categories=(), on_unknown="other"),))
    extra = {"holdout": pd.DataFrame({"unit": ["ward 7"] * 300})} if holdout else {}
    run_release(_request(tmp_path, data, ledger_path, schema=schema, audit="quick", **extra))
    audit = json.loads((tmp_path / "out" / "manifest.json").read_text())["audit"]
    assert audit["verdict"] == "not run" and "nothing to attack" in audit["notes"][0]
    assert [r["kind"] for r in Ledger(ledger_path).history("toy")][-1] == "release"


def test_the_games_own_tables_raise_no_private_data_warnings(tmp_path, monkeypatch):
    import warnings

    from dpsynth.encoding import OutOfDomainWarning

    monkeypatch.setitem(job.GAME_RUNS, "quick", 12)
    data, ledger_path = tmp_path / "data.csv", tmp_path / "ledger.db"
    _table(600, 0).assign(unit=np.where(np.arange(600) % 3, "a", "b")).to_csv(data, index=False)
    Ledger(ledger_path).init_dataset("toy", data_fingerprint(read_frame(data)), PrivacyBudget.approx(2.0, 1e-6))
    schema = Schema((*SCHEMA.columns, ColumnSpec("unit", ColumnKind.CATEGORICAL, categories=("a",), on_unknown="other")))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run_release(_request(tmp_path, data, ledger_path, schema=schema, audit="quick", n_jobs=1))
    private = [w for w in caught if issubclass(w.category, OutOfDomainWarning)]
    # one, for the real table's "b" rows: none per run of the game on released rows
    assert len(private) == 1 and "'unit': 200 value(s)" in str(private[0].message)


def test_the_manifest_holds_no_hash_and_no_exact_count_of_the_private_table(setup, monkeypatch):
    tmp_path, data, ledger_path = setup
    monkeypatch.setitem(job.GAME_RUNS, "quick", 12)
    monkeypatch.setitem(job.RISK_ATTACKS, "quick", 50)
    real = pd.read_csv(data)
    run_release(_request(tmp_path, data, ledger_path, audit="quick", holdout=_table(600, 2)))
    text = (tmp_path / "out" / "manifest.json").read_text()
    # Knowing every row but one, a hash of the table would reveal the last row.
    assert data_fingerprint(real) not in text
    assert "rows of the real table" not in text and "n_train" not in text
    # The internal report keeps the table's fingerprint for the data owner.
    assert data_fingerprint(real) in (tmp_path / "out" / "report.json").read_text()


def test_existing_release_is_never_overwritten(setup):
    tmp_path, data, ledger_path = setup
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "manifest.json").write_text("{}")
    with pytest.raises(Exception, match="already holds a release"):
        run_release(_request(tmp_path, data, ledger_path))


# ---------------------------------------------------------------------------------------
# engines that count the files where they lie
# ---------------------------------------------------------------------------------------
def _parquet_parts(tmp_path, n=600):
    folder = tmp_path / "parts"
    folder.mkdir()
    df = _table(n, 0)
    for i, start in enumerate(range(0, n, n // 3)):
        df.iloc[start : start + n // 3].to_parquet(folder / f"part-{i}.parquet", index=False)
    return str(folder / "*.parquet")


def _files_ledger(tmp_path, pattern):
    from dpsynth.release.source import files_fingerprint

    ledger_path = tmp_path / "files-ledger.db"
    Ledger(ledger_path).init_dataset("toy", files_fingerprint(pattern), PrivacyBudget.approx(2.0, 1e-6))
    return ledger_path


def test_release_on_duckdb_counts_the_files_and_evaluates_a_sample(tmp_path):
    pattern = _parquet_parts(tmp_path)
    ledger_path = _files_ledger(tmp_path, pattern)
    holdout = tmp_path / "holdout.parquet"
    _table(400, 1).to_parquet(holdout, index=False)
    result = run_release(_request(tmp_path, pattern, ledger_path, engine="duckdb", evaluation_rows=250,
                                  holdout=holdout, target="y"))
    (row,) = _release_rows(ledger_path)
    assert row["entry_id"] == result.entry_id
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["provenance"]["engine"] == "duckdb"
    assert report["provenance"]["evaluation_sample"] == {
        "engine": "duckdb", "real_rows": 600, "sampled_rows": 250,
        "method": "DuckDB reservoir sample", "seed": 0,
    }
    html = (tmp_path / "out" / "report.html").read_text()
    assert "uniform random sample of 250 of the 600 rows of the real table" in html
    assert "250 of the 400 rows of the real holdout" in html
    # The exact row counts of the real files are for the internal report only.
    assert "of the real" not in (tmp_path / "out" / "manifest.json").read_text()
    synthetic = pd.read_csv(tmp_path / "out" / "synthetic.csv")
    assert list(synthetic.columns) == ["sex", "age", "smoker", "y"]
    assert main(["verify", str(tmp_path / "out" / "manifest.json"), "--data",
                 str(tmp_path / "out" / "synthetic.csv"), "--ledger", str(ledger_path)]) == 0


def test_the_evaluation_sample_note_stays_out_of_the_manifest_without_a_holdout(tmp_path, monkeypatch):
    monkeypatch.setitem(job.GAME_RUNS, "quick", 12)
    pattern = _parquet_parts(tmp_path)
    ledger_path = _files_ledger(tmp_path, pattern)
    run_release(_request(tmp_path, pattern, ledger_path, engine="duckdb", evaluation_rows=250, audit="quick"))
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["audit"]["notes"][-1].startswith("No holdout was given")
    assert "of the real" not in json.dumps(manifest)
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert any("of the real table" in note for note in report["audit"]["notes"])


def test_a_table_registered_by_its_rows_is_refused_on_duckdb_with_the_fix(setup):
    tmp_path, data, ledger_path = setup  # registered with the rows' fingerprint
    with pytest.raises(LedgerError, match=r"files' bytes \(engine duckdb\).*budget init --engine"):
        run_release(_request(tmp_path, data, ledger_path, engine="duckdb"))
    assert _release_rows(ledger_path) == []
    assert Ledger(ledger_path).status("toy")["reserved"] == []
    assert not (tmp_path / "out").exists()


def test_values_outside_the_schema_on_duckdb_cancel_the_reservation(tmp_path):
    path = tmp_path / "p.parquet"
    _table(300, 0).assign(sex=lambda d: d["sex"].where(d.index != 7, "X")).to_parquet(path)
    ledger_path = _files_ledger(tmp_path, str(path))
    with pytest.raises(InputDataError, match="'X'"):
        run_release(_request(tmp_path, str(path), ledger_path, engine="duckdb"))
    assert _release_rows(ledger_path) == []
    assert Ledger(ledger_path).status("toy")["reserved"] == []
    assert not (tmp_path / "out").exists()
    assert list(tmp_path.glob(".out.staging-*")) == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"engine": "polars"}, r"engine \('polars'\) must be one of"),
        ({"spark_master": "local[1]"}, r"spark_master \('local\[1\]'\) must be given only with engine 'spark'"),
        ({"engine": "duckdb", "data": _table(10, 0)}, r"data \('DataFrame'\) must be a CSV or Parquet path"),
        ({"evaluation_rows": 0}, r"evaluation_rows \(0\) must be a positive integer"),
    ],
)
def test_engine_options_are_checked_before_anything_is_read(setup, change, message):
    change = dict(change)
    from dpsynth.errors import ParameterError

    tmp_path, data, ledger_path = setup
    with pytest.raises(ParameterError, match=message):
        run_release(_request(tmp_path, change.pop("data", data), ledger_path, **change))
    assert _release_rows(ledger_path) == []


def _require_spark():
    import shutil

    pytest.importorskip("pyspark", reason="pyspark is not installed (pip install 'dpsynth[spark]')")
    if shutil.which("java") is None:
        pytest.skip("Spark needs Java, which is not on the PATH")


@pytest.mark.spark
@pytest.mark.xdist_group("spark")
def test_release_on_spark_matches_the_files_fingerprint(tmp_path):
    _require_spark()
    pattern = _parquet_parts(tmp_path, n=300)
    ledger_path = _files_ledger(tmp_path, pattern)
    run_release(_request(tmp_path, pattern, ledger_path, engine="spark", spark_master="local[1]"))
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["provenance"]["engine"] == "spark"
    assert report["provenance"]["evaluation_sample"]["real_rows"] == 300
    assert len(_release_rows(ledger_path)) == 1


@pytest.mark.spark
@pytest.mark.xdist_group("spark")
def test_release_of_a_csv_on_spark_records_its_kinds_as_read_from_values(large):
    _require_spark()
    tmp_path, data, ledger_path = large
    Ledger(ledger_path).init_dataset("files", files_fingerprint(data), PrivacyBudget.approx(2.0, 1e-6))
    request = _request(tmp_path, data, ledger_path, schema=None, engine="spark", spark_master="local[1]",
                       dataset_id="files", public=True)
    run_release(request)
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["schema"]["provenance"]["kind_from_data"] == ["sex", "age", "smoker", "y"]


def test_verify_refuses_a_release_whose_ledger_row_was_changed(setup, capsys):
    import sqlite3

    tmp_path, data, ledger_path = setup
    run_release(_request(tmp_path, data, ledger_path))
    out = tmp_path / "out"
    args = ["verify", str(out / "manifest.json"), "--data", str(out / "synthetic.csv"), "--ledger", str(ledger_path)]
    assert main(args) == 0
    assert "ledger intact and its entry matches (every field of the manifest, " in capsys.readouterr().out
    with sqlite3.connect(ledger_path) as con:
        con.execute("UPDATE entries SET rho = rho / 2 WHERE kind = 'release'")
    assert main(args) != 0
    assert "modified after it was written" in capsys.readouterr().err


@pytest.mark.parametrize("edit", [
    ("schema", "columns", 0, "source", "dp"), ("schema", "acknowledged_public", True),
    ("guarantee", "neighbouring_relation", "replace one row"), ("seed", 7),
])
def test_verify_refuses_any_field_of_the_manifest_edited_after_release(setup, capsys, edit):
    # Fields that no hash, sum or ledger column covered: the ledger row records the manifest's digest.
    tmp_path, data, ledger_path = setup
    run_release(_request(tmp_path, data, ledger_path))
    out = tmp_path / "out"
    args = ["verify", str(out / "manifest.json"), "--data", str(out / "synthetic.csv"), "--ledger", str(ledger_path)]
    manifest = json.loads((out / "manifest.json").read_text())
    (row,) = _release_rows(ledger_path)
    assert row["parameters"]["manifest_sha256"] == manifest_digest(manifest)
    *path, key, value = edit
    target = manifest
    for part in path:
        target = target[part]
    target[key] = value
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2))
    assert main(args) == 7
    assert "the manifest was changed after release" in capsys.readouterr().err


@pytest.fixture
def reserved(monkeypatch):
    """The step delta of every ledger reservation made, in order."""
    held = []
    reserve = Ledger.reserve

    def spy(self, *args, **kwargs):
        held.append(kwargs["step_delta"])
        return reserve(self, *args, **kwargs)

    monkeypatch.setattr(Ledger, "reserve", spy)
    return held


@pytest.fixture
def large(tmp_path):
    """A CSV large enough for DP discovery of every domain at epsilon 1 to find them."""
    data = tmp_path / "large.csv"
    _table(6000, 0).to_csv(data, index=False)
    ledger_path = tmp_path / "ledger.db"
    Ledger(ledger_path).init_dataset("toy", data_fingerprint(pd.read_csv(data)), PrivacyBudget.approx(2.0, 1e-6))
    return tmp_path, data, ledger_path


@pytest.mark.parametrize("engine", [
    "numpy", "duckdb", pytest.param("spark", marks=[pytest.mark.spark, pytest.mark.xdist_group("spark")]),
])
def test_a_csv_without_schema_has_its_kinds_decided_with_dp(large, reserved, engine):
    if engine == "spark":
        _require_spark()
    tmp_path, data, ledger_path = large
    with open(data, "a") as handle:  # a stray word in the column of ages
        handle.write("F,unknown,False,no\n")
    fingerprint = data_fingerprint(read_frame(data)) if engine == "numpy" else files_fingerprint(data)
    Ledger(ledger_path).init_dataset("stray", fingerprint, PrivacyBudget.approx(2.0, 1e-6))
    run_release(_request(tmp_path, data, ledger_path, schema=None, dataset_id="stray", audit="quick",
                         target="y", holdout=_table(600, 1), engine=engine,
                         spark_master="local[1]" if engine == "spark" else None))
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    kinds = {c["name"]: c["kind"] for c in manifest["schema"]["columns"]}
    # pandas read the ages as text because of one word; DP read them as integers
    assert kinds == {"sex": "categorical", "age": "integer", "smoker": "boolean", "y": "categorical"}
    assert "kind_from_data" not in manifest["schema"]["provenance"]
    assert manifest["schema"]["acknowledged_public"] is False
    steps = [s for s in manifest["spend"]["steps"] if s.get("discovered") == "kind"]
    assert [s["column"] for s in steps] == ["sex", "age", "smoker", "y"]
    # the category delta was held although pandas saw no text column but two
    assert reserved == [pytest.approx(1e-9 * 0.1)]
    synthetic = pd.read_csv(tmp_path / "out" / "synthetic.csv")
    assert pd.to_numeric(synthetic["age"].dropna()).between(18, 80).all()
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    details = {row["column"]: row.get("detail") for row in report["schema"]}
    assert set(details.values()) == {"kind decided with DP from the forms of the CSV's values"}


@pytest.mark.parametrize("engine", ["numpy", "duckdb"])
def test_a_csv_kinds_acknowledged_as_public_are_recorded_in_manifest_and_report(large, engine):
    tmp_path, data, ledger_path = large
    if engine == "duckdb":  # the DuckDB engine fingerprints the files' bytes
        Ledger(ledger_path).init_dataset("files", files_fingerprint(data), PrivacyBudget.approx(2.0, 1e-6))
    dataset = "files" if engine == "duckdb" else "toy"
    run_release(_request(tmp_path, data, ledger_path, schema=None, engine=engine, public=True, dataset_id=dataset))
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["schema"]["acknowledged_public"] is True
    assert manifest["schema"]["provenance"]["kind_from_data"] == ["sex", "age", "smoker", "y"]
    assert all(c["kind_from_data"] is True for c in manifest["schema"]["columns"])
    report = (tmp_path / "out" / "report.html").read_text()
    assert "The kinds of sex, age, smoker, y were read from the values of a CSV file" in report


def test_a_parquet_table_without_schema_needs_no_acknowledgement(large):
    tmp_path, _, ledger_path = large
    data = tmp_path / "data.parquet"
    _table(6000, 7).to_parquet(data)  # not the table the fixture registered
    Ledger(ledger_path).init_dataset("pq", data_fingerprint(pd.read_parquet(data)), PrivacyBudget.approx(2.0, 1e-6))
    run_release(_request(tmp_path, data, ledger_path, schema=None, dataset_id="pq"))
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert "kind_from_data" not in manifest["schema"]["provenance"]
    assert manifest["schema"]["acknowledged_public"] is False


def test_a_table_too_small_for_discovery_is_charged_what_discovery_spent(tmp_path):
    from dpsynth.errors import PrivacyError

    data = tmp_path / "tiny.csv"
    _table(60, 0).to_csv(data, index=False)
    ledger_path = tmp_path / "ledger.db"
    Ledger(ledger_path).init_dataset("toy", data_fingerprint(pd.read_csv(data)), PrivacyBudget.approx(2.0, 1e-6))
    # no schema: every domain is discovered with DP, and 60 rows are too few at epsilon 1
    # (the CSV's kinds read from its values are acknowledged as public)
    with pytest.raises(PrivacyError, match="column 'age': no bucket .* declare its lower and upper bounds"):
        run_release(_request(tmp_path, data, ledger_path, schema=None, public=True))
    # The refusal came from noisy histograms, so what discovery spent is charged, no more.
    (row,) = _release_rows(ledger_path)
    assert row["mechanism"] == "independent (failed: PrivacyError)"
    assert 0 < row["rho"] < PrivacyBudget.approx(1.0, 1e-9).rho
    assert Ledger(ledger_path).status("toy")["reserved"] == []
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("engine", ["numpy", "duckdb"])
def test_category_delta_is_reserved_whenever_the_engine_decides_the_kinds(tmp_path, reserved, engine):
    rng = np.random.default_rng(0)
    data = tmp_path / "numbers.parquet"
    pd.DataFrame({"age": rng.integers(18, 81, 6000), "score": rng.normal(50, 10, 6000)}).to_parquet(data)
    ledger_path = tmp_path / "ledger.db"
    fingerprint = files_fingerprint(data) if engine == "duckdb" else data_fingerprint(pd.read_parquet(data))
    Ledger(ledger_path).init_dataset("toy", fingerprint, PrivacyBudget.approx(2.0, 1e-6))
    run_release(_request(tmp_path, data, ledger_path, schema=None, engine=engine, delta=1e-9))
    # numpy reads the kinds from the table itself (no text column: no category delta);
    # DuckDB from its own types, so the delta is held in case one is text
    expected = 0.0 if engine == "numpy" else 1e-9 * 0.1
    assert reserved == [pytest.approx(expected)]
    (row,) = _release_rows(ledger_path)
    assert row["step_delta"] == 0.0  # what was spent is charged, not what was held


def test_category_delta_is_reserved_for_a_declared_kind_dp_may_decide_as_text(large, reserved):
    # A schema whose only undeclared column keeps the kind schema infer read from an
    # older extract (integer, kind_from_data); the table's ages now hold 5% text, so
    # the DP vote makes the column categorical and its categories are discovered.
    tmp_path, data, ledger_path = large
    df = pd.read_csv(data)
    df["age"] = df["age"].astype(object)
    df.loc[df.index[::20], "age"] = "unknown"
    df.to_csv(data, index=False)
    Ledger(ledger_path).init_dataset("text", files_fingerprint(data), PrivacyBudget.approx(2.0, 1e-6))
    schema = SCHEMA.with_column(ColumnSpec("age", ColumnKind.INTEGER, nullable=True, kind_from_data=True))
    run_release(_request(tmp_path, data, ledger_path, schema=schema, engine="duckdb", dataset_id="text",
                         delta=1e-9))
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert {c["name"]: c["kind"] for c in manifest["schema"]["columns"]}["age"] == "categorical"
    assert reserved == [pytest.approx(1e-9 * 0.1)]
    (row,) = [r for r in Ledger(ledger_path).history("text") if r["kind"] == "release"]
    assert 0 < row["step_delta"] <= 1e-9 * 0.1


@pytest.mark.parametrize("engine", ["numpy", "duckdb"])
def test_a_csv_with_a_declared_schema_releases_the_dtypes_of_its_kinds_not_of_its_values(tmp_path, engine):
    # schema.json declares kinds and domains but no dtypes; pandas and DuckDB read a
    # column of naive times as UTC when one record carries an offset.
    schema = Schema((ColumnSpec("t", ColumnKind.DATETIME, lower="2020-01-01", upper="2021-01-01"),
                     ColumnSpec("n", ColumnKind.INTEGER, lower=0, upper=9),
                     ColumnSpec("s", ColumnKind.CATEGORICAL, categories=("a", "b"))))
    released = set()
    for one_offset in (False, True):
        rng = np.random.default_rng(0)
        hours = pd.to_timedelta(rng.integers(0, 365 * 24, 400), unit="h")
        t = (pd.Timestamp("2020-01-01") + hours).strftime("%Y-%m-%d %H:%M:%S").to_numpy(dtype=object)
        if one_offset:
            t[0] = t[0] + "+00:00"
        folder = tmp_path / str(one_offset)
        folder.mkdir()
        data = folder / "times.csv"
        pd.DataFrame({"t": t, "n": rng.integers(0, 10, 400), "s": rng.choice(["a", "b"], 400)}).to_csv(
            data, index=False
        )
        ledger_path = folder / "ledger.db"
        fingerprint = files_fingerprint(data) if engine == "duckdb" else data_fingerprint(read_frame(data))
        Ledger(ledger_path).init_dataset("toy", fingerprint, PrivacyBudget.approx(2.0, 1e-6))
        run_release(_request(folder, data, ledger_path, schema=schema, engine=engine))
        manifest = json.loads((folder / "out" / "manifest.json").read_text())
        first = (folder / "out" / "synthetic.csv").read_text().splitlines()[1]
        released.add((tuple(c.get("dtype") for c in manifest["schema"]["columns"]), first.split(",")[0].endswith("+00:00")))
    assert released == {(("datetime64[us]", "Int64", TEXT_DTYPE), False)}


def test_the_command_line_says_what_a_failed_run_was_charged_even_when_quiet(tmp_path, capsys):
    data = tmp_path / "tiny.csv"
    _table(60, 0).to_csv(data, index=False)
    ledger_path = tmp_path / "ledger.db"
    Ledger(ledger_path).init_dataset("toy", data_fingerprint(pd.read_csv(data)), PrivacyBudget.approx(2.0, 1e-6))
    code = main(["release", str(data), "--dataset-id", "toy", "--ledger", str(ledger_path), "--out",
                 str(tmp_path / "out"), "--public", "--audit", "none", "--quiet"])
    err = capsys.readouterr().err
    (row,) = _release_rows(ledger_path)
    assert code != 0 and "no bucket" in err
    assert f"ledger entry {row['entry_id']} charges what it spent" in err
