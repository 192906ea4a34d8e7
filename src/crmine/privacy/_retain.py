"""Retention: rows older than the period set for their table in ``[privacy.retention]`` are deleted.

A row's age is its ``ts`` (the event time); rows without one are kept (their age is unknown). The
table's history loses the versions of the same age. Derived tables (the customer table, scores)
follow at the next ``crmine run``, which rebuilds them from what is left.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import ibis

from crmine.errors import SettingsError
from crmine.io._changes import history_name
from crmine.privacy._log import append_log
from crmine.schema import TABLES
from crmine.settings import Settings
from crmine.warehouse import Warehouse

__all__ = ["retain"]

_TIME = "ts"


def retain(wh: Warehouse, settings: Settings, *, at: datetime | None = None, by: str | None = None) -> dict[str, int]:
    """Apply the retention periods; returns table -> rows deleted (logged as kind "retention")."""
    periods = dict(settings.retention)
    timed = sorted(t.name for t in TABLES.values() if _TIME in t.column_names)
    unknown = sorted(t for t in periods if t not in timed)
    if unknown:
        raise SettingsError(f"[privacy.retention] names {', '.join(unknown)}: retention applies to tables with an "
                            f"event time ({_TIME}). Tables it can apply to: {', '.join(timed)}.")
    now = at or datetime.now(UTC).replace(tzinfo=None)
    deleted: dict[str, int] = {}
    with wh.transaction():
        for table, days in sorted(periods.items()):
            cutoff = ibis.literal(now - timedelta(days=days), "timestamp")
            for name in (table, history_name(table)):
                if not wh.has_table(name):
                    continue
                t = wh.table(name)
                old = t.filter(t[_TIME] < cutoff)
                n = wh.count(old)
                if n:
                    wh.delete(name, old.select(_TIME).distinct(), [_TIME])
                    deleted[name] = n
        append_log(wh, "retention", now, deleted, by=by)
    return deleted
