"""dpsynth's MST and AIM beside peer libraries on Adult, with one fixed public binning.

Every method gets the SAME table: Adult's training file binned with
``adult_schema()`` (16 public bins per numeric column, codebook categories, a
code for missing values) and handed over as integer codes ``0..size-1``. Each
method runs as a subprocess (peers in their own venvs under
``benchmarks/.venvs/``, built by ``benchmarks/peers/setup.sh``) with a hard time
cap, exchanging CSV files in ``benchmarks/.work/``. Per run: wall time of the
subprocess, its peak resident memory, mean and max total-variation distance
(TVD) over all 2-way and all 3-way marginals of the coded table, and accuracy
and AUC for ``income`` of a HistGradientBoostingClassifier trained on the
synthetic rows and tested on the real Adult test file, binned the same way.

A separate row, ``dpsynth-cli-mst``, times ``dpsynth synthesize adult.csv -o
out.csv`` on the RAW training CSV (no schema: DP discovery of the CSV's
kinds and of every domain included). Its
fidelity is not scored: DP discovery gives each column its own domain (other
bounds, an "other" category, missing codes), so its output is not on the
public binning the other rows share.

Results go to ``benchmarks/results/synth_vs_peers.json`` after every run, and
runs already there are skipped, so the grid can be stopped and resumed.

Usage::

    .venv/bin/python benchmarks/synth_vs_peers.py                      # full grid
    .venv/bin/python benchmarks/synth_vs_peers.py --methods dpsynth-mst,opendp-mst \\
        --epsilons 1 --seeds 0 --cap-minutes 15
    .venv/bin/python benchmarks/synth_vs_peers.py --methods dpsynth-aim --again   # re-measure after a change
    .venv/bin/python benchmarks/synth_vs_peers.py --report            # RESULTS.md section only
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import signal
import subprocess
import sys
import time
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import accuracy_score, roc_auc_score

from dpsynth.datasets import adult_schema, load_adult
from dpsynth.encoding import OutOfDomainWarning, TableEncoder
from dpsynth.privacy.accountant import rho_of_epsilon

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORK = HERE / ".work"
VENVS = HERE / ".venvs"
RESULTS_JSON = HERE / "results" / "synth_vs_peers.json"
RESULTS_MD = HERE / "RESULTS.md"
SECTION = "## synth_vs_peers"

DELTA = 1e-9
TARGET = "income"
# Python of each library's environment and the import that proves it is usable.
PEERS = {
    "dpsynth": (ROOT / ".venv" / "bin" / "python", "import dpsynth.synthesizers"),
    "opendp": (VENVS / "opendp" / "bin" / "python", "import opendp.extras.mbi"),
    "smartnoise": (VENVS / "smartnoise" / "bin" / "python", "from snsynth import Synthesizer"),
    "dpmm": (VENVS / "dpmm" / "bin" / "python", "import dpmm.pipelines"),
}
CLI_METHOD = "dpsynth-cli-mst"
METHODS = [f"{peer}-{algo}" for peer in PEERS for algo in ("mst", "aim")] + [CLI_METHOD]
# Peer MST took 3-6 min here and peer AIM did not finish in 40 min: cap them.
DEFAULT_CAPS = {"mst": 15.0, "aim": 20.0}


# ---------------------------------------------------------------------------------------
# data
# ---------------------------------------------------------------------------------------
def binned_adult(split: str, encoder: TableEncoder) -> pd.DataFrame:
    """Adult's ``split`` as int64 codes under the public binning of ``encoder``.

    Values beyond the public bounds are clipped into the end bins: that is the binning.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OutOfDomainWarning)
        encoded = encoder.encode(load_adult(split))
    return pd.DataFrame({a: np.asarray(encoded[a], dtype=np.int64) for a in encoder.domain.attributes})


# ---------------------------------------------------------------------------------------
# metrics
# ---------------------------------------------------------------------------------------
def marginal_tvd(real: pd.DataFrame, synthetic: pd.DataFrame, shape: dict[str, int], k: int) -> dict:
    """Mean and max total-variation distance over all ``k``-way marginals.

    TVD of one marginal is ``0.5 * sum |p_real - p_synth|`` of the normalised
    contingency tables, in [0, 1].
    """
    values = []
    for clique in itertools.combinations(shape, k):
        sizes = [shape[c] for c in clique]
        p = _distribution(real, clique, sizes)
        q = _distribution(synthetic, clique, sizes)
        values.append(0.5 * float(np.abs(p - q).sum()))
    return {"mean": float(np.mean(values)), "max": float(np.max(values)), "count": len(values)}


def _distribution(df: pd.DataFrame, clique: tuple[str, ...], sizes: list[int]) -> np.ndarray:
    index = np.ravel_multi_index([df[c].to_numpy() for c in clique], sizes)
    counts = np.bincount(index, minlength=int(np.prod(sizes)))
    return counts / counts.sum()


def downstream(synthetic: pd.DataFrame, test: pd.DataFrame, positive: int, seed: int) -> dict:
    """Accuracy and AUC for ``income`` of a gradient-boosted classifier trained on synthetic rows.

    Every feature is a code, so all are declared categorical. AUC is None when the
    synthetic rows hold a single class (no classifier can rank then).
    """
    features = [c for c in synthetic.columns if c != TARGET]
    y_train = (synthetic[TARGET].to_numpy() == positive).astype(int)
    y_test = (test[TARGET].to_numpy() == positive).astype(int)
    if len(np.unique(y_train)) < 2:
        constant = np.full(len(y_test), y_train[0])
        return {"accuracy": float(accuracy_score(y_test, constant)), "auc": None}
    model = HistGradientBoostingClassifier(categorical_features=[True] * len(features), random_state=seed)
    model.fit(synthetic[features].to_numpy(), y_train)
    scores = model.predict_proba(test[features].to_numpy())[:, 1]
    return {
        "accuracy": float(accuracy_score(y_test, (scores >= 0.5).astype(int))),
        "auc": float(roc_auc_score(y_test, scores)),
    }


# ---------------------------------------------------------------------------------------
# subprocesses
# ---------------------------------------------------------------------------------------
def run_capped(command: list[str], log: Path, cap_seconds: float) -> dict:
    """Run ``command`` with a hard wall-time cap; measure its wall time and peak memory.

    The child leads its own process group so a capped run is killed whole.
    ``os.wait4`` gives the rusage of that child and of the descendants it reaped (peak RSS
    in KiB on Linux), not of this process's other children.
    """
    start = time.perf_counter()
    with open(log, "w") as handle:
        # Unbuffered, so the progress printed before a kill reaches the log.
        child = subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT, cwd=ROOT,
                                 start_new_session=True, env=os.environ | {"PYTHONUNBUFFERED": "1"})
    deadline = start + cap_seconds
    while True:
        pid, status, usage = os.wait4(child.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() > deadline:
            os.killpg(child.pid, signal.SIGKILL)
            _, status, usage = os.wait4(child.pid, 0)
            return {"status": "timeout", "seconds": time.perf_counter() - start,
                    "cpu_seconds": usage.ru_utime + usage.ru_stime,
                    "peak_mb": usage.ru_maxrss / 1024, "progress": _tail(log, 1)}
        time.sleep(0.2)
    seconds = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    # CPU time (all threads) is less sensitive than wall time to other load on the machine.
    result = {"seconds": seconds, "cpu_seconds": usage.ru_utime + usage.ru_stime,
              "peak_mb": usage.ru_maxrss / 1024}
    if code != 0:
        return {**result, "status": "failed", "exit_code": code, "error": _tail(log, 5)}
    return {**result, "status": "ok"}


def _tail(path: Path, lines: int) -> str:
    # Progress bars redraw with carriage returns: each redraw counts as a line.
    text = path.read_text(errors="replace").replace("\r", "\n")
    return "\n".join([line.strip() for line in text.splitlines() if line.strip()][-lines:])[-2000:]


def peer_problem(peer: str) -> str | None:
    """Why ``peer`` cannot run (no venv, or its import fails), or None when it can."""
    python, check = PEERS[peer]
    if not python.exists():
        return f"not installed: run `bash benchmarks/peers/setup.sh {peer}` (no {python})"
    probe = subprocess.run([str(python), "-c", check], capture_output=True, text=True, timeout=300)
    if probe.returncode != 0:
        last = (probe.stderr.strip().splitlines() or ["(no message)"])[-1]
        return f"import failed: `{check}`: {last}"
    return None


# ---------------------------------------------------------------------------------------
# one run
# ---------------------------------------------------------------------------------------
class Bench:
    """The fixed inputs of every run: coded train/test tables, their domain, the files."""

    def __init__(self) -> None:
        WORK.mkdir(parents=True, exist_ok=True)
        self.encoder = TableEncoder(adult_schema())
        self.domain = dict(zip(self.encoder.domain.attributes, self.encoder.domain.shape, strict=True))
        self.train = binned_adult("train", self.encoder)
        self.test = binned_adult("test", self.encoder)
        self.positive = self.encoder.code_labels(TARGET).index(">50K")
        self.train_csv = WORK / "adult_train_codes.csv"
        self.train.to_csv(self.train_csv, index=False)
        self.raw_csv = WORK / "adult_train_raw.csv"
        load_adult("train").to_csv(self.raw_csv, index=False)

    def run(self, method: str, epsilon: float, seed: int, cap_minutes: float) -> dict:
        """One run of ``method``: fit, sample ``len(train)`` rows, score them."""
        stem = f"{method}_eps{epsilon:g}_seed{seed}"
        out_csv, log = WORK / f"{stem}.csv", WORK / f"{stem}.log"
        out_csv.unlink(missing_ok=True)
        record = {"method": method, "epsilon": epsilon, "delta": DELTA, "seed": seed,
                  "cap_minutes": cap_minutes, "rows": len(self.train), **commit(), "machine": machine(),
                  "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        if method == CLI_METHOD:
            command = [str(ROOT / ".venv" / "bin" / "dpsynth"), "synthesize", str(self.raw_csv),
                       "-o", str(out_csv), "--epsilon", f"{epsilon:g}", "--delta", f"{DELTA:g}",
                       "--seed", str(seed)]
        else:
            peer, algo = method.rsplit("-", 1)
            task = {"method": algo, "epsilon": epsilon, "delta": DELTA, "seed": seed,
                    "rho": rho_of_epsilon(epsilon, DELTA),
                    "train_csv": str(self.train_csv), "domain": self.domain, "rows": len(self.train),
                    "out_csv": str(out_csv), "result_json": str(WORK / f"{stem}.json")}
            task_path = WORK / f"{stem}.task.json"
            task_path.write_text(json.dumps(task))
            command = [str(PEERS[peer][0]), str(HERE / "peers" / f"run_{peer}.py"), str(task_path)]
        record.update(run_capped(command, log, cap_minutes * 60))
        if record["status"] != "ok":
            return record
        if method == CLI_METHOD:
            record["synthetic_rows"] = len(pd.read_csv(out_csv))
            return record
        synthetic = pd.read_csv(out_csv, dtype="int64")[list(self.domain)]
        inner = json.loads(Path(task["result_json"]).read_text())
        record.update(fit_sample_seconds=inner["fit_sample_seconds"], versions=inner["versions"],
                      runner_notes=inner.get("notes", {}), synthetic_rows=len(synthetic))
        record["tvd_2way"] = marginal_tvd(self.train, synthetic, self.domain, 2)
        record["tvd_3way"] = marginal_tvd(self.train, synthetic, self.domain, 3)
        record["downstream"] = downstream(synthetic, self.test, self.positive, seed)
        return record


# ---------------------------------------------------------------------------------------
# results file
# ---------------------------------------------------------------------------------------
def machine() -> dict:
    """nproc, memory and CPU model of this machine."""
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())
    mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal"))
    return {"nproc": os.cpu_count(), "memory_gib": round(mem_kb / 2**20, 1), "cpu": model,
            "python": platform.python_version()}


def commit() -> dict:
    """The git commit measured, and whether dpsynth/ had uncommitted changes."""
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    dirty = subprocess.run(["git", "status", "--porcelain", "--", "dpsynth"], cwd=ROOT,
                           capture_output=True, text=True)
    return {"commit": head.stdout.strip(), "dpsynth_dirty": bool(dirty.stdout.strip())}


def load_results() -> dict:
    if RESULTS_JSON.exists():
        return json.loads(RESULTS_JSON.read_text())
    return {"benchmark": "synth_vs_peers", "runs": [], "skipped": {}}


def save_results(results: dict) -> None:
    RESULTS_JSON.parent.mkdir(parents=True, exist_ok=True)
    tmp = RESULTS_JSON.with_suffix(".tmp")
    tmp.write_text(json.dumps(results, indent=1))
    tmp.replace(RESULTS_JSON)


def already_done(results: dict, method: str, epsilon: float, seed: int, cap: float) -> bool:
    """A finished run is final, a capped one is retried only under a longer cap, a failed one always."""
    for run in results["runs"]:
        if (run["method"], run["epsilon"], run["seed"]) == (method, epsilon, seed):
            return run["status"] == "ok" or (run["status"] == "timeout" and run["cap_minutes"] >= cap)
    return False


def timed_out_before(results: dict, method: str, epsilon: float, seed: int, cap: float) -> int | None:
    """A lower seed of the same cell that did not finish under ``cap`` or a longer one, if any.

    Its other seeds are not run: each would only spend the whole cap to say the same.
    """
    for run in results["runs"]:
        if ((run["method"], run["epsilon"]) == (method, epsilon) and run["seed"] < seed
                and run["status"] == "timeout" and run["cap_minutes"] >= cap):
            return run["seed"]
    return None


def replace_run(results: dict, record: dict) -> None:
    key = (record["method"], record["epsilon"], record["seed"])
    results["runs"] = [r for r in results["runs"] if (r["method"], r["epsilon"], r["seed"]) != key]
    results["runs"].append(record)


# ---------------------------------------------------------------------------------------
# report
# ---------------------------------------------------------------------------------------
def _fmt(values: list, digits: int) -> str:
    values = [v for v in values if v is not None]
    if not values:
        return "-"
    if len(values) == 1:
        return f"{values[0]:.{digits}f}"
    return f"{np.mean(values):.{digits}f} ± {np.std(values):.{digits}f}"


def _headline(error: str) -> str:
    """The line of a traceback tail that names the error, for a one-line note."""
    lines = [line.strip() for line in error.splitlines() if line.strip().strip('")')]
    named = [line for line in lines if "Error" in line or "Exception" in line or "Failed" in line]
    return (named or lines or ["(no message)"])[-1]


def summary_rows(results: dict) -> list[dict]:
    """One row per (method, epsilon): means over the finished seeds, and what did not finish."""
    rows = []
    keys = sorted({(r["method"], r["epsilon"]) for r in results["runs"]},
                  key=lambda k: (k[1], METHODS.index(k[0]) if k[0] in METHODS else 99))
    for method, epsilon in keys:
        runs = [r for r in results["runs"] if (r["method"], r["epsilon"]) == (method, epsilon)]
        ok = [r for r in runs if r["status"] == "ok"]
        scored = [r for r in ok if "tvd_2way" in r]
        notes = [f"seed {r['seed']}: did not finish in {r['cap_minutes']:g} min "
                 f"(last progress: {r.get('progress') or 'none'})" for r in runs if r["status"] == "timeout"]
        notes += [f"seed {r['seed']}: failed (exit {r.get('exit_code')}): {_headline(r.get('error', ''))}"
                  for r in runs if r["status"] == "failed"]
        remarks = [f"seed {r['seed']}: " + ", ".join(f"{k} = {v}" for k, v in r["runner_notes"].items())
                   for r in ok if r.get("runner_notes")]
        rows.append({
            "method": method, "epsilon": epsilon, "finished": f"{len(ok)}/{len(runs)}",
            "seconds": [r["seconds"] for r in ok], "peak_mb": [r["peak_mb"] for r in ok],
            "cpu_seconds": [r.get("cpu_seconds") for r in ok],
            "tvd2_mean": [r["tvd_2way"]["mean"] for r in scored], "tvd2_max": [r["tvd_2way"]["max"] for r in scored],
            "tvd3_mean": [r["tvd_3way"]["mean"] for r in scored], "tvd3_max": [r["tvd_3way"]["max"] for r in scored],
            "accuracy": [r["downstream"]["accuracy"] for r in scored], "auc": [r["downstream"]["auc"] for r in scored],
            "notes": notes, "remarks": remarks,
            "capped_at": [r["cap_minutes"] for r in runs if r["status"] == "timeout"],
        })
    return rows


def _difference(ours: list[float], theirs: list[float]) -> str:
    """`` (difference d ± standard error over n and m runs)``, when both sides have two runs or more.

    The DP noise differs from run to run, so a difference within about two
    standard errors says the two are not told apart by these runs.
    """
    if len(ours) < 2 or len(theirs) < 2:
        return ""
    difference = float(np.mean(ours) - np.mean(theirs))
    error = float(np.sqrt(np.var(ours, ddof=1) / len(ours) + np.var(theirs, ddof=1) / len(theirs)))
    return f" (difference {difference:+.4f} ± {error:.4f} s.e., {len(ours)} and {len(theirs)} runs)"


def targets(rows: list[dict]) -> list[str]:
    """The issue's targets, checked on the finished runs only (an unfinished peer is no comparison)."""
    lines = []
    by_key = {(r["method"], r["epsilon"]): r for r in rows}
    for epsilon in sorted({r["epsilon"] for r in rows}):
        for algo in ("mst", "aim"):
            ours = by_key.get((f"dpsynth-{algo}", epsilon))
            cells = {p: by_key.get((f"{p}-{algo}", epsilon)) for p in PEERS if p != "dpsynth"}
            peers = {p: np.mean(r["tvd3_mean"]) for p, r in cells.items() if r and r["tvd3_mean"]}
            if not ours or not ours["tvd3_mean"]:
                continue
            mine = np.mean(ours["tvd3_mean"])
            if not peers:
                caps = ", ".join(f"{p} in {max(r['capped_at']):g} min" for p, r in sorted(cells.items())
                                 if r and r["capped_at"])
                lines.append(f"- eps={epsilon:g} {algo.upper()} 3-way TVD: ours {mine:.4f}; "
                             f"no peer finished ({caps or 'none run'}), no comparison")
                continue
            best = min(peers, key=peers.get)
            verdict = "met" if mine <= peers[best] else "NOT met"
            spread = _difference(ours["tvd3_mean"], by_key[(f"{best}-{algo}", epsilon)]["tvd3_mean"])
            lines.append(f"- eps={epsilon:g} {algo.upper()} mean 3-way TVD: ours {mine:.4f} vs best peer "
                         f"{best} {peers[best]:.4f}{spread}: {verdict}")
    ours = by_key.get(("dpsynth-aim", 1.0))
    peer_aims = [by_key.get((f"{p}-aim", 1.0)) for p in PEERS if p != "dpsynth"]
    peer_times = [np.mean(r["seconds"]) for r in peer_aims if r and r["seconds"]]
    capped = [r for r in peer_aims if r and r["capped_at"] and not r["seconds"]]
    if ours and ours["seconds"]:
        mine = np.mean(ours["seconds"])
        if peer_times:
            ratio = min(peer_times) / mine
            lines.append(f"- eps=1 AIM speed: fastest finished peer AIM {min(peer_times):.0f} s vs ours "
                         f"{mine:.0f} s = {ratio:.1f}x: {'met' if ratio >= 10 else 'NOT met'} (target 10x)")
        if capped:
            caps = min(min(r["capped_at"]) for r in capped)
            lines.append(f"- eps=1 AIM speed: {len(capped)} peer AIM(s) did not finish in {caps:g} min, "
                         f"i.e. > {caps * 60 / mine:.0f}x our {mine:.0f} s")
    cli = by_key.get((CLI_METHOD, 1.0))
    if cli and cli["seconds"]:
        mine = np.mean(cli["seconds"])
        lines.append(f"- MST end to end (`dpsynth synthesize`, raw CSV, DP discovery) at eps=1: {mine:.1f} s: "
                     f"{'met' if mine < 15 else 'NOT met'} (target < 15 s)")
    return lines


def _cpus(results: dict) -> str:
    """The CPU of each run, counted; runs from before runs recorded it are named as such."""
    counts = Counter(r.get("machine", {}).get("cpu") for r in results["runs"])
    parts = [f"{cpu} ({n} run{'s' * (n != 1)})" for cpu, n in sorted((c, n) for c, n in counts.items() if c)]
    if counts.get(None):
        earlier = results.get("earlier_machine", {}).get("cpu", "not recorded")
        parts.append(f"{counts[None]} earlier runs did not record theirs (the last machine the file "
                     f"recorded for all of them: {earlier})")
    return "; ".join(parts)


def markdown(results: dict) -> str:
    """The ``## synth_vs_peers`` section of RESULTS.md."""
    rows = summary_rows(results)
    m = results.get("machine", {})
    out = [SECTION, "",
           "dpsynth's MST/AIM beside OpenDP 0.16 (`opendp.extras.mbi`), smartnoise-synth 1.0.8 and dpmm "
           "on Adult (train 32,561 rows; downstream test on the real test file, 16,281 rows).",
           "Every method gets the same pre-binned table: `adult_schema()`'s public binning (16 bins per "
           "numeric column, codebook categories, one code for missing), as integer codes; each column's "
           "codes are its public categories, so no method spends budget on the domain. "
           f"delta = {DELTA:g}; each method synthesizes as many rows as the real table; peers run in "
           "their own venvs as capped subprocesses. Wall time is the whole subprocess (interpreter, "
           "imports, CSV in/out, fit, sample), CPU s its user+system time over all threads; peak "
           "memory is its max RSS. TVD over all 105 2-way and "
           "455 3-way marginals of the coded table (0 = identical, 1 = disjoint). Downstream: "
           "HistGradientBoostingClassifier (all features categorical) trained on synthetic, tested on real "
           "test. `dpsynth-cli-mst` is `dpsynth synthesize adult_train_raw.csv -o out.csv` on the RAW "
           "CSV without a schema (DP discovery of every domain included); it is timed, not scored, "
           "because discovery gives its output other domains than the shared public binning. "
           "Cells: mean ± std over finished seeds. Peers run at their defaults except: the all-3-way "
           "workload for every AIM (smartnoise and dpmm default to 2-way), binning disabled in dpmm, "
           "all columns categorical in smartnoise, all keys public in OpenDP (pure zCDP at the same "
           "rho as dpsynth; OpenDP adds a null key per column, and rows sampled with a null are "
           "dropped and counted). OpenDP 0.16 pins mbi 1.1.0, which smartnoise-synth 1.0.8 also "
           "gets; the large max 2-way TVDs of both, on pairs such as occupation x education-num "
           "whose one-way marginals are right, are consistent with the synthetic_data() "
           "regressions fixed upstream in ryan112358/mbi#145 (conditioning on measurement cliques "
           "instead of junction-tree cliques; spurious correlations from rounding).",
           "",
           "```",
           "for peer in opendp smartnoise dpmm; do bash benchmarks/peers/setup.sh $peer; done",
           ".venv/bin/python benchmarks/synth_vs_peers.py   # resumable; subsets: --methods "
           "--epsilons --seeds --cap-minutes; --again re-measures",
           "# extra seeds at eps=1 AIM, and our AIM re-measured after the faster estimation:",
           ".venv/bin/python benchmarks/synth_vs_peers.py --methods dpsynth-aim,dpmm-aim --epsilons 1 "
           "--seeds 3,4,5",
           ".venv/bin/python benchmarks/synth_vs_peers.py --methods dpsynth-aim --epsilons 1,0.3 "
           "--seeds 0,1,2,3,4,5 --again",
           ".venv/bin/python benchmarks/synth_vs_peers.py --methods dpsynth-aim --epsilons 3 --seeds 0,1,2 --again",
           "```",
           "",
           f"Machine: {m.get('nproc')} cores, {m.get('memory_gib')} GiB, Python {m.get('python')}; "
           f"CPUs: {_cpus(results)}; shared with other work while measuring (wall times are noisy; CPU "
           "times less so). Commits measured (each run records its own): "
           + ", ".join(sorted({f"`{r['commit'][:12]}`" + (" + uncommitted dpsynth/ changes"
                                                          if r.get("dpsynth_dirty") else "")
                               for r in results["runs"] if "commit" in r})) + ".",
           ""]
    skipped = results.get("skipped", {})
    if skipped:
        out += ["Skipped peers: " + "; ".join(f"{p}: {why}" for p, why in sorted(skipped.items())), ""]
    planned = len(METHODS) * 9
    in_grid = [r for r in results["runs"] if r["seed"] in (0, 1, 2)]
    extra = sorted({(r["method"], r["epsilon"]) for r in results["runs"] if r["seed"] not in (0, 1, 2)})
    out += [f"Runs recorded: {len(in_grid)} of the full grid's {planned} ({len(METHODS)} methods "
            "x epsilon 0.3, 1, 3 x seeds 0, 1, 2); rows absent below have not been run yet."
            + (" Extra seeds, for cells too close to tell apart on three runs: "
               + ", ".join(f"{m} eps={e:g}" for m, e in extra) + "." if extra else ""), ""]
    out += ["| method | eps | finished | wall s | CPU s | peak MB | 2-way TVD mean | 2-way max "
            "| 3-way TVD mean | 3-way max | accuracy | AUC |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        out.append(f"| {r['method']} | {r['epsilon']:g} | {r['finished']} | {_fmt(r['seconds'], 0)} | "
                   f"{_fmt(r['cpu_seconds'], 0)} | "
                   f"{_fmt(r['peak_mb'], 0)} | {_fmt(r['tvd2_mean'], 4)} | {_fmt(r['tvd2_max'], 3)} | "
                   f"{_fmt(r['tvd3_mean'], 4)} | {_fmt(r['tvd3_max'], 3)} | {_fmt(r['accuracy'], 3)} | "
                   f"{_fmt(r['auc'], 3)} |")
    notes = [f"- {r['method']} eps={r['epsilon']:g}, {n}" for r in rows for n in r["notes"]]
    if notes:
        out += ["", "Runs that did not finish (the other seeds of such a cell are not run: each would "
                "spend the whole cap to say the same):", *notes]
    remarks = [f"- {r['method']} eps={r['epsilon']:g}, {n}" for r in rows for n in r["remarks"]]
    if remarks:
        out += ["", "Remarks of the runners on finished runs:", *remarks]
    lines = targets(rows)
    if lines:
        out += ["", "Targets (on finished runs):", *lines]
    return "\n".join(out) + "\n"


def write_section(text: str) -> None:
    """Replace (or append) the ``## synth_vs_peers`` section of RESULTS.md, leaving the rest alone."""
    current = RESULTS_MD.read_text() if RESULTS_MD.exists() else "# Benchmark results\n"
    lines = current.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.rstrip() == SECTION), None)
    if start is None:
        RESULTS_MD.write_text(current.rstrip("\n") + "\n\n" + text)
        return
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    tail = "".join(lines[end:])
    RESULTS_MD.write_text("".join(lines[:start]) + text + ("\n" + tail if tail else ""))


# ---------------------------------------------------------------------------------------
# command line
# ---------------------------------------------------------------------------------------
def _floats(text: str) -> list[float]:
    return [float(x) for x in text.split(",") if x]


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x]


def _methods(text: str) -> list[str]:
    chosen = [x for x in text.split(",") if x]
    unknown = [x for x in chosen if x not in METHODS]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown methods {unknown}; choose from {METHODS}")
    return chosen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--methods", type=_methods, default=METHODS, help=f"comma list of {METHODS}")
    parser.add_argument("--epsilons", type=_floats, default=[1.0, 0.3, 3.0])
    parser.add_argument("--seeds", type=_ints, default=[0, 1, 2])
    parser.add_argument("--cap-minutes", type=float, default=None,
                        help=f"time cap per run (default: MST {DEFAULT_CAPS['mst']:g}, "
                             f"AIM {DEFAULT_CAPS['aim']:g} minutes)")
    parser.add_argument("--again", action="store_true",
                        help="re-run the selected cells even if they are recorded (the new runs replace them)")
    parser.add_argument("--report", action="store_true", help="only rewrite the RESULTS.md section")
    args = parser.parse_args(argv)

    results = load_results()
    if args.report:
        write_section(markdown(results))
        return 0
    results.update(machine=machine(), commit=commit(),
                   last_command=sys.argv[1:] if argv is None else argv)
    peers = {m.rsplit("-", 1)[0] for m in args.methods if m != CLI_METHOD}
    for peer in sorted(peers):
        problem = peer_problem(peer)
        if problem:
            results["skipped"][peer] = problem
            print(f"skipping {peer}: {problem}", flush=True)
        else:
            results["skipped"].pop(peer, None)
    save_results(results)
    bench = Bench()
    for epsilon, seed, method in itertools.product(args.epsilons, args.seeds, args.methods):
        peer, algo = method.rsplit("-", 1)
        if peer.startswith("dpsynth-cli"):
            peer = "dpsynth"
        if peer in results["skipped"]:
            continue
        cap = args.cap_minutes if args.cap_minutes is not None else DEFAULT_CAPS[algo]
        if not args.again and already_done(results, method, epsilon, seed, cap):
            continue
        capped = None if args.again else timed_out_before(results, method, epsilon, seed, cap)
        if capped is not None:
            print(f"not running {method} eps={epsilon:g} seed={seed}: seed {capped} did not finish "
                  f"in {cap:g} min", flush=True)
            continue
        print(f"{time.strftime('%H:%M:%S')} {method} eps={epsilon:g} seed={seed} (cap {cap:g} min)",
              flush=True)
        record = bench.run(method, epsilon, seed, cap)
        print(f"  -> {record['status']} in {record['seconds']:.1f} s, peak {record['peak_mb']:.0f} MB"
              + (f", 3-way TVD {record['tvd_3way']['mean']:.4f}" if "tvd_3way" in record else ""),
              flush=True)
        results = load_results() | {k: results[k] for k in ("machine", "commit", "last_command", "skipped")}
        replace_run(results, record)
        save_results(results)
        write_section(markdown(results))
    write_section(markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
