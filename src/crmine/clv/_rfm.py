"""Recency-frequency-monetary summaries: the input of every BTYD model.

Conventions (those of Fader, Hardie & Lee 2005 and of lifetimes, which reproduce the published CDNOW
numbers): times are floored to days and several transactions on one day are one purchase;
``frequency`` counts purchase days after the first; ``recency`` is the time from the first to the
last purchase day and ``T`` from the first purchase day to ``observation_end`` (both in
``time_unit``); ``observation_end`` is the last day of the calibration period and its transactions
count (the point-in-time rule of :func:`crmine._dates.known_at`: a time before the end of that day). ``monetary`` is the mean of the per-day totals of the repeat purchases (0 without one).
With ``holdout_end``, the days in (observation_end, holdout_end] give ``frequency_holdout``,
``monetary_holdout`` (mean per-day total, 0 without one) and ``duration_holdout``.
"""

from __future__ import annotations

from typing import Any

import ibis
import numpy as np
import pandas as pd

from crmine._dates import after_day, known_at, parse_day
from crmine.errors import SchemaError, SettingsError
from crmine.schema import require_columns

__all__ = ["TIME_UNITS", "rfm_summary", "rfm_summary_expr", "unit_days"]

# Length of one time unit in days. M is the mean Gregorian month, Y the mean year.
TIME_UNITS: dict[str, float] = {"D": 1.0, "W": 7.0, "M": 30.4375, "Y": 365.25}


def unit_days(time_unit: str, *, what: str = "time_unit") -> float:
    """Days in one ``time_unit`` (D, W, M or Y)."""
    try:
        return TIME_UNITS[time_unit]
    except (KeyError, TypeError):
        raise SettingsError(
            f"{what} must be one of {', '.join(TIME_UNITS)} (day, week, month of 30.4375 days, "
            f"year of 365.25 days); received {time_unit!r}."
        ) from None


_day = parse_day  # one way of reading a day, shared with the rest of crmine


def _check_ends(observation_end: Any, holdout_end: Any) -> tuple[pd.Timestamp, pd.Timestamp | None]:
    obs = _day(observation_end, "observation_end")
    hold = None if holdout_end is None else _day(holdout_end, "holdout_end")
    if hold is not None and hold <= obs:
        raise SettingsError(
            f"holdout_end must be after observation_end; received {hold.date()} <= {obs.date()}."
        )
    return obs, hold


def rfm_summary(
    transactions: pd.DataFrame,
    /,
    *,
    observation_end: Any,
    customer_id_col: str = "customer_id",
    datetime_col: str = "ts",
    monetary_col: str | None = None,
    time_unit: str = "W",
    holdout_end: Any = None,
) -> pd.DataFrame:
    """One row per customer with frequency, recency and T (and monetary, holdout counts).

    Parameters
    ----------
    transactions
        One row per transaction.
    observation_end
        Last day of the calibration period (inclusive).
    customer_id_col, datetime_col, monetary_col
        Column names; without ``monetary_col`` no monetary columns are made.
    time_unit
        D, W, M (30.4375 days) or Y (365.25 days).
    holdout_end
        Last day of a holdout period after ``observation_end``, for model checking.

    Returns
    -------
    pandas.DataFrame
        Columns ``customer_id``, ``frequency``, ``recency``, ``T`` [, ``monetary``] and with
        ``holdout_end`` ``frequency_holdout`` [, ``monetary_holdout``], ``duration_holdout``;
        customers whose first purchase is after ``observation_end`` are left out.

    Examples
    --------
    >>> from crmine.clv import rfm_summary
    >>> from crmine.datasets import load_cdnow_sample
    >>> rfm = rfm_summary(load_cdnow_sample(), observation_end="1997-09-30")
    >>> row = rfm.set_index("customer_id").loc["4"]  # the example customer of FHL (2005)
    >>> int(row["frequency"]), round(float(row["recency"]), 2), round(float(row["T"]), 2)
    (2, 30.43, 38.86)
    """
    days = unit_days(time_unit)
    obs, hold = _check_ends(observation_end, holdout_end)
    needed = [customer_id_col, datetime_col] + ([monetary_col] if monetary_col else [])
    require_columns(
        list(map(str, transactions.columns)),
        needed,
        where="rfm_summary transactions",
        hint="Pass the column names with customer_id_col=, datetime_col= and monetary_col=.",
    )
    cid = transactions[customer_id_col]
    try:
        ts = pd.to_datetime(transactions[datetime_col])
    except (TypeError, ValueError) as e:
        raise SchemaError(
            f"rfm_summary transactions: column {datetime_col!r} could not be read as dates ({type(e).__name__})."
        ) from None
    if getattr(ts.dt, "tz", None) is not None:
        ts = ts.dt.tz_localize(None)
    problems = []
    for name, miss in ((customer_id_col, cid.isna()), (datetime_col, ts.isna())):
        if int(miss.sum()):
            problems.append(f"column {name!r} has {int(miss.sum())} missing value(s)")
    amount = None
    if monetary_col:
        amount = pd.to_numeric(transactions[monetary_col], errors="coerce").astype("float64")
        bad = int((~np.isfinite(amount.to_numpy())).sum())
        if bad:
            problems.append(f"column {monetary_col!r} has {bad} missing or non-numeric value(s)")
    if problems:
        raise SchemaError(f"rfm_summary transactions break the rules: {'; '.join(problems)}.")

    # One purchase per customer and day: a key customer * span + day, made unique by sorting,
    # so the rows come out grouped by customer and ordered by day within each customer.
    codes, ids = pd.factorize(cid, sort=False)
    day = ts.to_numpy().astype("datetime64[D]").astype(np.int64)
    d0 = int(day.min())
    span = int(day.max()) - d0 + 1
    key, inverse = np.unique(codes.astype(np.int64) * span + (day - d0), return_inverse=True)
    d_cust, d_day = key // span, key % span + d0
    d_amount = np.bincount(inverse, weights=amount.to_numpy()) if amount is not None else None

    obs_day = int(np.datetime64(obs.date(), "D").astype(np.int64))
    cal = d_day <= obs_day  # the point-in-time rule of crmine._dates.known_at, in whole days
    if not cal.any():
        raise SchemaError(
            f"rfm_summary: no transaction falls on or before observation_end {obs.date()}."
        )
    c, dd = d_cust[cal], d_day[cal]
    starts = np.flatnonzero(np.r_[True, c[1:] != c[:-1]])
    ends = np.r_[starts[1:], len(c)] - 1
    n = ends - starts + 1
    cust = c[starts]
    out = pd.DataFrame(
        {
            "customer_id": ids.take(cust),
            "frequency": (n - 1).astype("int64"),
            "recency": (dd[ends] - dd[starts]) / days,
            "T": (obs_day - dd[starts]) / days,
        }
    )
    if d_amount is not None:
        a = d_amount[cal]
        total = np.add.reduceat(a, starts)
        reps = n - 1
        out["monetary"] = np.where(reps > 0, (total - a[starts]) / np.maximum(reps, 1), 0.0)
    if hold is not None:
        hold_day = int(np.datetime64(hold.date(), "D").astype(np.int64))
        h = (d_day > obs_day) & (d_day <= hold_day)
        cnt = np.bincount(d_cust[h], minlength=len(ids))[cust]
        out["frequency_holdout"] = cnt.astype("int64")
        if d_amount is not None:
            tot = np.bincount(d_cust[h], weights=d_amount[h], minlength=len(ids))[cust]
            out["monetary_holdout"] = np.where(cnt > 0, tot / np.maximum(cnt, 1), 0.0)
        out["duration_holdout"] = (hold - obs).days / days
    return out.sort_values("customer_id", kind="stable", ignore_index=True)


def rfm_summary_expr(
    transactions: ibis.Table,
    /,
    *,
    observation_end: Any,
    time_unit: str = "W",
    holdout_end: Any = None,
    customer_id_col: str = "customer_id",
    datetime_col: str = "ts",
    monetary_col: str | None = "amount",
) -> ibis.Table:
    """The same summary as :func:`rfm_summary`, as an Ibis expression that runs in the warehouse.

    Nothing is executed: run the result with ``crmine.warehouse`` (DuckDB or Spark). Divisions
    are guarded so that Spark's ANSI mode and DuckDB agree.

    Parameters
    ----------
    transactions
        An Ibis table of transactions (canonical names ``customer_id``, ``ts``, ``amount``).
    observation_end, time_unit, holdout_end
        As in :func:`rfm_summary`.
    customer_id_col, datetime_col, monetary_col
        Column names; ``monetary_col=None`` leaves the monetary columns out.

    Returns
    -------
    ibis.Table
        The columns of :func:`rfm_summary`, ordered by ``customer_id``.
    """
    days = unit_days(time_unit)
    obs, hold = _check_ends(observation_end, holdout_end)
    needed = [customer_id_col, datetime_col] + ([monetary_col] if monetary_col else [])
    require_columns(
        list(transactions.columns),
        needed,
        where="rfm_summary_expr transactions",
        hint="Pass the column names with customer_id_col=, datetime_col= and monetary_col=.",
    )
    col = transactions[datetime_col]
    if not (col.type().is_date() or col.type().is_timestamp()):
        col = col.cast("timestamp")
    base = transactions.select(
        cid=transactions[customer_id_col],
        ts=col,
        day=col if col.type().is_date() else col.date(),
        amount=(transactions[monetary_col].cast("float64") if monetary_col else ibis.literal(0.0)),
    )

    def daily(rows: ibis.Table) -> ibis.Table:
        return rows.group_by(["cid", "day"]).aggregate(amount=rows.amount.sum())

    obs_lit = ibis.date(obs.strftime("%Y-%m-%d"))
    cal = daily(base.filter(known_at(base.ts, obs)))
    per = cal.group_by("cid").aggregate(
        first=cal.day.min(),
        last=cal.day.max(),
        n=cal.day.count(),
        total=cal.amount.sum(),
        first_amount=cal.amount.argmin(cal.day),
    )
    reps = per.n - 1
    cols: dict[str, Any] = {
        "customer_id": per.cid,
        "frequency": reps.cast("int64"),
        "recency": per["last"].delta(per["first"], unit="day").cast("float64") / days,
        "T": obs_lit.delta(per["first"], unit="day").cast("float64") / days,
    }
    if monetary_col:
        safe = ibis.greatest(reps, 1).cast("float64")
        cols["monetary"] = ibis.ifelse(reps > 0, (per.total - per.first_amount) / safe, 0.0)
    out = per.select(**cols)
    if hold is not None:
        h = daily(base.filter(after_day(base.ts, obs) & known_at(base.ts, hold)))
        hagg = h.group_by("cid").aggregate(n_h=h.day.count(), total_h=h.amount.sum())
        j = out.left_join(hagg, out.customer_id == hagg.cid)
        n_h = j.n_h.fill_null(0)
        extra: dict[str, Any] = {"frequency_holdout": n_h.cast("int64")}
        if monetary_col:
            safe_h = ibis.greatest(n_h, 1).cast("float64")
            extra["monetary_holdout"] = ibis.ifelse(n_h > 0, j.total_h.fill_null(0.0) / safe_h, 0.0)
        extra["duration_holdout"] = ibis.literal((hold - obs).days / days, type="float64")
        out = j.select(*[j[c] for c in cols], **extra)
    return out.order_by("customer_id")
