"""Purchases as of a day: the one definition of "no look-ahead" shared by loyalty and key customers.

``as_of`` is a day. Every event on that day counts and every event after it is ignored, so an
analysis run "as of" a past day sees exactly what the warehouse held at the end of that day: the
rule of :func:`crmine._dates.known_at`, shared with the customer table and CLV.
Without ``as_of``, the day of the last transaction line (a return included) is used, as in
:func:`crmine.features.customer_table`.
"""

from __future__ import annotations

from typing import Any

import ibis
import pandas as pd

from crmine._customers import resolved
from crmine._dates import as_of_day, known_at, parse_day
from crmine.schema import require_columns
from crmine.warehouse import Warehouse

__all__ = ["as_of_day", "day_literal", "lines", "not_return", "parse_day", "purchases", "upto"]


def day_literal(day: pd.Timestamp) -> ibis.Expr:
    """A date literal of ``day`` (the same on every engine)."""
    return ibis.date(day.strftime("%Y-%m-%d"))


def upto(tx: ibis.Table, day: pd.Timestamp) -> ibis.Table:
    """Rows of ``tx`` known as of ``day``: timed before its end (the whole of that day counts)."""
    return tx.filter(known_at(tx.ts, day))


def not_return(tx: ibis.Table) -> ibis.Table:
    """Rows that are purchases: ``is_return`` false or missing (or no ``is_return`` column)."""
    if "is_return" not in tx.columns:
        return tx
    return tx.filter(tx.is_return.fill_null(False) == False)  # noqa: E712 - an Ibis expression


def lines(wh: Warehouse, needed: tuple[str, ...] = ("customer_id", "ts", "amount")) -> ibis.Table:
    """Transaction lines with unified customer ids, after checking the columns ``needed``."""
    tx = resolved(wh, "transactions")
    require_columns(
        tx.columns,
        needed,
        where="Table 'transactions'",
        hint="Map the column in crmine.toml under [sources.NAME.columns].",
    )
    return tx


def purchases(wh: Warehouse, as_of: Any) -> tuple[ibis.Table, pd.Timestamp]:
    """Purchase lines (returns left out) on or before the ``as_of`` day, and that day."""
    tx = lines(wh)
    day = as_of_day(wh, as_of, tx=tx)
    return upto(not_return(tx), day), day
