"""The warehouse: the one place where Ibis expressions are executed.

Everything else in crmine builds expressions; a :class:`Warehouse` runs them on DuckDB (an embedded
file, the default) or on PySpark (``engine="spark"``). The few places where the engines differ sit
in :mod:`crmine.warehouse._engines`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import ibis
import pandas as pd
import pyarrow as pa

from crmine.errors import DependencyError, EngineError, SettingsError
from crmine.schema import TABLES
from crmine.warehouse import _engines, _spark_files

__all__ = ["ENGINES", "Warehouse", "connect"]

ENGINES = ("duckdb", "spark")
# Spark: the tables a committing transaction is swapping in (see Warehouse._commit).
_JOURNAL = "_crmine_journal"


class Warehouse:
    """A connection to the warehouse of one workspace.

    Parameters
    ----------
    con
        The Ibis backend.
    engine
        ``"duckdb"`` or ``"spark"``.
    path
        The database file or Spark warehouse folder, or None when in memory.
    """

    def __init__(self, con: Any, *, engine: str, path: Path | None) -> None:
        self.con = con
        self.engine = engine
        self.path = path
        self._in_transaction = False
        # Spark, inside a transaction: table -> the private copy that replaces it at commit (None:
        # dropped at commit). Reads inside the transaction see the copies; others see nothing yet.
        self._staged: dict[str, str | None] | None = None
        # Spark: the folder holding the tables' files (None in memory). Tables a previous process
        # wrote are registered as external tables over their folders (see _spark_files).
        self._spark_location: Path | None = None

    def __repr__(self) -> str:
        return f"Warehouse(engine={self.engine!r}, path={str(self.path) if self.path else None!r})"

    # -- reading -------------------------------------------------------------------------------
    def has_table(self, name: str) -> bool:
        if self._staged is not None and name in self._staged:
            return self._staged[name] is not None
        return name in self.con.list_tables()

    def table(self, name: str) -> ibis.Table:
        """The table ``name`` as an Ibis expression (nothing runs until it is executed)."""
        if self._staged is not None and self._staged.get(name) is not None:
            return self.con.table(self._staged[name])
        if not self.has_table(name):
            hint = (
                "Run `crmine ingest DIR` to load the sources."
                if name in TABLES
                else "Run the step that builds it first."
            )
            raise EngineError(f"Table {name!r} does not exist in the warehouse yet. {hint}")
        return self.con.table(name)

    def execute(self, expr: ibis.Expr, *, what: str = "query") -> pd.DataFrame | Any:
        """Run ``expr`` and return a DataFrame (or scalar); engine errors name ``what`` and the SQL."""
        with self._wrapped(expr, what):
            return self.con.execute(expr)

    def to_pyarrow(self, expr: ibis.Expr, *, what: str = "query") -> pa.Table:
        with self._wrapped(expr, what):
            return self.con.to_pyarrow(expr)

    def count(self, name_or_expr: str | ibis.Table) -> int:
        expr = self.table(name_or_expr) if isinstance(name_or_expr, str) else name_or_expr
        return int(self.execute(expr.count(), what="count"))

    # -- writing -------------------------------------------------------------------------------
    def write(self, name: str, obj: pd.DataFrame | pa.Table | ibis.Table, *, overwrite: bool = True) -> None:
        """Create (or replace) table ``name`` from a frame, an Arrow table or an expression.

        Never half a table: on DuckDB the replacement is one transaction (or part of the caller's),
        so readers and a process killed half-way see the old table or the new one. On Spark the rows
        go to a staging table that then takes the name (:meth:`_swap`): a failure while they are
        written leaves the old table, and a kill during the swap is repaired on the next connect.
        """
        with self._wrapped(obj if isinstance(obj, ibis.Expr) else None, f"write {name}"):
            if isinstance(obj, pd.DataFrame | pa.Table):
                obj = self.frame(obj)
            if self._staging(name):
                if not overwrite and self.has_table(name):
                    raise EngineError(f"Table {name!r} exists already.")
                self._stage(name, obj)
                return
            if self.engine == "duckdb" or not overwrite:
                with self.transaction():
                    self.con.create_table(name, obj, overwrite=overwrite)
                self._remember_schema(name)
                return
            staging = f"_{name}_staging"
            try:
                self.con.create_table(staging, obj, overwrite=True)
                self._remember_schema(staging)
            except BaseException:
                with contextlib.suppress(Exception):
                    self.drop(staging)
                raise
            self._swap(staging, name)

    # -- Spark transactions: private copies, a journal, then swaps --------------------------------
    # Scratch tables (names starting with "_") are the caller's own and are written directly.
    def _staging(self, name: str) -> bool:
        return self._staged is not None and not name.startswith("_")

    def _stage(self, name: str, obj: ibis.Table | None, schema: ibis.Schema | None = None) -> None:
        """Write the transaction's copy of ``name`` (from ``obj``, which may read the previous copy)."""
        before = self._staged.get(name)
        copy = f"_{name}_txn{2 if before == f'_{name}_txn1' else 1}"
        try:
            if obj is None:
                self.con.create_table(copy, schema=schema, overwrite=True)
            else:
                self.con.create_table(copy, obj, overwrite=True)
            self._remember_schema(copy)
        except BaseException:
            with contextlib.suppress(Exception):
                self.con.drop_table(copy)
            raise
        self._staged[name] = copy
        if before is not None:
            self.con.drop_table(before)

    def _commit(self, staged: dict[str, str | None]) -> None:
        """Record the copies in a journal table, then swap them in: a kill after the journal is
        written is finished by :meth:`recover_swaps`, one before it leaves every table as it was."""
        if not staged:
            return
        journal = pd.DataFrame({"name": list(staged), "copy": [c or "" for c in staged.values()]})
        self.con.create_table(_JOURNAL, self.frame(journal), overwrite=True)
        self._replay(journal)

    def _replay(self, journal: pd.DataFrame) -> None:
        tables = set(self.con.list_tables())
        for name, copy in zip(journal["name"], journal["copy"], strict=True):
            if not copy:
                if name in tables:
                    self._drop_physical(name)
            elif copy in tables:  # else swapped in before the kill
                self._swap(copy, name)
        self.con.drop_table(_JOURNAL)

    def _rollback(self, staged: dict[str, str | None]) -> None:
        for copy in staged.values():
            if copy is not None:
                with contextlib.suppress(Exception):
                    self.con.drop_table(copy)

    # Spark has no transactions: a table is replaced by renaming. The old table is first renamed
    # aside, so at every moment either ``name`` or ``_<name>_old`` holds a whole table.
    def _swap(self, staging: str, name: str) -> None:
        """Give the whole table ``staging`` the name ``name`` (Spark), keeping no half state."""
        old = f"_{name}_old"
        self._drop_physical(old)
        if self.has_table(name):
            if self._external(name):  # a catalog rename would leave its files under the name
                self.con.drop_table(name)
                os.rename(self._spark_location / name, self._spark_location / old)
            else:
                self.con.rename_table(name, old)
        self.con.rename_table(staging, name)  # a kill just before this: see recover_swaps
        self._drop_physical(old)

    def _external(self, name: str) -> bool:
        """Whether Spark table ``name`` was registered over a folder left by an earlier process."""
        if self._spark_location is None:
            return False
        try:
            return self.con._session.catalog.getTable(name).tableType == "EXTERNAL"
        except Exception:  # no such table
            return False

    def _drop_physical(self, name: str) -> None:
        """Drop table ``name`` now, files included (an external table's are not Spark's to delete)."""
        if name in self.con.list_tables():
            external = self._external(name)
            self.con.drop_table(name)
            if not external:
                return
        if self._spark_location is not None and (self._spark_location / name).is_dir():
            shutil.rmtree(self._spark_location / name)

    def recover_swaps(self) -> list[str]:
        """Finish or undo swaps a killed process left (Spark); returns the tables repaired.

        ``_<name>_old`` without ``name``: the kill fell between the two renames of :meth:`_swap`, so
        the staging table is whole and takes the name (or, if it is gone, the old table returns).
        ``_<name>_old`` or ``_<name>_staging``/``_widened`` beside ``name``: leftovers, dropped.
        """
        if self.engine != "spark":
            return []
        repaired = []
        if _JOURNAL in self.con.list_tables():  # a transaction died while it was being applied
            journal = self.execute(self.con.table(_JOURNAL), what="read the transaction journal")
            self._replay(journal)
            repaired += [n for n in journal["name"]]
        tables = set(self.con.list_tables())
        for t in sorted(tables):  # copies of a transaction that never committed
            if t.startswith("_") and t.endswith(("_txn1", "_txn2")):
                self.con.drop_table(t)
        for t in sorted(tables):
            if not (t.startswith("_") and t.endswith("_old")):
                continue
            name = t[1:-len("_old")]
            if name not in tables:
                spare = next((f"_{name}_{k}" for k in ("staging", "widened") if f"_{name}_{k}" in tables), None)
                self.con.rename_table(spare or t, name)
                repaired.append(name)
            self.drop(t)
        for t in sorted(tables):
            for suffix in ("_staging", "_widened"):
                if t.startswith("_") and t.endswith(suffix) and t[1:-len(suffix)] in tables:
                    self.drop(t)
        return repaired

    def materialize(self, name: str, expr: ibis.Table) -> ibis.Table:
        """Compute ``expr`` once into a scratch table (temporary on DuckDB) and return that table."""
        with self._wrapped(expr, f"compute {name}"):
            self.con.create_table(name, expr, temp=self.engine == "duckdb", overwrite=True)
            return self.con.table(name)

    def frame(self, data: pd.DataFrame | pa.Table) -> ibis.Table:
        """Local data as a table expression on this engine (nothing is written)."""
        return _engines.frame(self, data)

    def insert(self, name: str, expr: ibis.Table | pd.DataFrame | pa.Table) -> None:
        """Append the rows of ``expr`` (or of a frame) to table ``name``."""
        if not isinstance(expr, ibis.Expr):
            expr = self.frame(expr)
        with self._wrapped(expr, f"insert into {name}"):
            if not self._staging(name):
                self.con.insert(name, expr)
            elif self._staged.get(name) is not None:  # the transaction's own copy: append to it
                self.con.insert(self._staged[name], expr)
            else:
                table = self.table(name)
                rows = expr.select(*[expr[c].cast(table[c].type()) for c in table.columns])
                self._stage(name, table.union(rows, distinct=False))

    def add_columns(self, name: str, columns: Mapping[str, Any]) -> None:
        """Add ``columns`` (name -> Ibis type), null in the existing rows, to table ``name``."""
        if not columns:
            return
        with self._wrapped(None, f"add columns to {name}"):
            if self.engine == "duckdb":
                from ibis.backends.sql.datatypes import DuckDBType

                table = name.replace('"', '""')
                for col, dtype in columns.items():
                    quoted = col.replace('"', '""')  # a column name may be any text
                    self.con.con.execute(
                        f'ALTER TABLE "{table}" ADD COLUMN "{quoted}" {DuckDBType.to_string(ibis.dtype(dtype))}'
                    )
                return
            # Spark cannot alter a table it is reading: the widened copy is written beside it.
            widened = self.table(name).mutate(**{c: ibis.null().cast(t) for c, t in columns.items()})
            if self._staging(name):
                self._stage(name, widened)
                return
            self.con.create_table(f"_{name}_widened", widened, overwrite=True)
            self._remember_schema(f"_{name}_widened")
            self._swap(f"_{name}_widened", name)

    def delete(self, name: str, keys: ibis.Table, key: Sequence[str]) -> None:
        """Remove the rows of table ``name`` whose ``key`` columns match a row of ``keys``.

        Keys match when equal or both null. On DuckDB one DELETE inside the caller's transaction
        (or its own); on Spark, which cannot delete from a plain table, the kept rows are written
        to a staging table that then takes the name.
        """
        self.upsert(name, None, key, keys=keys)

    def upsert(self, name: str, rows: ibis.Table | pd.DataFrame | pa.Table | None, key: Sequence[str], *,
               keys: ibis.Table | None = None) -> None:
        """Replace the rows of ``name`` that share a ``key`` with ``rows``, and add the new ones.

        ``keys`` (default: the keys of ``rows``) are the keys whose stored rows go; ``rows`` may be
        None to delete only. Everything happens together: one transaction on DuckDB, a staging
        table and a swap on Spark, so a failure leaves the table as it was.
        """
        if rows is not None and not isinstance(rows, ibis.Expr):
            rows = self.frame(rows)
        gone = (keys if keys is not None else rows).select(*key)
        columns = self.table(name).columns
        with self._wrapped(None, f"update {name}"):
            if self.engine == "duckdb":
                # Both computed before the delete: ``rows`` may read the very rows it replaces.
                scratch, fresh = f"_{name}_keys", f"_{name}_rows"
                self.con.create_table(scratch, gone.distinct(), temp=True, overwrite=True)
                if rows is not None:
                    self.con.create_table(fresh, rows.select(*columns), temp=True, overwrite=True)
                match = " AND ".join(f"t.{_quoted(k)} IS NOT DISTINCT FROM k.{_quoted(k)}" for k in key)
                with self.transaction():
                    self.con.con.execute(f"DELETE FROM {_quoted(name)} t WHERE EXISTS "
                                         f"(SELECT 1 FROM {_quoted(scratch)} k WHERE {match})")
                    if rows is not None:
                        self.con.insert(name, self.con.table(fresh))
                for t in (scratch, fresh):
                    with contextlib.suppress(Exception):
                        self.con.drop_table(t)
                return
            table = self.table(name)
            kept = table.anti_join(gone, [table[k].identical_to(gone[k]) for k in key])
            if rows is not None:
                kept = kept.union(rows.select(*[rows[c].cast(table[c].type()) for c in columns]))
        self.write(name, kept)

    def create_empty(self, name: str, schema: ibis.Schema) -> None:
        """Create table ``name`` with ``schema`` unless it already exists."""
        if not self.has_table(name):
            with self._wrapped(None, f"create {name}"):
                if self._staging(name):
                    self._stage(name, None, schema)
                else:
                    self.con.create_table(name, schema=schema)
                    self._remember_schema(name)

    def _remember_schema(self, name: str) -> None:
        """Spark: keep the table's schema in its folder, so that the next process registers it without
        reading its files (and an empty table, which has none, keeps its columns)."""
        if self.engine == "spark" and self._spark_location is not None:
            _spark_files.write_schema(self._spark_location / name, self.con._session.table(name).schema)

    def drop(self, name: str) -> None:
        if self._staging(name):
            if self._staged.get(name) is not None:
                self.con.drop_table(self._staged[name])
            self._staged[name] = None
            return
        self._drop_physical(name)  # checks that the table exists: listing tables once, not twice

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """All writes inside happen together or not at all.

        DuckDB: one database transaction. Spark: each table written inside gets a private copy
        (reads inside see it); at the end a journal lists the copies and they are swapped in, so a
        failure before the journal leaves every table as it was, and a kill while swapping is
        finished on the next connect (:meth:`recover_swaps`).

        A transaction inside another joins it: the outer one commits or rolls back both.
        """
        if self._in_transaction:
            yield
            return
        self._in_transaction = True
        try:
            if self.engine == "spark":
                self._staged = {}
                try:
                    yield
                except BaseException:
                    staged, self._staged = self._staged, None
                    self._rollback(staged)
                    raise
                staged, self._staged = self._staged, None
                self._commit(staged)
            else:
                with _engines.transaction(self):
                    yield
        finally:
            self._in_transaction = False
            self._staged = None

    def close(self) -> None:
        # The Spark session is shared by every workspace in the process; stopping it would break
        # the others, so only DuckDB connections are closed.
        if self.engine == "duckdb":
            with contextlib.suppress(Exception):
                self.con.disconnect()

    # -- engine-specific access, kept here so callers never branch on the engine themselves --------
    @property
    def duckdb(self) -> Any:
        """The raw DuckDB connection (DuckDB engine only)."""
        if self.engine != "duckdb":
            raise EngineError(f"This step needs the DuckDB engine; the workspace uses {self.engine!r}.")
        return self.con.con

    @contextlib.contextmanager
    def _wrapped(self, expr: ibis.Expr | None, what: str) -> Iterator[None]:
        try:
            yield
        except (EngineError, SettingsError):
            raise
        except Exception as e:  # the engines raise many unrelated types
            sql = ""
            if expr is not None:
                with contextlib.suppress(Exception):
                    sql = f"\nSQL:\n{ibis.to_sql(expr, dialect=self.con.name)}"
            raise EngineError(f"{self.engine} failed to {what}: {type(e).__name__}: {e}{sql}") from e


def _quoted(name: str) -> str:
    """A SQL identifier, quoted (any text may be a column name)."""
    return '"' + name.replace('"', '""') + '"'


def connect(path: str | os.PathLike | None = None, *, engine: str = "duckdb") -> Warehouse:
    """Open the warehouse at ``path`` (a DuckDB file, or a Spark warehouse folder).

    Parameters
    ----------
    path
        File (DuckDB) or folder (Spark); None keeps everything in memory.
    engine
        ``"duckdb"`` (default) or ``"spark"`` (needs ``pip install 'crmine[spark]'`` and Java 17).

    Examples
    --------
    >>> wh = connect()
    >>> wh.write("t", __import__("pandas").DataFrame({"a": [1, 2, 3]}))
    >>> wh.count("t")
    3
    """
    if engine not in ENGINES:
        raise SettingsError(f"Unknown engine {engine!r}; choose one of {', '.join(ENGINES)}.")
    p = Path(path) if path is not None else None
    if engine == "duckdb":
        con = _engines.duckdb_connect(p)
        # Bounded memory: large loads spill to disk instead of growing the process without limit.
        con.con.execute("SET memory_limit = ?", [os.environ.get("CRMINE_DUCKDB_MEMORY", "1500MB")])
        con.con.execute("SET enable_progress_bar = false")
        return Warehouse(con, engine="duckdb", path=p)
    try:
        import pyspark  # noqa: F401
    except ImportError as e:
        raise DependencyError(
            "The Spark engine needs PySpark: pip install 'crmine[spark]' (and Java 17)."
        ) from e
    session = _engines.spark_session(p)
    wh = Warehouse(ibis.pyspark.connect(session), engine="spark", path=p)
    if p is not None:  # the tables a previous process left (the local catalog lives in memory)
        database, wh._spark_location = _engines.spark_database(p)
        _spark_files.reattach(session, database, wh._spark_location)
    wh.recover_swaps()
    return wh
