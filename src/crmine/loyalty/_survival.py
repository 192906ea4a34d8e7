"""How long customers stay active: a Kaplan-Meier estimate of the active lifetime.

A customer's *active lifetime* runs from the day of their first purchase to the day of their last
purchase on or before ``as_of``, in whole days. A customer has *become inactive* (an observed
event) when more than ``inactivity_days`` separate that last purchase from ``as_of``; otherwise
they may still buy again and their lifetime is *censored* at its current length. Returns are not
purchases. The Kaplan-Meier estimator (lifelines ``KaplanMeierFitter``) is fitted on the distinct
(lifetime, event) pairs weighted by their customer counts, so its cost grows with distinct
lifetimes, not with customers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import ibis
import numpy as np
import pandas as pd

from crmine.errors import SchemaError, SettingsError
from crmine.loyalty._purchases import day_literal, purchases
from crmine.warehouse import Warehouse

__all__ = [
    "ActivitySurvival",
    "activity_durations_expr",
    "activity_survival",
    "fit_activity",
    "plot_activity_survival",
]


@dataclass(frozen=True)
class ActivitySurvival:
    """What :func:`activity_survival` found.

    Attributes
    ----------
    table
        Index ``days`` (active lifetime); columns ``survival`` (share of customers still active
        after that many days), ``lower_95``, ``upper_95``, ``at_risk``, ``inactive`` (customers
        becoming inactive at that lifetime) and ``censored``.
    median_days
        Median active lifetime in days (``inf`` when the survival never falls to one half).
    customers, inactive
        Customers in the estimate, and how many of them have become inactive.
    as_of, inactivity_days
        The settings used.
    durations
        The distinct (``duration_days``, ``observed``) pairs with their ``customers`` counts.
    """

    table: pd.DataFrame
    median_days: float
    customers: int
    inactive: int
    as_of: pd.Timestamp
    inactivity_days: int
    durations: pd.DataFrame

    def survival_at(self, days: Any) -> np.ndarray:
        """The estimated share still active after ``days`` (a number or an array of them)."""
        t = np.atleast_1d(np.asarray(days, dtype=float))
        idx = np.searchsorted(self.table.index.to_numpy(dtype=float), t, side="right") - 1
        s = self.table["survival"].to_numpy()
        return np.where(idx >= 0, s[np.maximum(idx, 0)], 1.0)


def check_inactivity(inactivity_days: Any) -> int:
    if (
        isinstance(inactivity_days, bool)
        or not isinstance(inactivity_days, int | np.integer)
        or inactivity_days < 1
    ):
        raise SettingsError(
            f"inactivity_days must be a whole number of days >= 1, such as 180; received {inactivity_days!r}."
        )
    return int(inactivity_days)


def activity_durations_expr(
    purchases: ibis.Table, /, *, as_of: pd.Timestamp, inactivity_days: int = 180
) -> ibis.Table:
    """Distinct active lifetimes and their event flags with customer counts (nothing runs).

    ``purchases`` must already be limited to purchase lines on or before ``as_of``.

    Returns
    -------
    ibis.Table
        Columns ``duration_days``, ``observed`` (became inactive) and ``customers``.
    """
    per = purchases.group_by("customer_id").aggregate(
        first=purchases.ts.min().date(), last=purchases.ts.max().date()
    )
    end = day_literal(as_of)
    per = per.select(
        duration_days=per["last"].delta(per["first"], unit="day").cast("int64"),
        observed=end.delta(per["last"], unit="day") > inactivity_days,
    )
    return (
        per.group_by(["duration_days", "observed"])
        .aggregate(customers=per.count().cast("int64"))
        .order_by(["duration_days", "observed"])
    )


def fit_activity(
    durations: pd.DataFrame, /, *, as_of: pd.Timestamp, inactivity_days: int
) -> ActivitySurvival:
    """Fit Kaplan-Meier on the output of :func:`activity_durations_expr`."""
    from lifelines import KaplanMeierFitter

    if durations.empty or int(durations["customers"].sum()) == 0:
        raise SchemaError(
            f"activity_survival: no purchase on or before {as_of.date()}; nothing to estimate."
        )
    d = durations.astype({"duration_days": "int64", "customers": "int64", "observed": bool})
    kmf = KaplanMeierFitter(label="survival").fit(
        d["duration_days"].to_numpy(),
        event_observed=d["observed"].to_numpy(),
        weights=d["customers"].to_numpy(),
    )
    sf = kmf.survival_function_["survival"]
    ci = kmf.confidence_interval_
    ev = kmf.event_table
    table = pd.DataFrame(
        {
            "survival": sf.to_numpy(),
            "lower_95": ci.iloc[:, 0].to_numpy(),
            "upper_95": ci.iloc[:, 1].to_numpy(),
            "at_risk": ev["at_risk"].reindex(sf.index).to_numpy(),
            "inactive": ev["observed"].reindex(sf.index).to_numpy(),
            "censored": ev["censored"].reindex(sf.index).to_numpy(),
        },
        index=pd.Index(sf.index.to_numpy(dtype=float), name="days"),
    )
    table[["at_risk", "inactive", "censored"]] = (
        table[["at_risk", "inactive", "censored"]].round().astype("int64")
    )
    return ActivitySurvival(
        table=table,
        median_days=float(kmf.median_survival_time_),
        customers=int(d["customers"].sum()),
        inactive=int(d.loc[d["observed"], "customers"].sum()),
        as_of=as_of,
        inactivity_days=inactivity_days,
        durations=d.reset_index(drop=True),
    )


def activity_survival(
    wh: Warehouse, /, *, as_of: Any = None, inactivity_days: int = 180
) -> ActivitySurvival:
    """Kaplan-Meier estimate of how long unified customers stay active.

    Parameters
    ----------
    wh
        The warehouse (uses ``transactions`` and, when present, ``customer_lineage``).
    as_of
        The last day that counts; by default the day of the last transaction.
    inactivity_days
        A customer whose last purchase is more than this many days before ``as_of`` counts as
        having become inactive at that purchase; others are censored.

    Returns
    -------
    ActivitySurvival
        The survival table, the median active lifetime and the counts behind them.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmine.warehouse import connect
    >>> wh = connect()
    >>> wh.write("transactions", pd.DataFrame({"customer_id": ["a", "a", "b", "c", "c"],
    ...     "ts": pd.to_datetime(["2024-01-01", "2024-01-11", "2024-01-05", "2024-01-01", "2024-12-01"]),
    ...     "amount": 1.0}))
    >>> fit = activity_survival(wh, inactivity_days=90)
    >>> fit.customers, fit.inactive, fit.median_days
    (3, 2, 10.0)
    """
    inactivity_days = check_inactivity(inactivity_days)
    tx, day = purchases(wh, as_of)
    durations = wh.execute(
        activity_durations_expr(tx, as_of=day, inactivity_days=inactivity_days),
        what="activity durations",
    )
    return fit_activity(durations, as_of=day, inactivity_days=inactivity_days)


def plot_activity_survival(result: ActivitySurvival, /):
    """Step chart of the survival curve with its 95% band; returns a plotly Figure."""
    import plotly.graph_objects as go

    t = result.table
    x = t.index.to_numpy()
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=x,
            y=t["upper_95"],
            mode="lines",
            line={"width": 0, "shape": "hv"},
            showlegend=False,
            hoverinfo="skip",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=t["lower_95"],
            mode="lines",
            line={"width": 0, "shape": "hv"},
            fill="tonexty",
            fillcolor="rgba(31,119,180,0.2)",
            name="95% interval",
            hoverinfo="skip",
        )
    )
    fig.add_trace(
        go.Scatter(x=x, y=t["survival"], mode="lines", line={"shape": "hv"}, name="still active")
    )
    if np.isfinite(result.median_days):
        fig.add_vline(
            x=result.median_days,
            line_dash="dash",
            annotation_text=f"median {result.median_days:.0f} days",
        )
    fig.update_layout(
        title=f"Active lifetime (inactive after {result.inactivity_days} days without a purchase)",
        xaxis_title="days since first purchase",
        yaxis_title="share still active",
        yaxis={"range": [0, 1.02]},
    )
    return fig
