"""Customers and products inferred from the lines that mention them.

A company that exports only its sales (CDNOW, a till's order lines) has no customer or product
master. With ``references = "infer"`` (the default) and no source for such a table, every id the
loaded lines name becomes a row of it, marked ``source_system = "inferred"`` for customers, so
that per-customer and per-product analyses work on the sales alone.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from crmine.schema import Table
from crmine.warehouse import Warehouse

__all__ = ["INFERRED", "infer_masters"]

INFERRED = "inferred"


def infer_masters(wh: Warehouse, canon: Table, good: ir.Table, inferred: frozenset[str]) -> None:
    """Insert the rows of each ``inferred`` table that ``good`` refers to and that are missing."""
    for col in canon.columns:
        if col.references is None or col.name not in good.columns:
            continue
        ref_table, ref_col = col.references.split(".")
        if ref_table not in inferred:
            continue
        rows = _new_rows(wh, good, col.name, ref_table, ref_col)
        target = wh.table(ref_table)
        wh.insert(ref_table, rows.select(*[
            (rows[c] if c in rows.columns else ibis.null()).cast(target.schema()[c]).name(c)
            for c in target.columns
        ]))


def _new_rows(wh: Warehouse, good: ir.Table, column: str, ref_table: str, ref_col: str) -> ir.Table:
    lines = good.filter(good[column].notnull())
    if ref_table == "products" and "product_name" in lines.columns:
        # The most common description of a product names it (ties: the smallest, for determinism).
        named = lines.filter(lines.product_name.notnull())
        counts = named.group_by(_id=named[column], name=named.product_name).aggregate(n=named.count())
        rank = ibis.row_number().over(group_by=counts._id, order_by=[ibis.desc(counts.n), counts.name])
        best = counts.mutate(_r=rank).filter(lambda t: t._r == 0).select("_id", "name")
        ids = lines.select(_id=lines[column]).distinct()
        rows = ids.left_join(best, ids._id == best._id).select(_id=ids._id, name=best.name)
    else:
        rows = lines.select(_id=lines[column]).distinct()
        if ref_table == "customers":
            rows = rows.mutate(source_system=ibis.literal(INFERRED))
    existing = wh.table(ref_table).select(_have=wh.table(ref_table)[ref_col])
    rows = rows.anti_join(existing, rows._id == existing._have)
    return rows.rename({ref_col: "_id"})
