"""Key customers: who brings the profit (or the expected value), and how concentrated it is.

**Profit** of a unified customer is the sum over their transaction lines on or before ``as_of``:
``amount - units * unit_cost``, where ``units`` is ``quantity`` for a sale and ``-quantity`` for a
return (``is_return`` true: the refund is already a negative ``amount`` and the goods come back,
so their cost is credited). A line whose product has no ``unit_cost`` (or that has no
``quantity``) earns ``amount * default_margin``. **Revenue** is the sum of ``amount``; **cost** is
revenue minus profit.

The **Pareto curve** sorts customers from the most to the least valuable and gives, for the top
x% of customers, their share of the total (ties are broken by ``customer_id``): the top
``ceil(x * customers)`` customers count. The **gold list** is the top ``top_share`` of customers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import ibis
import numpy as np
import pandas as pd

from crmine.errors import SettingsError, WorkspaceError
from crmine.loyalty._purchases import as_of_day, lines, upto
from crmine.warehouse import Warehouse

__all__ = ["BY", "KeyCustomers", "customer_profit", "key_customers", "plot_pareto"]

BY = ("profit", "clv")
CLV_TABLE = "clv_scores"


@dataclass(frozen=True)
class KeyCustomers:
    """What :func:`key_customers` found.

    Attributes
    ----------
    ranking
        Every customer from the most to the least valuable: ``rank`` (1 = best), ``customer_id``,
        ``revenue``, ``cost``, ``profit`` (and ``clv`` when ranked by it), ``value`` (the
        quantity ranked), ``cumulative_share`` (of the total value, down to this customer) and
        ``key`` (in the gold list).
    pareto
        ``customer_share`` (0, 0.01, ..., 1 by default) and ``value_share``.
    gold
        The rows of ``ranking`` in the top ``top_share``.
    top_value_share
        Share of the total value brought by the gold list (NaN when the total is not positive).
    headline
        A sentence such as "The top 20% of customers (600 of 3,000) bring 61.8% of profit."
    by, top_share, as_of
        The settings used.
    """

    ranking: pd.DataFrame
    pareto: pd.DataFrame
    gold: pd.DataFrame
    top_value_share: float
    headline: str
    by: str
    top_share: float
    as_of: pd.Timestamp


def customer_profit(
    wh: Warehouse, /, *, as_of: Any = None, default_margin: float = 0.3
) -> ibis.Table:
    """Historical revenue, cost and profit per unified customer, as an Ibis expression.

    Parameters
    ----------
    wh
        The warehouse (``transactions``; ``products.unit_cost`` when present;
        ``customer_lineage`` when present).
    as_of
        The last day that counts; by default the day of the last transaction.
    default_margin
        Share of ``amount`` kept as profit on lines without a known unit cost.

    Returns
    -------
    ibis.Table
        Columns ``customer_id``, ``revenue``, ``cost``, ``profit``, ``lines`` and
        ``lines_without_cost``.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmine.warehouse import connect
    >>> wh = connect()
    >>> wh.write("products", pd.DataFrame({"product_id": ["p"], "unit_cost": [4.0]}))
    >>> wh.write("transactions", pd.DataFrame({"customer_id": ["a", "a"], "product_id": ["p", "q"],
    ...     "ts": pd.to_datetime(["2024-01-01", "2024-01-02"]), "quantity": [2.0, 1.0],
    ...     "amount": [20.0, 10.0], "is_return": [False, False]}))
    >>> wh.execute(customer_profit(wh))[["revenue", "cost", "profit"]].to_numpy().tolist()
    [[30.0, 15.0, 15.0]]
    """
    margin = _check_margin(default_margin)
    tx = lines(wh)
    day = as_of_day(wh, as_of, tx=tx)
    tx = upto(tx, day)
    unit_cost = ibis.null("float64")
    if "product_id" in tx.columns and wh.has_table("products"):
        p = wh.table("products")
        if "unit_cost" in p.columns:
            p = p.select(_pid="product_id", _unit_cost=p.unit_cost.cast("float64"))
            tx = tx.left_join(p, tx.product_id == p._pid)
            unit_cost = tx._unit_cost
    amount = tx.amount.cast("float64")
    if "quantity" in tx.columns:
        q = tx.quantity.cast("float64")
        is_return = (
            tx.is_return.fill_null(False) if "is_return" in tx.columns else ibis.literal(False)
        )
        units = ibis.ifelse(is_return, -q.abs(), q)
    else:
        units = ibis.null("float64")
    known = unit_cost.notnull() & units.notnull()
    line_cost = ibis.ifelse(known, units * unit_cost, amount * (1.0 - margin))
    t = tx.select(
        customer_id=tx.customer_id,
        amount=amount,
        line_cost=line_cost,
        no_cost=(~known).cast("int64"),
    )
    per = t.group_by("customer_id").aggregate(
        revenue=t.amount.sum(),
        cost=t.line_cost.sum(),
        lines=t.count().cast("int64"),
        lines_without_cost=t.no_cost.sum().cast("int64"),
    )
    return per.select(
        "customer_id",
        "revenue",
        "cost",
        profit=per.revenue - per.cost,
        lines="lines",
        lines_without_cost="lines_without_cost",
    ).order_by("customer_id")


def _check_margin(default_margin: Any) -> float:
    if (
        isinstance(default_margin, bool)
        or not isinstance(default_margin, int | float)
        or not (-1.0 <= float(default_margin) <= 1.0)
    ):
        raise SettingsError(
            f"default_margin is a share of revenue between -1 and 1 (0.3 keeps 30%); "
            f"received {default_margin!r}."
        )
    return float(default_margin)


def key_customers(
    wh: Warehouse,
    /,
    *,
    as_of: Any = None,
    top_share: float = 0.2,
    by: str = "profit",
    default_margin: float = 0.3,
    points: int = 100,
) -> KeyCustomers:
    """Rank unified customers by profit (or CLV), draw the Pareto curve, list the key customers.

    Parameters
    ----------
    wh
        The warehouse.
    as_of
        The last day whose transactions count; by default the day of the last transaction.
    top_share
        Share of customers in the gold list (0.2: the top 20%).
    by
        ``"profit"`` (historical, see the module docs) or ``"clv"`` (``clv_scores.clv``, written
        by ``ws.clv.score()``; its value is as of the CLV fit, while the profit columns
        follow ``as_of``).
    default_margin
        Share of revenue counted as profit on lines without a unit cost.
    points
        The Pareto curve has ``points + 1`` customer shares, from 0 to 1.

    Returns
    -------
    KeyCustomers
        Ranking, Pareto curve, gold list and headline.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmine.warehouse import connect
    >>> wh = connect()
    >>> wh.write("transactions", pd.DataFrame({"customer_id": list("abcde"),
    ...     "ts": pd.to_datetime("2024-01-01"), "amount": [100.0, 10.0, 10.0, 5.0, 5.0]}))
    >>> key_customers(wh, default_margin=0.5).headline
    'The top 20% of customers (1 of 5) bring 76.9% of profit.'
    """
    if by not in BY:
        raise SettingsError(f"by must be one of {', '.join(BY)}; received {by!r}.")
    if (
        isinstance(top_share, bool)
        or not isinstance(top_share, int | float)
        or not 0 < top_share <= 1
    ):
        raise SettingsError(
            f"top_share must be a share in (0, 1], such as 0.2; received {top_share!r}."
        )
    if isinstance(points, bool) or not isinstance(points, int | np.integer) or points < 1:
        raise SettingsError(f"points must be a positive integer; received {points!r}.")
    if by == "clv" and not wh.has_table(CLV_TABLE):
        raise WorkspaceError(
            f"Ranking by CLV needs table {CLV_TABLE!r}, which does not exist yet. Score customers "
            "first: `crmine clv fit DIR && crmine clv score DIR` (or ws.clv.fit(); ws.clv.score())."
        )
    day = as_of_day(wh, as_of, tx=lines(wh))
    profit_expr = customer_profit(wh, as_of=day, default_margin=default_margin)
    if by == "clv":
        scores = wh.table(CLV_TABLE)
        clv = scores.select(_cid=scores.customer_id, clv=scores.clv.cast("float64"))
        j = clv.left_join(profit_expr, clv._cid == profit_expr.customer_id)
        expr = j.select(
            customer_id=j._cid,
            revenue=j.revenue.fill_null(0.0),
            cost=j.cost.fill_null(0.0),
            profit=j.profit.fill_null(0.0),
            clv=j.clv.fill_null(0.0),
        )
    else:
        expr = profit_expr.select("customer_id", "revenue", "cost", "profit")
    table = wh.execute(expr, what="key customers")
    return rank_customers(table, by=by, top_share=float(top_share), points=int(points), as_of=day)


def rank_customers(
    table: pd.DataFrame, /, *, by: str, top_share: float, points: int, as_of: pd.Timestamp
) -> KeyCustomers:
    """Rank a per-customer table on column ``by`` and build the Pareto curve and gold list."""
    t = table.copy()
    t["customer_id"] = t["customer_id"].astype(str)
    t["value"] = t[by].astype("float64")
    t = t.sort_values(
        ["value", "customer_id"], ascending=[False, True], kind="stable", ignore_index=True
    )
    n = len(t)
    total = float(t["value"].sum())
    positive = total > 0
    cum = t["value"].cumsum().to_numpy()
    t.insert(0, "rank", np.arange(1, n + 1))
    t["cumulative_share"] = cum / total if positive else np.nan
    m_top = max(1, math.ceil(top_share * n - 1e-9)) if n else 0
    t["key"] = t["rank"] <= m_top
    grid = np.linspace(0.0, 1.0, points + 1)
    m = np.ceil(grid * n - 1e-9).astype(np.int64)
    reached = np.where(m > 0, np.r_[0.0, cum][m], 0.0)
    pareto = pd.DataFrame(
        {"customer_share": grid, "value_share": reached / total if positive else np.nan}
    )
    top = float(cum[m_top - 1] / total) if (positive and n) else float("nan")
    what = "profit" if by == "profit" else "expected value (CLV)"
    pct = (
        f"{top_share:.0%}"
        if round(top_share * 100, 6) == int(round(top_share * 100))
        else f"{top_share:.1%}"
    )
    if positive:
        headline = f"The top {pct} of customers ({m_top:,} of {n:,}) bring {top:.1%} of {what}."
    else:
        headline = (
            f"The total {what} of the {n:,} customers is not positive, so shares of it are not "
            "meaningful; see the ranking."
        )
    gold = t[t["key"]].reset_index(drop=True)
    return KeyCustomers(
        ranking=t,
        pareto=pareto,
        gold=gold,
        top_value_share=top,
        headline=headline,
        by=by,
        top_share=top_share,
        as_of=as_of,
    )


def plot_pareto(result: KeyCustomers, /):
    """The Pareto curve with the equality line and the gold-list point; returns a plotly Figure."""
    import plotly.graph_objects as go

    p = result.pareto
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=p["customer_share"], y=p["value_share"], mode="lines", name=f"share of {result.by}"
        )
    )
    fig.add_trace(
        go.Scatter(
            x=[0, 1],
            y=[0, 1],
            mode="lines",
            name="every customer alike",
            line={"dash": "dot", "color": "grey"},
        )
    )
    if np.isfinite(result.top_value_share):
        fig.add_trace(
            go.Scatter(
                x=[result.top_share],
                y=[result.top_value_share],
                mode="markers",
                name="key customers",
                marker={"size": 10},
            )
        )
    fig.update_layout(
        title=result.headline,
        xaxis_title="share of customers (most valuable first)",
        yaxis_title=f"cumulative share of {result.by}",
        xaxis_tickformat=".0%",
        yaxis_tickformat=".0%",
    )
    return fig
