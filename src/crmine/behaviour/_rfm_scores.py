"""RFM scoring: quintile scores for recency, frequency and monetary value, and named segments.

Each buying customer gets R, F and M scores from 1 to 5 by quintile (R: the more recent, the
higher; F: number of orders; M: spend), computed over the customer table as an Ibis expression.
The segment follows from R and FM = round((F + M) / 2):

================== ======================================
segment            rule
================== ======================================
champions          R = 5 and FM >= 4, or R = 4 and FM = 5
loyal              R >= 3 and FM >= 4 (the rest)
potential loyalists R >= 4 and FM in 2-3
new                R = 5 and FM = 1
promising          R = 4 and FM = 1
need attention     R = 3 and FM = 3
about to sleep     R = 3 and FM <= 2
cannot lose        R <= 2 and FM = 5
at risk            R <= 2 and FM in 3-4
hibernating        R = 2 and FM <= 2
lost               R = 1 and FM <= 2
================== ======================================

Every (R, FM) pair falls in exactly one segment.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

__all__ = ["SEGMENTS", "rfm_scores", "rfm_segment_summary", "rfm_transitions"]

SEGMENTS = (
    "champions", "loyal", "potential loyalists", "new", "promising", "need attention",
    "about to sleep", "cannot lose", "at risk", "hibernating", "lost",
)


def _quintile(value: ir.NumericValue, tiebreak: ir.Column) -> ir.IntegerValue:
    # ntile is 0-based in Ibis; the customer id breaks ties so that scores are reproducible.
    return (ibis.ntile(5).over(order_by=[value, tiebreak]) + 1).cast("int8")


def segment_of(r: ir.IntegerValue, fm: ir.IntegerValue) -> ir.StringValue:
    """The named segment of R and FM scores (see the module table)."""
    return ibis.cases(
        (((r == 5) & (fm >= 4)) | ((r == 4) & (fm == 5)), "champions"),
        ((r >= 3) & (fm >= 4), "loyal"),
        ((r >= 4) & fm.between(2, 3), "potential loyalists"),
        ((r == 5) & (fm == 1), "new"),
        ((r == 4) & (fm == 1), "promising"),
        ((r == 3) & (fm == 3), "need attention"),
        ((r == 3) & (fm <= 2), "about to sleep"),
        ((r <= 2) & (fm == 5), "cannot lose"),
        ((r <= 2) & fm.between(3, 4), "at risk"),
        ((r == 2) & (fm <= 2), "hibernating"),
        else_="lost",
    )


def rfm_scores(customers: ir.Table, /) -> ir.Table:
    """R, F, M scores (1-5), the RFM cell (e.g. "545") and the named segment per buying customer.

    ``customers`` needs ``customer_id``, ``recency_days``, ``orders`` and ``spend`` (the customer table).
    """
    buyers = customers.filter(customers.orders > 0)
    scored = buyers.mutate(
        r=_quintile(-buyers.recency_days, buyers.customer_id),
        f=_quintile(buyers.orders, buyers.customer_id),
        m=_quintile(buyers.spend, buyers.customer_id),
    )
    fm = ((scored.f + scored.m + 1) / 2).floor().cast("int8")  # round half up
    return scored.select(
        "customer_id", "recency_days", "orders", "spend", "r", "f", "m",
        cell=scored.r.cast("string") + scored.f.cast("string") + scored.m.cast("string"),
        segment=segment_of(scored.r, fm),
    )


def rfm_segment_summary(scores: ir.Table, /) -> ir.Table:
    """Size, share of customers, total and mean spend, and mean recency of each segment."""
    total = scores.count()
    return (
        scores.group_by("segment")
        .aggregate(
            customers=scores.count(), spend=scores.spend.sum(), mean_spend=scores.spend.mean(),
            mean_recency_days=scores.recency_days.mean(), mean_orders=scores.orders.mean(),
        )
        .mutate(share=lambda t: t.customers.cast("float64") / total.as_scalar())
        .order_by(ibis.desc("spend"))
    )


def rfm_transitions(before: ir.Table, after: ir.Table, /) -> ir.Table:
    """How many customers moved from each segment to each other between two scorings.

    Customers who had not bought by the first date appear as coming from "(not yet a customer)".
    """
    b = before.select("customer_id", segment_before="segment")
    a = after.select(customer_id_after="customer_id", segment_after="segment")
    j = a.left_join(b, a.customer_id_after == b.customer_id)
    j = j.mutate(segment_before=j.segment_before.fill_null("(not yet a customer)"))
    return j.group_by(["segment_before", "segment_after"]).aggregate(customers=j.count()).order_by(
        ["segment_before", ibis.desc("customers")]
    )
