"""Days: the one way crmine reads a user's date, finds a warehouse's 'today', and decides what was
known on a day (the point-in-time rule every as-of reader shares)."""

from __future__ import annotations

import warnings
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from crmine.errors import SettingsError, WorkspaceError
from crmine.schema import EARLIEST
from crmine.settings import FUTURE_TOLERANCE_DAYS

__all__ = ["after_day", "as_of_day", "end_of_day", "known_at", "last_day", "parse_day"]


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


# ---- the point-in-time rule -------------------------------------------------------------------------
# An event counts as of day D when its time is before the end of D: a day's events count through its
# last second, whatever their time of day (comparing with D itself, at midnight, would drop them). An
# event without a time is never known at a point: it could have happened after D, so counting it would
# let the future leak into a table "as of" the past. Every reader that asks "what was known on D"
# (the customer table, loyalty, CLV summaries, training labels) filters with known_at; every window
# that starts after D (churn, responses, holdout) starts at end_of_day(D), with after_day.


def end_of_day(day: Any) -> pd.Timestamp:
    """The end of ``day``: midnight that starts the next day, the first instant not in ``day``.

    >>> end_of_day("2024-02-15")
    Timestamp('2024-02-16 00:00:00')
    """
    return parse_day(day) + pd.Timedelta(days=1)


def _boundary(value: ir.Value, day: Any) -> ir.Value:
    """end_of_day(day) as a literal comparable with ``value`` (a date or a timestamp column)."""
    end = end_of_day(day)
    if value.type().is_date():
        return ibis.date(end.strftime("%Y-%m-%d"))
    return ibis.literal(end.to_pydatetime(), "timestamp")


def known_at(ts: ir.Value, day: Any) -> ir.BooleanValue:
    """True where an event at ``ts`` is known as of ``day``: it has a time, before the end of ``day``.

    Parameters
    ----------
    ts
        A timestamp (or date) column.
    day
        The as-of day; any time of day is dropped.

    Returns
    -------
    ibis.expr.types.BooleanValue
        ``ts.notnull() & (ts < end_of_day(day))``: never null, so it filters and counts alike.
    """
    return ts.notnull() & (ts < _boundary(ts, day))


def after_day(ts: ir.Value, day: Any) -> ir.BooleanValue:
    """True where an event at ``ts`` happened after ``day`` (from its end on); null times are not after.

    Parameters
    ----------
    ts
        A timestamp (or date) column.
    day
        The last day of the past; a window of labels or a holdout starts when it ends.

    Returns
    -------
    ibis.expr.types.BooleanValue
        ``ts.notnull() & (ts >= end_of_day(day))``; ``after_day(ts, a) & known_at(ts, b)`` is the
        window (a, b] in whole days.
    """
    return ts.notnull() & (ts >= _boundary(ts, day))
