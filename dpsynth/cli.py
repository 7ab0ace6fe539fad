"""The ``dpsynth`` command line: thin wrappers over the public API.

Every command prints one-line errors (no traceback) for the errors dpsynth
raises on purpose, with the exit code of their family (see
:mod:`dpsynth.errors`), and leaves no output file behind when it fails.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from dpsynth._version import __version__
from dpsynth.errors import DPSynthError
from dpsynth.io import read_table, write_text_atomic

EXIT_OK = 0
EXIT_INTERRUPTED = 130
EXIT_UNEXPECTED = 70


# ---------------------------------------------------------------------------------------
# dpsynth schema infer
# ---------------------------------------------------------------------------------------
def _cmd_schema_infer(args: argparse.Namespace) -> int:
    from dpsynth.schema import infer_schema

    df = read_table(args.data)
    schema = infer_schema(df, kinds_only=not args.from_data, bins=args.bins)
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
    return EXIT_OK


def _add_schema(sub: argparse._SubParsersAction) -> None:
    schema = sub.add_parser("schema", help="propose or check a schema")
    schema_sub = schema.add_subparsers(dest="schema_command", required=True)
    infer = schema_sub.add_parser(
        "infer",
        help="propose a schema from a table",
        description="Propose a schema. By default only the column kinds are proposed "
        "(categories and bounds are then discovered with DP at synthesis time). "
        "With --from-data, categories and bounds are read from the data and marked so.",
    )
    infer.add_argument("data", help="CSV or Parquet file")
    infer.add_argument("-o", "--output", help="write the schema here instead of stdout")
    infer.add_argument("--from-data", action="store_true", help="read categories and bounds from the data (not DP)")
    infer.add_argument("--bins", type=int, default=16, help="bins per numeric column (default 16)")
    infer.set_defaults(func=_cmd_schema_infer)


# ---------------------------------------------------------------------------------------
# dpsynth demo
# ---------------------------------------------------------------------------------------
def _cmd_demo(args: argparse.Namespace) -> int:
    from dpsynth.demo import run_demo

    summary = run_demo(Path(args.out))
    print(json.dumps(summary, indent=2))
    return EXIT_OK


def _add_demo(sub: argparse._SubParsersAction) -> None:
    demo = sub.add_parser("demo", help="run the main job on the built-in Adult dataset")
    demo.add_argument("--out", default="out", help="output directory (default: out)")
    demo.set_defaults(func=_cmd_demo)


# ---------------------------------------------------------------------------------------
# entry point
# ---------------------------------------------------------------------------------------
_COMMAND_GROUPS: tuple[Callable[[argparse._SubParsersAction], None], ...] = (
    _add_schema,
    _add_demo,
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``dpsynth`` command."""
    parser = argparse.ArgumentParser(
        prog="dpsynth",
        description="Differentially private synthetic data, with audits and a budget ledger.",
    )
    parser.add_argument("--version", action="version", version=f"dpsynth {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for add_group in _COMMAND_GROUPS:
        add_group(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args.func(args) or EXIT_OK)
    except DPSynthError as exc:
        message = str(exc).replace("\n", "\n  ") if "\n" in str(exc) else str(exc)
        print(f"dpsynth: error: {message}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("dpsynth: interrupted; nothing was written and no budget was charged", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
