"""Tests of dpsynth.release.report: the record, the HTML, and a real headless browser."""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from dpsynth.errors import ParameterError
from dpsynth.release.report import (
    SECTION_IDS,
    render_report,
    report_html,
    schema_provenance,
    validate_record,
    write_report_json,
)
from dpsynth.release.slices import evaluate_slices
from dpsynth.release.utility import NOT_COVERED_NOTICE, evaluate_utility, fit_downstream

CHROMIUM = shutil.which("chromium")


@pytest.fixture(scope="module")
def record(adult_real, adult_shuffled, adult_holdout, schema) -> dict:
    """A full release record with real evaluation results (a shuffled table as synthetic)."""
    shared = fit_downstream(
        adult_real, adult_shuffled, adult_holdout, schema, "income", epsilon=1.0, seed=0
    )
    utility = evaluate_utility(
        adult_real, adult_shuffled, schema, holdout=adult_holdout, n_three_way=10,
        predictions=shared,
    )
    fairness = evaluate_slices(
        adult_real, adult_shuffled, schema, by=["sex", "race"], holdout=adult_holdout,
        predictions=shared,
    )
    return {
        "format": 1,
        "title": "Adult <script>alert('title')</script> & co",
        "dataset": {"id": "adult", "fingerprint": "sha256:0123abcd", "rows": len(adult_real)},
        "method": {"name": "MST", "parameters": {"epsilon": 1.0, "delta": 1e-9, "max_cells": 10000}},
        "guarantee": {
            "epsilon": 1.0, "delta": 1e-9, "rho": 0.0126, "mode": "zcdp",
            "neighbouring_relation": "add or remove one row", "privacy_unit": "one row (one person)",
        },
        "spend": [
            {"step": "1-way", "description": "measure every 1-way marginal", "rho": 0.0042, "sigma": 12.1},
            {"step": "select", "description": "choose pairs <b>", "rho": 0.0042, "epsilon": 0.1},
            {"step": "2-way", "description": "measure the chosen pairs", "rho": 0.0042, "sigma": 20.5},
        ],
        "schema": schema_provenance(schema),
        "utility": utility.to_dict(),
        "fairness": fairness.to_dict(),
        "audit": {
            "verdict": "no violation detected at this power",
            "epsilon_lower_bound": 0.21, "interval": [0.21, 3.0], "confidence": 0.95,
            "ceiling": 2.4,
            "attacks": [
                {"attack": "membership", "success": 0.53, "baseline": 0.5},
                {"attack": "singling out", "success": 0.02, "baseline": 0.018},
            ],
            "notes": ["a bound below the claim is not evidence that the claim holds"],
            "runs_per_world": 200,
        },
        "provenance": {
            "library": "dpsynth 0.1.0", "versions": {"opendp": "0.16.0"},
            "hashes": {"synthetic.csv": "sha256:ff00"}, "seed": 0,
            "created": "2026-01-31T12:00:00Z",
        },
    }


@pytest.fixture(scope="module")
def page(record) -> str:
    return report_html(record)


@pytest.fixture(scope="module")
def bare(record) -> dict:
    """The record without its optional sections (renders without plots, fast)."""
    return {k: v for k, v in record.items() if k not in ("utility", "fairness", "audit")}


def _section(page: str, sid: str) -> str:
    match = re.search(rf'<section id="{sid}">(.*?)</section>', page, re.S)
    assert match, f"section {sid} missing"
    return match.group(1)


# -- the record ---------------------------------------------------------------------------
def test_schema_provenance_lists_every_column(schema):
    rows = schema_provenance(schema)
    assert [r["column"] for r in rows] == list(schema.names)
    assert {r["source"] for r in rows} == {"public"}


def test_every_problem_of_a_record_is_listed(record):
    bad = copy.deepcopy(record)
    del bad["title"]
    bad["schema"][0]["source"] = "guessed"
    bad["utility"]["covered_by_dp"] = True
    bad["guarantee"]["delta"] = 1.5
    with pytest.raises(ParameterError) as info:
        validate_record(bad)
    text = str(info.value)
    assert text.startswith("record (4 problem(s)) must be a valid release record")
    for where in ("(record): 'title' is a required property", "schema/0/source", "utility/covered_by_dp", "guarantee/delta"):
        assert where in text


def test_non_strict_json_is_refused(record):
    bad = copy.deepcopy(record)
    bad["provenance"]["score"] = float("nan")
    with pytest.raises(ParameterError, match="not strict JSON"):
        validate_record(bad)


def test_json_twin_round_trips(record, tmp_path):
    path = tmp_path / "out" / "report.json"
    write_report_json(record, path)
    assert json.loads(path.read_text(encoding="utf-8")) == record


def test_a_bad_record_writes_nothing(record, tmp_path):
    path = tmp_path / "report.html"
    path.write_text("previous", encoding="utf-8")
    bad = copy.deepcopy(record)
    bad["spend"] = "all of it"
    with pytest.raises(ParameterError, match="spend"):
        render_report(bad, path)
    assert path.read_text(encoding="utf-8") == "previous"
    assert list(tmp_path.iterdir()) == [path]


# -- the HTML -------------------------------------------------------------------------------
def test_every_section_is_present_in_order(page):
    positions = [page.index(f'<section id="{sid}">') for sid in SECTION_IDS]
    assert positions == sorted(positions)


def test_text_is_escaped(page):
    assert "<script" not in page
    assert "&lt;script&gt;alert(&#x27;title&#x27;)&lt;/script&gt; &amp; co" in page
    assert "choose pairs &lt;b&gt;" in page


def test_nothing_is_loaded_from_outside(page):
    refs = re.findall(r'(?:src|href)="([^"]*)"', page)
    assert refs and all(r.startswith(("data:image/png;base64,", "#")) for r in refs)
    assert "@import" not in page and "url(" not in page


def test_guarantee_states_every_number(page):
    g = _section(page, "guarantee")
    for text in ("e<sup>ε</sup> = 2.72", "δ = 1e-09", "0.0126", "add or remove one row", "one row (one person)"):
        assert text in g


def test_spend_is_itemised_and_totalled(page, record):
    s = _section(page, "spend")
    every = s.split("Every step")[1]
    assert every.count("<tr>") == 1 + len(record["spend"]) + 1  # header, steps, total
    assert "within the guarantee" in s
    by_kind = s.split("By kind of step")[1].split("Every step")[0]
    assert by_kind.count("<tr>") == 1 + 3  # header and the three distinct steps


def test_overspend_is_called_out(bare):
    over = copy.deepcopy(bare)
    over["guarantee"]["rho"] = 0.01
    s = _section(report_html(over), "spend")
    assert "MORE than the guarantee" in s


def test_pure_dp_spend_is_counted_in_epsilon(bare):
    pure = copy.deepcopy(bare)
    pure["guarantee"].update(mode="pure", rho=None, delta=0.0)
    pure["spend"] = [{"step": "a", "epsilon": 0.4}, {"step": "b", "epsilon": 0.6, "rho": None}]
    validate_record(pure)
    page = report_html(pure)
    assert "The steps add up to ε = 1, within the guarantee's ε = 1." in _section(page, "spend")
    assert "not used" in _section(page, "guarantee")
    pure["guarantee"]["mode"] = "zcdp"  # zCDP needs a rho
    with pytest.raises(ParameterError, match="guarantee/rho"):
        validate_record(pure)


def test_data_derived_schema_is_called_out(bare):
    leaky = copy.deepcopy(bare)
    leaky["schema"][1]["source"] = "data"
    s = _section(report_html(leaky), "schema")
    assert "workclass were read from the private data without privacy" in s


def test_evaluations_are_marked_not_covered(page):
    for sid in ("utility", "fairness"):
        s = _section(page, sid)
        assert "Not covered by the privacy guarantee." in s and NOT_COVERED_NOTICE in s
        assert "data:image/png;base64," in s
    assert "dp_baseline" in _section(page, "utility")
    fairness = _section(page, "fairness")
    assert "too small to judge" in fairness and "fidelity flag above" in fairness


def test_audit_numbers_and_attacks(page):
    a = _section(page, "audit")
    for text in ("no violation detected at this power", "0.21 – 3", "2.4", "singling out"):
        assert text in a
    # unrecognised keys are kept, folded in a details element
    details = a.split("<details>")[1].split("</details>")[0]
    assert "runs_per_world" in details and "200" in details


def test_small_records_deep_in_the_audit_are_one_line(bare):
    rec = dict(bare)
    rec["audit"] = {"risk": {"membership": {"attack": {"successes": 108, "trials": 150}}}}
    a = _section(report_html(rec), "audit")
    assert "<strong>successes</strong> 108 · <strong>trials</strong> 150" in a


def test_absent_sections_say_so(bare):
    page = report_html(bare)
    assert "No audit was run." in _section(page, "audit")
    assert "No utility evaluation was run." in _section(page, "utility")
    assert "No fairness evaluation was run." in _section(page, "fairness")


# -- a real browser -------------------------------------------------------------------------
def _chromium(tmp_path: Path, url: str, *extra: str) -> subprocess.CompletedProcess:
    args = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr",
        "--v=0", *extra, url,
    ]
    return subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)


def _console_messages(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if ":CONSOLE" in line or "Uncaught" in line]


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")
def test_console_detector_sees_a_script_error(tmp_path):
    bad = tmp_path / "bad.html"
    bad.write_text("<!DOCTYPE html><html><body><script>no_such_function()</script></body></html>")
    run = _chromium(tmp_path, bad.as_uri(), "--dump-dom")
    assert any("no_such_function" in m for m in _console_messages(run.stderr))


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")
def test_report_renders_in_headless_chromium(record, tmp_path):
    html_path = tmp_path / "report.html"
    render_report(record, html_path)
    run = _chromium(tmp_path, html_path.as_uri(), "--dump-dom")
    assert run.returncode == 0, run.stderr[-2000:]
    for sid in SECTION_IDS:
        assert f'<section id="{sid}">' in run.stdout
    assert _console_messages(run.stderr) == []
    shot = tmp_path / "report.png"
    run = _chromium(tmp_path, html_path.as_uri(), f"--screenshot={shot}", "--window-size=1280,2400")
    assert run.returncode == 0, run.stderr[-2000:]
    assert shot.stat().st_size > 50_000  # a page of text, tables and plots, not a blank one
    assert _console_messages(run.stderr) == []


@pytest.mark.parametrize(("synthetic_auc", "verdict"), [(0.7, "better than"), (0.6, "no better than")])
def test_synthetic_is_compared_with_the_dp_model(bare, synthetic_auc, verdict):
    rec = dict(bare)
    rec["utility"] = {
        "covered_by_dp": False,
        "notice": NOT_COVERED_NOTICE,
        "downstream": {
            "target": "income",
            "scores": {"train_synthetic": {"auc": synthetic_auc}, "dp_baseline": {"auc": 0.65}},
        },
    }
    s = _section(report_html(rec), "utility")
    assert f"the synthetic data is {verdict} a DP model" in s
    assert f"AUC {synthetic_auc:g} against 0.65" in s


def test_long_lists_in_the_audit_are_shortened(bare):
    rec = dict(bare)
    rec["audit"] = {"verdict": "ok", "per_record": list(range(500))}
    a = _section(report_html(rec), "audit")
    assert "0, 1, 2" in a and "… (500 values)" in a and "499" not in a


def test_spend_is_added_up_by_kind_of_step(bare):
    rec = copy.deepcopy(bare)
    rec["spend"] = [
        {"step": "measure", "rho": 0.004},
        {"step": "select", "rho": 0.002},
        {"step": "measure", "rho": 0.004},
    ]
    s = _section(report_html(rec), "spend")
    by_kind = s.split("By kind of step")[1].split("Every step")[0]
    assert "<td>measure</td><td>2</td><td>0.008</td>" in by_kind
    assert "<td>select</td><td>1</td><td>0.002</td>" in by_kind


def test_what_comes_from_the_real_rows_is_marked_not_covered(page, bare):
    # The release-risk attacks (mode B) score real members against real holdout rows, and
    # the fingerprint is a hash of the private table: neither is DP, whatever else is cut.
    audit = _section(page, "audit")
    assert "Not covered by the privacy guarantee." in audit and "real training and holdout rows" in audit
    game_only = dict(bare, audit={"verdict": "no violation detected at this power", "epsilon_lower_bound": 0.2})
    assert "Not covered" not in _section(report_html(game_only), "audit")
    for s in (_section(page, "provenance"), page.split("</header>")[0]):
        assert "SHA-256 of the private table" in s
    assert "Not covered by the privacy guarantee." in _section(page, "provenance")


def test_an_audit_too_small_to_detect_a_violation_says_so_in_view(bare):
    # The ceiling (2.388) is below the claim (3): the verdict cannot tell anything, and the
    # game's own note saying so must not be folded away in the raw output.
    game_note = "with 42 test runs per world no bound above 2.388 was possible"
    rec = dict(bare, audit={
        "verdict": "no violation detected at this power", "claimed_epsilon": 3.0,
        "epsilon_lower_bound": 0.0, "ceiling": 2.388,
        "mechanism_verification": {"notes": [game_note]},
    })
    a = _section(report_html(rec), "audit")
    shown = a.split("<details>")[0]
    assert "This audit could not have detected a violation." in shown
    assert "no lower bound above ε = 2.388 was possible, and the claim is ε = 3" in shown
    assert game_note in shown
    powerful = copy.deepcopy(rec)
    powerful["audit"]["ceiling"] = 4.0
    assert "could not have detected" not in _section(report_html(powerful), "audit")


def test_the_guarantee_names_the_unit_in_plain_words(page):
    g = _section(page, "guarantee")
    assert "the data of any <strong>single row (one person)</strong> is in the input" in g
    assert "single one row" not in g


_BUDGET = {
    "dataset_id": "adult", "lifetime": {"mode": "zcdp", "epsilon": 4.0, "delta": 1e-6, "rho": 0.3},
    "earlier_releases": 2, "spent_before": 0.1, "this_release": 0.0126, "in_progress": 0.05,
    "remaining_after": 0.1374, "next_delta": 1e-9, "next_epsilon": 2.5,
}


def test_the_lifetime_budget_is_shown_in_rho_and_adds_up(bare):
    b = _section(report_html(dict(bare, budget=_BUDGET)), "budget")
    for text in ("<td>lifetime budget</td><td>0.3</td><td>ε = 4 at δ = 1e-06</td>",
                 "<td>spent by earlier releases</td><td>0.1</td><td>2 release(s)</td>",
                 "<td>spent by this release</td><td>0.0126</td>",
                 "<td>held by runs in progress</td><td>0.05</td>",
                 "<td>remaining after this release</td><td>0.1374</td>",
                 "Epsilons do not add up", "A next release at δ = 1e-09 could have at most ε = 2.5, less if "):
        assert text in b, text
    assert "out of reach" not in b  # no delta used by discovery: no such row
    assert "smaller δ" not in b  # 2.5 at 1e-9 is below the lifetime's 4 at 1e-6
    larger = _section(report_html(dict(bare, budget=dict(_BUDGET, next_epsilon=4.86))), "budget")
    assert "more than the lifetime ε because it is stated at a smaller δ" in larger
    lowered = _section(report_html(dict(bare, budget=dict(_BUDGET, lowered_by_delta_used=0.004))), "budget")
    assert "<td>out of reach</td><td>0.004</td>" in lowered
    assert "No ledger figures" in _section(report_html(bare), "budget")
    with pytest.raises(ParameterError, match="budget"):
        validate_record(dict(bare, budget={"dataset_id": "adult"}))


def test_before_you_sign_lists_what_this_release_shows(bare, record):
    s = _section(report_html(dict(bare, budget=_BUDGET)), "signing")
    assert "This report is internal." in s and "<code>manifest.json</code>" in s
    assert "The spend adds up to ρ = 0.0126, within the guarantee: yes." in s
    assert "No audit was run" in s and "ρ = 0.1374 of 0.3 remains after this release" in s
    assert "<code>dpsynth verify manifest.json --data synthetic.csv --ledger LEDGER</code>" in s
    with_path = _section(report_html(dict(bare, budget={**_BUDGET, "ledger": "/srv/l.db"})), "signing")
    assert "--ledger /srv/l.db</code>" in with_path
    assert "`" not in s and "do not sign" in s
    assert "deleting its files does not give the budget back" in s
    worse = copy.deepcopy(dict(record, budget=None))
    worse["guarantee"]["rho"] = 0.01
    worse["schema"][1]["source"] = "data"
    worse["audit"] = dict(worse["audit"], claimed_epsilon=3.0, ceiling=2.4)
    s = _section(report_html(worse), "signing")
    assert "MORE than the guarantee&#x27;s 0.01: do not sign." in s
    assert "without DP, not covered by the guarantee: workclass" in s
    assert "too small to detect a violation" in s
    assert "subgroup(s) flagged" in s and "<code>dpsynth budget show</code>" in s
