"""Days: the one way crmine reads a user's date and finds a warehouse's 'today'."""

from __future__ import annotations

import warnings
from typing import Any

import ibis
import pandas as pd

from crmine.errors import SettingsError, WorkspaceError
from crmine.schema import EARLIEST
from crmine.settings import FUTURE_TOLERANCE_DAYS

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
    """The day of the last transaction (of ``tx``, or of the warehouse): its natural 'today'.

    Times that ingest now quarantines may sit in a warehouse loaded before: before 1900, after
    tomorrow (a typo such as 2099), or beyond what pandas can hold (9999-12-31). None of them
    becomes 'today': they are left out of the choice, and a warning says how many.
    """
    tx = wh.table("transactions") if tx is None else tx
    lo, hi = pd.Timestamp(EARLIEST), _tomorrow()
    plausible = (tx.ts >= ibis.literal(lo)) & (tx.ts <= ibis.literal(hi))
    found = wh.execute(
        tx.aggregate(last=tx.ts.max(where=plausible), outliers=(tx.ts.notnull() & ~plausible).cast("int64").sum()),
        what="last transaction day",
    )
    last, outliers = found["last"].iloc[0], found["outliers"].iloc[0]
    if outliers and not pd.isna(outliers):
        warnings.warn(
            f"{int(outliers):,} transaction time(s) before {EARLIEST} or after {hi.date()} were left out when "
            "choosing the last transaction day; reload those sources (ingest quarantines such times) or pass as_of.",
            UserWarning,
            stacklevel=2,
        )
    if last is None or pd.isna(last):
        if outliers and not pd.isna(outliers):
            raise WorkspaceError(f"No transaction time lies between {EARLIEST} and {hi.date()}; pass as_of.")
        raise WorkspaceError("The transactions table is empty. Load transactions with `crmine ingest DIR` first.")
    return pd.Timestamp(last).normalize()


def _tomorrow() -> pd.Timestamp:
    """The latest plausible time of a past event: now plus ingest's default tolerance."""
    now = pd.Timestamp.now(tz="UTC").tz_localize(None)
    return now + pd.Timedelta(days=FUTURE_TOLERANCE_DAYS)


def as_of_day(wh, as_of: Any, *, tx: ibis.Table | None = None) -> pd.Timestamp:
    """``as_of`` as a day, or the last transaction day when it is None."""
    return last_day(wh, tx) if as_of is None else parse_day(as_of)
