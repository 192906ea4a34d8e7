"""The few things DuckDB and Spark do differently, in one place."""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ibis

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


# How long a command waits for another crmine process to release the workspace before giving up
# (seconds; CRMINE_LOCK_WAIT overrides).
LOCK_WAIT_SECONDS = 10.0


def duckdb_connect(path: Path | None, *, wait: float | None = None) -> Any:
    """An Ibis DuckDB connection; waits up to ``wait`` seconds while another process holds the file.

    DuckDB lets one process at a time open a database file for writing. A second crmine command
    (a `status` while `run` works) waits a little, then says which process holds the workspace.
    """
    import time

    import duckdb

    from crmine.errors import WorkspaceError

    if wait is None:
        wait = float(os.environ.get("CRMINE_LOCK_WAIT", LOCK_WAIT_SECONDS))
    deadline, pause = time.monotonic() + wait, 0.1
    while True:
        try:
            return ibis.duckdb.connect(str(path) if path else ":memory:")
        except duckdb.IOException as e:
            if "lock" not in str(e).lower():
                raise
            if time.monotonic() >= deadline:
                holder = re.search(r"PID (\d+)", str(e))
                who = f"process {holder.group(1)}" if holder else "another process"
                raise WorkspaceError(
                    f"The workspace {path.parent} is in use by {who} (another crmine command, or Python "
                    f"with it open); waited {wait:.0f} s. Wait for it to finish or stop it, then retry "
                    "(CRMINE_LOCK_WAIT sets the wait in seconds).") from None
            time.sleep(pause)
            pause = min(pause * 2, 1.0)


def spark_database(path: Path) -> tuple[str, Path]:
    """The Spark database of the workspace warehouse at ``path``, and the folder of its tables."""
    return "crmine_" + hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:12], (path / "spark").resolve()


def spark_session(path: Path | None) -> Any:
    """One local Spark session per process, configured for small CI machines, using a database
    stored under ``path``."""
    global _SPARK
    from pyspark.sql import SparkSession

    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    if _SPARK is not None and _SPARK.sparkContext._jsc is None:  # stopped by someone else
        _SPARK = None
    if _SPARK is None:
        _SPARK = (
            SparkSession.builder.master(os.environ.get("CRMINE_SPARK_MASTER", "local[2]"))
            .appName("crmine")
            .config("spark.sql.shuffle.partitions", "4")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.driver.memory", "2g")
            .config("spark.sql.ansi.enabled", "true")
            .getOrCreate()
        )
        _SPARK.sparkContext.setLogLevel("ERROR")
    if path is not None:
        # Each workspace gets its own database whose files live inside the workspace.
        name, location = spark_database(path)
        _SPARK.sql(f"CREATE DATABASE IF NOT EXISTS {name} LOCATION '{location.as_uri()}'")
        _SPARK.catalog.setCurrentDatabase(name)
    return _SPARK


# -- Parsing timestamps with a user's strptime format, never failing on a bad value -----------------
_JAVA = {"%Y": "yyyy", "%y": "yy", "%m": "MM", "%d": "dd", "%H": "HH", "%I": "hh", "%M": "mm",
         "%S": "ss", "%f": "SSSSSS", "%b": "MMM", "%B": "MMMM", "%p": "a", "%j": "DDD", "%%": "%"}


def _strptime_to_java(fmt: str) -> str:
    out, i = [], 0
    while i < len(fmt):
        tok = fmt[i : i + 2]
        if tok in _JAVA:
            out.append(_JAVA[tok])
            i += 2
        elif fmt[i].isalpha():
            out.append(f"'{fmt[i]}'")
            i += 1
        else:
            out.append(fmt[i])
            i += 1
    return "".join(out)


def _duckdb_try_strptime():
    import ibis.expr.datatypes as dt

    @ibis.udf.scalar.builtin(name="try_strptime", signature=((dt.string, dt.string), dt.timestamp))
    def try_strptime(value, fmt): ...

    return try_strptime


def _spark_try_to_timestamp():
    import ibis.expr.datatypes as dt

    @ibis.udf.scalar.builtin(name="try_to_timestamp", signature=((dt.string, dt.string), dt.timestamp))
    def try_to_timestamp(value, fmt): ...

    return try_to_timestamp


def parse_timestamp(value, fmt: str, engine: str):
    """``value`` parsed with strptime ``fmt``; null where it does not parse (both engines)."""
    if engine == "duckdb":
        return _duckdb_try_strptime()(value, fmt)
    return _spark_try_to_timestamp()(value, _strptime_to_java(fmt))


def frame(wh: Warehouse, data) -> ibis.Table:
    """A pandas frame or Arrow table as a table expression of ``wh``'s engine, nulls intact.

    (Ibis' memtable goes through pandas on Spark, where a missing string becomes the text 'NaN'.)
    """
    import pandas as pd
    import pyarrow as pa

    if isinstance(data, pd.DataFrame):
        data = pa.Table.from_pandas(data, preserve_index=False)
    # An empty or all-missing text column arrives with Arrow's null type, which no engine can store.
    data = data.cast(pa.schema([
        f.with_type(pa.string()) if pa.types.is_null(f.type) else f for f in data.schema
    ]))
    if wh.engine == "duckdb":
        return ibis.memtable(data)
    session = wh.con._session
    name = f"_crmine_frame_{next(_FRAME_IDS)}"
    if data.num_rows == 0:
        # Spark cannot build a frame from an empty Arrow table with nothing to infer; give it a schema.
        from ibis.backends.pyspark.datatypes import PySparkSchema

        df = session.createDataFrame([], PySparkSchema.from_ibis(ibis.Schema.from_pyarrow(data.schema)))
    else:
        df = session.createDataFrame(data)
    df.createOrReplaceTempView(name)
    return wh.con.table(name)


_FRAME_IDS = itertools.count()


def strip(value, engine: str):
    """``value`` without leading and trailing white space.

    On Spark, Ibis' TRIM lists the characters to remove in a literal whose ``\\f`` Spark reads as
    the letter f, so "false" would lose its f; a regular expression avoids that.
    """
    if engine == "duckdb":
        return value.strip()
    return value.re_replace(r"^\s+|\s+$", "")
