"""The budget ledger: refusals before data, failed runs leave no row, races, tampering."""

from __future__ import annotations

import multiprocessing
import sqlite3
import time

import numpy as np
import pandas as pd
import pytest

from dpsynth.errors import (
    BudgetExceededError,
    InputDataError,
    LedgerError,
    LedgerIntegrityError,
    ParameterError,
)
from dpsynth.privacy.accountant import (
    Accountant,
    Charge,
    PrivacyBudget,
    Spend,
    at_most,
    epsilon_of_rho,
    rho_of_epsilon,
)
from dpsynth.privacy.ledger import GENESIS_HASH, Ledger, data_fingerprint

FP = "f" * 64


@pytest.fixture
def ledger(tmp_path):
    led = Ledger(tmp_path / "ledger.sqlite")
    led.init_dataset("adult", FP, PrivacyBudget.zcdp(1.0))
    return led


def _release(led: Ledger, rho: float, dataset: str = "adult") -> str:
    with led.reserve(dataset, FP, PrivacyBudget.zcdp(rho)) as r:
        r.record(Spend(rho=rho, epsilon=None, delta=0.0), mechanism="mst", output_hash="ab" * 32)
    return r.entry_id


def test_fingerprint_depends_on_values_columns_and_dtypes():
    df = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]})
    assert data_fingerprint(df) == data_fingerprint(df.copy())
    assert len(data_fingerprint(df)) == 64
    changed = df.copy()
    changed.loc[1, "a"] = 5
    assert data_fingerprint(changed) != data_fingerprint(df)
    assert data_fingerprint(df.rename(columns={"a": "c"})) != data_fingerprint(df)
    assert data_fingerprint(df.astype({"a": "float64"})) != data_fingerprint(df)
    assert data_fingerprint(df.iloc[::-1]) != data_fingerprint(df)


def test_release_appends_one_row(ledger):
    entry = _release(ledger, 0.25)
    history = ledger.history("adult")
    assert [r["kind"] for r in history] == ["init", "release"]
    row = history[1]
    assert row["entry_id"] == entry and row["mechanism"] == "mst" and row["rho"] == 0.25
    assert row["output_hash"] == "ab" * 32 and row["library_version"]
    assert row["prev_hash"] == history[0]["row_hash"] and history[0]["prev_hash"] == GENESIS_HASH
    assert ledger.has_entry("adult", entry) and not ledger.has_entry("adult", "nope")
    status = ledger.status("adult")
    assert status["releases"] == 1 and status["spent"]["rho"] == 0.25
    assert status["remaining"]["rho"] == pytest.approx(0.75)


def test_overspend_is_refused_before_the_block_runs(ledger):
    _release(ledger, 0.75)
    ran = False
    with pytest.raises(BudgetExceededError, match="affords such a release at most rho"):
        with ledger.reserve("adult", FP, PrivacyBudget.zcdp(0.5)):
            ran = True
    assert not ran
    assert len(ledger.history("adult")) == 2
    assert ledger.status("adult")["reserved"] == []


def test_failed_run_spends_nothing(ledger):
    with pytest.raises(RuntimeError, match="boom"):
        with ledger.reserve("adult", FP, PrivacyBudget.zcdp(0.9)):
            raise RuntimeError("boom")
    assert len(ledger.history("adult")) == 1
    assert ledger.status("adult")["remaining"]["rho"] == pytest.approx(1.0)
    _release(ledger, 0.9)


def test_open_reservation_counts_until_cancelled(ledger):
    held = ledger.begin("adult", FP, PrivacyBudget.zcdp(0.6))
    with pytest.raises(BudgetExceededError):
        ledger.begin("adult", FP, PrivacyBudget.zcdp(0.6))
    assert len(ledger.status("adult")["reserved"]) == 1
    held.cancel()
    ledger.begin("adult", FP, PrivacyBudget.zcdp(0.6)).commit()
    assert ledger.history("adult")[-1]["mechanism"].startswith("unrecorded")
    assert ledger.status("adult")["spent"]["rho"] == pytest.approx(0.6)


def test_spending_more_than_reserved_is_charged_what_it_spent_and_marked_failed(ledger):
    # its noise was drawn: charging nothing would let a retry average it away
    with pytest.raises(LedgerError, match="more than it reserved.*charges what it spent"):
        with ledger.reserve("adult", FP, PrivacyBudget.zcdp(0.1)) as r:
            r.record(Spend(rho=0.2, epsilon=None, delta=0.0), mechanism="aim", output_hash="ab" * 32)
    row = ledger.history("adult")[-1]
    assert row["rho"] == 0.2 and row["mechanism"] == "aim (failed: spent more than reserved)"
    assert row["output_hash"] is None
    assert ledger.status("adult")["reserved"] == []


def test_records_an_accountants_spend(tmp_path):
    led = Ledger(tmp_path / "l.sqlite")
    led.init_dataset("d", FP, PrivacyBudget.approx(4.0, 1e-6))
    release = PrivacyBudget.approx(1.0, 1e-6)
    with led.reserve("d", FP, release, step_delta=1e-9) as r:
        acc = Accountant(release)
        acc.charge(Charge("discover", rho=0.001, delta=1e-9, params={"column": "city"}))
        acc.charge(Charge("measure", rho=0.01))
        r.record(acc.spent, mechanism="aim", parameters={"steps": [c.to_dict() for c in acc.steps]})
    row = led.history("d")[-1]
    assert row["step_delta"] == 1e-9 and row["delta"] == 1e-6
    assert row["epsilon"] == pytest.approx(acc.spent.epsilon)
    assert row["parameters"]["steps"][0]["column"] == "city"


def test_wrong_fingerprint_unknown_dataset_and_mode(ledger, tmp_path):
    with pytest.raises(LedgerError, match="different table"):
        ledger.begin("adult", "0" * 64, PrivacyBudget.zcdp(0.1))
    with pytest.raises(LedgerError, match="budget init --dataset census"):
        ledger.begin("census", FP, PrivacyBudget.zcdp(0.1))
    with pytest.raises(LedgerError, match="already has a lifetime budget"):
        ledger.init_dataset("adult", FP, PrivacyBudget.zcdp(5.0))
    pure = Ledger(tmp_path / "pure.sqlite")
    pure.init_dataset("p", FP, PrivacyBudget.pure(1.0))
    with pytest.raises(LedgerError, match="pure epsilon-DP lifetime"):
        pure.begin("p", FP, PrivacyBudget.zcdp(0.01))
    with pure.reserve("p", FP, PrivacyBudget.pure(0.6)) as r:
        r.record(Spend(rho=0.18, epsilon=0.6, delta=0.0), mechanism="laplace")
    with pytest.raises(BudgetExceededError):
        pure.begin("p", FP, PrivacyBudget.pure(0.6))
    with pytest.raises(ParameterError, match=r"^dataset_id \("):
        pure.init_dataset(" ", FP, PrivacyBudget.pure(1.0))


def test_pure_release_on_zcdp_ledger_is_charged_its_rho(ledger):
    with ledger.reserve("adult", FP, PrivacyBudget.pure(1.0)) as r:
        r.record(Spend(rho=0.5, epsilon=1.0, delta=0.0), mechanism="laplace")
    assert ledger.status("adult")["spent"]["rho"] == pytest.approx(0.5)


def _racer(path: str, start: float, results) -> None:
    led = Ledger(path)
    while time.time() < start:
        time.sleep(0.001)
    done = 0
    for _ in range(3):
        try:
            with led.reserve("adult", FP, PrivacyBudget.zcdp(0.15)) as r:
                time.sleep(0.01)  # the "run": other processes race meanwhile
                r.record(Spend(rho=0.15, epsilon=None, delta=0.0), mechanism="race")
            done += 1
        except BudgetExceededError:
            pass
    results.put(done)


def test_racing_processes_never_overspend(ledger):
    ctx = multiprocessing.get_context("fork")
    results = ctx.Queue()
    start = time.time() + 0.5
    procs = [ctx.Process(target=_racer, args=(str(ledger.path), start, results)) for _ in range(8)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert all(p.exitcode == 0 for p in procs)
    committed = sum(results.get(timeout=5) for _ in procs)
    releases = [r for r in ledger.history("adult") if r["kind"] == "release"]
    # 24 attempts of 0.15 against 1.0: exactly floor(1 / 0.15) = 6 may and do succeed
    assert committed == len(releases) == 6
    assert sum(r["rho"] for r in releases) <= 1.0
    assert ledger.verify()["rows"] == 7


def test_verify_passes_then_detects_tampering(ledger):
    for rho in (0.1, 0.2, 0.3):
        _release(ledger, rho)
    report = ledger.verify()
    assert report["rows"] == 4 and report["datasets"]["adult"]["rho"] == pytest.approx(0.6)
    con = sqlite3.connect(ledger.path)
    con.execute("UPDATE entries SET rho = 0.01 WHERE seq = 3")
    con.commit()
    with pytest.raises(LedgerIntegrityError, match=r"row 3 .* modified"):
        ledger.verify()
    con.execute("UPDATE entries SET rho = 0.2 WHERE seq = 3")
    con.execute("DELETE FROM entries WHERE seq = 2")
    con.commit()
    with pytest.raises(LedgerIntegrityError, match=r"row 3 .* removed or reordered"):
        ledger.verify()
    con.close()


def test_verify_detects_a_raised_lifetime_budget(ledger):
    _release(ledger, 0.9)
    con = sqlite3.connect(ledger.path)
    con.execute("UPDATE entries SET rho = 100.0 WHERE kind = 'init'")
    con.commit()
    con.close()
    with pytest.raises(LedgerIntegrityError, match="row 1 .* modified"):
        ledger.verify()


def test_verify_detects_overspend_written_consistently(ledger, tmp_path):
    # a forged row with a correct hash still cannot hide an overspend
    _release(ledger, 0.9)
    led2 = Ledger(tmp_path / "copy.sqlite")
    led2.init_dataset("adult", FP, PrivacyBudget.zcdp(1.0))
    with led2._transaction() as con:
        led2._append(
            con,
            {
                **{
                    k: v
                    for k, v in ledger.history("adult")[1].items()
                    if k not in ("seq", "row_hash", "prev_hash")
                },
                "entry_id": "forged",
                "rho": 1.5,
                "parameters": "{}",
            },
        )
    with pytest.raises(LedgerIntegrityError, match="overspends its lifetime budget"):
        led2.verify()


def test_fingerprint_of_an_empty_table():
    assert data_fingerprint(pd.DataFrame({"a": np.array([], dtype=int)})) != data_fingerprint(
        pd.DataFrame({"a": np.array([], dtype=float)})
    )


def test_fingerprint_refuses_unhashable_cells():
    with pytest.raises(InputDataError, match="cannot be fingerprinted"):
        data_fingerprint(pd.DataFrame({"a": [[1], [2]]}))


@pytest.mark.parametrize("written", ["999", "not a number"])
def test_a_ledger_of_another_or_a_damaged_format_is_refused_with_its_value(tmp_path, written):
    path = tmp_path / "ledger.sqlite"
    Ledger(path)
    with sqlite3.connect(path) as con:
        con.execute("UPDATE meta SET value = ? WHERE key = 'format'", (written,))
    with pytest.raises(LedgerError, match=f"has format '{written}'.*use the dpsynth version"):
        Ledger(path)


def test_remaining_epsilon_is_what_one_more_release_can_be_given(tmp_path):
    led = Ledger(tmp_path / "ledger.sqlite")
    lifetime = PrivacyBudget.approx(3.0, 1e-6)
    led.init_dataset("adult", FP, lifetime)
    first = PrivacyBudget.approx(1.0, 1e-6)
    with led.reserve("adult", FP, first) as r:
        r.record(Spend(rho=first.rho, epsilon=None, delta=0.0), mechanism="mst", output_hash="ab" * 32)
    left = led.status("adult")["remaining"]
    assert left["rho"] == pytest.approx(lifetime.rho - first.rho)
    assert left["epsilon"] == pytest.approx(epsilon_of_rho(left["rho"], 1e-6))
    assert left["epsilon"] > 3.0 - 1.0  # rho adds up, epsilon does not
    # a release asking for the figure shown (rounded down) is affordable, and spends nearly all
    last = PrivacyBudget.approx(float(at_most(left["epsilon"])), 1e-6)
    with led.reserve("adult", FP, last) as r:
        r.record(Spend(rho=last.rho, epsilon=None, delta=0.0), mechanism="mst", output_hash="cd" * 32)
    assert led.status("adult")["remaining"]["rho"] < 1e-5 * lifetime.rho
    with pytest.raises(BudgetExceededError, match="affords such a release at most rho"):
        with led.reserve("adult", FP, PrivacyBudget.approx(0.1, 1e-6)):
            pass


def test_a_run_that_spent_past_the_lifetime_leaves_a_ledger_that_still_reads(ledger):
    # lifetime rho 1: 0.5 spent, then a run reserved 0.4 but spent 0.7, past the lifetime
    _release(ledger, 0.5)
    with pytest.raises(LedgerError, match="more than it reserved"):
        with ledger.reserve("adult", FP, PrivacyBudget.zcdp(0.4)) as r:
            r.record(Spend(rho=0.7, epsilon=None, delta=0.0), mechanism="aim", output_hash="ab" * 32)
    status = ledger.status("adult")
    assert status["spent"]["rho"] == pytest.approx(1.2) and status["remaining"]["rho"] == 0.0
    assert "rho = 1.2" in status["overspent"]
    assert ledger.affordable_rho("adult") == 0.0
    report = ledger.verify()  # the chain is intact: the overspend is reported, not an inconsistency
    assert list(report["overspent"]) == ["adult"]
    with pytest.raises(BudgetExceededError, match="already overspent"):
        with ledger.reserve("adult", FP, PrivacyBudget.zcdp(1e-6)):
            pass


def test_affordable_rho_allows_for_the_delta_a_release_reserves(tmp_path):
    led = Ledger(tmp_path / "ledger.sqlite")
    lifetime = PrivacyBudget.approx(2.0, 1e-6)
    led.init_dataset("adult", FP, lifetime)
    assert led.affordable_rho("adult") == pytest.approx(lifetime.rho)
    assert led.affordable_rho("adult", 1e-7) == pytest.approx(rho_of_epsilon(2.0, 1e-6 - 1e-7))
    assert led.affordable_rho("adult", 1e-6) == 0.0
    assert led.status("adult")["lowered_by_delta_used"] == 0.0
    with led.reserve("adult", FP, PrivacyBudget.approx(1.0, 1e-6), step_delta=1e-7) as r:
        r.record(Spend(rho=PrivacyBudget.approx(1.0, 1e-6).rho, epsilon=None, delta=1e-6, step_delta=1e-7),
                 mechanism="mst", output_hash="ab" * 32)
    status = led.status("adult")
    lowered = lifetime.rho - rho_of_epsilon(2.0, 1e-6 - 1e-7)
    assert status["lowered_by_delta_used"] == pytest.approx(lowered)
    assert status["spent"]["rho"] + status["remaining"]["rho"] + lowered == pytest.approx(lifetime.rho)


def test_a_release_committed_within_its_reservation_after_another_overspent_is_not_tampering(ledger):
    first = ledger.begin("adult", FP, PrivacyBudget.zcdp(0.5))
    second = ledger.begin("adult", FP, PrivacyBudget.zcdp(0.5))
    second.record(Spend(rho=0.8, epsilon=None, delta=0.0), mechanism="aim", output_hash="cd" * 32)
    with pytest.raises(LedgerError, match="more than it reserved"):
        second.commit()
    first.record(Spend(rho=0.5, epsilon=None, delta=0.0), mechanism="mst", output_hash="ab" * 32)
    first.commit()  # within what it reserved, though the dataset is now past its lifetime
    report = ledger.verify()
    assert "spent rho = 1.3" in report["overspent"]["adult"]
    assert ledger.status("adult")["overspent"] == report["overspent"]["adult"]


def test_a_reservation_whose_discovery_delta_cannot_fit_says_what_to_do(tmp_path):
    led = Ledger(tmp_path / "ledger.sqlite")
    led.init_dataset("adult", FP, PrivacyBudget.approx(1.0, 1e-6))
    with pytest.raises(BudgetExceededError, match=r"\(epsilon 0.5, delta 1e-06\).*reserved for discovery does not "
                                                  r"fit; declare every column's categories"):
        with led.reserve("adult", FP, PrivacyBudget.approx(0.5, 1e-6), step_delta=1e-6):
            pass
