"""Benchmark: dpsynth.pgm against mbi 2.0 (Private-PGM) on the same noisy Adult marginals.

Two clique sets on Adult (train split, encoded with the public schema):

* ``mst``: every 1-way marginal plus the edges of a maximum spanning tree on
  mutual information computed from the exact data (the cliques MST selects);
* ``dense``: every 1-way marginal plus random 3-way cliques kept while the
  junction tree stays under ``--dense-cells`` cells (an AIM-like set).

Each measured marginal gets Gaussian noise of standard deviation ``--sigma``
(numpy, seeded: this benchmark measures estimation speed, not privacy). mbi
runs first, alone, in its own venv (``benchmarks/setup_mbi_venv.sh``) under a
hard time cap, with its default mirror descent for ``--iters`` iterations;
its wall time includes JAX compilation. dpsynth then runs on the same
measurements; we record the time it takes to reach mbi's final objective
(same loss, ``0.5 * sum ((mu - y) / sigma)^2``, computed here for both) and
where it ends. Also measured: peak traced memory of dpsynth's estimation
against the predicted model size, and the time to sample 10^6 rows.

Usage::

    bash benchmarks/setup_mbi_venv.sh        # once
    python benchmarks/pgm_vs_mbi.py [--iters 1000] [--peer-minutes 30]

Writes ``benchmarks/results/pgm_vs_mbi.json`` and prints a table.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import networkx as nx
import numpy as np

from dpsynth.datasets import adult_schema, load_adult
from dpsynth.domain import Domain
from dpsynth.encoding import TableEncoder
from dpsynth.pgm import Measurement, estimate, model_size, sample

HERE = Path(__file__).resolve().parent
MBI_PYTHON = HERE / ".venvs" / "mbi" / "bin" / "python"
WORKER = HERE / "_mbi_worker.py"
RESULTS = HERE / "results" / "pgm_vs_mbi.json"


def encoded_adult() -> tuple[Domain, np.ndarray]:
    frame = load_adult("train")
    encoder = TableEncoder(adult_schema()).fit(frame)
    return encoder.domain, encoder.encode(frame).to_array().astype(np.int64)


def counts(domain: Domain, codes: np.ndarray, clique: tuple[str, ...]) -> np.ndarray:
    columns = tuple(codes[:, domain.index(a)] for a in clique)
    flat = np.ravel_multi_index(columns, domain.marginal_shape(clique))
    return np.bincount(flat, minlength=domain.size(clique)).reshape(domain.marginal_shape(clique)).astype(float)


def mst_cliques(domain: Domain, codes: np.ndarray) -> list[tuple[str, ...]]:
    graph = nx.Graph()
    for a, b in itertools.combinations(domain.attributes, 2):
        joint = counts(domain, codes, (a, b)) / len(codes)
        outer = joint.sum(axis=1, keepdims=True) * joint.sum(axis=0, keepdims=True)
        nonzero = joint > 0
        graph.add_edge(a, b, weight=float((joint[nonzero] * np.log(joint[nonzero] / outer[nonzero])).sum()))
    return [tuple(edge) for edge in nx.maximum_spanning_tree(graph).edges()]


def dense_cliques(domain: Domain, count: int, max_cells: int, seed: int) -> list[tuple[str, ...]]:
    triples = list(itertools.combinations(domain.attributes, 3))
    np.random.default_rng(seed).shuffle(triples)
    chosen: list[tuple[str, ...]] = []
    for triple in triples:
        if model_size(domain, [*chosen, triple])[0] <= max_cells:
            chosen.append(triple)
        if len(chosen) == count:
            break
    return chosen


def noisy_measurements(domain, codes, cliques, sigma, seed) -> list[Measurement]:
    rng = np.random.default_rng(seed)
    out = []
    for clique in [(a,) for a in domain.attributes] + list(cliques):
        exact = counts(domain, codes, clique)
        out.append(Measurement(clique, exact + rng.normal(0.0, sigma, exact.shape), sigma))
    return out


def loss_of(marginals: list[np.ndarray], measurements: list[Measurement]) -> float:
    return sum(
        0.5 * float((((mu.ravel() - m.values) / m.sigma) ** 2).sum())
        for mu, m in zip(marginals, measurements, strict=True)
    )


def run_mbi(domain, measurements, iters: int, minutes: float) -> dict:
    if not MBI_PYTHON.exists():
        return {"status": "not installed: run benchmarks/setup_mbi_venv.sh"}
    with tempfile.TemporaryDirectory() as tmp:
        problem, result = Path(tmp) / "problem.npz", Path(tmp) / "result.npz"
        arrays = {"attributes": np.array(domain.attributes), "shape": np.array(domain.shape),
                  "count": len(measurements)}
        for i, m in enumerate(measurements):
            arrays[f"clique_{i}"] = np.array(m.clique)
            arrays[f"y_{i}"] = m.values
            arrays[f"sigma_{i}"] = m.sigma
        np.savez(problem, **arrays)
        command = ["timeout", f"{int(minutes * 60)}s", str(MBI_PYTHON), str(WORKER),
                   str(problem), str(result), str(iters)]
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True)
        wall = time.perf_counter() - start
        if done.returncode == 124:
            return {"status": f"did not finish in {minutes:g} min"}
        if done.returncode != 0:
            return {"status": "failed", "stderr": done.stderr[-2000:]}
        data = np.load(result)
        marginals = [data[f"mu_{i}"] for i in range(len(measurements))]
        return {"status": "ok", "iters": iters, "seconds": float(data["seconds"]),
                "process_seconds": wall, "objective": loss_of(marginals, measurements)}


def run_dpsynth(domain, measurements, iters: int, target: float | None) -> dict:
    trace: list[tuple[float, float]] = []
    start = time.perf_counter()

    def record(iteration: int, value: float) -> None:
        trace.append((time.perf_counter() - start, value))

    cpu = time.process_time()
    model = estimate(domain, measurements, max_iters=iters, callback=record)
    seconds = time.perf_counter() - start
    cpu_seconds = time.process_time() - cpu
    marginals = [model.marginal(m.clique) for m in measurements]
    out = {"iters": len(model.loss_history) - 1, "seconds": seconds, "cpu_seconds": cpu_seconds,
           "objective": loss_of(marginals, measurements), "initial_objective": model.loss_history[0]}
    if target is not None:
        reached = [(t, i + 1) for i, (t, v) in enumerate(trace) if v <= target]
        out["seconds_to_peer_objective"] = reached[0][0] if reached else None
        out["iters_to_peer_objective"] = reached[0][1] if reached else None
    return out, model


def peak_memory(domain, measurements, iters: int) -> dict:
    cliques = [m.clique for m in measurements]
    cells, predicted = model_size(domain, cliques)
    tracemalloc.start()
    estimate(domain, measurements, max_iters=iters)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"model_cells": cells, "predicted_bytes": predicted, "peak_bytes": peak,
            "peak_over_predicted": peak / predicted}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iters", type=int, default=1000, help="iterations for both engines")
    parser.add_argument("--sigma", type=float, default=20.0, help="noise standard deviation")
    parser.add_argument("--dense-count", type=int, default=20, help="3-way cliques in the dense set")
    parser.add_argument("--dense-cells", type=int, default=2_000_000, help="junction-tree cap")
    parser.add_argument("--peer-minutes", type=float, default=30.0, help="hard cap per mbi run")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()

    domain, codes = encoded_adult()
    problems = {
        "mst": mst_cliques(domain, codes),
        "dense": dense_cliques(domain, args.dense_count, args.dense_cells, args.seed),
    }
    report = {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "machine": {"platform": platform.platform(), "processor": platform.processor(),
                    "cpus": os.cpu_count(), "python": platform.python_version(),
                    "numpy": np.__version__},
        "settings": vars(args) | {"out": str(args.out)},
        "problems": {},
    }
    for name, cliques in problems.items():
        measurements = noisy_measurements(domain, codes, cliques, args.sigma, args.seed)
        cells, nbytes = model_size(domain, [m.clique for m in measurements])
        print(f"[{name}] {len(measurements)} measurements, model {cells:,} cells", flush=True)
        peer = run_mbi(domain, measurements, args.iters, args.peer_minutes)
        print(f"[{name}] mbi: {peer}", flush=True)
        target = peer.get("objective")
        ours, model = run_dpsynth(domain, measurements, args.iters, target)
        print(f"[{name}] dpsynth: {ours}", flush=True)
        entry = {"cliques": [list(c) for c in cliques], "model_cells": cells,
                 "model_bytes": nbytes, "mbi": peer, "dpsynth": ours}
        if peer.get("status") == "ok" and ours.get("seconds_to_peer_objective"):
            entry["speedup_to_mbi_objective"] = peer["seconds"] / ours["seconds_to_peer_objective"]
        if name == "mst":
            for method in ("low_variance", "iid"):
                start, cpu = time.perf_counter(), time.process_time()
                sample(model, 1_000_000, rng=args.seed, method=method)
                entry[f"sample_1e6_{method}"] = {"seconds": time.perf_counter() - start,
                                                 "cpu_seconds": time.process_time() - cpu}
        if name == "dense":
            entry["memory"] = peak_memory(domain, measurements, iters=10)
        report["problems"][name] = entry

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\n{'problem':8} {'mbi s':>9} {'mbi obj':>12} {'ours s->obj':>12} {'ours s':>9} {'ours obj':>12} {'speedup':>8}")
    for name, entry in report["problems"].items():
        peer, ours = entry["mbi"], entry["dpsynth"]
        reach = ours.get("seconds_to_peer_objective")
        print(f"{name:8} {peer.get('seconds', float('nan')):9.2f} {peer.get('objective', float('nan')):12.2f} "
              f"{reach if reach is not None else float('nan'):12.2f} {ours['seconds']:9.2f} "
              f"{ours['objective']:12.2f} {entry.get('speedup_to_mbi_objective', float('nan')):8.1f}")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
