"""The main job: one certified release, from a raw table to a signed-off folder.

:func:`run_release` does the whole path in an order that keeps the house
rules:

1. parameters, schema and ledger are checked; a release that would exceed
   the dataset's lifetime budget is refused before the data is read;
2. the table is read, fingerprinted and checked against the schema (every
   problem at once), still before any budget is spent. On the ``duckdb`` and
   ``spark`` engines the table is not loaded: its files are fingerprinted as
   bytes (:func:`~dpsynth.release.source.files_fingerprint`), the engine
   checks every value while it counts (a refusal there cancels the
   reservation), and the evaluation reads a bounded uniform sample of rows
   (:func:`~dpsynth.release.source.sample_rows`), which the report states;
3. the budget is reserved in the ledger; the synthesizer is fitted and
   sampled; the synthetic table is written to a staging folder;
4. the audit, the utility and fairness evaluation, the manifest and the
   report are written to the staging folder;
5. the ledger row is committed, then the staged files move into ``out``.

Nothing is written under ``out`` unless step 5 is reached. A run that fails
before its first mechanism (bad input, refused values, a budget it cannot
afford) cancels its reservation: no ledger row. A run that fails or is
interrupted after drawing noise is charged what it spent, as a failed release:
its error, progress lines and staged files may depend on the noisy values.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import tempfile
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dpsynth._version import __version__
from dpsynth.encoding import DEFAULT_OTHER_LABEL, OutOfDomainWarning
from dpsynth.encoding.formats import conform_frame
from dpsynth.errors import (
    BudgetExceededError,
    InputDataError,
    LedgerError,
    ParameterError,
    Problem,
    parameter_error,
)
from dpsynth.io import check_writable, write_table, write_text_atomic
from dpsynth.privacy.accountant import PrivacyBudget, Spend, at_most, epsilon_of_rho
from dpsynth.privacy.ledger import Ledger, Reservation, data_fingerprint, mode_refusal
from dpsynth.release.manifest import (
    MANIFEST_DIGEST_KEY,
    Guarantee,
    ManifestInputs,
    build_manifest,
    manifest_digest,
    software_versions,
)
from dpsynth.release.report import render_report, schema_provenance, write_report_json
from dpsynth.release.slices import evaluate_slices
from dpsynth.release.source import (
    DEFAULT_EVALUATION_ROWS,
    ENGINES,
    RowSample,
    files_fingerprint,
    kind_dtypes,
    open_source,
    read_frame,
    sample_rows,
    source_kinds,
)
from dpsynth.release.utility import evaluate_utility, fit_downstream
from dpsynth.schema import ColumnKind, Schema, infer_schema
from dpsynth.synthesizers import Synthesizer, make_synthesizer

AUDIT_PROFILES = ("none", "quick", "full")

#: runs per world of the distinguishing game, per audit profile
GAME_RUNS = {"quick": 60, "full": 1000}
#: attacks per release-risk attack, per audit profile
RISK_ATTACKS = {"quick": 300, "full": 2000}
#: real rows per side (training members, holdout) of the release-risk audit
RISK_ROWS = {"quick": 5000, "full": 1_000_000}

SYNTHETIC_FILE = "synthetic.csv"
MANIFEST_FILE = "manifest.json"
REPORT_FILE = "report.html"
REPORT_JSON_FILE = "report.json"

Progress = Callable[[str], None]


@dataclass
class ReleaseRequest:
    """What one release is asked to do.

    Parameters
    ----------
    data : path or DataFrame
        The private table: a DataFrame, or a CSV or Parquet file or glob.
    dataset_id : str
        The dataset's name in the ledger (registered with ``dpsynth budget init``).
    ledger : path
        The ledger file.
    out : path
        Output folder; receives the synthetic table, manifest and report.
    epsilon, delta : float
        The release's budget.
    method : {"mst", "aim", "independent"}
    schema : Schema, optional
        Public knowledge about the columns; without it domains are discovered with DP.
    public : bool
        Acknowledge data-derived parts of the schema (recorded in the manifest).
    holdout : path or DataFrame, optional
        Real rows NOT used for training, from the same population: needed for
        the membership and attribute-inference risks and the downstream task.
    target : str, optional
        Column predicted by the downstream task.
    slices : sequence of str
        Columns whose subgroups get their own fidelity figures.
    audit : {"none", "quick", "full"}
    rows : int, optional
        Synthetic rows; default a DP estimate of the real row count.
    seed : int, optional
        Seed of the non-private randomness.
    workload : list of column tuples, optional
        AIM's workload.
    n_jobs : int
        Worker processes for the audit's game.
    title : str, optional
        Title of the report.
    extra : dict
        Free-form details kept with the request.
    engine : {"numpy", "duckdb", "spark"}
        Where the marginals are counted. ``numpy`` reads the table into
        pandas. ``duckdb`` and ``spark`` count ``data`` (a path or glob) where
        it lies; then the ledger fingerprint is that of the files' bytes and
        the evaluation reads at most ``evaluation_rows`` sampled rows.
    spark_master : str, optional
        Spark master URL for the ``spark`` engine; a local session by default.
    evaluation_rows : int
        Real rows the evaluation samples from ``data`` (and from a ``holdout``
        path) on the ``duckdb`` and ``spark`` engines.
    """

    data: str | os.PathLike[str] | pd.DataFrame
    dataset_id: str
    ledger: str | os.PathLike[str]
    out: str | os.PathLike[str]
    epsilon: float = 1.0
    delta: float = 1e-9
    method: str = "mst"
    schema: Schema | None = None
    public: bool = False
    holdout: str | os.PathLike[str] | pd.DataFrame | None = None
    target: str | None = None
    slices: Sequence[str] = ()
    audit: str = "quick"
    rows: int | None = None
    seed: int | None = 0
    workload: Sequence[tuple[str, ...]] | None = None
    n_jobs: int = 1
    title: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    engine: str = "numpy"
    spark_master: str | None = None
    evaluation_rows: int = DEFAULT_EVALUATION_ROWS


@dataclass(frozen=True)
class ReleaseResult:
    """Where the release went and what it spent."""

    out: Path
    files: dict[str, Path]
    entry_id: str
    spent: dict[str, Any]
    audit_verdict: str | None
    seconds: float


def run_release(request: ReleaseRequest, progress: Progress | None = None) -> ReleaseResult:
    """Run one release end to end (see the module docstring for the order).

    Parameters
    ----------
    request : ReleaseRequest
        What to release.
    progress : callable, optional
        Receives one line per stage (e.g. ``print``).

    Returns
    -------
    ReleaseResult

    Raises
    ------
    DPSynthError
        Any refusal; then no file under ``out`` exists, and no ledger row
        unless the run had already drawn noise (then it is charged what it spent).
    """
    started = time.monotonic()

    def say(message: str) -> None:
        if progress is not None:
            progress(f"[{time.monotonic() - started:6.1f}s] {message}")

    synth = _synthesizer(request)
    synth.check_params()
    _check_request(request)
    budget = PrivacyBudget.approx(float(request.epsilon), float(request.delta))

    if not Path(request.ledger).is_file():  # a mistyped path would otherwise become a new, empty ledger
        raise LedgerError(
            f"no ledger at {request.ledger}; check the path, or create one with "
            f"`dpsynth budget init --ledger {request.ledger} ...`"
        )
    ledger = Ledger(request.ledger)
    # A complete declared schema reserves no discovery delta; otherwise at most this share of delta.
    declared = request.schema
    complete = declared is not None and not declared.incomplete_columns and not any(s.kind_from_data for s in declared)
    _precheck_budget(ledger, request.dataset_id, budget,
                     0.0 if complete else float(request.delta) * float(synth.discovery_fraction))
    say(f"ledger: {request.dataset_id!r} can afford epsilon = {request.epsilon}, delta = {request.delta}")

    real = _read(request)
    df, holdout, fingerprint = real.frame, real.holdout, real.fingerprint
    _check_columns(request, df, holdout)
    # Without a declared schema, a CSV's kinds were read from its values: each engine
    # decides them with DP (the synthesizer charges it) unless they are acknowledged.
    checked = request.schema if request.schema is not None else source_kinds(request.data, df)
    if checked is not None:
        checked.require_public(request.public, kinds_by_dp=True)
        if request.engine == "numpy":
            checked.validate_frame(df)
    _check_fingerprint(ledger, request.dataset_id, fingerprint, request.engine)
    say(real.summary)

    step_delta = _discovery_delta(request, synth, df, checked)
    # What the synthesizer counts: the frame in memory, or the files where they lie.
    fit_on = df if request.engine == "numpy" else open_source(
        request.data, request.engine, spark_master=request.spark_master
    )
    schema = kind_dtypes(request.schema, request.data)
    if schema is None and request.engine != "duckdb":  # the DuckDB profiler marks a CSV's kinds itself
        schema = checked if request.engine == "numpy" else source_kinds(request.data, fit_on)
    out = Path(request.out)
    # The folders made for the output, outermost first: a failed run removes them again.
    made = [folder for folder in reversed(out.parents) if not folder.exists()]
    published = False
    try:
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.staging-", dir=out.parent))
        except OSError as exc:  # before the reservation: nothing is charged
            raise parameter_error("out", str(out), f"a folder that can be written ({exc.strerror})") from None
        try:
            with ledger.reserve(request.dataset_id, fingerprint, budget, step_delta=step_delta) as reservation:
                try:
                    audit = _produce(request, synth, real, fit_on, schema, staging, reservation, say)
                except BaseException as exc:
                    _charge_failure(reservation, synth, request.method, exc)
                    raise
            files = _publish(staging, out)
            published = True
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    finally:
        if not published:
            for folder in reversed(made):
                with contextlib.suppress(OSError):  # only if still empty
                    folder.rmdir()
    spent = synth.privacy_report()["spent"]
    say(f"release {reservation.entry_id} recorded in {request.ledger}; files in {out}")
    return ReleaseResult(
        out=out,
        files=files,
        entry_id=reservation.entry_id,
        spent=spent,
        audit_verdict=(audit or {}).get("verdict"),
        seconds=time.monotonic() - started,
    )


def _produce(
    request: ReleaseRequest,
    synth: Synthesizer,
    real: _Real,
    fit_on: Any,
    schema: Schema | None,
    staging: Path,
    reservation: Reservation,
    say: Progress,
) -> dict[str, Any] | None:
    """Fit, sample, audit and evaluate; stage the synthetic table, manifest and report.

    Records the spend on ``reservation`` and returns the audit section (None without audit).
    """
    say(f"fitting {request.method.upper()} ...")
    synth.fit(fit_on, schema)
    synthetic = synth.sample(request.rows)
    synthetic_path = staging / SYNTHETIC_FILE
    write_table(synthetic, synthetic_path)
    say(f"sampled {len(synthetic)} synthetic rows")

    df, holdout = real.frame, real.holdout
    if synth.decided_kinds_:
        # The real rows the audit and the evaluation read, in the kinds DP decided.
        decided = synth.schema_.select(synth.decided_kinds_)
        df = conform_frame(df, decided)
        holdout = None if holdout is None else conform_frame(holdout, decided)
    audit, shared_audit = _audit(request, synth, df, holdout, synthetic, say)
    utility, fairness = _evaluate(request, synth, df, holdout, synthetic, say)
    # The fairness section shows no notes; its figures come from the same rows.
    for section in (audit, utility):
        if section is not None:
            section.setdefault("notes", []).extend(real.notes)

    manifest = build_manifest(
        ManifestInputs(
            dataset_id=request.dataset_id,
            schema=synth.schema_,
            acknowledged_public=bool(request.public),
            method=request.method,
            parameters=_parameters(synth),
            guarantee=_guarantee(synth),
            spend_steps=synth.privacy_report()["steps"],
            spend_total=synth.privacy_report()["spent"],
            output_file=synthetic_path,
            output_rows=len(synthetic),
            output_columns=list(synthetic.columns),
            seed=request.seed,
            # The file's name only: its folder says nothing about the release, and may say
            # where the private data lives; the report (internal) gives the full path.
            ledger_path=Path(request.ledger).name,
            ledger_entry_id=reservation.entry_id,
            audit=shared_audit,
            source=None if isinstance(request.data, pd.DataFrame) else Path(request.data).name,
        )
    )
    write_text_atomic(staging / MANIFEST_FILE, json.dumps(manifest, indent=2) + "\n")
    record = _record(request, synth, manifest, real, utility, fairness, audit)
    record["budget"] = _lifetime_budget(reservation, synth.spent_, float(request.delta))
    render_report(record, staging / REPORT_FILE)
    write_report_json(record, staging / REPORT_JSON_FILE)
    reservation.record(
        synth.spent_,
        mechanism=request.method,
        # The manifest's digest binds every field of it (schema, audit, seed...) to the
        # hash-chained ledger row, not only the output hash and the spend.
        parameters={**_parameters(synth), MANIFEST_DIGEST_KEY: manifest_digest(manifest)},
        output_hash=manifest["output"]["sha256"],
    )
    return audit


def _charge_failure(reservation: Reservation, synth: Synthesizer, method: str, error: BaseException) -> None:
    """Charge a run that failed after drawing noise with what it spent.

    Its error, its progress lines and its staged files may depend on the noisy
    values, so repeating a run that fails late would otherwise average the noise
    away uncharged. A run that fails before its first mechanism charges nothing
    (the reservation is cancelled).
    """
    spent = synth.spent_so_far
    if spent is None:
        return
    reservation.record(
        spent, mechanism=f"{method} (failed: {type(error).__name__})", parameters=_parameters(synth)
    )
    try:
        entry = reservation.commit()
    except LedgerError as exc:  # its message says whether the spend was recorded
        line = f"the run failed after drawing noise; the ledger says: {exc}"
    else:
        line = (f"the run failed after drawing noise: ledger entry {entry} charges what it spent "
                f"(rho = {spent.rho:.6g}, epsilon = {spent.epsilon}), as its outcome may depend on the noise")
    # On the error itself (the command line prints it), so that silenced progress cannot hide a charge.
    error.add_note(line)


# ---------------------------------------------------------------------------------------
# checks before anything is read or spent
# ---------------------------------------------------------------------------------------
def _synthesizer(request: ReleaseRequest) -> Synthesizer:
    return make_synthesizer(
        request.method,
        workload=request.workload,
        epsilon=request.epsilon,
        delta=request.delta,
        public=request.public,
        random_state=request.seed,
    )


def _check_request(request: ReleaseRequest) -> None:
    if request.audit not in AUDIT_PROFILES:
        raise parameter_error("audit", request.audit, f"one of {AUDIT_PROFILES}")
    if not isinstance(request.dataset_id, str) or not request.dataset_id:
        raise parameter_error("dataset_id", request.dataset_id, "a non-empty name")
    if request.rows is not None and not (isinstance(request.rows, int) and request.rows >= 1):
        raise parameter_error("rows", request.rows, "a positive integer")
    if request.engine not in ENGINES:
        raise parameter_error("engine", request.engine, f"one of {ENGINES}")
    if request.spark_master is not None and request.engine != "spark":
        raise parameter_error("spark_master", request.spark_master, "given only with engine 'spark'")
    if request.engine != "numpy" and not isinstance(request.data, (str, os.PathLike)):
        raise parameter_error(
            "data", type(request.data).__name__,
            f"a CSV or Parquet path or glob with engine {request.engine!r} (a DataFrame takes engine 'numpy')",
        )
    rows = request.evaluation_rows
    if not (isinstance(rows, int) and not isinstance(rows, bool) and rows >= 1):
        raise parameter_error("evaluation_rows", rows, "a positive integer")
    out = Path(request.out)
    if out.exists() and not out.is_dir():
        raise parameter_error("out", str(out), "a folder (it is a file)")
    check_writable(out, "out")  # the staging folder is made beside it
    if out.is_dir() and not os.access(out, os.W_OK | os.X_OK):
        raise parameter_error("out", str(out), "a folder you can write to")
    if out.exists() and any(out.iterdir()):
        clash = [n for n in (SYNTHETIC_FILE, MANIFEST_FILE, REPORT_FILE) if (out / n).exists()]
        if clash:
            raise ParameterError(
                f"out ({str(out)!r}) already holds a release ({', '.join(clash)}); "
                "choose an empty folder so no signed release is overwritten"
            )


def _precheck_budget(ledger: Ledger, dataset_id: str, budget: PrivacyBudget, discovery_delta: float) -> None:
    """Refuse, before the data is read, a release the lifetime budget cannot pay for.

    ``discovery_delta`` is the most delta the release may reserve for category
    discovery (known only once the table is read): the advice on refusal
    allows for it, so that following it is not refused in turn.
    """
    if dataset_id not in ledger.datasets():
        raise LedgerError(
            f"dataset {dataset_id!r} has no lifetime budget in ledger {ledger.path}; register it "
            f"first: dpsynth budget init --ledger {ledger.path} --dataset {dataset_id} "
            "--data <file> --epsilon <lifetime epsilon> --delta <lifetime delta>"
        )
    status = ledger.status(dataset_id)
    lifetime, remaining = status["lifetime"], status["remaining"]
    refusal = mode_refusal(dataset_id, lifetime["mode"], budget)
    if refusal is not None:
        raise LedgerError(f"{refusal}; nothing was read or charged")
    if remaining["rho"] < budget.rho * (1 - 1e-9):
        advice = _advice(ledger, dataset_id, lifetime, remaining, budget, discovery_delta)
        raise BudgetExceededError(
            f"dataset {dataset_id!r}: this release needs rho = {budget.rho:.6g} "
            f"(epsilon = {budget.epsilon}, delta = {budget.delta}) but only rho = "
            f"{remaining['rho']:.6g} remains of its lifetime budget{advice}; nothing was read or charged"
        )


def _advice(
    ledger: Ledger, dataset_id: str, lifetime: dict[str, Any], remaining: dict[str, Any], budget: PrivacyBudget,
    discovery_delta: float,
) -> str:
    """What the remaining budget still pays for, as advice on a refusal."""
    without = float(remaining["rho"])
    if without <= 0:
        return ": it is spent"
    if budget.mode == "pure":
        # a pure ledger adds epsilons; a zCDP ledger charges a pure release epsilon**2 / 2
        epsilon = remaining["epsilon"] if lifetime["mode"] == "pure" else math.sqrt(2.0 * without)
        return f" (lower epsilon to at most {at_most(epsilon)})"
    if budget.epsilon is None:
        return f" (lower rho to at most {at_most(without)})"
    declared = at_most(epsilon_of_rho(without, budget.delta))
    if not discovery_delta:
        return f" (at delta = {budget.delta}, lower epsilon to at most {declared})"
    with_discovery = ledger.affordable_rho(dataset_id, discovery_delta)
    if with_discovery <= 0:
        why = ("its lifetime budget has no delta" if not lifetime.get("delta")
               else "too little of its lifetime delta is left")
        return (f" (a release that may reserve delta = {discovery_delta:.3g} for category discovery does not "
                f"fit, as {why}: declare every column's categories and bounds in the schema, which reserves "
                f"no delta, and lower epsilon to at most {declared} at delta = {budget.delta})")
    return (f" (at delta = {budget.delta}, lower epsilon to at most "
            f"{at_most(epsilon_of_rho(with_discovery, budget.delta))}, which leaves room for the delta "
            f"discovery may reserve; {declared} with a schema that declares every column's domain)")


def _frame(source: str | os.PathLike[str] | pd.DataFrame, name: str) -> pd.DataFrame:
    if isinstance(source, pd.DataFrame):
        return source
    if isinstance(source, (str, os.PathLike)):
        return read_frame(source)
    raise parameter_error(name, type(source).__name__, "a file path or glob, or a pandas DataFrame")


@dataclass(frozen=True)
class _Real:
    """The private input as the rest of the job uses it."""

    frame: pd.DataFrame  # the real rows the evaluation and audit read: all, or a sample
    holdout: pd.DataFrame | None
    fingerprint: str
    rows: int | None  # rows of the whole table
    notes: tuple[str, ...] = ()
    sample: dict[str, Any] | None = None

    @property
    def summary(self) -> str:
        read = f"read {len(self.frame)} rows x {self.frame.shape[1]} columns"
        if self.sample is not None:
            read = f"sampled {len(self.frame)} of {self.rows} rows for the evaluation"
        return f"{read}; fingerprint {self.fingerprint[:12]}..."


def _read(request: ReleaseRequest) -> _Real:
    """Read the table and the holdout; on the duckdb and spark engines, fingerprint the
    table's files and sample its rows (and a holdout path's) instead."""
    if request.engine == "numpy":
        df = _frame(request.data, "data")
        holdout = _frame(request.holdout, "holdout") if request.holdout is not None else None
        return _Real(df, holdout, data_fingerprint(df), len(df))

    fingerprint = files_fingerprint(request.data)
    seed = request.seed or 0
    sample = sample_rows(request.data, request.evaluation_rows, seed)
    notes = [sample.note("table")]
    holdout = None
    if isinstance(request.holdout, pd.DataFrame):
        holdout = request.holdout
    elif request.holdout is not None:
        held: RowSample = sample_rows(request.holdout, request.evaluation_rows, seed)
        holdout = held.frame
        notes.append(held.note("holdout"))
    detail = {
        "engine": request.engine,
        "real_rows": sample.total,
        "sampled_rows": len(sample.frame),
        "method": "DuckDB reservoir sample",
        "seed": seed,
    }
    return _Real(sample.frame, holdout, fingerprint, sample.total, tuple(notes), detail)


def _check_fingerprint(ledger: Ledger, dataset_id: str, fingerprint: str, engine: str) -> None:
    """Refuse a table the dataset was not registered with, saying how fingerprints are taken."""
    registered = ledger.status(dataset_id)["fingerprint"]
    if fingerprint != registered:
        how = "its rows" if engine == "numpy" else "its files' bytes"
        raise LedgerError(
            f"dataset {dataset_id!r} is registered with fingerprint {registered[:12]}..., but this "
            f"table, fingerprinted by {how} (engine {engine}), has {fingerprint[:12]}...; nothing "
            "was charged. A table "
            "is fingerprinted by its rows with engine numpy and by its files' bytes with engines "
            "duckdb and spark: register it with `dpsynth budget init --engine` set as for its "
            "releases, or register a different table under its own dataset id"
        )


def _check_columns(request: ReleaseRequest, df: pd.DataFrame, holdout: pd.DataFrame | None) -> None:
    problems = []
    for column in [*request.slices, *([request.target] if request.target else [])]:
        if column not in df.columns:
            problems.append(Problem(column, "named for the evaluation but not in the table", "check the name"))
    if holdout is not None and list(holdout.columns) != list(df.columns):
        problems.append(
            Problem(None, "the holdout's columns differ from the table's", "give a holdout with the same columns")
        )
    if request.target and holdout is None:
        problems.append(Problem(request.target, "a downstream target needs a holdout", "pass a holdout table"))
    if problems:
        raise InputDataError(problems)


def _discovery_delta(
    request: ReleaseRequest, synth: Synthesizer, df: pd.DataFrame, checked: Schema | None
) -> float:
    """Delta the synthesizer's category discovery may use (reserved in the ledger).

    Without a schema, the DuckDB and Spark engines take the kinds from their own
    column types, which ``df`` (a sample read into pandas) may not show alike,
    and a kind marked ``kind_from_data`` (a CSV's, also in a declared schema) is
    decided with DP, which may make any such column categorical: the delta is
    then reserved whatever the kinds. A run that spent more than it reserved
    could not be recorded, though it drew noise.
    """
    voted = checked is not None and not request.public and any(s.kind_from_data for s in checked)
    if voted or (request.schema is None and request.engine != "numpy"):
        return float(request.delta) * float(synth.discovery_fraction)
    schema = request.schema if request.schema is not None else infer_schema(df, kinds_only=True)
    needs = any(schema[n].kind is ColumnKind.CATEGORICAL for n in schema.incomplete_columns)
    return float(request.delta) * float(synth.discovery_fraction) if needs else 0.0


# ---------------------------------------------------------------------------------------
# audit and evaluation (real data: not covered by DP, not for release)
# ---------------------------------------------------------------------------------------
def _audit(
    request: ReleaseRequest,
    synth: Synthesizer,
    df: pd.DataFrame,
    holdout: pd.DataFrame | None,
    synthetic: pd.DataFrame,
    say: Progress,
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The audit for the internal report, and the part of it the manifest may carry.

    Mode A reads only released synthetic rows: all of it may be shared. Mode B's
    figures and warnings are computed from real training and holdout rows without
    noise; they stay in the internal report.
    """
    if request.audit == "none":
        return None, None
    import audits
    from audits.disclosure import run_release_audit

    runs = GAME_RUNS[request.audit]
    domain, single = _game_domain(synth.schema_)
    # A column with one possible value cannot differ between the two worlds: it is left out.
    kept = [c for c in synth.schema_.names if c not in single]
    if not kept:
        result: dict[str, Any] = {
            "verdict": "not run",
            "claimed_epsilon": float(request.epsilon),
            "profile": request.audit,
            "notes": [
                f"Every column ({', '.join(single)}) can take only one value in the released "
                "schema, so no record can differ from another: the distinguishing game has "
                "nothing to attack and was not run. Declare the columns' categories or give "
                "discovery more budget for a release worth auditing."
            ],
        }
        say("audit (mode A): not run, no column of the released schema can take two values")
        return result, {**result, "notes": list(result["notes"])}
    schema = synth.schema_.select(kept)
    say(f"audit (mode A): distinguishing game, {runs} runs per world ...")
    klass, params = type(synth), {k: v for k, v in synth.get_params().items() if k != "random_state"}
    params["public"] = True  # the game's schema is the released one: public by now

    def fit_sample(real: pd.DataFrame, seed: int) -> pd.DataFrame:
        # The game's tables are built from released rows, not private ones: what their
        # encoding maps to "other" is no news to the data owner, once per run.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", OutOfDomainWarning)
            return klass(**{**params, "random_state": seed}).fit(real, schema).sample()

    # The game's background rows come from the synthetic release, which is public:
    # the audit itself reads nothing private.
    mechanism = audits.verify_mechanism(
        fit_sample,
        float(request.epsilon),
        float(request.delta),
        runs=runs,
        canary="disagreeing",
        data=synthetic[list(schema.names)].dropna().head(50).reset_index(drop=True),
        canary_options={"domain": domain},
        n_jobs=request.n_jobs,
        seed=request.seed or 0,
        progress=False,
    ).to_dict()
    result = {
        "verdict": mechanism["verdict"],
        "claimed_epsilon": float(request.epsilon),
        "epsilon_lower_bound": mechanism["epsilon_lower_bound"],
        "ceiling": mechanism["ceiling"],
        "confidence": mechanism["confidence"],
        "mechanism_verification": mechanism,
        "profile": request.audit,
        "notes": [
            f"Mode A ran the whole {request.method.upper()} pipeline {runs} times per world on a "
            "tiny worst-case dataset built from released synthetic rows.",
            # the game's caveats (too few runs to detect a violation...) beside the verdict
            *mechanism.get("notes", []),
        ],
    }
    if single:
        result["notes"].append(
            f"Column(s) {', '.join(single)} can take only one value in the released schema, so no "
            "record can differ there: the game ran the pipeline without them."
        )
    if holdout is None:
        result["notes"].append(
            "No holdout was given: membership and attribute-inference risks need real records "
            "that the synthesizer did not see, so mode B was not run."
        )
        return result, {**result, "notes": list(result["notes"])}  # report notes are added later
    shared = {**result, "notes": [
        *result["notes"],
        "Mode B (release risk against real records) was run; its figures are computed "
        "from the real data and are in the internal report only.",
    ]}
    say("audit (mode B): release risk against the holdout ...")
    rng = np.random.default_rng(request.seed or 0)
    size = min(len(df), len(holdout), RISK_ROWS[request.audit])
    train = df.iloc[rng.choice(len(df), size, replace=False)].reset_index(drop=True)
    hold = holdout.iloc[rng.choice(len(holdout), size, replace=False)].reset_index(drop=True)
    risk = run_release_audit(train, hold, synthetic, n_attacks=RISK_ATTACKS[request.audit], seed=request.seed or 0)
    result["release_risk"] = risk.to_dict()
    result["attacks"] = [_attack_row(row) for row in risk.summary().to_dict(orient="records")]
    result["notes"].extend(risk.warnings)
    return result, shared


def _game_domain(schema: Schema) -> tuple[dict[str, list[Any]], list[str]]:
    """The values the game's target may take per categorical and boolean column, from the
    released schema (public); and the columns that can take only one value.

    A categorical column discovered with DP also holds ``"<other>"``, the value every
    undiscovered category decodes to. Numeric columns take their bounds in the game.
    """
    domain: dict[str, list[Any]] = {}
    single = []
    for spec in schema:
        if spec.kind is ColumnKind.CATEGORICAL:
            values = [*(spec.categories or ()), *([DEFAULT_OTHER_LABEL] if spec.on_unknown == "other" else [])]
        elif spec.kind is ColumnKind.BOOLEAN:
            values = [False, True]
        else:
            continue
        if len(values) < 2:
            single.append(spec.name)
        else:
            domain[spec.name] = values
    return domain, single


def _attack_row(row: dict[str, Any]) -> dict[str, Any]:
    """One release-risk figure as the report's attack table shows it (NaN becomes None)."""
    def clean(value: Any) -> Any:
        if isinstance(value, (float, np.floating)) and not np.isfinite(value):
            return None
        return value.item() if isinstance(value, np.generic) else value

    return {
        "attack": f"{row['attack']} ({row['target']})",
        "metric": row["metric"],
        "value": clean(row["value"]),
        "interval": [clean(row["ci_low"]), clean(row["ci_high"])],
        "success": clean(row["attack_rate"]),
        "control": clean(row["control_rate"]),
        "baseline": clean(row["baseline_rate"]),
        "beats_baseline": bool(row["beats_baseline"]),
    }


def _evaluate(
    request: ReleaseRequest,
    synth: Synthesizer,
    df: pd.DataFrame,
    holdout: pd.DataFrame | None,
    synthetic: pd.DataFrame,
    say: Progress,
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    say("evaluating utility (real data: not covered by DP, not for release) ...")
    seed, epsilon, schema = request.seed or 0, float(request.epsilon), synth.schema_
    predictions = None
    if holdout is not None and request.target:
        # Train the downstream models once; utility and slices both score them.
        predictions = fit_downstream(df, synthetic, holdout, schema, request.target, epsilon=epsilon, seed=seed)
    common = {"holdout": holdout, "target": request.target, "epsilon": epsilon, "seed": seed, "predictions": predictions}
    utility = evaluate_utility(df, synthetic, schema, **common).to_dict()
    fairness = None
    if request.slices:
        fairness = evaluate_slices(df, synthetic, schema, list(request.slices), **common).to_dict()
    return utility, fairness


# ---------------------------------------------------------------------------------------
# records
# ---------------------------------------------------------------------------------------
def _parameters(synth: Synthesizer) -> dict[str, Any]:
    params = synth.get_params()
    params["random_state"] = params["random_state"] if isinstance(params["random_state"], (int, type(None))) else None
    if params.get("workload") is not None:
        params["workload"] = [list(w) if isinstance(w[0], str) else [list(w[0]), w[1]] for w in params["workload"]]
    return params


def _guarantee(synth: Synthesizer) -> Guarantee:
    budget = synth.privacy_report()["budget"]
    return Guarantee(epsilon=budget["epsilon"], delta=budget["delta"], rho=budget["rho"])


def _record(
    request: ReleaseRequest,
    synth: Synthesizer,
    manifest: dict[str, Any],
    real: _Real,
    utility: dict[str, Any],
    fairness: dict[str, Any] | None,
    audit: dict[str, Any] | None,
) -> dict[str, Any]:
    guarantee, fingerprint = manifest["guarantee"], real.fingerprint
    spend = []
    relation = guarantee.get("neighbouring_relation")
    for step in synth.privacy_report()["steps"]:
        # sigma has its own column, and a relation the guarantee states once need not repeat
        detail = {k: v for k, v in step.items() if k not in ("step", "rho", "epsilon", "delta", "sigma")
                  and not (k == "relation" and v == relation)}
        line = {"step": step["step"], "description": _describe(detail), "rho": step["rho"]}
        if step.get("epsilon") is not None:
            line["epsilon"] = step["epsilon"]
        if "sigma" in step:
            line["sigma"] = step["sigma"]
        spend.append(line)
    return {
        "title": request.title or f"{request.dataset_id}: {request.method.upper()} at epsilon {request.epsilon}",
        "dataset": {"id": request.dataset_id, "fingerprint": f"sha256:{fingerprint}"},
        "method": {"name": request.method.upper(), "parameters": manifest["method"]["parameters"]},
        "guarantee": dict(guarantee),
        "spend": spend,
        "schema": schema_provenance(synth.schema_, synth.decided_kinds_),
        "utility": utility,
        "fairness": fairness,
        "audit": audit,
        "provenance": {
            "library": f"dpsynth {__version__}",
            "versions": software_versions(),
            "hashes": {"synthetic": manifest["output"]["sha256"], "input": f"sha256:{fingerprint}"},
            "seed": request.seed,
            "created": manifest["created"],  # one time for the release, as the manifest states it
            "ledger_entry": manifest["ledger"]["entry_id"] if manifest["ledger"] else None,
            "release_id": manifest["release_id"],
            "engine": request.engine,
            **({"evaluation_sample": real.sample} if real.sample is not None else {}),
        },
    }


def _lifetime_budget(reservation: Reservation, spend: Spend, delta: float) -> dict[str, Any]:
    """The dataset's lifetime budget around this release, in rho (the unit that adds up).

    Read while the release's reservation is open, as the ledger will stand once
    it commits ``spend`` (what the release used, not what it reserved):
    ``spent`` holds the earlier releases only, and the other open reservations
    are runs still in progress.
    """
    status = reservation.ledger.status(reservation.dataset_id)
    settled = reservation.ledger.settled(reservation, spend)
    remaining = settled["remaining"]
    others = math.fsum(
        float(r["rho"]) for r in status["reserved"] if r["reservation_id"] != reservation.reservation_id
    )
    return {
        "dataset_id": reservation.dataset_id,
        "ledger": str(Path(reservation.ledger.path).resolve()),
        "lifetime": status["lifetime"],
        "earlier_releases": status["releases"],
        "spent_before": float(status["spent"]["rho"]),
        "this_release": spend.rho,
        "in_progress": others,
        "remaining_after": remaining,
        "lowered_by_delta_used": settled["lowered_by_delta_used"],
        "next_delta": delta,
        # rounded down, as it is shown: asking for it is not refused
        "next_epsilon": float(at_most(epsilon_of_rho(remaining, delta))) if remaining > 0 else 0.0,
    }


def _describe(detail: dict[str, Any]) -> str:
    parts = []
    for key, value in detail.items():
        if isinstance(value, (list, tuple)):
            value = "/".join(str(v) for v in value)
        elif isinstance(value, float):
            value = f"{value:.4g}"
        parts.append(f"{key} {value}")
    return ", ".join(parts)


def _publish(staging: Path, out: Path) -> dict[str, Path]:
    """Move the staged files into ``out`` (created if needed)."""
    out.mkdir(parents=True, exist_ok=True)
    files = {}
    for path in sorted(staging.iterdir()):
        target = out / path.name
        os.replace(path, target)
        files[path.name] = target
    return files
