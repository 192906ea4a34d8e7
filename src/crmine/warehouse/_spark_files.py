"""A Spark workspace across processes: its tables are folders of Parquet files under
``<workspace>/spark/``; the local Spark catalog lives in memory and forgets them when the process
ends. On connect, :func:`reattach` registers every table folder a previous process left, after
finishing (or undoing) what a process killed half-way through a swap or a transaction left:

- ``_crmine_journal/`` (a transaction was being swapped in): each table it lists takes the folder
  of its private copy, which is whole (the journal is written only once every copy is); a journal
  without Spark's ``_SUCCESS`` marker was itself cut short, so the transaction never committed;
- ``_<name>_old/`` without ``<name>/`` (a kill between the two moves of a swap): the staged folder
  is whole and takes the name; with no staged folder the old one returns;
- any other folder whose name starts with ``_`` is a dead process's scratch or an unfinished copy,
  and is deleted.

Folders are moved with ``os.replace`` / ``os.rename``, atomic on a local file system. Only folders
whose table the catalog does not know are touched, so a process never disturbs its own tables.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

__all__ = ["JOURNAL", "SCHEMA_FILE", "reattach", "replace_folder", "write_schema"]

JOURNAL = "_crmine_journal"
# Beside a table's data: its Spark schema, so that registering it reads no file (Spark would infer
# the schema with a job per table) and an empty table, which has no file, keeps its columns.
# (Spark's readers skip files whose names start with "_".)
SCHEMA_FILE = "_crmine_schema.json"
_STAGED = ("staging", "widened")


def write_schema(folder: Path, schema: Any) -> None:
    """Record a Spark StructType next to a table's data, for a table that has no file yet."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / SCHEMA_FILE).write_text(schema.json(), encoding="utf-8")


def replace_folder(location: Path, name: str, copy: str) -> None:
    """Give table ``name`` the folder ``copy`` (or none, when ``copy`` is empty): idempotent, so a
    journal replayed twice does no harm."""
    target, aside = location / name, location / f"_{name}_old"
    if not copy:
        if target.exists():
            shutil.rmtree(target)
        return
    source = location / copy
    if not source.exists():  # moved already
        shutil.rmtree(aside, ignore_errors=True)
        return
    if target.exists():
        shutil.rmtree(aside, ignore_errors=True)
        os.rename(target, aside)
    os.rename(source, target)
    shutil.rmtree(aside, ignore_errors=True)


def _complete(folder: Path) -> bool:
    return (folder / "_SUCCESS").exists() or (folder / SCHEMA_FILE).exists()


def _has_data(folder: Path) -> bool:
    return any(p.is_file() and not p.name.startswith(("_", ".")) for p in folder.iterdir())


def reattach(session: Any, database: str, location: Path) -> list[str]:
    """Repair what a killed process left under ``location`` and register its tables; returns the
    tables registered."""
    if not location.exists():
        return []
    known = {t.name for t in session.catalog.listTables(database) if not t.isTemporary}
    folders = {p.name: p for p in location.iterdir() if p.is_dir()}
    journal = folders.get(JOURNAL)
    if journal is not None and JOURNAL not in known:
        if (journal / "_SUCCESS").exists():  # written whole: the transaction had committed
            for row in session.read.parquet(str(journal)).collect():
                if row["name"] not in known:
                    replace_folder(location, row["name"], row["copy"])
        shutil.rmtree(journal, ignore_errors=True)
        folders = {p.name: p for p in location.iterdir() if p.is_dir()}
    for folder in sorted(folders):
        if not (folder.startswith("_") and folder.endswith("_old")) or folder in known:
            continue
        name = folder[1:-len("_old")]
        if name in known or (location / name).exists():
            continue
        staged = next((f"_{name}_{k}" for k in _STAGED
                       if f"_{name}_{k}" not in known and (location / f"_{name}_{k}").exists()
                       and _complete(location / f"_{name}_{k}")), None)
        os.rename(location / (staged or folder), location / name)
    registered = []
    for folder in sorted(p for p in location.iterdir() if p.is_dir()):
        if folder.name in known:
            continue
        if folder.name.startswith("_"):
            shutil.rmtree(folder, ignore_errors=True)
            continue
        if not _complete(folder) and not _has_data(folder):
            continue  # a folder a killed write left without any file: nothing to keep
        _register(session, database, folder)
        registered.append(folder.name)
    return registered


def _register(session: Any, database: str, folder: Path) -> None:
    from pyspark.sql.types import StructType

    schema = None
    if (folder / SCHEMA_FILE).exists():
        schema = StructType.fromJson(json.loads((folder / SCHEMA_FILE).read_text(encoding="utf-8")))
    session.catalog.createTable(f"{database}.{folder.name}", path=folder.as_uri(), source="parquet",
                                schema=schema)
