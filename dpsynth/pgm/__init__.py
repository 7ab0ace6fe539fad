"""Graphical-model engine: fit a discrete model to noisy marginals, then sample it.

This package knows nothing about privacy. It takes noisy linear measurements
of marginals of an integer-coded table, fits the graphical model whose
marginals explain them best (Private-PGM: McKenna, Sheldon, Miklau, ICML
2019), answers marginal queries exactly, and generates records.

Public API
----------
``Measurement(clique, values, sigma, query=None)``
    Noisy answers ``values`` about the marginal over ``clique`` (axes in the
    order of ``clique``): the noisy counts themselves, or ``query @ counts``
    for a matrix ``query`` of shape ``(len(values), cells)``. ``sigma`` is
    the noise's standard deviation.
``estimate(domain, measurements, *, warm_start=None, total=None, tol=1e-7,
max_iters=2000, loss="l2", callback=None, max_bytes=DEFAULT_MAX_BYTES)``
    Fit a :class:`GraphicalModel` by accelerated entropic mirror descent
    with a backtracked step size (no tuning); stops on a relative ``tol``. ``warm_start`` takes an earlier model (or its
    ``potentials``); ``total`` is estimated from the measurements when None;
    ``callback(iteration, loss)`` sees every accepted step.
``GraphicalModel``
    ``.marginal(attributes) -> ndarray`` (counts, axes in the order asked,
    for any attribute set), ``.total``, ``.cliques``, ``.potentials``
    (:class:`CliqueVector` of log-potentials), ``.loss_history``,
    ``.domain``, ``.tree`` (:class:`JunctionTree`), ``.condition(dict)``.
``objective(model, measurements, loss="l2") -> float``
    The estimation loss of any model on measurements.
``model_size(domain, cliques) -> (cells, bytes)``
    Size of the junction-tree tables the cliques imply, computed without
    allocating them and cached, so asking it for many candidate cliques is
    cheap; ``model_fits(domain, cliques, max_bytes)`` answers the same
    question as comparing it, often at half the cost.
    ``check_model_size(domain, cliques, max_bytes)`` raises
    :class:`dpsynth.errors.ModelTooLargeError` with the size when over the
    cap. Estimation needs about these bytes plus one largest-clique
    temporary plus a few copies of the measured cells.
``sample(model, n, *, rng=None, method="low_variance", conditions=None)``
    An ``(n, d)`` integer code array, columns in domain order.
    ``iter_samples(model, n, chunk_rows, ...)`` yields it in chunks, with
    memory proportional to the chunk.
``Factor``, ``CliqueVector``, ``junction_tree``, ``calibrate``, ``marginal``
    The building blocks, for tests and advanced use.

Example
-------
>>> from dpsynth.domain import Domain
>>> from dpsynth.pgm import Measurement, estimate, sample
>>> import numpy as np
>>> domain = Domain(("a", "b", "c"), (2, 3, 2))
>>> ab = Measurement(("a", "b"), np.array([[10., 20., 30.], [5., 5., 30.]]), sigma=1.0)
>>> bc = Measurement(("b", "c"), np.array([[7., 8.], [12., 13.], [50., 10.]]), sigma=1.0)
>>> model = estimate(domain, [ab, bc])
>>> model.marginal(("b",)).round(1).tolist()
[15.0, 25.0, 60.0]
>>> sample(model, 5, rng=0).shape
(5, 3)
"""

from dpsynth.pgm.estimation import Measurement, estimate, estimate_total, objective
from dpsynth.pgm.factor import CliqueVector, Factor
from dpsynth.pgm.inference import calibrate, marginal
from dpsynth.pgm.junction_tree import (
    DEFAULT_MAX_BYTES,
    JunctionTree,
    check_model_size,
    junction_tree,
    model_fits,
    model_size,
)
from dpsynth.pgm.model import GraphicalModel
from dpsynth.pgm.sampling import iter_samples, sample

__all__ = [
    "DEFAULT_MAX_BYTES",
    "CliqueVector",
    "Factor",
    "GraphicalModel",
    "JunctionTree",
    "Measurement",
    "calibrate",
    "check_model_size",
    "model_fits",
    "estimate",
    "estimate_total",
    "iter_samples",
    "junction_tree",
    "marginal",
    "model_size",
    "objective",
    "sample",
]
