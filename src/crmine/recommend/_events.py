"""Purchase events as codes: validated columns, times read in one inferred format, the point-in-time cut.

Users and items are named as text and numbered in sorted order of their names, so ties broken by
code are ties broken by name, and nothing depends on the order of the rows: events are sorted by
(user, item, time) before any sum is taken.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from crmine._dates import end_of_day, parse_day
from crmine.errors import SchemaError

__all__ = ["Events", "as_text", "cut", "parse_times", "prepare"]

_DAY = np.timedelta64(1, "D").astype("timedelta64[ns]").astype(np.int64)


@dataclass(frozen=True, eq=False)
class Events:
    """Purchases known at a point, sorted by (user, item, time)."""

    users: np.ndarray  # user names (text), indexed by code, sorted
    items: np.ndarray  # item names (text), indexed by code, sorted
    user: np.ndarray  # int64 code of each event's user
    item: np.ndarray  # int64 code of each event's item
    ts: np.ndarray  # int64 nanoseconds since 1970 of each event
    end: int  # the end of the as-of day, in the same nanoseconds
    until: pd.Timestamp  # the as-of day

    @property
    def n_users(self) -> int:
        return len(self.users)

    @property
    def n_items(self) -> int:
        return len(self.items)

    def age_days(self) -> np.ndarray:
        """Days from each event to the end of the as-of day (positive)."""
        return (self.end - self.ts) / _DAY


def as_text(col: pd.Series) -> pd.Series:
    """Ids as text, as written in a file: 7 and 7.0 read as '7'; missing and blank stay missing."""
    if pd.api.types.is_float_dtype(col):
        whole = col.dropna()
        if len(whole) and bool((whole == np.floor(whole)).all()):
            col = col.astype("Int64")
    text = col.astype("string").str.strip()
    return text.mask(text == "")


def parse_times(col: pd.Series, name: str) -> pd.Series:
    """``col`` as naive timestamps (NaT where empty). Text is read in the one format crmine's ingest
    infers from the values (ISO 8601, day- or month-first, month names, compact digits); a
    SchemaError names the column and how many values could not be read, never the values."""
    if pd.api.types.is_datetime64_any_dtype(col):
        out = pd.to_datetime(col)
    else:
        from crmine.io._infer_values import infer_timestamp

        text = col.astype("string").str.strip()
        text = text.mask(text == "")
        counts = text.value_counts(dropna=True)
        guess = infer_timestamp(zip(counts.index.astype(str), counts.to_numpy().tolist(), strict=True))
        fmt = guess.format if guess is not None and guess.format else "ISO8601"
        out = pd.to_datetime(text, format=fmt, errors="coerce")
        bad = int((out.isna() & text.notna()).sum())
        if bad:
            raise SchemaError(
                f"Column {name!r}: {bad:,} of {len(col):,} values are not dates or times"
                + (f" in the format found for the column ({guess.format})" if guess is not None and guess.format
                   else "")
                + ". Rule: every purchase time must read as a date, in one format, e.g. 2025-06-30 or "
                "30/06/2025 14:05. Fix or drop those rows, or name another column with --time.")
    if getattr(out.dt, "tz", None) is not None:
        out = out.dt.tz_localize(None)
    return out.astype("datetime64[ns]")


def _check(frame: Any, user: str, item: str, time: str) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise SchemaError(f"Purchases must be a pandas DataFrame with one row per purchase line; "
                          f"received {type(frame).__name__}.")
    roles = [("user", user), ("item", item), ("time", time)]
    missing = [f"{role} column {col!r}" for role, col in roles if col not in frame.columns]
    if missing:
        have = ", ".join(map(str, frame.columns)) or "(none)"
        raise SchemaError(f"Not found in the purchases: {', '.join(missing)}. Existing columns: {have}. "
                          "Name the columns with user=, item=, time= (--user, --item, --time).")
    if len({user, item, time}) < 3:
        raise SchemaError(f"The user, item and time columns must be three different columns; received "
                          f"{user!r}, {item!r}, {time!r}.")


def prepare(frame: pd.DataFrame, *, user: str, item: str, time: str) -> pd.DataFrame:
    """The three columns validated: ``user`` and ``item`` as text, ``ts`` as naive timestamps.

    Rows without a user, an item or a time are left out: an event without a time is never known at
    a point (crmine's point-in-time rule), so it can never be used.
    """
    _check(frame, user, item, time)
    out = pd.DataFrame({"user": as_text(frame[user]), "item": as_text(frame[item]),
                        "ts": parse_times(frame[time], time)})
    out = out.dropna()
    if out.empty:
        raise SchemaError(f"No purchases to learn from: all {len(frame):,} rows lack a user, an item or a time.")
    return out.reset_index(drop=True)


def cut(rows: pd.DataFrame, until: Any = None, *, what: str = "until") -> Events:
    """The events known as of ``until`` (default: the last day in the data), encoded and sorted.

    An event counts as of day D when its time is before the end of D; later events are dropped
    here, before anything is learned.
    """
    last = rows["ts"].max().normalize()
    day = last if until is None else parse_day(until, what)
    end = end_of_day(day)
    known = rows[rows["ts"] < end]
    if known.empty:
        raise SchemaError(f"No purchase is known as of {day.date()}: the first is on "
                          f"{rows['ts'].min().date()}. Choose a later {what}.")
    u_codes, users = pd.factorize(known["user"], sort=True)
    i_codes, items = pd.factorize(known["item"], sort=True)
    ts = known["ts"].to_numpy().astype(np.int64)
    order = np.lexsort((ts, i_codes, u_codes))
    return Events(users=np.asarray(users, dtype=object), items=np.asarray(items, dtype=object),
                  user=u_codes[order].astype(np.int64), item=i_codes[order].astype(np.int64), ts=ts[order],
                  end=int(end.value), until=day)
