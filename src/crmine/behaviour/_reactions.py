"""Reaction behaviours: user-defined conditions on purchases, counted per customer.

A business declares what reactions matter to it in ``crmine.toml``::

    [analysis.behaviours]
    womenswear_catalog = "category == 'women' and channel == 'catalog'"
    big_basket = "amount > 200"

Each condition is evaluated on every purchase line joined with its product (columns of
``transactions`` plus ``category``, ``subcategory``, ``brand``, ``list_price``, ``unit_cost``).
Customers are then grouped by their *pattern*: the set of behaviours they showed at least
``min_count`` times, e.g. ``"big_basket+womenswear_catalog"`` or ``"(none)"``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import ibis
import ibis.expr.types as ir

from crmine._customers import resolved
from crmine._dates import known_at, parse_day
from crmine._expression import compile_expression
from crmine.errors import ExpressionError, SettingsError
from crmine.warehouse import Warehouse

__all__ = ["GROUP_PROFILE_COLUMNS", "behaviour_counts", "behaviour_groups", "group_profiles"]

GROUP_PROFILE_COLUMNS = ("orders", "spend", "avg_order_value", "recency_days", "age", "income")


def _lines(wh: Warehouse, as_of: Any) -> ir.Table:
    tx = resolved(wh, "transactions")
    # Reactions are about goods: returns and non-product lines (postage, fees) are left out.
    tx = tx.filter(known_at(tx.ts, as_of) & ~tx.is_return.fill_null(False) & ~tx.non_product.fill_null(False))
    p = wh.table("products").select(
        _pid="product_id", category="category", subcategory="subcategory", brand="brand",
        list_price="list_price", unit_cost="unit_cost",
    )
    return tx.left_join(p, tx.product_id == p._pid).drop("_pid")


def behaviour_counts(wh: Warehouse, behaviours: Mapping[str, str], /, *, as_of: Any) -> ir.Table:
    """One row per buying customer, one column per behaviour: how many of its lines known as of
    the ``as_of`` day (:func:`crmine._dates.known_at`) showed it."""
    if not behaviours:
        raise SettingsError(
            "No reaction behaviours are defined. Add them to crmine.toml, e.g.\n"
            "[analysis.behaviours]\nwomenswear_catalog = \"category == 'women' and channel == 'catalog'\""
        )
    lines = _lines(wh, parse_day(as_of))
    counts = {}
    for name, text in behaviours.items():
        if not isinstance(text, str):
            raise SettingsError(f"analysis.behaviours.{name}: must be a condition in quotes, got {type(text).__name__}.")
        try:
            cond = compile_expression(text, lines)
        except ExpressionError as e:
            raise ExpressionError(f"In [analysis.behaviours] {name}: {e}") from None
        if not cond.type().is_boolean():
            raise ExpressionError(f"In [analysis.behaviours] {name}: {text!r} is not a true/false condition.")
        counts[name] = cond.fill_null(False).cast("int64").sum()
    return lines.group_by("customer_id").aggregate(**counts)


def behaviour_groups(counts: ir.Table, customers: ir.Table, names: list[str], /, *, min_count: int = 1) -> ir.Table:
    """Each customer's behaviour pattern, joined with the customer table's profile columns."""
    parts = [ibis.ifelse(counts[n] >= min_count, ibis.literal(n + "+"), ibis.literal("")) for n in sorted(names)]
    pattern = parts[0]
    for p in parts[1:]:
        pattern = pattern.concat(p)
    pattern = pattern.re_replace(r"\+$", "")
    tagged = counts.mutate(pattern=ibis.ifelse(pattern == "", "(none)", pattern))
    cols = [c for c in GROUP_PROFILE_COLUMNS if c in customers.columns]
    prof = customers.select("customer_id", *cols)
    return tagged.left_join(prof, tagged.customer_id == prof.customer_id).drop("customer_id_right")


def group_profiles(grouped: ir.Table, /) -> ir.Table:
    """Size, share and mean profile of each behaviour pattern."""
    cols = [c for c in GROUP_PROFILE_COLUMNS if c in grouped.columns]
    total = grouped.count()
    return (
        grouped.group_by("pattern")
        .aggregate(customers=grouped.count(), **{f"mean_{c}": grouped[c].mean() for c in cols})
        .mutate(share=lambda t: t.customers.cast("float64") / total.as_scalar())
        .order_by(ibis.desc("customers"))
    )
