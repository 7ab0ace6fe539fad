"""``dpsynth budget ...`` through a parser built the way dpsynth.cli builds its own."""

from __future__ import annotations

import argparse
import json
import sqlite3

import pandas as pd
import pytest

from dpsynth.cli_budget import add_budget_commands
from dpsynth.errors import DPSynthError, LedgerIntegrityError
from dpsynth.privacy.accountant import PrivacyBudget, Spend
from dpsynth.privacy.ledger import Ledger, data_fingerprint


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="dpsynth")
    add_budget_commands(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return args.func(args)


@pytest.fixture
def table(tmp_path):
    path = tmp_path / "t.csv"
    pd.DataFrame({"age": [30, 40, 50], "city": ["a", "b", "a"]}).to_csv(path, index=False)
    return path


def test_init_show_history_verify(tmp_path, table, capsys):
    ledger = tmp_path / "l.sqlite"
    base = ["--ledger", str(ledger)]
    assert (
        run(
            [
                "budget",
                "init",
                *base,
                "--dataset",
                "t",
                "--data",
                str(table),
                "--epsilon",
                "2",
                "--delta",
                "1e-6",
            ]
        )
        == 0
    )
    assert "registered" in capsys.readouterr().out
    from dpsynth.io import read_table

    fp = data_fingerprint(read_table(table))
    led = Ledger(ledger)
    with led.reserve("t", fp, PrivacyBudget.zcdp(0.01)) as r:
        r.record(Spend(rho=0.01, epsilon=None, delta=0.0), mechanism="mst")
    assert run(["budget", "show", *base]) == 0
    out = capsys.readouterr().out
    assert "dataset t (zcdp, 1 release(s))" in out and "remaining" in out
    # epsilons of zCDP releases do not add up: the listing says which unit does
    assert "rho adds up across releases" in out and "at the lifetime delta (1e-06)" in out
    assert "not the sum of the releases' epsilons" in out
    assert run(["budget", "show", *base, "--dataset", "t", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)[0]
    assert status["spent"]["rho"] == 0.01 and status["lifetime"]["epsilon"] == 2.0
    assert run(["budget", "history", *base, "--json"]) == 0
    assert [r["kind"] for r in json.loads(capsys.readouterr().out)] == ["init", "release"]
    assert run(["budget", "history", *base]) == 0
    assert "mst" in capsys.readouterr().out
    assert run(["budget", "verify", *base]) == 0
    assert "ledger OK: 2 row(s)" in capsys.readouterr().out
    con = sqlite3.connect(ledger)
    con.execute("UPDATE entries SET rho = 0.0 WHERE kind = 'release'")
    con.commit()
    con.close()
    with pytest.raises(LedgerIntegrityError, match="modified"):
        run(["budget", "verify", *base])


def test_ledger_from_environment_and_budget_forms(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DPSYNTH_LEDGER", str(tmp_path / "env.sqlite"))
    assert (
        run(["budget", "init", "--dataset", "a", "--fingerprint", "ab" * 32, "--rho", "0.5"]) == 0
    )
    assert (
        run(
            [
                "budget",
                "init",
                "--dataset",
                "b",
                "--fingerprint",
                "cd" * 32,
                "--pure",
                "--epsilon",
                "1",
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert run(["budget", "show", "--json"]) == 0
    modes = {s["dataset_id"]: s["lifetime"]["mode"] for s in json.loads(capsys.readouterr().out)}
    assert modes == {"a": "zcdp", "b": "pure"}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--dataset", "x", "--epsilon", "1", "--delta", "1e-6"], "--data FILE"),
        (["--dataset", "x", "--fingerprint", "f", "--epsilon", "1"], "--epsilon and --delta"),
        (["--dataset", "x", "--fingerprint", "f", "--rho", "1", "--epsilon", "1"], "not both"),
        (
            ["--dataset", "x", "--fingerprint", "f", "--pure", "--epsilon", "1", "--delta", "1e-6"],
            "--pure",
        ),
        (
            ["--dataset", "x", "--fingerprint", "f", "--epsilon", "-1", "--delta", "1e-6"],
            r"epsilon \(-1.0\)",
        ),
        (
            ["--dataset", "x", "--fingerprint", "f", "--engine", "duckdb", "--epsilon", "1", "--delta", "1e-6"],
            "not used with --fingerprint",
        ),
    ],
)
def test_bad_init_is_a_typed_error(tmp_path, argv, message):
    with pytest.raises(DPSynthError, match=message):
        run(["budget", "init", "--ledger", str(tmp_path / "l.sqlite"), *argv])


def test_missing_ledger_is_a_typed_error(tmp_path):
    with pytest.raises(DPSynthError, match="no ledger at .*budget init"):
        run(["budget", "show", "--ledger", str(tmp_path / "none.sqlite")])
    assert not (tmp_path / "none.sqlite").exists()


def test_init_refuses_a_ledger_path_inside_a_file_before_reading_the_table(tmp_path, table):
    with pytest.raises(DPSynthError, match=r"--ledger \('.*t.csv/l.sqlite'\) must be a path whose folders are folders"):
        run(["budget", "init", "--ledger", str(table / "l.sqlite"), "--dataset", "x", "--data", str(tmp_path / "none.csv"),
             "--epsilon", "1", "--delta", "1e-6"])


def test_init_with_engine_fingerprints_files_not_rows(tmp_path, table):
    from dpsynth.release.source import files_fingerprint

    for engine, want in (("numpy", data_fingerprint(pd.read_csv(table))), ("duckdb", files_fingerprint(table))):
        ledger = tmp_path / f"{engine}.sqlite"
        args = ["budget", "init", "--ledger", str(ledger), "--dataset", "t", "--data", str(table),
                "--epsilon", "1", "--delta", "1e-6", "--engine", engine]
        assert run(args) == 0
        assert Ledger(ledger).status("t")["fingerprint"] == want


def test_cancel_frees_a_reservation_left_by_a_dead_process(tmp_path, table, capsys):
    import subprocess
    import sys

    ledger_path = tmp_path / "l.sqlite"
    ledger = Ledger(ledger_path)
    fp = data_fingerprint(pd.read_csv(table))
    ledger.init_dataset("t", fp, PrivacyBudget.approx(1.0, 1e-6))
    mine = ledger.begin("t", fp, PrivacyBudget.approx(0.5, 1e-7))
    base = ["--ledger", str(ledger_path)]

    # This process is alive: refused, nothing freed.
    with pytest.raises(DPSynthError, match="still running on this machine"):
        run(["budget", "cancel", *base, mine.reservation_id])
    assert len(ledger.status("t")["reserved"]) == 1

    # A process that has exited: freed, and the run it belonged to can no longer be recorded.
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    with sqlite3.connect(ledger_path) as con:
        con.execute("UPDATE reservations SET pid = ?", (int(dead.stdout),))
    run(["budget", "show", *base])
    assert mine.reservation_id in capsys.readouterr().out
    assert run(["budget", "cancel", *base, mine.reservation_id]) == 0
    assert "its budget is free again" in capsys.readouterr().out
    assert ledger.status("t")["reserved"] == []
    with pytest.raises(DPSynthError, match="no longer open"):
        mine.commit()
    mine.cancel()  # closing it afterwards is harmless
    assert [r["kind"] for r in ledger.history("t")] == ["init"]

    with pytest.raises(DPSynthError, match="no open reservation 'nope'"):
        run(["budget", "cancel", *base, "nope"])


def test_an_overspent_dataset_is_shown_and_fails_verify(tmp_path, capsys):
    ledger = tmp_path / "l.sqlite"
    led = Ledger(ledger)
    led.init_dataset("t", "f" * 64, PrivacyBudget.zcdp(1.0))
    with pytest.raises(DPSynthError, match="more than it reserved"):
        with led.reserve("t", "f" * 64, PrivacyBudget.zcdp(0.5)) as r:
            r.record(Spend(rho=1.5, epsilon=None, delta=0.0), mechanism="aim", output_hash="ab" * 32)
    assert run(["budget", "show", "--ledger", str(ledger)]) == 0
    assert "OVERSPENT" in capsys.readouterr().out
    assert run(["budget", "verify", "--ledger", str(ledger)]) == 1
    captured = capsys.readouterr()
    assert "0 of 1 dataset(s) within" in captured.out and "OVERSPENT: dataset 't'" in captured.err


def test_one_table_gets_one_lifetime_budget(tmp_path):
    ledger = tmp_path / "l.sqlite"
    assert run(["budget", "init", "--ledger", str(ledger), "--dataset", "a", "--fingerprint", "ab" * 32,
                "--rho", "0.5"]) == 0
    with pytest.raises(DPSynthError, match="already registered as dataset 'a'.*one table has one lifetime budget"):
        run(["budget", "init", "--ledger", str(ledger), "--dataset", "b", "--fingerprint", "ab" * 32,
             "--rho", "0.5"])
    assert Ledger(ledger).datasets() == ["a"]


def test_a_folder_an_empty_file_or_a_damaged_file_is_no_ledger(tmp_path):
    (tmp_path / "folder").mkdir()
    with pytest.raises(DPSynthError, match="is a folder"):
        run(["budget", "show", "--ledger", str(tmp_path / "folder")])
    empty = tmp_path / "empty.sqlite"
    empty.write_bytes(b"")
    for argv in (["budget", "show"], ["budget", "verify"],
                 ["budget", "init", "--dataset", "a", "--fingerprint", "ab" * 32, "--rho", "0.5"]):
        with pytest.raises(DPSynthError, match="empty file, not a ledger: if it held one, restore it"):
            run([*argv, "--ledger", str(empty)])
    assert empty.stat().st_size == 0  # nothing written into it
    damaged = tmp_path / "damaged.sqlite"
    Ledger(damaged).init_dataset("a", "ab" * 32, PrivacyBudget.zcdp(0.5))
    damaged.write_bytes(damaged.read_bytes()[:100])
    with pytest.raises(DPSynthError, match="restore it from a backup"):
        run(["budget", "show", "--ledger", str(damaged)])


def test_init_says_what_a_pure_or_rho_only_lifetime_can_take(tmp_path, capsys):
    ledger = str(tmp_path / "l.sqlite")
    assert run(["budget", "init", "--ledger", ledger, "--dataset", "p", "--fingerprint", "ab" * 32,
                "--pure", "--epsilon", "3"]) == 0
    captured = capsys.readouterr()
    assert "epsilon 3 (pure DP)" in captured.out and "rho" not in captured.out
    assert "`dpsynth release` makes zCDP releases, which a pure lifetime budget cannot take" in captured.err
    assert run(["budget", "init", "--ledger", ledger, "--dataset", "r", "--fingerprint", "cd" * 32,
                "--rho", "0.5"]) == 0
    assert "cannot reserve delta for category discovery" in capsys.readouterr().err


def test_a_large_delta_is_flagged(tmp_path, capsys):
    assert run(["budget", "init", "--ledger", str(tmp_path / "l.sqlite"), "--dataset", "y", "--fingerprint",
                "ab" * 32, "--epsilon", "4", "--delta", "0.5"]) == 0
    assert "delta = 0.5 is large" in capsys.readouterr().err
    assert run(["budget", "init", "--ledger", str(tmp_path / "l.sqlite"), "--dataset", "z", "--fingerprint",
                "cd" * 32, "--epsilon", "4", "--delta", "1e-9"]) == 0
    assert "is large" not in capsys.readouterr().err
