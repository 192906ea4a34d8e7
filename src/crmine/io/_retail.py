"""What real sales exports mean, made explicit on the typed transaction lines.

Retail exports rarely carry crmine's columns as such: a cancellation is a negative quantity or an
order id starting with ``C``; postage, fees and manual adjustments sit among the goods; a file may
have no order id at all (CDNOW) or no line numbers. These rules turn such lines into canonical
ones (returns with ``is_return``, non-goods with ``non_product``, synthesised keys) instead of
quarantining them. Each rule is one Ibis expression, so it runs unchanged on every engine.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from crmine.io._read import LINE, REC
from crmine.settings import SourceSettings

__all__ = ["NON_PRODUCT_WORDS", "retail_lines"]

# Words that name a charge rather than goods, as whole words of a line's product description.
NON_PRODUCT_WORDS = (
    r"(?i)\b(postage|carriage|shipping|delivery charges?|freight|fees?|bank charges?|manual|"
    r"adjust|adjustment|adjustments|discount|commission|samples?|handling)\b"
)
# Codes of service lines are words; goods carry numbers. Used only in a catalogue whose ids are
# nearly all numeric-bearing, so an all-letters catalogue is never flagged wholesale.
_DIGIT_SHARE = 0.9


def retail_lines(typed: ir.Table, source: SourceSettings, mapping: dict[str, str | None]) -> ir.Table:
    """``typed`` transaction lines with keys synthesised and returns and non-goods marked."""
    present = {c for c, raw in mapping.items() if raw is not None} | set(source.derive)
    typed = _synthesise_keys(typed, present)
    typed = typed.mutate(non_product=_non_product(typed, source, present))
    is_return = _is_return(typed, source, present)
    return typed.mutate(
        is_return=is_return,
        # A return's quantity counts units (positive); its amount is money back (negative).
        quantity=typed.quantity.abs(),
        amount=ibis.ifelse(is_return, -typed.amount.abs(), typed.amount),
    )


def _synthesise_keys(typed: ir.Table, present: set[str]) -> ir.Table:
    if "order_id" not in present:
        # No order id: a customer's lines at one moment are one order. A line whose time is
        # unreadable keeps an order of its own, so that its bad_type (not a missing key) is reported.
        when = ibis.coalesce(typed.ts.cast("string"), ibis.literal("line ") + typed[LINE].cast("string"))
        typed = typed.mutate(order_id=typed.customer_id.fill_null("") + "@" + when)
    if "line_no" not in present:
        # Lines numbered 1, 2, ... within their order, in file order: every line is kept, even
        # two identical ones (real, separate purchases in files without a line column).
        number = ibis.row_number().over(group_by=typed.order_id, order_by=typed[REC]) + 1
        typed = typed.mutate(line_no=number.cast("int64"))
    return typed


def _non_product(typed: ir.Table, source: SourceSettings, present: set[str]) -> ir.BooleanValue:
    flags: list[ir.BooleanValue] = []
    if "unit_price" in present:
        flags.append(typed.unit_price < 0)  # a bad-debt or manual adjustment, not a sale of goods
    if "product_id" in present:
        pid = typed.product_id
        if source.non_product:
            flags.append(pid.upper().isin([p.strip().upper() for p in source.non_product]))
        wordy = pid.notnull() & ~pid.re_search("[0-9]")
        digit_share = pid.re_search("[0-9]").cast("float64").mean().over()
        signals = [digit_share >= _DIGIT_SHARE]
        if "product_name" in present:
            signals.append(typed.product_name.re_search(NON_PRODUCT_WORDS))
        flags.append(wordy & ibis.or_(*[s.fill_null(False) for s in signals]))
    declared = typed.non_product if "non_product" in present else ibis.null().cast("boolean")
    found = ibis.or_(*[f.fill_null(False) for f in flags]) if flags else ibis.literal(False)
    return ibis.coalesce(declared, found)


def _is_return(typed: ir.Table, source: SourceSettings, present: set[str]) -> ir.BooleanValue:
    signals: list[ir.BooleanValue] = []
    if "quantity" in present:
        signals.append(typed.quantity < 0)
    if source.return_prefix:
        signals.append(typed.order_id.startswith(source.return_prefix))
    # Money back on goods is a return; a negative adjustment line is not.
    signals.append((typed.amount < 0) & ~typed.non_product)
    found = ibis.or_(*[s.fill_null(False) for s in signals])
    declared = typed.is_return if "is_return" in present else ibis.null().cast("boolean")
    return ibis.coalesce(declared, found)
