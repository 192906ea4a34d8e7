"""Days: the one way crmine reads a user's date and finds a warehouse's 'today'."""

from __future__ import annotations

from typing import Any

import ibis
import pandas as pd

from crmine.errors import SettingsError, WorkspaceError

__all__ = ["as_of_day", "last_day", "parse_day"]


def parse_day(value: Any, what: str = "as_of") -> pd.Timestamp:
    """``value`` as a day (midnight, no time zone); a SettingsError naming ``what`` otherwise."""
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError):
        raise SettingsError(f"{what} must be a date such as '2025-06-30'; received {value!r}.") from None
    if ts is pd.NaT:
        raise SettingsError(f"{what} must be a date such as '2025-06-30'; received a missing value.")
    return (ts.tz_localize(None) if ts.tzinfo else ts).normalize()


def last_day(wh, tx: ibis.Table | None = None) -> pd.Timestamp:
    """The day of the last transaction (of ``tx``, or of the warehouse): its natural 'today'."""
    tx = wh.table("transactions") if tx is None else tx
    last = wh.execute(tx.ts.max(), what="last transaction day")
    if last is None or pd.isna(last):
        raise WorkspaceError("The transactions table is empty. Load transactions with `crmine ingest DIR` first.")
    return pd.Timestamp(last).normalize()


def as_of_day(wh, as_of: Any, *, tx: ibis.Table | None = None) -> pd.Timestamp:
    """``as_of`` as a day, or the last transaction day when it is None."""
    return last_day(wh, tx) if as_of is None else parse_day(as_of)
