"""Counting and MST on 10^6 and 10^7 rows of Parquet: numpy, DuckDB and Spark beside one plain scan.

The table: Adult's training file (32,561 rows, 15 columns) resampled with
replacement and jittered, built in chunks of 10^6 rows; chunk ``i`` draws from
``numpy.random.default_rng([seed, i])``, so a table is fixed by its seed and the
10^6-row table is the first chunk of the 10^7-row one. Per chunk: rows are
drawn uniformly; ``age`` and ``hours-per-week`` move by a uniform integer in
-2..2, ``fnlwgt`` is multiplied by ``exp(N(0, 0.1))`` and non-zero
``capital-gain``/``capital-loss`` by ``exp(N(0, 0.05))`` (rounded), every
numeric value then clipped into ``adult_schema()``'s public bounds; categorical
columns (missing values included) are copied. Tables are written once to
``benchmarks/.work/scale_adult_<rows>_seed<seed>.parquet`` (row groups of
250,000 rows, snappy) and reused.

The file is read once before each pair of measurements (reference, then
engine), so both find it in the page cache. Every measurement runs in its own
subprocess (``python benchmarks/scale.py --worker <task> <engine> <path>``), so
each gets a fresh interpreter, a cold engine and its own peak memory:

- ``reference``: one plain DuckDB scan that reads every column of the file
  once (``SELECT max(col), ...`` over all 15 columns);
- ``count``: build the engine on the file and count all 1- and 2-way
  marginals (15 + 105 = 120 cliques), the workload of MST's selection;
  ``numpy`` reads the file into pandas, encodes and counts in memory;
- ``mst``: ``MST(epsilon=1, delta=1e-9).fit(path, schema=adult_schema())``
  (``numpy``: on the DataFrame read from the file; ``spark``: on the Spark
  DataFrame of the file) then ``sample(100_000)``.
- ``mst-dp``: the same with no schema: kinds from the file's column types,
  categories and bounds discovered with DP where the data lives.

A worker prints one JSON line: its inner timings (Spark's session start-up
apart) and its peak resident memory, the sum of ``VmHWM`` over itself and its
descendants (the JVM for Spark), read before it exits. The parent adds the
subprocess wall time and the load average before and after. Results go to
``benchmarks/results/scale.json``; the ``## scale`` section of RESULTS.md is
rewritten from it.

Usage::

    .venv/bin/python benchmarks/scale.py                               # 1e6 and 1e7, all engines
    .venv/bin/python benchmarks/scale.py --rows 1e6 --engines duckdb --tasks count
    .venv/bin/python benchmarks/scale.py --report                      # RESULTS.md section only
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORK = HERE / ".work"
RESULTS_JSON = HERE / "results" / "scale.json"
RESULTS_MD = HERE / "RESULTS.md"
SECTION = "## scale"

CHUNK = 10**6
ROW_GROUP = 250_000
SAMPLE_ROWS = 100_000
ENGINES = ("numpy", "duckdb", "spark")
TASKS = ("count", "mst", "mst-dp")
# Issue targets: counting within 4x of the plain scan, peak under 2 GiB, MST under 3 min,
# Spark within 3x of DuckDB once its session has started.
TARGET_SCAN_RATIO = 4.0
TARGET_PEAK_MB = 2048.0
TARGET_MST_SECONDS = 180.0
TARGET_SPARK_RATIO = 3.0


# ---------------------------------------------------------------------------------------
# data
# ---------------------------------------------------------------------------------------
def table_path(rows: int, seed: int = 0) -> Path:
    """The Parquet file of ``rows`` resampled Adult rows, written on first use."""
    path = WORK / f"scale_adult_{rows}_seed{seed}.parquet"
    if not path.exists():
        WORK.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        write_table(tmp, rows, seed)
        tmp.replace(path)
    return path


def write_table(path: Path, rows: int, seed: int) -> None:
    """Write the resampled table (see the module docstring) chunk by chunk."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from dpsynth.datasets import ADULT_COLUMNS, load_adult

    adult = load_adult("train")
    columns = {c: pa.array(adult[c], type=pa.string(), from_pandas=True) if adult[c].dtype == "string"
               else adult[c].to_numpy(dtype=np.int64) for c in ADULT_COLUMNS}
    bounds = {s.name: (int(s.lower), int(s.upper)) for s in _schema() if s.lower is not None}
    writer = None
    try:
        for index, start in enumerate(range(0, rows, CHUNK)):
            rng = np.random.default_rng([seed, index])
            take = rng.integers(0, len(adult), min(CHUNK, rows - start))
            chunk = {}
            for name in ADULT_COLUMNS:
                values = columns[name]
                if isinstance(values, pa.Array):
                    chunk[name] = values.take(pa.array(take))
                    continue
                x = values[take].astype(np.float64)
                if name in ("age", "hours-per-week"):
                    x += rng.integers(-2, 3, x.size)
                elif name == "fnlwgt":
                    x *= np.exp(rng.normal(0.0, 0.1, x.size))
                elif name in ("capital-gain", "capital-loss"):
                    x = np.where(x > 0, x * np.exp(rng.normal(0.0, 0.05, x.size)), x)
                lo, hi = bounds[name]
                chunk[name] = pa.array(np.clip(np.rint(x), lo, hi).astype(np.int64))
            table = pa.table(chunk)
            if writer is None:
                writer = pq.ParquetWriter(path, table.schema, compression="snappy")
            writer.write_table(table, row_group_size=ROW_GROUP)
    finally:
        if writer is not None:
            writer.close()


def _schema():
    from dpsynth.datasets import adult_schema

    return adult_schema()


def all_cliques(attributes: tuple[str, ...]) -> list[tuple[str, ...]]:
    """All 1- and 2-way cliques: MST's selection workload."""
    return [(a,) for a in attributes] + list(itertools.combinations(attributes, 2))


# ---------------------------------------------------------------------------------------
# worker (one measurement, in its own process)
# ---------------------------------------------------------------------------------------
def peak_mb() -> float:
    """Peak resident memory (VmHWM) of this process plus its living descendants, in MiB."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    family, grew = {os.getpid()}, True
    while grew:
        more = {pid for pid, parent in parents.items() if parent in family} - family
        family |= more
        grew = bool(more)
    total_kb = 0
    for pid in family:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        total_kb += next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM")), 0)
    return total_kb / 1024


def reference_scan(path: Path) -> dict:
    """One plain DuckDB scan reading every column once: ``bit_xor(hash(col))`` of each.

    ``max(col)`` is no scan: DuckDB answers it from the Parquet statistics. The
    time runs from the connection on, as the engine's does (it opens its own
    connection and reads the file's footer inside its timer), so neither side
    has the fresh process's first connection and footer read for free.
    """
    import duckdb

    start = time.perf_counter()
    con = duckdb.connect()
    columns = con.read_parquet(str(path)).columns
    con.sql("SELECT " + ", ".join(f'bit_xor(hash("{c}"))' for c in columns)
            + f" FROM read_parquet('{path}')").fetchall()
    return {"seconds": time.perf_counter() - start}


def spark_session() -> tuple[object, float]:
    """A local Spark session on every core, and how long it took to start."""
    from pyspark.sql import SparkSession

    start = time.perf_counter()
    spark = (SparkSession.builder.master(f"local[{os.cpu_count()}]").appName("dpsynth-scale")
             .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false").config("spark.driver.memory", "2g")
             .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
             .getOrCreate())
    spark.range(1).collect()  # the first job starts the executors' thread pool
    return spark, time.perf_counter() - start


def spark_codes(encoder, frame) -> list[str]:
    """The Spark engine's code expression of every column, as it counts them."""
    from dpsynth.engines.spark_engine import _TYPES
    from dpsynth.engines.sql import SPARK, SourceType, code_expression, column_plans

    fields = {f.name: type(f.dataType).__name__ for f in frame.schema.fields}
    return [f"{code_expression(plan, _TYPES.get(fields[plan.name], SourceType.OTHER), SPARK)} AS c{i}"
            for i, plan in enumerate(column_plans(encoder))]


def count_task(engine: str, path: Path) -> dict:
    """Build ``engine`` on the file and count all 1- and 2-way marginals."""
    import warnings

    import pandas as pd

    from dpsynth.encoding import OutOfDomainWarning, TableEncoder
    from dpsynth.engines import DuckDBEngine, NumpyEngine, SparkEngine

    encoder = TableEncoder(_schema())
    cliques = all_cliques(encoder.domain.attributes)
    record: dict = {"cliques": len(cliques)}
    spark = None
    if engine == "spark":
        spark, record["startup_seconds"] = spark_session()
    elif engine == "duckdb":
        import duckdb  # noqa: F401 (imports stay outside the timer, as the reference scan's do)
    start = time.perf_counter()
    if engine == "numpy":
        df = pd.read_parquet(path)
        record["read_seconds"] = time.perf_counter() - start
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", OutOfDomainWarning)
            encoded = encoder.encode(df)
        del df
        counting = NumpyEngine(dict(encoded.columns), encoded.domain)
    elif engine == "duckdb":
        counting = DuckDBEngine(path, encoder)
    else:
        counting = SparkEngine(str(path), encoder, spark=spark)
    record["build_seconds"] = time.perf_counter() - start
    tables = counting.counts(cliques)
    record["seconds"] = time.perf_counter() - start
    record["rows_counted"] = int(tables[0].sum())
    record["distinct_rows"] = getattr(counting, "distinct_rows", None)
    if engine == "spark":
        # The first job of a fresh JVM compiles and warms up; a second engine in the same
        # session shows the cost in a long-lived session.
        start = time.perf_counter()
        SparkEngine(str(path), encoder, spark=spark).counts(cliques)
        record["warm_seconds"] = time.perf_counter() - start
        # Spark's own floor in the same warm session: one plain scan of every column,
        # as the DuckDB reference scan reads them (a hash of each, aggregated).
        from pyspark.sql import functions as F

        frame = spark.read.parquet(str(path))
        start = time.perf_counter()
        frame.agg(*[F.max(F.hash(F.col(c))) for c in frame.columns]).collect()
        record["spark_scan_seconds"] = time.perf_counter() - start
        # The engine's encoding alone (every column to its code, summed, nothing grouped):
        # what the count costs before its aggregation.
        encoded = frame.selectExpr(*spark_codes(encoder, frame))
        start = time.perf_counter()
        encoded.agg(*[F.sum(c) for c in encoded.columns]).collect()
        record["spark_encode_seconds"] = time.perf_counter() - start
    record["peak_mb"] = peak_mb()
    return record


def mst_task(engine: str, path: Path, discover: bool = False) -> dict:
    """Fit MST on the file with the complete public schema (or none: DP discovery on the engine), then sample."""
    import pandas as pd

    from dpsynth.synthesizers import MST

    record: dict = {"sample_rows": SAMPLE_ROWS}
    source: object = str(path)
    if engine == "spark":
        spark, record["startup_seconds"] = spark_session()
        source = spark.read.parquet(str(path))
    start = time.perf_counter()
    if engine == "numpy":
        source = pd.read_parquet(path)
        record["read_seconds"] = time.perf_counter() - start
    model = MST(epsilon=1.0, delta=1e-9, random_state=0).fit(source, schema=None if discover else _schema())
    record["fit_seconds"] = time.perf_counter() - start
    synthetic = model.sample(SAMPLE_ROWS)
    record["seconds"] = time.perf_counter() - start
    record["synthetic_rows"] = len(synthetic)
    record["peak_mb"] = peak_mb()
    return record


def worker(task: str, engine: str, path: Path) -> None:
    """Run one measurement and print it as one JSON line."""
    if task == "reference":
        record = reference_scan(path)
    elif task == "count":
        record = count_task(engine, path)
    else:
        record = mst_task(engine, path, discover=task == "mst-dp")
    record.setdefault("peak_mb", peak_mb())
    print(json.dumps(record), flush=True)


# ---------------------------------------------------------------------------------------
# parent
# ---------------------------------------------------------------------------------------
def measure(task: str, engine: str, path: Path, cap_seconds: float = 1800.0) -> dict:
    """Run one worker subprocess; add its wall time, its rusage peak and the load around it."""
    load_before = os.getloadavg()
    start = time.perf_counter()
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", task, engine, str(path)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=cap_seconds)
    except subprocess.TimeoutExpired:
        return {"status": "timeout", "wall_seconds": time.perf_counter() - start, "cap_seconds": cap_seconds}
    record: dict = {"wall_seconds": time.perf_counter() - start,
                    "load_before": list(load_before), "load_after": list(os.getloadavg())}
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        tail = (done.stderr.strip().splitlines() or ["(no message)"])[-5:]
        return {**record, "status": "failed", "exit_code": done.returncode, "error": "\n".join(tail)}
    return {**record, **json.loads(lines[-1]), "status": "ok"}


def machine() -> dict:
    """nproc, memory and CPU model of this machine."""
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())
    mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal"))
    return {"nproc": os.cpu_count(), "memory_gib": round(mem_kb / 2**20, 1), "cpu": model,
            "python": platform.python_version()}


def commit() -> dict:
    """The git commit measured, and which files of dpsynth/ had uncommitted changes."""
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    dirty = subprocess.run(["git", "status", "--porcelain", "--", "dpsynth"], cwd=ROOT,
                           capture_output=True, text=True)
    changed = [line[3:] for line in dirty.stdout.splitlines()]
    return {"commit": head.stdout.strip(), "dpsynth_dirty": bool(changed), "dpsynth_changed": changed}


def versions() -> dict:
    """Versions of the engines' libraries."""
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for name in ("duckdb", "pyarrow", "pandas", "numpy", "pyspark"):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = None
    return found


def load_results() -> dict:
    if RESULTS_JSON.exists():
        return json.loads(RESULTS_JSON.read_text())
    return {"benchmark": "scale", "runs": []}


def save_results(results: dict) -> None:
    RESULTS_JSON.parent.mkdir(parents=True, exist_ok=True)
    tmp = RESULTS_JSON.with_suffix(".tmp")
    tmp.write_text(json.dumps(results, indent=1))
    tmp.replace(RESULTS_JSON)


def replace_run(results: dict, record: dict) -> None:
    key = (record["rows"], record["task"], record["engine"])
    results["runs"] = [r for r in results["runs"] if (r["rows"], r["task"], r["engine"]) != key]
    results["runs"].append(record)


def warm_page_cache(path: Path) -> None:
    """Read the file once, so the scan and the engine after it both find it in the page cache.

    This machine's kernel reclaims idle pages on its own (a ``kdamond`` thread runs): a
    file left alone for a while is read from disk again, which made one reference scan
    13x slower than the next.
    """
    with path.open("rb") as source, open(os.devnull, "wb") as sink:
        shutil.copyfileobj(source, sink, 1 << 24)


def run_one(rows: int, task: str, engine: str, path: Path, repeat: int = 1) -> dict:
    """``repeat`` measurements, each with the reference scan run just before it, for a fair ratio.

    The record is the measurement of median ratio (median seconds for MST); every
    repeat's seconds and ratio are kept under ``repeats``.
    """
    header = {"rows": rows, "task": task, "engine": engine, "path": str(path.relative_to(ROOT)),
              "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **commit()}
    records = []
    for _ in range(repeat):
        warm_page_cache(path)
        reference = measure("reference", "duckdb", path)
        record = {**header, **measure(task, engine, path), "reference": reference}
        if task == "count" and record["status"] == "ok" and reference["status"] == "ok":
            record["ratio_to_reference"] = record["seconds"] / reference["seconds"]
        records.append(record)
        if record["status"] != "ok":
            return record
    by = "ratio_to_reference" if task == "count" else "seconds"
    ordered = sorted(records, key=lambda r: r.get(by, r["seconds"]))
    chosen = dict(ordered[(len(ordered) - 1) // 2])
    if repeat > 1:
        chosen["repeats"] = [{"seconds": r["seconds"], "reference_seconds": r["reference"]["seconds"],
                              "ratio_to_reference": r.get("ratio_to_reference"), "load_before": r["load_before"]}
                             for r in records]
    return chosen


# ---------------------------------------------------------------------------------------
# report
# ---------------------------------------------------------------------------------------
def _run(results: dict, rows: int, task: str, engine: str) -> dict | None:
    found = [r for r in results["runs"] if (r["rows"], r["task"], r["engine"]) == (rows, task, engine)]
    return found[0] if found and found[0]["status"] == "ok" else None


def _parts(run: dict) -> str:
    """Where the seconds of one run went (numpy reads the file into pandas first)."""
    read = run.get("read_seconds", 0.0)
    parts = [f"read {read:.1f}"] if "read_seconds" in run else []
    if run["task"] == "count":
        parts.append(f"{'encode' if read else 'build'} {run['build_seconds'] - read:.1f}")
        parts.append(f"{run['cliques']} marginals {run['seconds'] - run['build_seconds']:.2f}")
        if "warm_seconds" in run:
            parts.append(f"second count in the session {run['warm_seconds']:.2f}")
        if "spark_scan_seconds" in run:
            parts.append(f"a plain Spark scan of every column in the warm session {run['spark_scan_seconds']:.2f}")
        if "spark_encode_seconds" in run:
            parts.append(f"the engine's encoding alone, nothing grouped, {run['spark_encode_seconds']:.2f}")
    else:
        parts.append(f"fit {run['fit_seconds'] - read:.1f}")
        parts.append(f"sample {run['seconds'] - run['fit_seconds']:.1f}")
    return ", ".join(parts)


def _dirty(run: dict) -> str:
    changed = run.get("dpsynth_changed", [])
    if any(p.startswith("dpsynth/engines/") and not p.endswith("profile.py") for p in changed):
        return " + uncommitted engine changes"
    return " + uncommitted changes elsewhere in dpsynth/ (listed in scale.json)" if changed else ""


def _size(rows: int) -> str:
    power = len(str(rows)) - 1
    return f"10^{power}" if rows == 10**power else f"{rows:,}"


def _spread(run: dict) -> str:
    if "repeats" not in run:
        return ""
    ratios = sorted(x["ratio_to_reference"] for x in run["repeats"])
    return f" (median of {len(ratios)} pairs; all: {', '.join(f'{x:.2f}' for x in ratios)})"


def targets(results: dict) -> list[str]:
    """The issue's targets, checked on the largest table measured."""
    lines = []
    sizes = sorted({r["rows"] for r in results["runs"]})
    if not sizes:
        return lines
    rows = sizes[-1]
    duck, spark = _run(results, rows, "count", "duckdb"), _run(results, rows, "count", "spark")
    mst = _run(results, rows, "mst", "duckdb")
    if duck:
        ratio = duck["ratio_to_reference"]
        lines.append(f"- {_size(rows)} rows, DuckDB counting all {duck['cliques']} 1-/2-way marginals: "
                     f"{duck['seconds']:.2f} s vs plain scan {duck['reference']['seconds']:.2f} s = "
                     f"{ratio:.2f}x{_spread(duck)}: {'met' if ratio < TARGET_SCAN_RATIO else 'NOT met'} "
                     f"(target < {TARGET_SCAN_RATIO:g}x)")
        lines.append(f"- {_size(rows)} rows, DuckDB counting peak memory {duck['peak_mb']:.0f} MiB: "
                     f"{'met' if duck['peak_mb'] < TARGET_PEAK_MB else 'NOT met'} (target < 2 GiB)")
    if mst:
        lines.append(f"- {_size(rows)} rows, MST end to end on DuckDB (fit + sample {SAMPLE_ROWS:,} rows): "
                     f"{mst['seconds']:.1f} s ({mst['wall_seconds']:.1f} s with interpreter start), "
                     f"peak {mst['peak_mb']:.0f} MiB: "
                     f"{'met' if mst['wall_seconds'] < TARGET_MST_SECONDS else 'NOT met'} (target < 3 min)")
    discovered = _run(results, rows, "mst-dp", "duckdb")
    if discovered:
        lines.append(f"- {_size(rows)} rows, MST end to end on DuckDB with DP discovery of every domain "
                     f"(no schema): {discovered['seconds']:.1f} s, peak {discovered['peak_mb']:.0f} MiB")
    if duck and spark:
        for label, seconds in (("first count of a fresh session", spark["seconds"]),
                               ("second count in the same session", spark.get("warm_seconds"))):
            if seconds is None:
                continue
            ratio = seconds / duck["seconds"]
            lines.append(f"- {_size(rows)} rows, Spark local, {label}: {seconds:.2f} s (session start-up "
                         f"{spark['startup_seconds']:.1f} s apart) = {ratio:.2f}x DuckDB: "
                         f"{'met' if ratio < TARGET_SPARK_RATIO else 'NOT met'} "
                         f"(target < {TARGET_SPARK_RATIO:g}x)")
        if "spark_scan_seconds" in spark:
            floor = spark["spark_scan_seconds"]
            lines.append(f"- {_size(rows)} rows, Spark's own floor: a plain scan of every column in the warm "
                         f"session takes {floor:.2f} s = {floor / duck['seconds']:.2f}x the whole DuckDB count; "
                         f"the warm Spark count is {spark['warm_seconds'] / floor:.2f}x that scan")
        if "spark_encode_seconds" in spark:
            encode = spark["spark_encode_seconds"]
            lines.append(f"- {_size(rows)} rows, Spark encoding every column to its code without grouping "
                         f"(the count before its aggregation) takes {encode:.2f} s = "
                         f"{encode / duck['seconds']:.2f}x the whole DuckDB count")
    numpy_run = _run(results, rows, "count", "numpy")
    if duck and numpy_run:
        lines.append(f"- pandas never holds the raw table on the DuckDB path: its peak is "
                     f"{duck['peak_mb']:.0f} MiB against {numpy_run['peak_mb']:.0f} MiB for the numpy "
                     "engine, which reads the table into pandas")
    return lines


def markdown(results: dict) -> str:
    """The ``## scale`` section of RESULTS.md."""
    m, v = results.get("machine", {}), results.get("versions", {})
    def spelled(rows: Iterable[int]) -> str:
        return ",".join(f"{r:.0e}".replace("+0", "") for r in sorted(set(rows)))

    sizes = spelled(r["rows"] for r in results["runs"])
    # One command per engine and task measured several times, as those runs were made.
    repeated: dict[tuple[str, str, int], list[int]] = {}
    for r in results["runs"]:
        if "repeats" in r:
            repeated.setdefault((r["engine"], r["task"], len(r["repeats"])), []).append(r["rows"])
    out = [SECTION, "",
           "Counting and MST on Adult resampled with jitter to 10^6 and 10^7 rows (15 columns, one "
           "Parquet file; generator in the docstring of `benchmarks/scale.py`, fixed by its seed), "
           "schema `adult_schema()` (16 bins per numeric column, codebook categories). `count`: build "
           "the engine on the file and count all 1- and 2-way marginals (15 + 105 = 120, MST's "
           "selection workload); numpy reads the file into pandas, encodes and counts in memory. `mst`: "
           f"`MST(epsilon=1, delta=1e-9).fit(path, schema=adult_schema())` then `sample({SAMPLE_ROWS:,})` "
           "(numpy: fit on the DataFrame read from the file; Spark: on the Spark DataFrame of the "
           "file). `mst-dp`: the same without a schema, so every column's kind comes from the file's "
           "types and its categories or bounds are discovered with DP on the same engine (part of the "
           "budget). Reference: one plain DuckDB scan reading every column once "
           "(`bit_xor(hash(col))` of each), run in its own process just before each measurement and timed "
           "from its connection on, as the engine is; the "
           "ratio is the measurement over that scan. Every measurement is a fresh subprocess; seconds "
           "are inside it (imports and, for Spark, the session start-up excluded and shown apart); "
           "peak memory is the VmHWM of the worker and its descendants (Spark's JVM). Spark runs "
           "`local[2]` with a 2 GiB driver.",
           "",
           "```",
           f".venv/bin/python benchmarks/scale.py --rows {sizes} --engines numpy,duckdb,spark",
           *(f".venv/bin/python benchmarks/scale.py --rows {spelled(rows)} "
             f"--engines {engine} --tasks {task} --repeat {n}" for (engine, task, n), rows in sorted(repeated.items())),
           "```",
           "",
           f"Machine: {m.get('nproc')} cores ({m.get('cpu')}), {m.get('memory_gib')} GiB, Python "
           f"{m.get('python')}; duckdb {v.get('duckdb')}, pyspark {v.get('pyspark')}, pyarrow "
           f"{v.get('pyarrow')}. The machine was shared with other benchmarks and test runs while "
           "measuring: the 1-minute load average before and after each measurement is shown (2 means "
           "both cores busy before we start); CPU-bound engine work suffers more from it than the "
           "I/O-bound reference scan, so ratios under load overstate the quiet-machine ratios. "
           "Commits measured: " + ", ".join(sorted({
               f"`{r['commit'][:12]}`" + _dirty(r) for r in results["runs"] if "commit" in r})) + ".",
           "",
           "| rows | task | engine | seconds | of which | Spark start-up s | peak MiB | scan s | x scan "
           "| load before/after |",
           "|---|---|---|---|---|---|---|---|---|---|"]
    order = {e: i for i, e in enumerate(ENGINES)}
    for r in sorted(results["runs"], key=lambda r: (r["rows"], TASKS.index(r["task"]), order[r["engine"]])):
        ref = r.get("reference", {})
        load = (f"{r['load_before'][0]:.1f} / {r['load_after'][0]:.1f}" if "load_before" in r else "-")
        if r["status"] != "ok":
            why = r.get("error", f"over {r.get('cap_seconds', 0):.0f} s").splitlines()[-1][:120]
            out.append(f"| {_size(r['rows'])} | {r['task']} | {r['engine']} | {r['status']}: {why} "
                       f"| | | | | | {load} |")
            continue
        startup = f"{r['startup_seconds']:.1f}" if "startup_seconds" in r else "-"
        ratio = f"{r['ratio_to_reference']:.2f}" if "ratio_to_reference" in r else "-"
        scan = f"{ref['seconds']:.2f}" if ref.get("status") == "ok" else "-"
        if "repeats" in r and r["task"] == "count":
            ratios = sorted(x["ratio_to_reference"] for x in r["repeats"])
            ratio += f" (median of {len(ratios)}: {ratios[0]:.2f}-{ratios[-1]:.2f})"
        out.append(f"| {_size(r['rows'])} | {r['task']} | {r['engine']} | {r['seconds']:.2f} | {_parts(r)} | "
                   f"{startup} | {r['peak_mb']:.0f} | {scan} | {ratio} | {load} |")
    lines = targets(results)
    if lines:
        out += ["", "Targets (largest table measured):", *lines]
    return "\n".join(out) + "\n"


def write_section(text: str, section: str = SECTION) -> None:
    """Replace (or append) one ``## name`` section of RESULTS.md, leaving the rest alone."""
    current = RESULTS_MD.read_text() if RESULTS_MD.exists() else "# Benchmark results\n"
    lines = current.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.rstrip() == section), None)
    if start is None:
        RESULTS_MD.write_text(current.rstrip("\n") + "\n\n" + text)
        return
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    tail = "".join(lines[end:])
    RESULTS_MD.write_text("".join(lines[:start]) + text + ("\n" + tail if tail else ""))


# ---------------------------------------------------------------------------------------
# command line
# ---------------------------------------------------------------------------------------
def _rows(text: str) -> list[int]:
    return [int(float(x)) for x in text.split(",") if x]


def _choices(allowed: tuple[str, ...]):
    def parse(text: str) -> list[str]:
        chosen = [x for x in text.split(",") if x]
        unknown = [x for x in chosen if x not in allowed]
        if unknown:
            raise argparse.ArgumentTypeError(f"unknown {unknown}; choose from {list(allowed)}")
        return chosen
    return parse


def main(argv: list[str] | None = None) -> int:
    args_list = sys.argv[1:] if argv is None else argv
    if args_list[:1] == ["--worker"]:
        worker(args_list[1], args_list[2], Path(args_list[3]))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=_rows, default=[10**6, 10**7], help="comma list, e.g. 1e6,1e7")
    parser.add_argument("--engines", type=_choices(ENGINES), default=list(ENGINES))
    parser.add_argument("--tasks", type=_choices(TASKS), default=list(TASKS))
    parser.add_argument("--seed", type=int, default=0, help="seed of the generated table")
    parser.add_argument("--repeat", type=int, default=1, help="measurements per engine and task (median kept)")
    parser.add_argument("--report", action="store_true", help="only rewrite the RESULTS.md section")
    args = parser.parse_args(args_list)

    results = load_results()
    if args.report:
        write_section(markdown(results))
        return 0
    results.update(machine=machine(), versions=versions(), last_command=args_list)
    for rows in args.rows:
        path = table_path(rows, args.seed)
        for task, engine in itertools.product(args.tasks, args.engines):
            print(f"{time.strftime('%H:%M:%S')} {_size(rows)} rows: {task} on {engine}", flush=True)
            record = run_one(rows, task, engine, path, args.repeat)
            shown = (f"{record['seconds']:.2f} s, peak {record['peak_mb']:.0f} MiB"
                     if record["status"] == "ok" else record.get("error", record["status"]))
            print(f"  -> {shown}", flush=True)
            results = load_results() | {k: results[k] for k in ("machine", "versions", "last_command")}
            replace_run(results, record)
            save_results(results)
            write_section(markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
