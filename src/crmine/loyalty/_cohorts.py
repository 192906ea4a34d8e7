"""Cohort retention: of the customers who first bought in a period, the share buying again later.

A customer's *cohort* is the calendar period (month, quarter or week) of their first purchase.
For a cohort and an age ``a`` (periods since the cohort's period, 0, 1, 2, ...), the retention is
the number of the cohort's customers with at least one purchase in period ``cohort + a``, divided
by the cohort's size. Age 0 is therefore 1.0 for every cohort. Returns (``is_return`` true) are not
purchases. Only purchases on or before ``as_of`` count; cells for periods after the ``as_of``
period are missing (NaN), not zero, and the ``as_of`` period itself is counted as far as it has
run (a partial last period).
"""

from __future__ import annotations

from typing import Any

import ibis
import numpy as np
import pandas as pd

from crmine.errors import SettingsError
from crmine.loyalty._purchases import not_return, parse_day, purchases, upto
from crmine.schema import require_columns
from crmine.warehouse import Warehouse

__all__ = ["FREQS", "cohort_retention", "cohort_retention_expr", "plot_cohort_retention"]

# Period codes: M (calendar month), Q (calendar quarter), W (ISO week, Monday to Sunday).
FREQS = ("M", "Q", "W")
_MONDAY = "1970-01-05"


def _check_freq(freq: str) -> None:
    if freq not in FREQS:
        raise SettingsError(
            f"freq must be one of {', '.join(FREQS)} (month, quarter, week); received {freq!r}."
        )


def _period(day: ibis.Expr, freq: str) -> ibis.Expr:
    """An integer that numbers the periods consecutively (months or quarters since year 0, weeks
    since the Monday 1970-01-05)."""
    if freq == "M":
        return day.year() * 12 + day.month() - 1
    if freq == "Q":
        return day.year() * 4 + day.quarter() - 1
    return day.delta(ibis.date(_MONDAY), unit="day") // 7


def _period_of(day: pd.Timestamp, freq: str) -> int:
    if freq == "M":
        return day.year * 12 + day.month - 1
    if freq == "Q":
        return day.year * 4 + (day.month - 1) // 3
    return (day - pd.Timestamp(_MONDAY)).days // 7


def _period_start(p: np.ndarray, freq: str) -> pd.DatetimeIndex:
    p = np.asarray(p, dtype=np.int64)
    if freq == "M":
        return pd.to_datetime({"year": p // 12, "month": p % 12 + 1, "day": 1})
    if freq == "Q":
        return pd.to_datetime({"year": p // 4, "month": 3 * (p % 4) + 1, "day": 1})
    return pd.DatetimeIndex(pd.Timestamp(_MONDAY) + pd.to_timedelta(p * 7, unit="D"))


def cohort_retention_expr(
    transactions: ibis.Table, /, *, as_of: Any, freq: str = "M"
) -> ibis.Table:
    """Cohort retention in long form, as an Ibis expression (nothing runs).

    Parameters
    ----------
    transactions
        Transaction lines with ``customer_id`` and ``ts`` (and optionally ``is_return``).
    as_of
        The last day that counts.
    freq
        ``"M"`` (month), ``"Q"`` (quarter) or ``"W"`` (week starting Monday).

    Returns
    -------
    ibis.Table
        Columns ``cohort`` and ``period`` (period numbers), ``age`` (``period - cohort``),
        ``active`` (customers of the cohort buying in that period), ``size`` and
        ``retention`` (``active / size``); only cells with at least one active customer.
    """
    _check_freq(freq)
    require_columns(
        transactions.columns, ("customer_id", "ts"), where="cohort_retention transactions"
    )
    tx = upto(not_return(transactions), parse_day(as_of))
    cp = tx.select("customer_id", period=_period(tx.ts.date(), freq)).distinct()
    first = cp.group_by("customer_id").aggregate(cohort=cp.period.min())
    j = cp.join(first, "customer_id")
    counts = j.group_by(["cohort", "period"]).aggregate(active=j.count())
    sizes = counts.filter(counts.period == counts.cohort).select("cohort", size=counts.active)
    out = counts.join(sizes, "cohort")
    return out.select(
        "cohort",
        "period",
        age=(out.period - out.cohort).cast("int64"),
        active=out.active.cast("int64"),
        size=out["size"].cast("int64"),
        # size >= 1 for every cohort (its first period holds all its customers): a safe division
        retention=out.active.cast("float64") / out["size"].cast("float64"),
    ).order_by(["cohort", "period"])


def cohort_retention(wh: Warehouse, /, *, as_of: Any = None, freq: str = "M") -> pd.DataFrame:
    """The cohort retention matrix of a warehouse's unified customers.

    Parameters
    ----------
    wh
        The warehouse (uses ``transactions`` and, when present, ``customer_lineage``).
    as_of
        The last day that counts; by default the day of the last transaction.
    freq
        ``"M"`` (month), ``"Q"`` (quarter) or ``"W"`` (week starting Monday).

    Returns
    -------
    pandas.DataFrame
        One row per cohort (index ``cohort``: the first day of the period of first purchase),
        column ``size`` (customers in the cohort), then columns ``0, 1, ..., N`` (periods since
        the first purchase) holding the share of the cohort that bought in that period; NaN
        where the period lies after ``as_of``.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmine.warehouse import connect
    >>> wh = connect()
    >>> wh.write("transactions", pd.DataFrame({"customer_id": ["a", "b", "a", "b"],
    ...     "ts": pd.to_datetime(["2024-01-03", "2024-01-20", "2024-02-07", "2024-03-01"]),
    ...     "amount": [1.0, 2.0, 3.0, 4.0]}))
    >>> table = cohort_retention(wh)
    >>> table["size"].tolist(), table[[0, 1, 2]].to_numpy().tolist()
    ([2], [[1.0, 0.5, 0.5]])
    """
    _check_freq(freq)
    tx, day = purchases(wh, as_of)
    long = wh.execute(cohort_retention_expr(tx, as_of=day, freq=freq), what="cohort retention")
    last = _period_of(day, freq)
    if long.empty:
        return pd.DataFrame(columns=["size", 0], index=pd.DatetimeIndex([], name="cohort"))
    cohorts = np.sort(long["cohort"].astype("int64").unique())
    ages = np.arange(int(last - cohorts.min()) + 1)
    share = (
        long.pivot(index="cohort", columns="age", values="retention")
        .reindex(index=cohorts, columns=ages)
        .fillna(0.0)
    )
    reachable = cohorts[:, None] + ages[None, :] <= last
    share = share.where(reachable)
    size = long.drop_duplicates("cohort").set_index("cohort")["size"].reindex(cohorts)
    out = pd.concat([size.rename("size").astype("int64"), share], axis=1)
    out.index = pd.DatetimeIndex(_period_start(cohorts, freq), name="cohort")
    out.columns = ["size", *(int(a) for a in ages)]
    return out


def plot_cohort_retention(table: pd.DataFrame, /):
    """Heatmap of :func:`cohort_retention` (cohorts down, periods since first purchase across);
    returns a plotly Figure."""
    import plotly.graph_objects as go

    ages = [c for c in table.columns if c != "size"]
    z = table[ages].to_numpy(dtype=float)
    labels = [f"{d:%Y-%m-%d} (n={n})" for d, n in zip(table.index, table["size"], strict=True)]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=[str(a) for a in ages],
            y=labels,
            colorscale="Blues",
            zmin=0,
            zmax=1,
            hovertemplate="cohort %{y}<br>period %{x}<br>retention %{z:.1%}<extra></extra>",
        )
    )
    fig.update_layout(
        title="Cohort retention",
        xaxis_title="periods since first purchase",
        yaxis_title="cohort",
        yaxis={"autorange": "reversed"},
    )
    return fig
