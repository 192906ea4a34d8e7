"""Service contacts as Ibis expressions: one enriched row per contact, and the KPIs over them.

A contact is a row of ``interactions``, seen through identity resolution (one customer however many
records). Each contact learns, within its customer's history ordered by time (ties by
``interaction_id``, so the answer never depends on the order rows were loaded):

- ``prior_contacts``: the customer's earlier contacts (1 for the first);
- ``prior_spend``: what the customer had spent before it;
- ``is_repeat``: it came within ``repeat_days`` of the customer's previous contact;
- ``first_contact_resolved``: it was resolved *and* the customer did not come back within
  ``repeat_days`` (unknown when ``resolved`` is unknown).

Nothing here executes: the namespace hands the expressions to the warehouse.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import ibis

from crmine._customers import resolved
from crmine._dates import known_at
from crmine.errors import SchemaError, SettingsError
from crmine.warehouse import Warehouse

__all__ = ["DIMENSIONS", "PERIODS", "contacts", "kpis"]

INTERACTIONS = "interactions"
EMPLOYEES = "employees"
CUSTOMER_TABLE = "customer_table"
TRANSACTIONS = "transactions"
SEGMENTS = "customer_segments"
PERIODS = {"day": "D", "week": "W", "month": "M", "quarter": "Q", "year": "Y"}
DIMENSIONS = ("channel", "type", "team", "agent_id", "segment", "value_decile")
UNKNOWN = "(unknown)"


def contacts(wh: Warehouse, *, repeat_days: int = 7, as_of: Any = None) -> ibis.Table:
    """One row per contact with its team, customer history flags, segment and value decile.

    Parameters
    ----------
    wh
        The warehouse.
    repeat_days
        A contact within this many days of the customer's previous one is a repeat.
    as_of
        Only contacts known at the end of this day count (the point-in-time rule); None: all.
    """
    if not isinstance(repeat_days, int) or isinstance(repeat_days, bool) or repeat_days < 0:
        raise SettingsError(f"repeat_days must be a whole number of days, 0 or more; received {repeat_days!r}.")
    if not wh.has_table(INTERACTIONS):
        raise SchemaError(
            f"The warehouse has no table {INTERACTIONS!r}. Map a source to it in crmine.toml "
            f"([sources.NAME] table = \"{INTERACTIONS}\") and run `crmine ingest DIR`.")
    t = resolved(wh, INTERACTIONS)
    t = t.filter(known_at(t.ts, as_of)) if as_of is not None else t.filter(t.ts.notnull())
    w = ibis.window(group_by=t.customer_id, order_by=[t.ts, t.interaction_id])
    window = ibis.interval(days=repeat_days)
    prev_ts, next_ts = t.ts.lag().over(w), t.ts.lead().over(w)
    followed = next_ts.notnull() & (next_ts <= t.ts + window)
    t = t.mutate(
        prior_contacts=ibis.row_number().over(w),
        is_repeat=prev_ts.notnull() & (t.ts <= prev_ts + window),
        first_contact_resolved=ibis.ifelse(t.resolved.isnull(), ibis.null("boolean"), t.resolved & ~followed),
    )
    if wh.has_table(EMPLOYEES):
        emp = wh.table(EMPLOYEES).select(_agent="agent_id", _team="team")
        emp = emp.group_by("_agent").aggregate(_team=emp._team.max())  # one team per agent
        t = t.left_join(emp, t.agent_id == emp._agent).drop("_agent")
        t = t.mutate(team=t._team.fill_null(UNKNOWN)).drop("_team")
    else:
        t = t.mutate(team=ibis.literal(UNKNOWN))
    if wh.has_table(TRANSACTIONS):
        t = _with_prior_spend(wh, t)
    else:
        t = t.mutate(prior_spend=ibis.null("float64"))
    if wh.has_table(CUSTOMER_TABLE) and "spend" in wh.table(CUSTOMER_TABLE).columns:
        ct = wh.table(CUSTOMER_TABLE)
        ct = ct.select(_cid=ct.customer_id, _decile=(ibis.ntile(10).over(order_by=[ct.spend, ct.customer_id]) + 1))
        t = t.left_join(ct, t.customer_id == ct._cid).drop("_cid").rename(value_decile="_decile")
    else:
        t = t.mutate(value_decile=ibis.null("int64"))
    if wh.has_table(SEGMENTS):
        seg = wh.table(SEGMENTS)
        name = seg["name"] if "name" in seg.columns else seg.segment.cast("string")
        seg = seg.select(_sid=seg.customer_id, _segment=name)
        t = t.left_join(seg, t.customer_id == seg._sid).drop("_sid")
        t = t.mutate(segment=t._segment.fill_null(UNKNOWN)).drop("_segment")
    else:
        t = t.mutate(segment=ibis.null("string"))
    return t


def _with_prior_spend(wh: Warehouse, t: ibis.Table) -> ibis.Table:
    """``prior_spend``: what the customer had spent before the contact (known then: no look-ahead)."""
    tx = resolved(wh, TRANSACTIONS)
    tx = tx.select(_tcid=tx.customer_id, _tts=tx.ts, _amount=tx.amount)
    keys = t.select(_iid=t.interaction_id, _cid=t.customer_id, _ts=t.ts)
    j = keys.inner_join(tx, [keys._cid == tx._tcid, tx._tts.notnull(), tx._tts < keys._ts])
    spent = j.group_by("_iid").aggregate(_spend=j._amount.sum())
    t = t.left_join(spent, t.interaction_id == spent._iid).drop("_iid")
    return t.mutate(prior_spend=t._spend.fill_null(0).cast("float64")).drop("_spend")


def kpis(table: ibis.Table, /, *, by: Sequence[str] = (), period: str | None = None) -> ibis.Table:
    """Contact KPIs of the contacts ``table`` (from :func:`contacts`) per group of ``by`` and period.

    Returns an expression with the ``by`` columns, ``period`` (the start of each period) when asked,
    then ``contacts``, ``customers``, ``resolution_rate``, ``fcr_rate`` (first-contact resolution),
    ``repeat_rate``, ``mean_duration_s``, ``rated`` (contacts with a satisfaction score) and
    ``mean_satisfaction``. Rates leave out contacts where the flag is unknown.
    """
    by = list(by)
    bad = [b for b in by if b not in DIMENSIONS]
    if bad:
        raise SettingsError(f"Unknown KPI dimension(s) {', '.join(bad)}. Choose from: {', '.join(DIMENSIONS)}.")
    if period is not None and period not in PERIODS:
        raise SettingsError(f"period must be one of {', '.join(PERIODS)}; received {period!r}.")
    t = table
    keys = [t[b].cast("string").fill_null(UNKNOWN).name(b) if b != "value_decile" else t[b] for b in by]
    if period is not None:
        keys.append(t.ts.truncate(PERIODS[period]).cast("date").name("period"))
    f = "float64"
    metrics = dict(
        contacts=t.count(),
        customers=t.customer_id.nunique(),
        resolution_rate=t.resolved.cast(f).mean(),
        fcr_rate=t.first_contact_resolved.cast(f).mean(),
        repeat_rate=t.is_repeat.cast(f).mean(),
        mean_duration_s=t.duration_s.cast(f).mean(),
        rated=t.satisfaction.count(),
        mean_satisfaction=t.satisfaction.cast(f).mean(),
    )
    if not keys:
        return t.aggregate(**metrics)
    names = [k.get_name() for k in keys]
    return t.group_by(keys).aggregate(**metrics).order_by(names)
