"""Which responses belong to a campaign: the one rule, used by campaign lift and response models."""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from crmine._customers import resolved
from crmine.warehouse import Warehouse

__all__ = ["responses_in_window"]


def responses_in_window(wh: Warehouse, ids: list[str] | None = None) -> ir.Table:
    """The campaign responses (customers seen through identity resolution) that count.

    A response counts when its ``ts`` falls in the campaign's window: from ``start`` to the end of
    its ``end`` day (the last day a response counts). A missing start or end leaves that side
    open; a response without a time never counts (it cannot be placed in the window).
    """
    r = resolved(wh, "campaign_responses")
    camps = wh.table("campaigns").select(_cid="campaign_id", _start="start", _end="end")
    j = r.inner_join(camps, r.campaign_id == camps._cid)
    after_start = j._start.isnull() | (j.ts >= j._start)
    before_end = j._end.isnull() | (j.ts < j._end.truncate("D") + ibis.interval(days=1))
    j = j.filter(j.ts.notnull() & after_start & before_end)
    if ids is not None:
        j = j.filter(j.campaign_id.isin(ids))
    return j.drop("_cid", "_start", "_end")
