"""The ``dpsynth`` command line: thin wrappers over the public API.

Every command prints one-line errors (no traceback) for the errors dpsynth
raises on purpose, with the exit code of their family (see
:mod:`dpsynth.errors`), and leaves no output file behind when it fails.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

from dpsynth._version import __version__
from dpsynth.errors import DPSynthError
from dpsynth.io import write_text_atomic

EXIT_OK = 0
EXIT_INTERRUPTED = 130
EXIT_UNEXPECTED = 70


# ---------------------------------------------------------------------------------------
# dpsynth schema infer
# ---------------------------------------------------------------------------------------
def _cmd_schema_infer(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from dpsynth.io import check_writable, types_from_values
    from dpsynth.release.source import read_frame
    from dpsynth.schema import Schema, infer_schema

    if args.output:
        check_writable(args.output, "--output")
    if args.engine == "duckdb":
        from dpsynth.engines import DuckDBProfiler
        from dpsynth.errors import ParameterError

        if args.from_data:
            raise ParameterError("--from-data reads every value into memory; it is not used with --engine duckdb")
        # The column types DuckDB reads, as the DuckDB engine will: no value is loaded.
        kinds = DuckDBProfiler(args.data).kinds()
        schema = Schema(tuple(replace(s, bins=args.bins) if s.bins is not None else s for s in kinds))
    else:
        schema = infer_schema(
            read_frame(args.data), kinds_only=not args.from_data, bins=args.bins,
            types_from_values=types_from_values(args.data),
        )
    text = schema.to_json()
    if args.output:
        write_text_atomic(args.output, text)
        print(f"wrote schema of {len(schema)} columns to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    if args.from_data:
        print(
            "note: categories and bounds were read from the data (source: data); using this "
            "schema needs --public, which the release manifest records",
            file=sys.stderr,
        )
    if any(spec.kind_from_data for spec in schema):
        print(
            "note: a CSV file declares no column types, so the kinds were read from its values "
            "(kind_from_data: true); check each against a public description of the data and "
            "delete kind_from_data; left in, those kinds are decided with DP (or taken as read "
            "with --public)",
            file=sys.stderr,
        )
    return EXIT_OK


def _add_schema(sub: argparse._SubParsersAction) -> None:
    schema = sub.add_parser("schema", help="propose a schema")
    schema_sub = schema.add_subparsers(dest="schema_command", required=True)
    infer = schema_sub.add_parser(
        "infer",
        help="propose a schema from a table",
        description="Propose a schema. By default only the column kinds are proposed "
        "(categories and bounds are then discovered with DP at synthesis time). "
        "With --from-data, categories and bounds are read from the data and marked so.",
    )
    infer.add_argument("data", help="CSV or Parquet file, or a glob of them")
    infer.add_argument("-o", "--output", help="write the schema here instead of stdout")
    infer.add_argument("--from-data", action="store_true", help="read categories and bounds from the data (not DP)")
    infer.add_argument("--bins", type=int, default=16, help="bins per numeric column (default 16)")
    infer.add_argument(
        "--engine", choices=("numpy", "duckdb"), default="numpy",
        help="numpy reads the table into pandas and takes the kinds from its dtypes (default); "
        "duckdb takes them from the column types DuckDB reads, without loading the table",
    )
    infer.set_defaults(func=_cmd_schema_infer)


# ---------------------------------------------------------------------------------------
# dpsynth synthesize
# ---------------------------------------------------------------------------------------
METHODS = ("mst", "aim", "independent")
#: counting engines (dpsynth.release.source.ENGINES; repeated so the parser loads no engine code)
ENGINES = ("numpy", "duckdb", "spark")
DEFAULT_EVALUATION_ROWS = 100_000


def parse_workload(text: str) -> list[tuple[str, ...]]:
    """A workload from a JSON file (list of column lists) or ``"a,b,c;d,e"``."""
    path = Path(text)
    if path.suffix == ".json" or path.exists():
        from dpsynth.errors import ParameterError

        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ParameterError(f"cannot read workload file {text!r}: {exc}") from None
        return [tuple(item) for item in raw]
    return [tuple(c.strip() for c in group.split(",") if c.strip()) for group in text.split(";") if group.strip()]


def _synthesizer_options(args: argparse.Namespace) -> dict:
    """Keyword arguments of :func:`make_synthesizer` from the shared options."""
    from dpsynth.cli_budget import warn_if_large_delta  # imports OpenDP: loaded with the command

    warn_if_large_delta(args.delta)
    return {
        "epsilon": args.epsilon,
        "delta": args.delta,
        "public": args.public,
        "random_state": args.seed,
        "workload": parse_workload(args.workload) if args.workload else None,
    }


def _add_synthesizer_options(p: argparse.ArgumentParser, seed_default: int | None) -> None:
    """Options shared by ``synthesize`` and ``release``."""
    p.add_argument("--epsilon", type=float, default=1.0, help="privacy budget epsilon (default 1)")
    p.add_argument("--delta", type=float, default=1e-9, help="privacy budget delta (default 1e-9)")
    p.add_argument("--method", choices=METHODS, default="mst", help="synthesizer (default mst)")
    p.add_argument("--schema", help="JSON schema of what is public about each column")
    p.add_argument("--public", action="store_true", help="acknowledge a schema, or a CSV's kinds, read from the data")
    p.add_argument("--workload", help='AIM workload: JSON file of column lists, or "a,b,c;d,e"')
    p.add_argument("--rows", type=int, help="number of synthetic rows (default: a DP estimate of the input's)")
    p.add_argument("--seed", type=int, default=seed_default, help="seed of the non-private randomness (sampling)")
    p.add_argument(
        "--engine", choices=ENGINES, default="numpy",
        help="where marginals are counted: numpy (reads the table into memory, default), duckdb "
        "(counts CSV/Parquet files and globs where they lie, larger than memory) or spark (reads "
        "them as a Spark DataFrame; needs pip install 'dpsynth[spark]' and Java 17). DP discovery "
        "of what --schema leaves out runs on the same engine",
    )
    p.add_argument(
        "--spark-master", metavar="URL",
        help="Spark master URL for --engine spark (default: a local session on every core)",
    )


def _check_engine_options(args: argparse.Namespace) -> None:
    if args.spark_master is not None and args.engine != "spark":
        from dpsynth.errors import ParameterError

        raise ParameterError(f"--spark-master ({args.spark_master!r}) is used only with --engine spark")


def _cmd_synthesize(args: argparse.Namespace) -> int:
    from dpsynth.io import check_writable, write_table
    from dpsynth.release.source import kind_dtypes, open_source, source_kinds
    from dpsynth.schema import Schema
    from dpsynth.synthesizers import make_synthesizer

    _check_engine_options(args)
    # before the fit: a refusal afterwards would throw away the budget just spent
    check_writable(args.output, "--output", table=True)
    if args.save_model:
        check_writable(args.save_model, "--save-model")
    synth = make_synthesizer(args.method, **_synthesizer_options(args))
    synth.check_params()
    # numpy reads the table into pandas; duckdb and spark count the files where they lie.
    data = open_source(args.data, args.engine, spark_master=args.spark_master)
    schema = kind_dtypes(Schema.from_json(args.schema), args.data) if args.schema else source_kinds(args.data, data)
    synth.fit(data, schema)
    synthetic = synth.sample(args.rows)
    write_table(synthetic, args.output)
    if args.save_model:
        synth.save(args.save_model)
    spent = synth.privacy_report()["spent"]
    print(
        f"wrote {len(synthetic)} synthetic rows to {args.output} "
        f"(method {args.method}, engine {args.engine}; spent epsilon = {spent['epsilon']:.4g}, "
        f"delta = {spent['delta']:.3g}, rho = {spent['rho']:.4g})",
        file=sys.stderr,
    )
    return EXIT_OK


def _add_synthesize(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "synthesize",
        help="fit a synthesizer to a table and write synthetic rows",
        description="Fit a DP synthesizer to a CSV or Parquet table (a file, or a glob of files "
        "with the same columns) and write a synthetic table with the same columns and dtypes. "
        "Without --schema, every column's domain is discovered with DP (part of the budget), "
        "and so are a CSV's kinds (unless --public takes them as read).",
    )
    p.add_argument("data", help="CSV or Parquet file, or a glob of them (quote it: 'data/*.parquet')")
    p.add_argument("-o", "--output", required=True, help="synthetic CSV or Parquet file to write")
    _add_synthesizer_options(p, seed_default=None)
    p.add_argument("--save-model", help="also save the fitted model here")
    p.set_defaults(func=_cmd_synthesize)


# ---------------------------------------------------------------------------------------
# dpsynth release / verify
# ---------------------------------------------------------------------------------------
def _progress(message: str) -> None:
    print(f"dpsynth: {message}", file=sys.stderr)


def _cmd_release(args: argparse.Namespace) -> int:
    from dpsynth.release.job import ReleaseRequest, run_release
    from dpsynth.schema import Schema

    _check_engine_options(args)
    options = _synthesizer_options(args)
    request = ReleaseRequest(
        data=args.data,
        dataset_id=args.dataset_id,
        ledger=args.ledger,
        out=args.out,
        epsilon=args.epsilon,
        delta=args.delta,
        method=args.method,
        schema=Schema.from_json(args.schema) if args.schema else None,
        public=args.public,
        holdout=args.holdout,
        target=args.target,
        slices=tuple(c.strip() for c in args.slices.split(",") if c.strip()) if args.slices else (),
        audit=args.audit,
        rows=args.rows,
        seed=args.seed,
        workload=options["workload"],
        n_jobs=args.jobs,
        engine=args.engine,
        spark_master=args.spark_master,
        evaluation_rows=args.evaluation_rows,
    )
    result = run_release(request, progress=None if args.quiet else _progress)
    print(json.dumps({"out": str(result.out), "ledger_entry": result.entry_id, "spent": result.spent,
                      "audit_verdict": result.audit_verdict, "files": sorted(result.files)}, indent=2))
    return EXIT_OK


#: the runs per world of each profile are dpsynth.release.job.GAME_RUNS (not imported: startup)
_AUDIT_HELP = "audit profile: quick (default; the game runs 60 times per world), full (1,000 times), none"


def _add_release(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "release",
        help="the main job: synthesize, audit, evaluate, write manifest and report, charge the ledger",
        description="Certify one release: budget check in the ledger, synthesis, audit, utility, "
        "manifest and HTML report. Nothing is written under --out if it fails; nothing is charged if it "
        "fails before drawing noise, and what it spent if it fails after. "
        "With --engine duckdb or spark the table is not loaded: the ledger knows it by the bytes "
        "of its files (register it with `dpsynth budget init --engine` set the same way) and the "
        "evaluation reads a sample of --evaluation-rows rows.",
    )
    p.add_argument("data", help="CSV or Parquet file, or a glob of them (quote it: 'data/*.parquet')")
    p.add_argument("--dataset-id", required=True, help="the dataset's name in the ledger")
    p.add_argument("--ledger", required=True, help="ledger file (see dpsynth budget init)")
    p.add_argument("--out", required=True, help="output folder (must not hold a release)")
    _add_synthesizer_options(p, seed_default=0)
    p.add_argument("--holdout", help="real rows NOT used for training, for the risk audit and downstream task")
    p.add_argument("--target", help="column predicted by the downstream task (needs --holdout)")
    p.add_argument("--slices", help="comma-separated columns for per-subgroup figures")
    p.add_argument("--audit", choices=("none", "quick", "full"), default="quick", help=_AUDIT_HELP)
    p.add_argument("--jobs", type=int, default=1, help="worker processes for the audit")
    p.add_argument(
        "--evaluation-rows", type=int, default=DEFAULT_EVALUATION_ROWS, metavar="N",
        help="with --engine duckdb or spark, the audit and the utility figures read a uniform "
        f"random sample of N real rows, drawn by DuckDB (default {DEFAULT_EVALUATION_ROWS:,})",
    )
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.set_defaults(func=_cmd_release)


def _cmd_verify(args: argparse.Namespace) -> int:
    from dpsynth.privacy.accountant import epsilon_of_rho
    from dpsynth.release.manifest import ManifestError, load_manifest, verify_manifest

    manifest = load_manifest(args.manifest)
    ledger = None
    if args.ledger:
        from dpsynth.privacy.ledger import Ledger

        if not Path(args.ledger).exists():
            raise ManifestError(f"ledger {args.ledger!r} does not exist")
        ledger = Ledger(args.ledger)
        # the hash chain and every total, or LedgerIntegrityError
        dataset_id = manifest["dataset"]["id"]
        overspent = ledger.verify()["overspent"].get(dataset_id)
        if overspent:
            print(f"warning: dataset {dataset_id!r} is past its lifetime budget in this "
                  f"ledger ({overspent}): a run spent more than it reserved", file=sys.stderr)
    problems = verify_manifest(
        manifest, args.data, ledger_entry=ledger.entry if ledger else None, epsilon_of_rho=epsilon_of_rho
    )
    if problems:
        raise ManifestError("verification FAILED:\n" + "\n".join(f"  - {p}" for p in problems))
    checked = ["schema", "spend adds up", "epsilon matches rho"]
    if args.data:
        checked.append("data hash, rows and columns")
    if ledger:
        from dpsynth.release.manifest import MANIFEST_DIGEST_KEY

        row = ledger.entry(manifest["dataset"]["id"], manifest["ledger"]["entry_id"]) or {}
        whole = "every field of the manifest, " if MANIFEST_DIGEST_KEY in (row.get("parameters") or {}) else ""
        checked.append(f"ledger intact and its entry matches ({whole}output hash, spend, method, "
                       "parameters, version; charged to the registered table)")
    print(f"verified {args.manifest}: {', '.join(checked)}")
    return EXIT_OK


def _add_verify(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("verify", help="check a release against its manifest")
    p.add_argument("manifest", help="manifest.json of the release")
    p.add_argument("--data", help="the released synthetic file; its hash must match")
    p.add_argument("--ledger", help="the ledger: its hash chain must verify and hold the release's "
                   "entry, for the same table, output file and spend")
    p.set_defaults(func=_cmd_verify)


# ---------------------------------------------------------------------------------------
# dpsynth demo
# ---------------------------------------------------------------------------------------
def _cmd_demo(args: argparse.Namespace) -> int:
    from dpsynth.demo import run_demo

    summary = run_demo(Path(args.out), audit=args.audit, progress=_progress)
    print(json.dumps(summary, indent=2))
    return EXIT_OK


def _add_demo(sub: argparse._SubParsersAction) -> None:
    demo = sub.add_parser("demo", help="run the main job on the built-in Adult dataset")
    demo.add_argument("--out", default="out", help="output directory (default: out)")
    demo.add_argument("--audit", choices=("none", "quick", "full"), default="quick", help=_AUDIT_HELP)
    demo.set_defaults(func=_cmd_demo)


# ---------------------------------------------------------------------------------------
# entry point
# ---------------------------------------------------------------------------------------
def _command_groups() -> tuple[Callable[[argparse._SubParsersAction], None], ...]:
    # Imported here, inside main's handling of Ctrl-C: the budget commands load OpenDP,
    # seconds of imports during which an interrupt would otherwise print a traceback.
    from dpsynth.cli_audit import add_audit_commands
    from dpsynth.cli_budget import add_budget_commands

    return (_add_schema, _add_synthesize, _add_release, _add_verify, add_budget_commands,
            add_audit_commands, _add_demo)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``dpsynth`` command."""
    parser = argparse.ArgumentParser(
        prog="dpsynth",
        description="Differentially private synthetic data, with audits and a budget ledger.",
    )
    parser.add_argument("--version", action="version", version=f"dpsynth {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for add_group in _command_groups():
        add_group(sub)
    return parser


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    print(f"dpsynth: warning: {message}", file=sys.stderr)


def _print_notes(exc: BaseException) -> None:
    """What a failed run charged: said even with --quiet, which silences progress only."""
    for note in getattr(exc, "__notes__", ()):
        print(f"dpsynth: {note}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the process exit code."""
    warnings.showwarning = _show_warning
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if not getattr(args, "func", None):
            parser.print_help(sys.stderr)
            return 2
        return int(args.func(args) or EXIT_OK)
    except DPSynthError as exc:
        message = str(exc).replace("\n", "\n  ") if "\n" in str(exc) else str(exc)
        print(f"dpsynth: error: {message}", file=sys.stderr)
        _print_notes(exc)
        return exc.exit_code
    except KeyboardInterrupt as exc:
        # A release interrupted after drawing noise says (in its notes) what the ledger charged.
        print("dpsynth: interrupted; nothing was written", file=sys.stderr)
        _print_notes(exc)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # the reader went away (`... | head`): nothing more to say
        sys.stderr.close()
        return EXIT_OK
    except Exception as exc:  # noqa: BLE001 - the command line never shows a bare traceback
        if os.environ.get("DPSYNTH_DEBUG"):
            raise
        print(
            f"dpsynth: internal error: {type(exc).__name__}: {exc}; nothing was written. "
            "Rerun with DPSYNTH_DEBUG=1 for the traceback and report it.",
            file=sys.stderr,
        )
        return EXIT_UNEXPECTED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
