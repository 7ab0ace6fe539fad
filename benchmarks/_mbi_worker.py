"""Run mbi (Private-PGM 2.0) on measurements saved by pgm_vs_mbi.py; runs in mbi's own venv.

Usage: python _mbi_worker.py problem.npz result.npz ITERS
Reads: attributes, shape, and per measurement i: clique_i (names), y_i (flat, clique order),
sigma_i. Writes: seconds (wall time of estimate, JAX compilation included), and mu_i, the
model's marginal of clique i (flat, clique order).
"""

import sys
import time

import jax

# Same precision as dpsynth (float64); mbi recommends it for stable estimation.
jax.config.update("jax_enable_x64", True)
jax.config.update("jax_enable_compilation_cache", False)

import mbi  # noqa: E402
import numpy as np  # noqa: E402
from mbi.estimation import MirrorDescent  # noqa: E402


def main() -> None:
    source, target, iters = sys.argv[1], sys.argv[2], int(sys.argv[3])
    data = np.load(source, allow_pickle=False)
    attributes = [str(a) for a in data["attributes"]]
    domain = mbi.Domain(attributes, [int(s) for s in data["shape"]])
    count = int(data["count"])
    cliques = [tuple(str(a) for a in data[f"clique_{i}"]) for i in range(count)]
    measurements = [
        mbi.LinearMeasurement(data[f"y_{i}"], cliques[i], stddev=float(data[f"sigma_{i}"]))
        for i in range(count)
    ]
    start = time.perf_counter()
    model = MirrorDescent().estimate(domain, measurements, iters=iters)
    marginals = {f"mu_{i}": np.asarray(model.project(c).datavector()) for i, c in enumerate(cliques)}
    seconds = time.perf_counter() - start
    np.savez(target, seconds=seconds, total=float(model.total), **marginals)


if __name__ == "__main__":
    main()
