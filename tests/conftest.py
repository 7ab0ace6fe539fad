"""Fixtures the whole suite shares."""

from __future__ import annotations

import os
import shutil
import sys

import pytest


@pytest.fixture(scope="session")
def spark():
    """A local Spark session of one core (skips without pyspark or Java)."""
    pytest.importorskip("pyspark", reason="pyspark is not installed (pip install 'dpsynth[spark]')")
    if shutil.which("java") is None:
        pytest.skip("Spark needs Java, which is not on the PATH")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # Python workers need dpsynth
    from pyspark.sql import SparkSession

    return (SparkSession.builder.master("local[1]").appName("dpsynth-tests")
            .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "1")
            .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
            .getOrCreate())
