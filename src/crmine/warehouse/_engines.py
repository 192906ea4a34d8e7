"""The few things DuckDB and Spark do differently, in one place."""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from crmine.warehouse._warehouse import Warehouse

_SPARK = None


@contextlib.contextmanager
def transaction(wh: Warehouse) -> Iterator[None]:
    if wh.engine != "duckdb":
        # Spark tables are files; a failed step leaves at worst a staging table, never a half table,
        # because loads write staging first and then append in one statement.
        yield
        return
    raw = wh.con.con
    raw.execute("BEGIN TRANSACTION")
    try:
        yield
    except BaseException:
        raw.execute("ROLLBACK")
        raise
    raw.execute("COMMIT")


def spark_session(path: Path | None) -> Any:
    """One local Spark session per process, configured for small CI machines, using a database
    stored under ``path``."""
    global _SPARK
    from pyspark.sql import SparkSession

    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    if _SPARK is None:
        _SPARK = (
            SparkSession.builder.master(os.environ.get("CRMINE_SPARK_MASTER", "local[2]"))
            .appName("crmine")
            .config("spark.sql.shuffle.partitions", "4")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.driver.memory", "2g")
            .config("spark.sql.ansi.enabled", "true")
            .getOrCreate()
        )
        _SPARK.sparkContext.setLogLevel("ERROR")
    if path is not None:
        # Each workspace gets its own database whose files live inside the workspace.
        name = "crmine_" + hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:12]
        location = (path / "spark").resolve()
        _SPARK.sql(f"CREATE DATABASE IF NOT EXISTS {name} LOCATION '{location.as_uri()}'")
        _SPARK.catalog.setCurrentDatabase(name)
    return _SPARK
