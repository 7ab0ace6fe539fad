"""Shared fixtures of the release evaluation tests: a small Adult sample."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dpsynth.datasets import adult_schema, load_adult


@pytest.fixture(scope="session")
def adult_real() -> pd.DataFrame:
    """3,000 training rows of Adult (the downstream models stay fast)."""
    return load_adult("train").sample(3000, random_state=0).reset_index(drop=True)


@pytest.fixture(scope="session")
def adult_holdout() -> pd.DataFrame:
    """1,500 rows of Adult's test split, never used for training."""
    return load_adult("test").sample(1500, random_state=0).reset_index(drop=True)


@pytest.fixture(scope="session")
def adult_shuffled(adult_real: pd.DataFrame) -> pd.DataFrame:
    """Each column permuted independently: every 1-way marginal kept, every dependence broken."""
    rng = np.random.default_rng(1)
    out = pd.DataFrame(
        {c: adult_real[c].to_numpy()[rng.permutation(len(adult_real))] for c in adult_real.columns}
    )
    return out.astype(adult_real.dtypes.to_dict())


@pytest.fixture(scope="session")
def schema():
    return adult_schema()


@pytest.fixture(scope="session", autouse=True)
def one_openmp_thread():
    """Gradient boosting on one OpenMP thread: on a shared, loaded machine more threads
    than free cores make it tens of times slower, and CI already runs tests in parallel."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="openmp"):
        yield
