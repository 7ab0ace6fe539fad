import numpy as np
import pandas as pd
import pytest

from dpsynth.schema import ColumnKind, ColumnSpec, Schema


@pytest.fixture(scope="session")
def correlated():
    """A small mixed-type table with strong dependencies, and its public schema."""
    rng = np.random.default_rng(42)
    n = 3000
    a = rng.integers(0, 3, n)
    b = (a + (rng.random(n) < 0.1)) % 3  # b follows a
    c = np.where(rng.random(n) < 0.85, b == 2, rng.random(n) < 0.5)  # c follows b
    age = np.clip(20 + 15 * a + rng.integers(0, 10, n), 18, 90)
    city = np.array(["north", "south", "east"], dtype=object)[b]
    city[rng.random(n) < 0.05] = None
    df = pd.DataFrame(
        {
            "a": pd.Series(np.array(["x", "y", "z"])[a], dtype="string"),
            "b": b.astype("int64"),
            "c": c.astype(bool),
            "age": age.astype("int64"),
            "city": city,
        }
    )
    schema = Schema(
        (
            ColumnSpec("a", ColumnKind.CATEGORICAL, categories=("x", "y", "z")),
            ColumnSpec("b", ColumnKind.INTEGER, lower=0, upper=2, bins=3),
            ColumnSpec("c", ColumnKind.BOOLEAN),
            ColumnSpec("age", ColumnKind.INTEGER, lower=18, upper=90, bins=8),
            ColumnSpec("city", ColumnKind.CATEGORICAL, categories=("north", "south", "east"), nullable=True),
        )
    )
    return df, schema
