"""The suppression list: salted hashes of erased people's source ids and e-mail addresses.

``privacy_suppressed`` has one row per hashed key: kind ("customer_id" or "email"), key_hash,
source_system (in clear: a system name, not a personal value; null for e-mails) and when it was
added. Ingest quarantines, with reason ``erased`` and without the raw record, every row whose
customer_id (as the warehouse would hold it) or standardised e-mail hashes to a listed key.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import ibis
import ibis.expr.types as ir
import pandas as pd

from crmine.privacy._find import Person
from crmine.privacy._secret import key_hash, key_hash_expr, read_secret, standard_email
from crmine.warehouse import Warehouse

__all__ = ["SUPPRESSED", "suppress", "suppressed_flag"]

SUPPRESSED = "privacy_suppressed"
SCHEMA = ibis.schema({"kind": "string", "key_hash": "string", "source_system": "string", "added": "timestamp"})


def suppress(wh: Warehouse, secret: str, person: Person, at: datetime) -> int:
    """Add ``person``'s keys to the list (inside the caller's transaction); returns keys added."""
    rows = [("customer_id", key_hash(secret, "customer_id", cid), system) for cid, system in person.records.items()]
    rows += [("email", key_hash(secret, "email", e), None) for e in person.emails]
    wh.create_empty(SUPPRESSED, SCHEMA)
    t = wh.table(SUPPRESSED)
    have = set(wh.execute(t.key_hash, what=f"read {SUPPRESSED}"))
    new = [r for r in rows if r[1] not in have]
    if new:
        frame = pd.DataFrame(new, columns=["kind", "key_hash", "source_system"])
        frame["added"] = pd.Timestamp(at).as_unit("us")
        wh.insert(SUPPRESSED, frame)
    return len(new)


def suppressed_flag(wh: Warehouse, root: Path, rows: ir.Table) -> ir.BooleanValue | None:
    """True for the ``rows`` (typed, canonical names) about an erased person; None when none is."""
    if not wh.has_table(SUPPRESSED) or wh.count(SUPPRESSED) == 0:
        return None
    secret = read_secret(root)
    listed = wh.table(SUPPRESSED)
    flags = []
    if "customer_id" in rows.columns:
        keys = listed.filter(listed.kind == "customer_id").key_hash
        flags.append(key_hash_expr(secret, "customer_id", rows.customer_id).isin(keys).fill_null(False))
    if "email" in rows.columns:
        keys = listed.filter(listed.kind == "email").key_hash
        flags.append(key_hash_expr(secret, "email", standard_email(rows.email)).isin(keys).fill_null(False))
    return ibis.or_(*flags) if flags else None
