"""Consent at a moment: the one rule every export of a marketing list applies.

Consents are a history (a grant, later a withdrawal, perhaps a new grant). The state of consent for
a (customer record, purpose, channel) at a moment is its latest row at or before that moment; a row
without a time counts as the earliest; when two rows share the latest time, a withdrawal wins (the
safe side). A row dated after the moment does not count yet.
"""

from __future__ import annotations

from datetime import datetime

import ibis
import pandas as pd

from crmine._customers import LINEAGE

__all__ = ["consent_at"]


def consent_at(wh, purpose: str, channel: str, at: datetime | str | None = None) -> pd.DataFrame:
    """Columns customer_id (unified, where resolved) and granted: one row per source record.

    ``at`` defaults to now. A unified customer with several records keeps one row per record, so
    that a withdrawal given to any of them is seen by the list's rule (every row must grant).
    """
    at = pd.Timestamp.now(tz="UTC").tz_localize(None) if at is None else pd.Timestamp(at)
    c = wh.table("consents")
    c = c.filter((c.purpose == purpose) & (c.channel == channel) & c.customer_id.notnull()
                 & (c.ts.isnull() | (c.ts <= ibis.literal(at.to_pydatetime()))))
    latest = ibis.row_number().over(group_by=c.customer_id,
                                    order_by=[ibis.desc(c.ts.fill_null(ibis.literal(datetime(1800, 1, 1)))),
                                              c.granted.fill_null(False).cast("int8")])
    state = c.mutate(_n=latest).filter(lambda t: t._n == 0).select("customer_id", "granted")
    if wh.has_table(LINEAGE):
        lin = wh.table(LINEAGE).select(_rec_id="customer_id", _unified="unified_id")
        j = state.left_join(lin, state.customer_id == lin._rec_id)
        state = j.select(customer_id=ibis.coalesce(j._unified, j.customer_id), granted=j.granted)
    return wh.execute(state, what="consent state")
