"""The cost of deciding a CSV's kinds with DP, against taking them as read.

A CSV declares no column types, so dpsynth decides its kinds with DP
(``dpsynth.encoding.formats``): in memory by classing the values pandas read,
on DuckDB by classing the text in one scan and then reading the table once
into a typed temporary table, on Spark by classing the values in one job
(columns Spark typed by their values, text by its form) and then keeping the
typed table as a local checkpoint. This benchmark fits MST (epsilon 1, no schema) to
the same CSV, 10^6 rows of Adult resampled with jitter (``scale.py``'s
generator, written as CSV), six ways: numpy, DuckDB and Spark (local, its
session started before the clock) engines, each with
the kinds decided with DP (the default) and with ``public=True`` (the kinds
pandas or DuckDB read from the values, at no cost: the reference). Each run
is its own process; runs alternate and repeat, and the table reports the
median wall time, peak memory and the ratio to the reference of the same
engine.

Run: ``.venv/bin/python benchmarks/csv_kinds.py [--rows 1000000] [--repeat 2]``.
Writes ``benchmarks/results/csv_kinds.json`` and the ``## csv_kinds``
section of ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import scale

HERE = Path(__file__).resolve().parent
RESULTS_JSON = HERE / "results" / "csv_kinds.json"
SECTION = "## csv_kinds"
VARIANTS = (("numpy", True), ("numpy", False), ("duckdb", True), ("duckdb", False),
            ("spark", True), ("spark", False))


def csv_path(rows: int) -> Path:
    """The benchmark table as CSV, written once from scale.py's Parquet table."""
    path = scale.WORK / f"adult_{rows}.csv"
    if not path.exists():
        import duckdb

        duckdb.sql(f"COPY (SELECT * FROM '{scale.table_path(rows)}') TO '{path}' (HEADER)")
    return path


def worker(engine: str, public: bool, path: Path) -> None:
    """Fit MST in this process and print one JSON line."""
    import warnings

    warnings.simplefilter("ignore")
    from dpsynth.io import read_table
    from dpsynth.release.source import source_kinds
    from dpsynth.synthesizers import MST

    start = time.perf_counter()
    if engine == "spark":  # the session starts before the clock: its start-up is not the vote's
        from dpsynth.engines.spark_engine import read_source
        from dpsynth.release.spark import spark_session

        session = spark_session(None)
        start = time.perf_counter()
        data = read_source(str(path), session)
    else:
        data = read_table(path) if engine == "numpy" else str(path)
    schema = source_kinds(path, data)
    synth = MST(epsilon=1.0, random_state=0, public=public).fit(data, schema)
    print(json.dumps({
        "fit_seconds": time.perf_counter() - start, "peak_mb": scale.peak_mb(),
        "decided": len(synth.decided_kinds_),
        "kinds": {s.name: s.kind.value for s in synth.schema_},
    }))


def run(engine: str, public: bool, path: Path) -> dict:
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", engine, str(int(public)), str(path)]
    done = subprocess.run(command, capture_output=True, text=True, cwd=scale.ROOT, timeout=1800)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        raise SystemExit(f"{engine} public={public} failed:\n{done.stderr[-2000:]}")
    return json.loads(lines[-1])


def markdown(record: dict) -> str:
    rows = record["rows"]
    out = [SECTION, "", f"Command: `.venv/bin/python benchmarks/csv_kinds.py --rows {rows} "
           f"--repeat {record['repeat']}` (commit {record['commit']['commit'][:10]}). MST at epsilon 1 "
           f"without a schema on a CSV of {rows:,} rows of Adult (scale.py's generator); median of "
           f"{record['repeat']} runs each, in alternating order. Reference: the same engine with "
           "`public=True` (kinds as read, no vote).", "",
           "| engine | kinds | fit s | peak MiB | vs reference |", "|---|---|---|---|---|"]
    for engine in ("numpy", "duckdb", "spark"):
        ref = record["runs"][f"{engine} public"]["fit_seconds"]
        for label in ("public", "dp"):
            r = record["runs"][f"{engine} {label}"]
            what = "as read (`public=True`)" if label == "public" else "decided with DP"
            out.append(f"| {engine} | {what} | {r['fit_seconds']:.1f} | {r['peak_mb']:.0f} | "
                       f"{r['fit_seconds'] / ref:.2f}x |")
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10**6)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        engine, public, path = args.worker
        worker(engine, public == "1", Path(path))
        return 0
    path = csv_path(args.rows)
    samples: dict[str, list[dict]] = {}
    for i in range(args.repeat):
        order = VARIANTS if i % 2 == 0 else VARIANTS[::-1]
        for engine, public in order:
            key = f"{engine} {'public' if public else 'dp'}"
            samples.setdefault(key, []).append(run(engine, public, path))
            print(key, round(samples[key][-1]["fit_seconds"], 1), "s", flush=True)
    runs = {
        key: {"fit_seconds": statistics.median(s["fit_seconds"] for s in runs),
              "peak_mb": max(s["peak_mb"] for s in runs), "all_seconds": [s["fit_seconds"] for s in runs],
              "decided": runs[0]["decided"], "kinds": runs[0]["kinds"]}
        for key, runs in samples.items()
    }
    record = {"rows": args.rows, "repeat": args.repeat, "runs": runs, "machine": scale.machine(),
              "commit": scale.commit(), "measured": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    RESULTS_JSON.write_text(json.dumps(record, indent=2) + "\n")
    scale.write_section(markdown(record), SECTION)
    print(markdown(record))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
