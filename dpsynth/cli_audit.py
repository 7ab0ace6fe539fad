"""``dpsynth audit``: the two audit modes of the standalone ``audits`` package.

- ``dpsynth audit release``: how risky is this synthetic table? (mode B)
- ``dpsynth audit mechanism``: does a dpsynth synthesizer keep its DP promise? (mode A)
"""

from __future__ import annotations

import argparse
import json
import sys

import pandas as pd

from dpsynth.io import read_table, write_text_atomic


def _write_or_print(text: str, output: str | None) -> None:
    if output:
        write_text_atomic(output, text)
        print(f"wrote {output}", file=sys.stderr)
    else:
        sys.stdout.write(text)


def cmd_release(args: argparse.Namespace) -> int:
    """Run the release-risk audit of one synthetic table."""
    from audits.disclosure import run_release_audit

    train, holdout, synthetic = (read_table(p) for p in (args.train, args.holdout, args.synthetic))
    secrets = [c.strip() for c in args.secret.split(",")] if args.secret else None
    result = run_release_audit(
        train, holdout, synthetic, secret_columns=secrets, n_attacks=args.attacks, seed=args.seed
    )
    with pd.option_context("display.width", 160, "display.max_columns", 20):
        print(result.summary().to_string(index=False), file=sys.stderr)
    for warning in result.warnings:
        print(f"dpsynth: warning: {warning}", file=sys.stderr)
    _write_or_print(result.to_json() + "\n", args.output)
    return 0


def cmd_mechanism(args: argparse.Namespace) -> int:
    """Run the distinguishing game against one of dpsynth's synthesizers."""
    import audits
    from dpsynth.schema import ColumnKind, Schema
    from dpsynth.synthesizers import AIM, MST, Independent

    klass = {"mst": MST, "aim": AIM, "independent": Independent}[args.method]
    schema = Schema.from_json(args.schema)
    background = read_table(args.data)
    schema.validate_frame(background)
    domain = {s.name: list(s.categories) for s in schema if s.kind is ColumnKind.CATEGORICAL and s.categories}

    def fit_sample(real: pd.DataFrame, seed: int) -> pd.DataFrame:
        synth = klass(epsilon=args.epsilon, delta=args.delta, public=True, random_state=seed)
        return synth.fit(real, schema).sample()

    result = audits.verify_mechanism(
        fit_sample,
        args.epsilon,
        args.delta,
        runs=args.runs,
        canary=args.canary,
        data=background,
        canary_options={"domain": domain} if args.canary in ("disagreeing", "repeated_target") else None,
        n_jobs=args.jobs,
        seed=args.seed,
        results_path=args.resume,
    )
    with pd.option_context("display.width", 160, "display.max_columns", 20):
        print(result.summary().to_string(index=False), file=sys.stderr)
    print(
        f"verdict: {result.verdict}; empirical epsilon lower bound {result.epsilon_lower_bound:.3f} "
        f"(claimed {args.epsilon}; the most these runs could certify: {result.ceiling:.3f})",
        file=sys.stderr,
    )
    _write_or_print(json.dumps(result.to_dict(), indent=2) + "\n", args.output)
    return 0


def add_audit_commands(subparsers: argparse._SubParsersAction) -> None:
    """Register ``dpsynth audit release|mechanism``."""
    audit = subparsers.add_parser("audit", help="attack synthetic data and measure what leaks")
    sub = audit.add_subparsers(dest="audit_command", required=True)

    release = sub.add_parser(
        "release",
        help="mode B: risk of one synthetic table (membership, attributes, singling out, linkage)",
    )
    release.add_argument("--train", required=True, help="real rows the synthesizer was fitted on")
    release.add_argument("--holdout", required=True, help="real rows from the same population it never saw")
    release.add_argument("--synthetic", required=True, help="the synthetic table")
    release.add_argument("--secret", help="comma-separated columns the attribute attacker guesses")
    release.add_argument("--attacks", type=int, default=500, help="targets per attack (default 500)")
    release.add_argument("--seed", type=int, default=0)
    release.add_argument("-o", "--output", help="write the JSON result here")
    release.set_defaults(func=cmd_release)

    mechanism = sub.add_parser(
        "mechanism",
        help="mode A: empirical epsilon lower bound of a dpsynth synthesizer (distinguishing game)",
    )
    mechanism.add_argument("--method", choices=("mst", "aim", "independent"), default="mst")
    mechanism.add_argument("--epsilon", type=float, required=True, help="the claimed epsilon")
    mechanism.add_argument("--delta", type=float, default=1e-9, help="the claimed delta")
    mechanism.add_argument("--schema", required=True, help="public schema of the game's table")
    mechanism.add_argument("--data", required=True, help="public background rows for the canary")
    mechanism.add_argument("--canary", default="disagreeing", help="canary construction (default disagreeing)")
    mechanism.add_argument("--runs", type=int, default=200, help="runs per world (default 200)")
    mechanism.add_argument("--jobs", type=int, default=1, help="worker processes")
    mechanism.add_argument("--seed", type=int, default=0)
    mechanism.add_argument("--resume", help="JSON-lines results file to resume from and append to")
    mechanism.add_argument("-o", "--output", help="write the JSON result here")
    mechanism.set_defaults(func=cmd_mechanism)
