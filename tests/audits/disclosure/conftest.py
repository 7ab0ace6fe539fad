"""Small real-ish tables for the release-risk tests: a sample of Adult read directly.

``audits`` must not import ``dpsynth``, so the file is read with pandas here.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

ADULT = Path(__file__).resolve().parents[3] / "dpsynth/datasets/data/adult/adult.data.gz"
COLUMNS = [
    "age",
    "workclass",
    "fnlwgt",
    "education",
    "education-num",
    "marital-status",
    "occupation",
    "relationship",
    "race",
    "sex",
    "capital-gain",
    "capital-loss",
    "hours-per-week",
    "native-country",
    "income",
]


@pytest.fixture(scope="session")
def adult() -> pd.DataFrame:
    """3,000 distinct Adult records (with Adult's missing values), shuffled with a fixed seed."""
    frame = pd.read_csv(
        ADULT, header=None, names=COLUMNS, skipinitialspace=True, na_values="?", nrows=4000
    )
    return frame.drop_duplicates().sample(3000, random_state=7).reset_index(drop=True)
