"""The customer table ("customer 360"): one row per unified customer as of a date.

Every measure is an Ibis expression over the canonical tables seen through identity resolution,
and only events known as of the as-of day count (:func:`crmine._dates.known_at`: a time before the
end of that day; an event without a time never counts), so a table built "as of" a past date is
exactly what was knowable then. The same expressions run on DuckDB and Spark.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from crmine._customers import resolved
from crmine._dates import as_of_day, known_at
from crmine._expression import compile_expression
from crmine.clv._rfm import rfm_summary_expr
from crmine.errors import ExpressionError
from crmine.warehouse import Warehouse

__all__ = ["BASE_COLUMNS", "customer_table"]

DAY = 86400.0
BASE_COLUMNS = (
    "customer_id", "gender", "age", "income", "region", "city", "country", "occupation", "education",
    "signup_date", "first_purchase", "last_purchase", "tenure_days", "recency_days", "orders", "spend",
    "avg_order_value", "frequency", "recency", "T", "ipt_mean_days", "ipt_cv", "spend_recent",
    "spend_previous", "spend_trend", "discount_rate", "return_rate", "campaign_contacts",
    "campaign_responses", "response_rate", "service_contacts", "resolution_rate", "mean_satisfaction",
)


def _ratio(num: ir.NumericValue, den: ir.NumericValue) -> ir.FloatingValue:
    """num / den, null where den is 0 or null (DuckDB and Spark's ANSI mode then agree)."""
    return ibis.ifelse(den.fill_null(0) == 0, ibis.null(), num.cast("float64") / den)


def _days(later: ir.Value, earlier: ir.Value) -> ir.FloatingValue:
    return (later.epoch_seconds() - earlier.epoch_seconds()).cast("float64") / DAY


def slug(value: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", str(value).lower()).strip("_") or "unknown"


def customer_table(
    wh: Warehouse, /, *, as_of: Any = None, derived: Mapping[str, str] | None = None, recent_days: int = 90,
) -> ir.Table:
    """One row per unified customer with demographics, purchase behaviour, campaigns and service.

    Parameters
    ----------
    wh
        The warehouse.
    as_of
        The day the table describes (inclusive); default: the last transaction day.
    derived
        Extra columns by expression over the others, e.g. ``{"income_per_age": "income / age"}``.
    recent_days
        Length of the "recent" and "previous" windows of the spend trend.

    Returns
    -------
    ibis.Table
        Columns :data:`BASE_COLUMNS`, then ``share_cat_*``, ``share_channel_*``, ``share_method_*``
        and the derived columns.
    """
    as_of = as_of_day(wh, as_of)
    now = ibis.literal(as_of.to_pydatetime(), "timestamp")

    people = _people(wh, now, as_of)
    tx = resolved(wh, "transactions")
    tx = tx.filter(known_at(tx.ts, as_of))
    lines = tx.mutate(is_return=tx.is_return.fill_null(False), discount=tx.discount.fill_null(0))
    buys = lines.filter(~lines.is_return)

    out = people
    for part in (
        _purchases(lines, now, recent_days),
        _btyd(buys, as_of),
        _inter_purchase(buys),
        _shares(wh, buys),
        _campaigns(wh, as_of),
        _service(wh, as_of),
    ):
        out = out.left_join(part, out.customer_id == part.customer_id).drop("customer_id_right")

    out = out.mutate(
        # Whole days: a purchase on the as-of day is 0 days ago.
        tenure_days=_days(now, ibis.least(out.signup_date, out.first_purchase).truncate("D")),
        recency_days=_days(now, out.last_purchase.truncate("D")),
        orders=out.orders.fill_null(0),
        spend=out.spend.fill_null(0.0),
        campaign_contacts=out.campaign_contacts.fill_null(0),
        campaign_responses=out.campaign_responses.fill_null(0),
        service_contacts=out.service_contacts.fill_null(0),
    )
    out = out.mutate(response_rate=_ratio(out.campaign_responses, out.campaign_contacts))
    share_cols = [c for c in out.columns if c.startswith("share_")]
    out = out.select(*BASE_COLUMNS, *share_cols)
    for name, text in (derived or {}).items():
        try:
            out = out.mutate(**{name: compile_expression(text, out)})
        except ExpressionError as e:
            raise ExpressionError(f"In [analysis.derived] {name}: {e}") from None
    return out


def _people(wh: Warehouse, now: ir.Value, as_of: pd.Timestamp) -> ir.Table:
    """One golden row per unified customer: the earliest dates, the most common text value.

    A record that signed up after ``as_of`` is left out. A customer record is not an event: one
    without a signup date is a customer on every day (its purchases and contacts are dated).
    """
    c = resolved(wh, "customers")
    c = c.filter(c.signup_date.isnull() | known_at(c.signup_date, as_of))
    # max() is a deterministic pick among a unified customer's records; they rarely disagree.
    g = c.group_by("customer_id").aggregate(
        gender=c.gender.max(), birth_date=c.birth_date.min(), income=c.income.max(), region=c.region.max(),
        city=c.city.max(), country=c.country.max(), occupation=c.occupation.max(),
        education=c.education.max(), signup_date=c.signup_date.min(),
    )
    age = _days(now, g.birth_date) / 365.25
    return g.mutate(age=ibis.ifelse(age >= 0, age, ibis.null())).drop("birth_date")


def _purchases(lines: ir.Table, now: ir.Value, recent_days: int) -> ir.Table:
    recent_from = now + ibis.interval(days=1 - recent_days)
    previous_from = now + ibis.interval(days=1 - 2 * recent_days)
    in_recent = lines.ts >= recent_from
    in_previous = (lines.ts >= previous_from) & ~in_recent
    agg = lines.group_by("customer_id").aggregate(
        first_purchase=lines.ts.min(where=~lines.is_return),
        last_purchase=lines.ts.max(where=~lines.is_return),
        orders=lines.order_id.nunique(where=~lines.is_return),
        spend=lines.amount.sum(),
        gross=lines.amount.sum(where=~lines.is_return),
        discount_sum=lines.discount.sum(where=~lines.is_return),
        return_lines=lines.is_return.cast("int64").sum(),
        line_count=lines.count(),
        spend_recent=lines.amount.sum(where=in_recent),
        spend_previous=lines.amount.sum(where=in_previous),
    )
    recent, previous = agg.spend_recent.fill_null(0.0), agg.spend_previous.fill_null(0.0)
    return agg.mutate(
        avg_order_value=_ratio(agg.gross, agg.orders),
        spend_recent=recent,
        spend_previous=previous,
        # -1 (all spend earlier) .. +1 (all spend recent); null with no spend in either window.
        spend_trend=_ratio(recent - previous, recent.abs() + previous.abs()),
        discount_rate=_ratio(agg.discount_sum, agg.gross + agg.discount_sum),
        return_rate=_ratio(agg.return_lines, agg.line_count),
    ).drop("gross", "discount_sum", "return_lines", "line_count")


def _btyd(buys: ir.Table, as_of: pd.Timestamp) -> ir.Table:
    rfm = rfm_summary_expr(buys, observation_end=str(as_of.date()), time_unit="W", monetary_col=None)
    return rfm.select("customer_id", "frequency", "recency", "T")


def _inter_purchase(buys: ir.Table) -> ir.Table:
    """Mean and coefficient of variation of the days between distinct purchase days."""
    days = buys.select("customer_id", day=buys.ts.truncate("D")).distinct()
    w = ibis.window(group_by=days.customer_id, order_by=days.day)
    gaps = days.mutate(gap=_days(days.day, days.day.lag().over(w)))
    gaps = gaps.filter(gaps.gap.notnull())
    agg = gaps.group_by("customer_id").aggregate(ipt_mean_days=gaps.gap.mean(), ipt_sd=gaps.gap.std(how="pop"))
    return agg.mutate(ipt_cv=_ratio(agg.ipt_sd, agg.ipt_mean_days)).drop("ipt_sd")


def _shares(wh: Warehouse, buys: ir.Table) -> ir.Table:
    """Share of each customer's spend by product category, channel and sales method."""
    products = wh.table("products").select(_pid="product_id", _category="category")
    j = buys.left_join(products, buys.product_id == products._pid)
    total = j.amount.sum()
    measures: dict[str, ir.Value] = {"_total": total}
    for prefix, col in (("cat", "_category"), ("channel", "channel"), ("method", "sales_method")):
        values = wh.execute(j.select(v=j[col]).distinct().filter(lambda t: t.v.notnull()).order_by("v"),
                            what=f"distinct {col.strip('_')}").v.tolist()
        for v in values:
            measures[f"share_{prefix}_{slug(v)}"] = j.amount.sum(where=j[col] == v)
    agg = j.group_by("customer_id").aggregate(**measures)
    return agg.mutate(**{k: _ratio(agg[k].fill_null(0.0), agg._total) for k in measures if k != "_total"}).drop("_total")


def _campaigns(wh: Warehouse, as_of: pd.Timestamp) -> ir.Table:
    contacts = resolved(wh, "campaign_contacts")
    contacts = contacts.filter((contacts.group == "treatment") & known_at(contacts.ts, as_of))
    responses = resolved(wh, "campaign_responses")
    responses = responses.filter(known_at(responses.ts, as_of))
    # A response counts towards the rate when the customer was contacted by that campaign; control
    # group purchases are the baseline of lift, not responses to a contact.
    answered = responses.semi_join(
        contacts, [responses.campaign_id == contacts.campaign_id, responses.customer_id == contacts.customer_id]
    )
    c = contacts.group_by("customer_id").aggregate(campaign_contacts=contacts.campaign_id.nunique())
    r = answered.group_by("customer_id").aggregate(campaign_responses=answered.campaign_id.nunique())
    return c.left_join(r, c.customer_id == r.customer_id).drop("customer_id_right")


def _service(wh: Warehouse, as_of: pd.Timestamp) -> ir.Table:
    i = resolved(wh, "interactions")
    i = i.filter(known_at(i.ts, as_of))
    return i.group_by("customer_id").aggregate(
        service_contacts=i.count(),
        resolution_rate=i.resolved.cast("float64").mean(),
        mean_satisfaction=i.satisfaction.mean(),
    )
