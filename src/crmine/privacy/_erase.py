"""Erasure: remove every row about a person, rewrite the files that name them, suppress them.

In order: find the person (:mod:`crmine.privacy._find`); count and plan everything (their rows in
each table, their quarantined records, the export files holding them); then in one warehouse
transaction delete the rows, add their hashed keys to the suppression list and write the log row;
then, once that has committed, rewrite the export files without their rows (atomically), delete
the reports that name them and mark the others stale, and flag the saved models for retraining.
A failure before the commit leaves the warehouse and the files as they were.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import ibis
import pandas as pd

from crmine.privacy._files import (
    flag_models,
    flag_reports,
    plan_reports,
    rewrite_exports,
    scan_exports,
)
from crmine.privacy._find import Person, find_person
from crmine.privacy._log import append_log
from crmine.privacy._secret import workspace_secret
from crmine.privacy._suppress import suppress
from crmine.privacy._tables import customer_columns, quarantine_keys
from crmine.settings import Settings
from crmine.warehouse import Warehouse

__all__ = ["ErasureResult", "erase", "their_rows"]


@dataclass(frozen=True)
class ErasureResult:
    """What an erasure did (counts and file names only, never a value).

    Attributes
    ----------
    customers
        Unified customers erased.
    records
        Source records erased (customer records in any system, quarantined ones included).
    tables
        Table -> rows deleted (only tables that lost rows).
    files
        File -> what was done: "rewritten: N rows dropped", "deleted" (a report naming them), "stale".
    suppressed
        Hashed keys added to the suppression list.
    retrain
        Saved models flagged for retraining in models/RETRAIN.json.
    seconds
        How long it took.
    """

    customers: int
    records: int
    tables: dict[str, int]
    files: dict[str, str] = field(default_factory=dict)
    suppressed: int = 0
    retrain: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rows(self) -> int:
        return sum(self.tables.values())

    def to_dict(self) -> dict[str, Any]:
        return {"customers": self.customers, "records": self.records, "rows": self.rows, "tables": self.tables,
                "files": self.files, "suppressed": self.suppressed, "retrain": self.retrain,
                "seconds": self.seconds}


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def their_rows(wh: Warehouse, person: Person) -> dict[str, tuple[ibis.Table, tuple[str, ...]]]:
    """Each table holding rows about ``person`` -> (the filter of those rows, the id columns)."""
    ids = sorted(person.ids)
    keys = wh.frame(pd.DataFrame({"_id": pd.Series(ids, dtype="string")}))
    out = {}
    for name, cols in customer_columns(wh).items():
        t = wh.con.table(name)
        cond = ibis.or_(*[t[c].cast("string").isin(keys._id) for c in cols])
        out[name] = (t.filter(cond), cols)
    return out


def erase(wh: Warehouse, settings: Settings, root: Path, *, email: str | None = None,
          customer: str | None = None, by: str | None = None) -> ErasureResult:
    """Erase the person named by ``email`` or ``customer`` (a unified or source record id)."""
    started = time.perf_counter()
    person = find_person(wh, settings, email=email, customer=customer)
    secret = workspace_secret(root)
    at = _now()
    plan = their_rows(wh, person)
    counts = {name: wh.count(rows) for name, (rows, _) in plan.items()}
    quarantined = quarantine_keys(wh, settings, person)
    exports = scan_exports(wh, root, person)
    tables = {n: c for n, c in counts.items() if c}
    if len(quarantined):
        tables["quarantine"] = len(quarantined)
    reports = plan_reports(root, person)
    planned_files = {f.name: f"rewritten: {sum(f.theirs)} rows dropped" for f in exports} | reports
    with wh.transaction():
        for name, (_rows, cols) in plan.items():
            if not counts[name]:
                continue
            for col in cols:  # every row with one of their ids in any id column
                # wh.table lists the tables first (slow); Spark needs it for the transaction's copy.
                t = wh.con.table(name) if wh.engine == "duckdb" else wh.table(name)
                gone = t.filter(t[col].cast("string").isin(sorted(person.ids))).select(col).distinct()
                wh.delete(name, gone, [col])
        if len(quarantined):
            wh.delete("quarantine", wh.frame(quarantined.astype({"load_id": "int64", "line": "int64"})),
                      ["load_id", "line"])
        added = suppress(wh, secret, person, at)
        append_log(wh, "erasure", at, tables, files=planned_files, by=by)
    rewrite_exports(exports)
    flag_reports(root, reports, at)
    retrain = flag_models(root, at)
    return ErasureResult(customers=len(person.unified_ids), records=len(person.records), tables=tables,
                         files=planned_files, suppressed=added, retrain=retrain,
                         seconds=round(time.perf_counter() - started, 3))
