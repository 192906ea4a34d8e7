"""Where a person's rows are: which tables hold ids of customers, and in which columns.

Canonical tables and their histories hold source record ids in ``customer_id``; derived tables
name their customer column in the registry (a unified id, or a source record id for the identity
tables); ``identity_changes`` names unified ids in ``old_id`` / ``new_id``. A table a step wrote
that the registry does not list yet is searched by a ``customer_id`` or ``unified_id`` column, so
a new step cannot keep rows about an erased person by being left out of the registry. The
``quarantine`` is searched apart (:func:`quarantine_keys`), through its raw records.
"""

from __future__ import annotations

import pandas as pd

from crmine.privacy._find import Person, quarantined_records, standardised
from crmine.schema import TABLES
from crmine.settings import Settings
from crmine.warehouse import Warehouse
from crmine.warehouse._registry import derived

__all__ = ["OWN_TABLES", "customer_columns", "quarantine_keys"]

# The privacy bookkeeping: holds hashes and counts, never a person's values.
OWN_TABLES = ("privacy_suppressed", "privacy_log")
_EXTRA_COLUMNS = {"identity_changes": ("old_id", "new_id")}
_SKIPPED = {"quarantine", "export_audit", "load_log", *OWN_TABLES}


def customer_columns(wh: Warehouse) -> dict[str, tuple[str, ...]]:
    """Each existing table that holds customer ids -> the columns holding them."""
    found: dict[str, tuple[str, ...]] = {}
    for t in TABLES.values():
        if "customer_id" in t.column_names:
            found[t.name] = ("customer_id",)
    for t in derived():
        if t.customer_column is not None:
            found.setdefault(t.name, (t.customer_column,))
    found.update(_EXTRA_COLUMNS)
    known = {*found, *TABLES, *(t.name for t in derived())}
    present = set(wh.con.list_tables())  # once: each has_table call lists the tables again
    columns = {name: wh.con.table(name).columns for name in present
               if not name.startswith(("_", "ibis_")) and name not in _SKIPPED}
    for name in sorted(set(columns) - known):
        cols = tuple(c for c in ("customer_id", "unified_id") if c in columns[name])
        if cols:
            found[name] = cols
    out = {}
    for name, cols in found.items():
        if name not in columns:
            continue
        have = tuple(c for c in cols if c in columns[name])
        if have:
            out[name] = have
    return out


def quarantine_keys(wh: Warehouse, settings: Settings, person: Person) -> pd.DataFrame:
    """(load_id, line) of the quarantined rows about ``person``.

    A JSON record is theirs when one of its values is one of their ids (a source id as the warehouse
    holds it, after the source's id_prefix) or one of their e-mail addresses (standardised); a raw
    line that could not be split (malformed_row) when one of its fields is.
    """
    q = quarantined_records(wh, settings)
    if not len(q):
        return pd.DataFrame({"load_id": pd.Series(dtype="int64"), "line": pd.Series(dtype="int64")})
    ids = person.ids
    prefixes = {s.name: s.id_prefix or "" for s in settings.sources}
    cells: list[list[str]] = []
    for values, text, source in zip(q["values"], q.text, q.source, strict=True):
        if values is not None:
            cells.append([v.strip() for v in values.values() if isinstance(v, str)])
        elif isinstance(text, str):
            fields = [f.strip().strip('"').strip() for f in _split(text)]
            prefix = prefixes.get(source, "")
            cells.append(fields + [prefix + f for f in fields if prefix])
        else:
            cells.append([])
    std = standardised(wh, {c for row in cells for c in row if "@" in c})
    hit = [any(c in ids or (std.get(c) in person.emails if "@" in c else False) for c in row) for row in cells]
    return q.loc[hit, ["load_id", "line"]].reset_index(drop=True)


def _split(text: str) -> list[str]:
    import re

    return re.split(r"[,;|\t\n]", text)
