"""Apply one load's rows to a canonical table: insert new keys, update changed rows, remove what a
snapshot no longer holds, and keep every version in the table's history.

The history (``<table>_history``) holds each version of a row with ``valid_from`` / ``valid_to``
(null while current), the ``load_id`` that brought it and the ``change`` ("insert", "update",
"remove"), so the table as it stood at any moment can be rebuilt (:func:`as_it_was`). Rows loaded
before history was kept get a version with a null ``valid_from`` the first time they change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import ibis
import pandas as pd

from crmine.schema import TABLES, Table
from crmine.settings import SourceSettings
from crmine.warehouse import Warehouse

__all__ = ["HISTORY_COLUMNS", "Changes", "apply_changes", "as_it_was", "history_name", "history_schema"]

HISTORY_COLUMNS = {"valid_from": "timestamp", "valid_to": "timestamp", "load_id": "int64", "change": "string"}


@dataclass(frozen=True)
class Changes:
    inserted: int
    updated: int
    removed: int


def history_name(table: str) -> str:
    return f"{table}_history"


def history_schema(canon: Table) -> ibis.Schema:
    return ibis.schema({**{c.name: c.dtype for c in canon.columns}, **HISTORY_COLUMNS})


def apply_changes(wh: Warehouse, source: SourceSettings, checked: ibis.Table, provided: list[str], *,
                  load_id: int, at: datetime, source_loads: list[int]) -> Changes:
    """Write the good rows of ``checked`` (which carry ``_change``) to their table and its history.

    ``provided`` are the columns the source fills: an update takes those from the new row and
    keeps the stored values of the others. ``source_loads`` are the earlier loads of this source,
    whose rows a snapshot may remove. Runs inside the caller's transaction.
    """
    table = source.table
    key = list(source.row_key)
    target = wh.table(table)
    columns = target.columns
    good = checked.filter(checked._reason.isnull())
    stamp = {"valid_from": ibis.literal(at), "valid_to": ibis.null().cast("timestamp"),
             "load_id": ibis.literal(load_id, "int64")}

    new = good.filter(good._change == "insert").select(*[_cast(good, c, target) for c in columns])
    wh.insert(table, new)
    _keep(wh, table, new.mutate(**stamp, change=ibis.literal("insert")))
    inserted = wh.count(new)

    changed = good.filter(good._change == "update")
    updated = wh.count(changed)
    if updated:
        stored = target.select(**{f"_s_{c}": target[c] for c in columns})
        joined = changed.join(stored, [changed[k].identical_to(stored[f"_s_{k}"]) for k in key])
        merged = joined.select(*[(joined[c] if c in provided else joined[f"_s_{c}"]).cast(target[c].type()).name(c)
                                 for c in columns])
        merged = wh.materialize(f"_merged_{source.name}", merged)  # read after the stored rows change
        _close(wh, table, merged.select(*key), key, at)
        wh.upsert(table, merged, key)
        _keep(wh, table, merged.mutate(**stamp, change=ibis.literal("update")))
        wh.drop(f"_merged_{source.name}")

    removed = 0
    if source.mode == "snapshot" and source_loads:
        hist = wh.table(history_name(table))
        mine = hist.filter(hist.valid_to.isnull() & hist.load_id.isin(source_loads)).select(*key)
        in_file = checked.select(*key)
        gone = mine.anti_join(in_file, [mine[k].identical_to(in_file[k]) for k in key])
        gone = wh.materialize(f"_gone_{source.name}", gone.distinct())
        removed = wh.count(gone)
        if removed:
            rows = target.semi_join(gone, [target[k].identical_to(gone[k]) for k in key])
            rows = wh.materialize(f"_removed_{source.name}", rows)
            _close(wh, table, gone, key, at)
            wh.delete(table, gone, key)
            _keep(wh, table, rows.mutate(**stamp, change=ibis.literal("remove")))
            wh.drop(f"_removed_{source.name}")
        wh.drop(f"_gone_{source.name}")
    return Changes(inserted, updated, removed)


def _close(wh: Warehouse, table: str, keys: ibis.Table, key: list[str], at: datetime) -> None:
    """End the current version of each row in ``keys`` at ``at``.

    A row loaded before history was kept has no version yet: its stored values become one, valid
    from an unknown time (null) to ``at``.
    """
    name = history_name(table)
    hist = wh.table(name)
    target = wh.table(table)
    current = hist.filter(hist.valid_to.isnull())
    current = current.semi_join(keys, [current[k].identical_to(keys[k]) for k in key])
    current = wh.materialize(f"_current_{table}", current)
    untracked = target.semi_join(keys, [target[k].identical_to(keys[k]) for k in key])
    untracked = untracked.anti_join(current, [untracked[k].identical_to(current[k]) for k in key])
    _keep(wh, table, untracked.mutate(valid_from=ibis.null().cast("timestamp"), valid_to=ibis.literal(at),
                                      load_id=ibis.null().cast("int64"), change=ibis.literal("insert")))
    closed = current.mutate(valid_to=ibis.literal(at))
    wh.upsert(name, closed, [*key, "valid_to"], keys=current.select(*key, "valid_to"))
    wh.drop(f"_current_{table}")


def as_it_was(wh: Warehouse, table: str, at: datetime | str) -> ibis.Table:
    """Table ``table`` as it stood at ``at`` (a time of loading, not of the events), from its history.

    Rows loaded before history was kept, and never changed since, are in the current table only:
    they count as present at every moment.
    """
    at = pd.Timestamp(at).to_pydatetime()
    canon = TABLES[table]
    key = list(canon.key)
    hist = wh.table(history_name(table))
    target = wh.table(table)
    alive = ((hist.valid_from.isnull() | (hist.valid_from <= at))
             & (hist.valid_to.isnull() | (hist.valid_to > at)) & (hist.change != "remove"))
    versions = hist.filter(alive).select(*target.columns)
    never_tracked = target.anti_join(hist, [target[k].identical_to(hist[k]) for k in key])
    return versions.union(never_tracked)


def _keep(wh: Warehouse, table: str, versions: ibis.Table) -> None:
    """Append ``versions`` to the history of ``table``, column by column in the history's order."""
    history = wh.table(history_name(table))
    wh.insert(history_name(table), versions.select(*[versions[c].cast(history[c].type()) for c in history.columns]))


def _cast(t: ibis.Table, name: str, target: ibis.Table) -> ibis.Value:
    dtype = target.schema()[name]
    return (t[name] if name in t.columns else ibis.null()).cast(dtype).name(name)
