"""Loyalty scores per customer; the scores are defined in the docs of :mod:`crmine.loyalty`."""

from __future__ import annotations

from typing import Any

import ibis
import numpy as np
import pandas as pd

from crmine.errors import SchemaError, SettingsError
from crmine.loyalty._purchases import as_of_day, lines, not_return, upto
from crmine.loyalty._survival import check_inactivity, fit_activity
from crmine.schema import require_columns
from crmine.warehouse import Warehouse, connect

__all__ = ["SCORE_COLUMNS", "loyalty_scores"]

SCORE_COLUMNS = (
    "customer_id",
    "tenure_days",
    "active_days",
    "orders",
    "purchase_days",
    "categories",
    "channels",
    "cv_time",
    "cv_value",
    "p_active",
    "durability",
    "robustness",
    "stability",
    "loyalty",
)


def _lines_of(source: Warehouse | pd.DataFrame) -> tuple[Warehouse, ibis.Table, bool]:
    """(warehouse, transaction lines with a category column when one is known, opened here?)."""
    if isinstance(source, Warehouse):
        wh, own = source, False
        tx = lines(wh)
    elif isinstance(source, pd.DataFrame):
        require_columns(
            list(map(str, source.columns)),
            ("customer_id", "ts", "amount"),
            where="loyalty_scores transactions",
        )
        wh, own = connect(), True
        wh.write("transactions", source)
        tx = wh.table("transactions")
    else:
        raise TypeError(
            f"loyalty_scores takes a Warehouse or a pandas DataFrame of transaction lines; "
            f"received {type(source).__name__}."
        )
    if "category" not in tx.columns and "product_id" in tx.columns and wh.has_table("products"):
        p = wh.table("products")
        if "category" in p.columns:
            p = p.select(_pid="product_id", category="category")
            tx = tx.left_join(p, tx.product_id == p._pid).drop("_pid")
    return wh, tx, own


def _per_customer(tx: ibis.Table) -> ibis.Table:
    """Per-customer counts and coefficients of variation, as one expression."""
    has_order = "order_id" in tx.columns
    t = tx.mutate(_day=tx.ts.date())
    order_key = t.order_id if has_order else t._day.cast("string")
    orders = t.group_by(["customer_id", order_key.name("_order")]).aggregate(value=t.amount.sum())
    ov = orders.group_by("customer_id").aggregate(
        orders=orders.count().cast("int64"),
        _v_mean=orders.value.mean(),
        _v_sd=orders.value.std(how="pop"),
    )
    days = t.select("customer_id", "_day").distinct()
    w = ibis.window(group_by="customer_id", order_by="_day")
    gaps = days.mutate(gap=days._day.delta(days._day.lag().over(w), unit="day").cast("float64"))
    gaps = gaps.filter(gaps.gap.notnull())
    gv = gaps.group_by("customer_id").aggregate(
        _gaps=gaps.count(), _g_mean=gaps.gap.mean(), _g_sd=gaps.gap.std(how="pop")
    )
    aggs: dict[str, Any] = {
        "first": t._day.min(),
        "last": t._day.max(),
        "purchase_days": t._day.nunique().cast("int64"),
    }
    for col, name in (("category", "categories"), ("channel", "channels")):
        if col in t.columns:
            aggs[name] = t[col].nunique().cast("int64")
    per = t.group_by("customer_id").aggregate(**aggs)
    j = per.join(ov, "customer_id").left_join(gv, "customer_id")
    # NULLIF keeps the division safe on engines that raise on division by zero (Spark ANSI mode)
    cv_time = ibis.ifelse(j._gaps.fill_null(0) >= 2, j._g_sd / j._g_mean.nullif(0.0), None)
    cv_value = ibis.ifelse(j.orders >= 2, j._v_sd / j._v_mean.nullif(0.0), None)
    keep = [
        c
        for c in (
            "customer_id",
            "first",
            "last",
            "orders",
            "purchase_days",
            "categories",
            "channels",
        )
        if c in j.columns
    ]
    out = j.select(*keep, cv_time=cv_time.cast("float64"), cv_value=cv_value.cast("float64"))
    # a mean <= 0 (refunds outweighing purchases) has no meaningful coefficient of variation
    out = out.mutate(cv_value=ibis.ifelse(out.cv_value >= 0, out.cv_value, None))
    return out


def _breadth_totals(tx: ibis.Table) -> dict[str, ibis.Expr]:
    return {
        name: tx[col].nunique()
        for col, name in (("category", "categories"), ("channel", "channels"))
        if col in tx.columns
    }


def loyalty_scores(
    source: Warehouse | pd.DataFrame,
    /,
    *,
    as_of: Any = None,
    inactivity_days: int = 180,
    full_tenure_days: int = 730,
) -> pd.DataFrame:
    """Durability, robustness, stability and loyalty per customer, as defined in :mod:`crmine.loyalty`.

    Parameters
    ----------
    source
        A warehouse (``transactions`` with unified customer ids, product categories from
        ``products``) or a DataFrame of transaction lines with ``customer_id``, ``ts``, ``amount``
        and optionally ``order_id``, ``category``, ``channel``, ``is_return``.
    as_of
        The last day that counts; by default the day of the last transaction.
    inactivity_days
        Days without a purchase after which a customer counts as inactive (for ``p_active``).
    full_tenure_days
        Active lifetime that earns the full tenure half of durability.

    Returns
    -------
    pandas.DataFrame
        One row per customer, ordered by ``customer_id``, with the columns of ``SCORE_COLUMNS``.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": ["a", "a", "a", "b"], "order_id": ["1", "2", "3", "4"],
    ...     "ts": pd.to_datetime(["2024-01-01", "2024-01-11", "2024-01-21", "2024-01-05"]),
    ...     "amount": [10.0, 10.0, 10.0, 5.0], "channel": ["web", "store", "web", "web"]})
    >>> s = loyalty_scores(tx, as_of="2024-01-21").set_index("customer_id")
    >>> s[["robustness", "stability"]].to_dict("index")
    {'a': {'robustness': 1.0, 'stability': 1.0}, 'b': {'robustness': 0.0, 'stability': 0.0}}
    """
    inactivity_days = check_inactivity(inactivity_days)
    if (
        isinstance(full_tenure_days, bool)
        or not isinstance(full_tenure_days, int | np.integer)
        or full_tenure_days < 1
    ):
        raise SettingsError(
            f"full_tenure_days must be a whole number of days >= 1; received {full_tenure_days!r}."
        )
    wh, tx, own = _lines_of(source)
    try:
        day = as_of_day(wh, as_of, tx=tx)
        tx = upto(not_return(tx), day)
        per = wh.execute(_per_customer(tx), what="loyalty statistics")
        breadth = _breadth_totals(tx)
        totals = wh.execute(tx.aggregate(**breadth), what="loyalty breadth") if breadth else None
    finally:
        if own:
            wh.close()
    if per.empty:
        raise SchemaError(
            f"loyalty_scores: no purchase on or before {day.date()}; nothing to score."
        )
    first = pd.to_datetime(per["first"])
    last = pd.to_datetime(per["last"])
    out = pd.DataFrame({"customer_id": per["customer_id"].astype(str)})
    out["tenure_days"] = (day - first).dt.days.astype("int64").to_numpy()
    out["active_days"] = (last - first).dt.days.astype("int64").to_numpy()
    out["orders"] = per["orders"].astype("int64").to_numpy()
    out["purchase_days"] = per["purchase_days"].astype("int64").to_numpy()
    terms = []
    for name in ("categories", "channels"):
        if name in per.columns:
            out[name] = per[name].fillna(0).astype("int64").to_numpy()
            total = int(totals[name].iloc[0]) if totals is not None else 0
            if total > 1:
                terms.append((out[name] - 1).clip(lower=0) / (total - 1))
        else:
            out[name] = pd.array([pd.NA] * len(out), dtype="Int64")
    out["cv_time"] = per["cv_time"].astype("float64").to_numpy()
    out["cv_value"] = per["cv_value"].astype("float64").to_numpy()

    gap = (day - last).dt.days.to_numpy()
    durations = (
        pd.DataFrame({"duration_days": out["active_days"], "observed": gap > inactivity_days})
        .groupby(["duration_days", "observed"], as_index=False)
        .size()
        .rename(columns={"size": "customers"})
    )
    km = fit_activity(durations, as_of=day, inactivity_days=inactivity_days)
    s_now = km.survival_at(out["tenure_days"].to_numpy())
    s_known = km.survival_at(out["active_days"].to_numpy() - 1)
    out["p_active"] = np.clip(s_now / np.where(s_known > 0, s_known, 1.0), 0.0, 1.0)

    tenure_score = np.minimum(out["active_days"], full_tenure_days) / full_tenure_days
    out["durability"] = (tenure_score + out["p_active"]) / 2
    out["robustness"] = pd.concat(terms, axis=1).mean(axis=1) if terms else np.nan
    reg_time = (1.0 / (1.0 + out["cv_time"])).fillna(0.0)
    reg_value = (1.0 / (1.0 + out["cv_value"])).fillna(0.0)
    out["stability"] = (reg_time + reg_value) / 2
    out["loyalty"] = out[["durability", "robustness", "stability"]].mean(axis=1, skipna=True)
    return out[list(SCORE_COLUMNS)].sort_values("customer_id", ignore_index=True)
