"""Tables seen through identity resolution: customer ids replaced by unified customer ids."""

from __future__ import annotations

import ibis

from crmine.warehouse import Warehouse

__all__ = ["LINEAGE", "resolved"]

LINEAGE = "customer_lineage"


def resolved(wh: Warehouse, table: str) -> ibis.Table:
    """``table`` with ``customer_id`` mapped to the unified customer id, when lineage exists.

    Records not in the lineage (loaded after the last resolution) keep their own id. Rows with no
    customer (guest purchases) are left out: every reader of this view analyses customers.
    """
    t = wh.table(table)
    t = t.filter(t.customer_id.notnull())
    if not wh.has_table(LINEAGE):
        return t
    lin = wh.table(LINEAGE).select(_rec_id="customer_id", _unified="unified_id")
    j = t.left_join(lin, t.customer_id == lin._rec_id)
    return j.mutate(customer_id=ibis.coalesce(j._unified, j.customer_id)).drop("_rec_id", "_unified")
