"""Per-customer features of what customers wrote: how much, how positive, the latest tone, complaints,
and (optionally) the topics they write about."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from crmine._dates import end_of_day, parse_day
from crmine.errors import SchemaError
from crmine.text._base import as_texts, require_columns
from crmine.text._sentiment import NEUTRAL_BAND, sentiment
from crmine.text._topics import topics as find_topics

__all__ = ["customer_text_features"]


def customer_text_features(
    frame: pd.DataFrame, /, *, customer: str, text: str, time: str | None = None, as_of: Any = None,
    n_topics: int | None = None, seed: int = 0, source: str = "the frame",
) -> pd.DataFrame:
    """One row per customer with at least one counted text, indexed by the customer column.

    Parameters
    ----------
    frame
        One row per text (feedback, survey answers, e-mails).
    customer, text
        The columns of the customer id and of the text.
    time
        The column of each text's time: needed for ``sentiment_latest`` and for ``as_of``.
    as_of
        A day: only texts with a time before the end of that day count (a text without a time never
        counts), the project's point-in-time rule (:mod:`crmine._dates`). None: every text counts.
    n_topics
        Add the mean topic shares ``topic_<k>`` of each customer's texts, from topics fitted on the
        counted texts only (so no later text shapes them). None: no topic columns.
    seed
        Seed of the topic fit.
    source
        How messages name ``frame`` (a file name).

    Returns
    -------
    pandas.DataFrame
        ``text_count`` (non-blank texts counted), ``sentiment_mean``, ``sentiment_latest`` (with ``time``:
        the mean score of the texts at the customer's latest time), ``complaint_share`` (share of the
        texts scoring below -0.05, VADER's negative class) and ``complaint`` (True when at least one
        does), then ``topic_<k>``. Blank texts are not counted. A customer with no counted text has no
        row: left-join onto the customer table and read a missing ``text_count`` as 0.

    Examples
    --------
    >>> fb = pd.DataFrame({"customer_id": ["a", "a", "b"], "ts": ["2025-01-02", "2025-03-01", "2025-01-05"],
    ...                    "text": ["Great, thanks!", "Awful service.", "It arrived."]})
    >>> f = customer_text_features(fb, customer="customer_id", text="text", time="ts", as_of="2025-02-01")
    >>> f[["text_count", "complaint"]].to_dict("index")
    {'a': {'text_count': 1, 'complaint': False}, 'b': {'text_count': 1, 'complaint': False}}
    """
    if as_of is not None and time is None:
        raise SchemaError(f"as_of needs the time of each text in {source}: name its column with time=... "
                          "(--time COLUMN on the command line).")
    require_columns(frame, {"customer": customer, "text": text, "time": time}, source=source)
    values, empty = as_texts(frame[text])
    keep = ~empty & frame[customer].notna().to_numpy()
    ts = None
    if time is not None:
        ts = _times(frame[time], column=time, source=source)
        if as_of is not None:
            # the rule of crmine._dates.known_at, applied to pandas: a time, before the end of the day
            keep &= (ts.notna() & (ts < end_of_day(parse_day(as_of)))).to_numpy()
    rows = np.flatnonzero(keep)
    score = sentiment(values[rows])
    work = pd.DataFrame({"customer": frame[customer].to_numpy()[rows], "sentiment": score,
                         "negative": score < -NEUTRAL_BAND})
    g = work.groupby("customer", sort=True)
    out = pd.DataFrame({"text_count": g.size(), "sentiment_mean": g["sentiment"].mean()})
    if ts is not None:
        work["ts"] = ts.to_numpy()[rows]
        latest = work[work["ts"].notna()]
        latest = latest[latest["ts"] == latest.groupby("customer")["ts"].transform("max")]
        out["sentiment_latest"] = latest.groupby("customer")["sentiment"].mean()  # ties: their mean
    out["complaint_share"] = g["negative"].mean()
    out["complaint"] = g["negative"].any()
    if n_topics is not None:
        t = find_topics(values[rows], n_topics=n_topics, seed=seed)
        shares = t.shares.set_axis(work.index)
        out = out.join(shares.groupby(work["customer"]).mean())
    out.index.name = customer
    return out


def _times(values: pd.Series, *, column: str, source: str) -> pd.Series:
    """``values`` as naive timestamps; a SchemaError naming the rows (never the values) that are not times."""
    if pd.api.types.is_datetime64_any_dtype(values):
        ts = values
    else:
        try:
            ts = pd.to_datetime(values, errors="coerce", format="mixed")
        except (TypeError, ValueError):  # offsets that differ between rows: read them all as UTC
            ts = pd.to_datetime(values, errors="coerce", format="mixed", utc=True)
    if getattr(ts.dt, "tz", None) is not None:
        ts = ts.dt.tz_localize(None)  # the wall time, as crmine._dates.parse_day reads a day
    bad = np.flatnonzero(ts.isna().to_numpy() & values.notna().to_numpy()
                         & (values.astype(str).str.strip() != "").to_numpy())
    if bad.size:
        first = ", ".join(str(r + 1) for r in bad[:5])
        raise SchemaError(
            f"{bad.size:,} value(s) of column {column!r} in {source} are not times (data rows {first}"
            f"{', ...' if bad.size > 5 else ''}). Write them as 2025-06-30 or 2025-06-30T14:05:00, or leave them "
            "empty (a text without a time never counts as of a day).")
    return ts.reset_index(drop=True)
