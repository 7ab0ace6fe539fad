"""The ``dpsynth budget`` command group: the privacy-budget ledger from the shell.

``dpsynth budget init``     set a dataset's lifetime budget (once)
``dpsynth budget show``     lifetime, spent, reserved and remaining budget
``dpsynth budget history``  every row of the ledger, oldest first
``dpsynth budget verify``   recompute the hash chain and totals

The ledger file is ``--ledger``, else the environment variable
``DPSYNTH_LEDGER``, else ``dpsynth-ledger.sqlite`` in the current directory.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from dpsynth.errors import LedgerError, ParameterError
from dpsynth.io import check_writable
from dpsynth.privacy.accountant import PrivacyBudget, at_most
from dpsynth.privacy.ledger import Ledger, data_fingerprint

LEDGER_ENV = "DPSYNTH_LEDGER"
DEFAULT_LEDGER = "dpsynth-ledger.sqlite"


def _ledger_path(args: argparse.Namespace) -> Path:
    return Path(args.ledger or os.environ.get(LEDGER_ENV) or DEFAULT_LEDGER)


def _existing_ledger(args: argparse.Namespace) -> Ledger:
    path = _ledger_path(args)
    if path.is_dir():
        raise LedgerError(f"ledger {path} is a folder; give the path of a ledger file")
    if not path.is_file():
        raise LedgerError(
            f"no ledger at {path}; create one with `dpsynth budget init --ledger {path} ...`"
        )
    return Ledger(path)


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _fmt_down(value: Any) -> str:
    """What remains, rounded down: asking for the figure shown is never refused."""
    return "-" if value is None else at_most(float(value))


#: a delta above this is flagged: delta is the chance the guarantee fails outright, and it should be far
#: below one over the number of rows (which the command line does not know: the rows are private)
LARGE_DELTA = 1e-5


def warn_if_large_delta(delta: float | None) -> None:
    """Say, on standard error, when a delta is large enough to undo the guarantee for a whole row."""
    if delta is not None and delta > LARGE_DELTA:
        print(f"dpsynth: warning: delta = {delta:g} is large: it is the chance that the guarantee fails "
              "outright, and should be far below 1 / (number of rows); the default is 1e-9", file=sys.stderr)


def _budget_from_args(args: argparse.Namespace) -> PrivacyBudget:
    if args.pure:
        if args.epsilon is None or args.rho is not None or args.delta is not None:
            raise ParameterError("--pure takes --epsilon only (pure DP has delta = 0)")
        return PrivacyBudget.pure(args.epsilon)
    if args.rho is not None:
        if args.epsilon is not None:
            raise ParameterError("give either --rho (zCDP) or --epsilon with --delta, not both")
        return PrivacyBudget.zcdp(args.rho, args.delta)
    if args.epsilon is None or args.delta is None:
        raise ParameterError(
            "a lifetime budget needs --epsilon and --delta, or --rho, or --pure --epsilon"
        )
    return PrivacyBudget.approx(args.epsilon, args.delta)


def cmd_init(args: argparse.Namespace) -> int:
    """``dpsynth budget init``: register a dataset and its lifetime budget."""
    if (args.data is None) == (args.fingerprint is None):
        raise ParameterError("give the table with --data FILE, or its --fingerprint (not both)")
    if args.fingerprint is not None and args.engine != "numpy":
        raise ParameterError("--engine chooses how --data is fingerprinted; it is not used with --fingerprint")
    budget = _budget_from_args(args)
    warn_if_large_delta(args.delta)
    check_writable(_ledger_path(args), "--ledger")
    if args.data is not None and args.engine == "numpy":
        from dpsynth.release.source import read_frame

        fingerprint = data_fingerprint(read_frame(args.data))
    elif args.data is not None:
        from dpsynth.release.source import files_fingerprint

        fingerprint = files_fingerprint(args.data)
    else:
        fingerprint = args.fingerprint
    path = _ledger_path(args)
    Ledger(path).init_dataset(args.dataset, fingerprint, budget)
    eps = "-" if budget.epsilon is None else f"{budget.epsilon:.6g}"
    amounts = (f"epsilon {eps} (pure DP)" if budget.mode == "pure"
               else f"epsilon {eps}, delta {budget.delta:.3g}, rho {budget.rho:.6g}")
    print(f"dataset {args.dataset!r} registered in {path}: lifetime {budget.mode} budget {amounts}; "
          f"fingerprint {fingerprint[:16]}...")
    if budget.mode == "pure":
        print("note: `dpsynth release` makes zCDP releases, which a pure lifetime budget cannot take; "
              "only pure-DP releases made through the Python API can be charged to this dataset. For "
              "`dpsynth release`, register with --epsilon and --delta instead.", file=sys.stderr)
    if budget.mode == "zcdp" and budget.epsilon is None:
        print("note: a lifetime in rho alone has no delta, so releases charged to it cannot reserve delta for "
              "category discovery: give them a schema that declares every column's categories and bounds.",
              file=sys.stderr)
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    """``dpsynth budget show``: where each dataset's budget stands."""
    ledger = _existing_ledger(args)
    datasets = [args.dataset] if args.dataset else ledger.datasets()
    statuses = [ledger.status(d) for d in datasets]
    if args.json:
        print(json.dumps(statuses, indent=2))
        return 0
    if not statuses:
        print(f"ledger {ledger.path} has no dataset yet")
    for s in statuses:
        life, spent, left = s["lifetime"], s["spent"], s["remaining"]
        print(f"dataset {s['dataset_id']} ({life['mode']}, {s['releases']} release(s))")
        for label, part in (("lifetime", life), ("spent", spent), ("remaining", left)):
            show = _fmt_down if label == "remaining" else _fmt
            print(
                f"  {label:<10} epsilon {show(part['epsilon']):>10}  delta {_fmt(part['delta']):>10}"
                f"  rho {show(part['rho']):>10}"
            )
        if s["overspent"]:
            print(f"  OVERSPENT: a run that spent more than it reserved took this dataset past its lifetime "
                  f"budget ({s['overspent']}); no further release of it is possible")
        if s["lowered_by_delta_used"] > 0 and not s["overspent"]:
            print(f"  the delta used by discovery so far puts rho {_fmt(s['lowered_by_delta_used'])} of the "
                  "lifetime out of reach (spent, held and remaining add up to the rest)")
        if life["mode"] == "zcdp":
            print("  rho adds up across releases and decides what a release can afford.")
        if life["mode"] == "zcdp" and life.get("epsilon") is None:
            print("  the lifetime is in rho alone: no epsilon is stated for it.")
        elif life["mode"] == "zcdp":
            print(
                f"  epsilon is shown at the lifetime delta ({_fmt(life['delta'])}): spent epsilon is "
                "the spent rho converted at it, not the sum of the releases' epsilons (those are in "
                "`budget history`); remaining epsilon is the largest one more release at that delta "
                "can be given (the remaining rho converted: more than lifetime minus spent epsilon, "
                "since rho adds up and epsilon does not; less if the release reserves part of its "
                "delta for discovery, as one without a complete schema does: its refusal then says "
                "how much fits)."
            )
        if s["reserved"]:
            print(
                f"  open reservations: {len(s['reserved'])} (held: taken off remaining, not yet in "
                "spent, until they close)"
            )
            for r in s["reserved"]:
                print(
                    f"    {r['reservation_id']}  since {r['created_at'][:19]}  process {r['pid']}"
                    f"  rho {_fmt(r['rho'])}"
                )
    return 0


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, owned by someone else
        return True
    return True


def cmd_cancel(args: argparse.Namespace) -> int:
    """``dpsynth budget cancel``: free a reservation left open by a run that died."""
    ledger = _existing_ledger(args)
    open_ = {
        r["reservation_id"]: r for d in ledger.datasets() for r in ledger.status(d)["reserved"]
    }
    found = open_.get(args.reservation)
    if found is None:
        raise LedgerError(
            f"no open reservation {args.reservation!r} in {ledger.path}; "
            "`dpsynth budget show` lists the open ones"
        )
    if not args.force and _process_alive(int(found["pid"])):
        raise LedgerError(
            f"reservation {args.reservation} belongs to process {found['pid']}, which is still "
            "running on this machine: let it finish, or stop it first. If that process id now "
            "belongs to another program, pass --force"
        )
    ledger.cancel_reservation(args.reservation)
    print(
        f"cancelled reservation {args.reservation} of dataset {found['dataset_id']!r} "
        f"(rho {_fmt(found['rho'])}); its budget is free again and the run it belonged to "
        "can no longer be recorded"
    )
    return 0


def cmd_history(args: argparse.Namespace) -> int:
    """``dpsynth budget history``: the ledger's rows, oldest first."""
    rows = _existing_ledger(args).history(args.dataset)
    if args.json:
        print(json.dumps(rows, indent=2, default=str))
        return 0
    for r in rows:
        print(
            f"{r['seq']:>4}  {r['created_at'][:19]}  {r['dataset_id']}  {r['kind']:<7} "
            f"{r['mechanism']:<16} epsilon {_fmt(r['epsilon'])}  delta {_fmt(r['delta'])}  "
            f"rho {_fmt(r['rho'])}  id {r['entry_id'][:12]}"
        )
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    """``dpsynth budget verify``: recompute the hash chain and the totals."""
    report = _existing_ledger(args).verify()
    over = report["overspent"]
    within = f"{len(report['datasets']) - len(over)} of {len(report['datasets'])} dataset(s) within their"
    print(f"ledger OK: {report['rows']} row(s) intact, {within} lifetime budgets; head {report['head']}")
    for dataset, how in over.items():
        print(f"  OVERSPENT: dataset {dataset!r}: a run that spent more than it reserved took it past its "
              f"lifetime budget ({how}); no further release of it is possible", file=sys.stderr)
    return 1 if over else 0


def add_budget_commands(subparsers: argparse._SubParsersAction) -> None:
    """Register ``dpsynth budget init|show|history|cancel|verify`` on the main parser."""
    budget = subparsers.add_parser(
        "budget",
        help="the persistent privacy-budget ledger",
        description="Set, inspect and verify lifetime privacy budgets per dataset.",
    )
    sub = budget.add_subparsers(dest="budget_command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--ledger",
            help=f"ledger file (default: ${LEDGER_ENV} or ./{DEFAULT_LEDGER})",
        )

    init = sub.add_parser(
        "init",
        help="register a dataset and its lifetime budget",
        description="Register a dataset under a name you choose, bound to the fingerprint of "
        "its table, with a lifetime budget that every later release is charged against. "
        "Give --epsilon and --delta (zCDP accounting, converted exactly), or --rho, or "
        "--pure --epsilon.",
    )
    common(init)
    init.add_argument("--dataset", required=True, help="dataset identifier")
    init.add_argument("--data", help="the table (CSV or Parquet file, or a glob), to fingerprint it")
    init.add_argument(
        "--engine", choices=("numpy", "duckdb", "spark"), default="numpy",
        help="the engine its releases will use: numpy fingerprints the table's rows (default); "
        "duckdb and spark fingerprint the bytes of its files, which they never load",
    )
    init.add_argument("--fingerprint", help="the table's fingerprint, if already computed")
    init.add_argument("--epsilon", type=float, help="lifetime epsilon")
    init.add_argument("--delta", type=float, help="lifetime delta")
    init.add_argument("--rho", type=float, help="lifetime rho (zCDP)")
    init.add_argument("--pure", action="store_true", help="pure epsilon-DP (Laplace only)")
    init.set_defaults(func=cmd_init)

    show = sub.add_parser("show", help="lifetime, spent and remaining budget")
    common(show)
    show.add_argument("--dataset", help="only this dataset")
    show.add_argument("--json", action="store_true", help="print JSON")
    show.set_defaults(func=cmd_show)

    history = sub.add_parser("history", help="every ledger row, oldest first")
    common(history)
    history.add_argument("--dataset", help="only this dataset")
    history.add_argument("--json", action="store_true", help="print JSON")
    history.set_defaults(func=cmd_history)

    cancel = sub.add_parser(
        "cancel",
        help="free a reservation left open by a run that was killed",
        description="A release reserves its budget before it reads the data; a run killed "
        "before it finished leaves that reservation open, counted as spent. Cancel it by the "
        "id `dpsynth budget show` prints. A reservation whose process still runs on this "
        "machine is refused unless --force.",
    )
    common(cancel)
    cancel.add_argument("reservation", help="the reservation id")
    cancel.add_argument("--force", action="store_true", help="cancel even if its process id is alive")
    cancel.set_defaults(func=cmd_cancel)

    verify = sub.add_parser("verify", help="check the hash chain and the totals")
    common(verify)
    verify.set_defaults(func=cmd_verify)


__all__ = ["add_budget_commands", "cmd_cancel", "cmd_history", "cmd_init", "cmd_show", "cmd_verify"]
