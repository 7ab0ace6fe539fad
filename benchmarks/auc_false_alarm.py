"""False alarms and widths of the membership AUC interval under no leakage.

A release audit reads "the AUC interval's lower end exceeds 0.5" as evidence
that membership leaks. This benchmark draws member and non-member scores from
one distribution (no leakage) and counts how often that happens, for
DeLong's interval alone (``audits.disclosure.stats.delong_interval``) and for
the interval the audit reports (``auc_with_ci``: DeLong checked at 0.5 by the
exact Mann-Whitney test at small sizes, by its normal approximation beyond),
both at 95% on the same draws. It
also reports their mean width under no leakage and under a shift of the
members' scores by half a standard deviation (true AUC Phi(0.5 / sqrt 2) =
0.638).

Scores are standard normal, or (``ties``) integers uniform on 0..4, which
makes most scores tied. Nominal rate: 2.5%; its simulation standard error
is ``sqrt(0.025 * 0.975 / runs)``.

Run: ``.venv/bin/python benchmarks/auc_false_alarm.py [--runs 40000] [--tie-runs 10000]``.
Writes ``benchmarks/results/auc_false_alarm.json`` and the
``## auc_false_alarm`` section of ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import scale

from audits.disclosure.stats import EXACT_MAX_WORK, auc_with_ci, delong_interval

HERE = Path(__file__).resolve().parent
RESULTS_JSON = HERE / "results" / "auc_false_alarm.json"
SECTION = "## auc_false_alarm"
# The last three lie beyond the exact check's switch, where the normal rank test checks 0.5.
SIZES = ((4, 4), (6, 6), (10, 10), (30, 30), (50, 50), (200, 200), (5, 50), (5, 600), (10, 1000), (5, 2000),
         (3, 3000))
TIE_SIZES = ((10, 10), (30, 30), (5, 2000))
SHIFT = 0.5


def draw(rng: np.random.Generator, size: int, ties: bool, shift: float) -> np.ndarray:
    """Scores of one group: normal with mean ``shift``, or integers 0..4 (``ties``)."""
    if ties:
        return rng.integers(0, 5, size).astype(float)
    return rng.normal(shift, 1.0, size)


def measure(m: int, n: int, runs: int, ties: bool, seed: int) -> dict:
    """False-alarm rates and mean widths of both intervals at ``m`` members and ``n`` non-members."""
    rng = np.random.default_rng(seed)
    alarms = {"delong_t": 0, "auc_with_ci": 0}
    # A shift of half a unit means nothing on the tied integer scale: null widths only there.
    kinds = ("null",) if ties else ("null", "shift")
    widths = {f"{name}_{kind}": 0.0 for name in alarms for kind in kinds}
    start = time.perf_counter()
    for _ in range(runs):
        x, y = draw(rng, m, ties, 0.0), draw(rng, n, ties, 0.0)
        for name, interval in (("delong_t", delong_interval), ("auc_with_ci", auc_with_ci)):
            low, high = interval(x, y, 0.95)[1]
            alarms[name] += low > 0.5
            widths[f"{name}_null"] += high - low
        if not ties:
            x = draw(rng, m, ties, SHIFT)
            for name, interval in (("delong_t", delong_interval), ("auc_with_ci", auc_with_ci)):
                low, high = interval(x, y, 0.95)[1]
                widths[f"{name}_shift"] += high - low
    return {
        "members": m,
        "non_members": n,
        "ties": ties,
        "runs": runs,
        "seconds": round(time.perf_counter() - start, 1),
        "false_alarm": {name: count / runs for name, count in alarms.items()},
        "mean_width": {name: total / runs for name, total in widths.items()},
    }


def markdown(record: dict) -> str:
    """The RESULTS.md section."""
    runs, tie_runs = record["runs"], record["tie_runs"]
    out = [
        SECTION,
        "",
        f"Command: `.venv/bin/python benchmarks/auc_false_alarm.py --runs {runs} --tie-runs {tie_runs}`"
        f" (commit `{record['commit']['commit'][:12]}`).",
        "",
        f"Machine: {record['machine']['nproc']} cores, {record['machine']['cpu']}, "
        f"Python {record['machine']['python']}. Exact check where (m + n) min(m, n) <= {record['exact_max_work']}, "
        "the normal approximation of the rank test beyond.",
        "",
        "Share of no-leakage audits whose 95% AUC interval has its lower end above 0.5 "
        f"(nominal 2.5%; simulation standard error {np.sqrt(0.025 * 0.975 / runs):.2%} at "
        f"{runs} runs, {np.sqrt(0.025 * 0.975 / tie_runs):.2%} at {tie_runs}), and mean widths "
        f"under no leakage and with members shifted by {SHIFT} sd.",
        "",
        "| members + non-members | scores | runs | DeLong-t | auc_with_ci | width null, DeLong-t"
        " | width null, auc_with_ci | width shift, DeLong-t | width shift, auc_with_ci |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in record["rows"]:
        w = row["mean_width"]
        cells = [w.get(k) for k in ("delong_t_null", "auc_with_ci_null", "delong_t_shift", "auc_with_ci_shift")]
        out.append(
            f"| {row['members']} + {row['non_members']} | {'0..4' if row['ties'] else 'normal'} | {row['runs']} "
            f"| {row['false_alarm']['delong_t']:.2%} | {row['false_alarm']['auc_with_ci']:.2%} | "
            + " | ".join("-" if c is None else f"{c:.4f}" for c in cells)
            + " |"
        )
    return "\n".join(out) + "\n"


def main() -> None:
    """Measure every size, print the table, write the JSON and the RESULTS.md section."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40_000)
    parser.add_argument("--tie-runs", type=int, default=10_000)
    args = parser.parse_args()
    rows = [measure(m, n, args.runs, False, seed=m * 1000 + n) for m, n in SIZES]
    rows += [measure(m, n, args.tie_runs, True, seed=10**6 + m) for m, n in TIE_SIZES]
    record = {
        "runs": args.runs,
        "tie_runs": args.tie_runs,
        "exact_max_work": EXACT_MAX_WORK,
        "rows": rows,
        "machine": scale.machine(),
        "commit": scale.commit(),
    }
    RESULTS_JSON.write_text(json.dumps(record, indent=1) + "\n")
    text = markdown(record)
    scale.write_section(text, SECTION)
    print(text)


if __name__ == "__main__":
    main()
