"""Shared helpers for the pgm tests: random small models and brute-force enumeration."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from dpsynth.domain import Domain
from dpsynth.pgm import CliqueVector, Factor


def random_model(
    rng: np.random.Generator, n_attrs: int, n_cliques: int, max_clique: int = 3, scale: float = 1.0
) -> tuple[Domain, CliqueVector]:
    """A random domain (2 to 4 codes per attribute) and random log-potentials."""
    names = tuple(f"x{i}" for i in range(n_attrs))
    domain = Domain(names, tuple(int(s) for s in rng.integers(2, 5, size=n_attrs)))
    factors = {}
    for _ in range(n_cliques):
        k = int(rng.integers(1, max_clique + 1))
        clique = tuple(str(a) for a in rng.choice(names, size=k, replace=False))
        factors[clique] = Factor(clique, scale * rng.normal(size=domain.marginal_shape(clique)))
    return domain, CliqueVector(factors)


def brute_joint(domain: Domain, potentials: CliqueVector) -> np.ndarray:
    """The normalised joint over the whole domain by enumeration (axes in domain order)."""
    log_joint = np.zeros(domain.shape)
    for factor in potentials.values():
        log_joint = log_joint + factor.expand(domain, domain.attributes).values
    joint = np.exp(log_joint - log_joint.max())
    return joint / joint.sum()


def brute_marginal(domain: Domain, joint: np.ndarray, attributes: tuple[str, ...]) -> np.ndarray:
    """Marginal of the enumerated joint, axes in the order of ``attributes``."""
    drop = tuple(i for i, a in enumerate(domain.attributes) if a not in attributes)
    table = joint.sum(axis=drop)
    kept = [a for a in domain.attributes if a in attributes]
    return np.transpose(table, [kept.index(a) for a in attributes])


def attribute_subsets(domain: Domain, max_size: int = 3):
    """Every ordered subset of up to ``max_size`` attributes, in one reversed order too."""
    for k in range(1, max_size + 1):
        for subset in itertools.combinations(domain.attributes, k):
            yield subset
            yield subset[::-1]


class Helpers:
    random_model = staticmethod(random_model)
    brute_joint = staticmethod(brute_joint)
    brute_marginal = staticmethod(brute_marginal)
    attribute_subsets = staticmethod(attribute_subsets)


@pytest.fixture
def helpers() -> type[Helpers]:
    return Helpers
