"""A Spark session for the command line and the release job.

Spark is optional (``pip install 'dpsynth[spark]'``) and needs a Java
runtime; both are checked before a session starts, so a missing one is a
one-line :class:`~dpsynth.errors.EngineError`, not a JVM traceback.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path
from typing import Any

from dpsynth.errors import EngineError

INSTALL_HINT = "install the spark extra: pip install 'dpsynth[spark]'; Spark needs Java 17"

#: settings of a session started here; the engine counts naive times as UTC
LOCAL_SETTINGS = {
    "spark.sql.session.timeZone": "UTC",
    "spark.ui.enabled": "false",
    # One distinct-row aggregation per fit: a few partitions suit one machine.
    "spark.sql.shuffle.partitions": str(max(2, min(8, os.cpu_count() or 2))),
}
#: a local session listens on the loopback interface only
LOCAL_ONLY = {"spark.driver.host": "127.0.0.1", "spark.driver.bindAddress": "127.0.0.1"}


def _java_available() -> bool:
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").exists():
        return True
    return shutil.which("java") is not None


def spark_session(master: str | None = None) -> Any:
    """The active Spark session, or a new one with settings fit for dpsynth.

    Parameters
    ----------
    master : str, optional
        Spark master URL (``spark://host:7077``, ``yarn``, ``local[4]``). By
        default the active session is used, else a local one on every core
        (``local[*]``) listening on 127.0.0.1 only.

    Returns
    -------
    pyspark.sql.SparkSession

    Raises
    ------
    EngineError
        If pyspark or Java is missing, or the session cannot start.
    """
    if importlib.util.find_spec("pyspark") is None:
        raise EngineError(f"the Spark engine needs pyspark: {INSTALL_HINT}")
    if not _java_available():
        raise EngineError(f"the Spark engine needs Java, which is not on the PATH nor in JAVA_HOME: {INSTALL_HINT}")
    from pyspark.sql import SparkSession

    if master is None and (active := SparkSession.getActiveSession()) is not None:
        return active
    builder = SparkSession.builder.appName("dpsynth").master(master or "local[*]")
    settings = {**LOCAL_SETTINGS, **(LOCAL_ONLY if master is None else {})}
    for key, value in settings.items():
        builder = builder.config(key, value)
    try:
        return builder.getOrCreate()
    except Exception as exc:  # the JVM's failures arrive as several pyspark/py4j exception types
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise EngineError(f"Spark could not start a session ({first}); {INSTALL_HINT}") from None


__all__ = ["INSTALL_HINT", "spark_session"]
