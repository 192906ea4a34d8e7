"""``ws.service``: contact KPIs and the effect of agents on the customers they serve.

KPIs are aggregated in the warehouse; agent effects are fitted on one compact row per rated
contact (agent, outcome, type, channel, the customer's prior contacts and value decile).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from crmine.errors import SchemaError
from crmine.service._agents import AgentEffects
from crmine.service._contacts import INTERACTIONS, contacts, kpis
from crmine.warehouse import Warehouse

__all__ = ["ServiceNamespace"]

FIT_COLUMNS = ("interaction_id", "agent_id", "team", "type", "channel", "prior_contacts", "prior_spend",
               "satisfaction", "resolved")


class ServiceNamespace:
    """Service contacts: ``kpis``, ``who`` contacts, and ``agents`` / ``teams`` effects."""

    def __init__(self, warehouse: Warehouse) -> None:
        self._wh = warehouse

    def contacts(self, *, repeat_days: int = 7, as_of: Any = None) -> pd.DataFrame:
        """One row per contact with its team, repeat and first-contact-resolution flags."""
        t = contacts(self._wh, repeat_days=repeat_days, as_of=as_of)
        return self._wh.execute(t.order_by("interaction_id"), what="read service contacts")

    def kpis(self, *, by: str | Sequence[str] = (), period: str | None = None, repeat_days: int = 7,
             as_of: Any = None) -> pd.DataFrame:
        """Contacts, resolution, first-contact resolution, repeat rate, duration and satisfaction.

        Parameters
        ----------
        by
            Dimensions: channel, type, team, agent_id, segment, value_decile (a comma list or a list).
        period
            day, week, month, quarter or year: one row per period too (``period`` is its first day).
        repeat_days
            A contact within this many days of the customer's previous contact is a repeat; a
            resolved contact followed by one is not resolved at first contact.
        as_of
            Only contacts known at the end of this day count.
        """
        by = [b.strip() for b in by.split(",") if b.strip()] if isinstance(by, str) else list(by)
        t = contacts(self._wh, repeat_days=repeat_days, as_of=as_of)
        if "segment" in by and not self._wh.has_table("customer_segments"):
            raise SchemaError("KPIs by segment need the table 'customer_segments'. Run `crmine segment DIR` "
                              "(ws.segments.fit()) first, or use by=value_decile.")
        if "value_decile" in by and not self._wh.has_table("customer_table"):
            raise SchemaError("KPIs by value_decile need the table 'customer_table'. Build it with "
                              "`crmine customers build DIR` (ws.customers.build()) first.")
        return self._wh.execute(kpis(t, by=by, period=period), what="service KPIs")

    def who(self, *, repeat_days: int = 7, as_of: Any = None) -> pd.DataFrame:
        """Who contacts: KPIs by customer segment when segments exist, else by value decile of spend."""
        by = "segment" if self._wh.has_table("customer_segments") else "value_decile"
        return self.kpis(by=by, repeat_days=repeat_days, as_of=as_of)

    def fit(self, *, outcome: str = "satisfaction", as_of: Any = None, confidence: float = 0.95) -> AgentEffects:
        """The fitted :class:`AgentEffects` of ``outcome`` (satisfaction or resolved)."""
        frame = self._frame(outcome, as_of)
        return AgentEffects(outcome=outcome, confidence=confidence).fit(frame)

    def agents(self, *, as_of: Any = None, confidence: float = 0.95, resolution: bool = True) -> pd.DataFrame:
        """Each agent's effect on satisfaction (higher is better), with an interval, best first.

        Columns ``agent_id, team, contacts, effect, ci_low, ci_high``, then ``sd``, ``raw_effect``
        (the unshrunk mean residual), ``shrinkage`` (share of it taken back), ``mean_outcome``
        and, when ``resolved`` is recorded, ``resolution_effect`` with its interval (a linear
        probability model: points of resolution rate).
        """
        frame = self._frame("satisfaction", as_of)
        fit = AgentEffects(outcome="satisfaction", confidence=confidence).fit(frame)
        out = fit.effects_.copy()
        attrs = dict(method="empirical-Bayes random intercept on within-agent residuals",
                     outcome="satisfaction", contacts=fit.contacts_, tau=float(fit.tau2_ ** 0.5),
                     sigma=float(fit.sigma2_ ** 0.5))
        if resolution and frame["resolved"].notna().any():
            res = AgentEffects(outcome="resolved", confidence=confidence).fit(frame.assign(
                resolved=frame["resolved"].astype("float64")))
            r = res.effects_.set_index("agent_id")[["effect", "ci_low", "ci_high"]].add_prefix("resolution_")
            out = out.join(r, on="agent_id")
        out.attrs.update(attrs)
        return out

    def teams(self, *, as_of: Any = None, confidence: float = 0.95) -> pd.DataFrame:
        """Each team's effect on satisfaction: the mean of its agents' effects."""
        return self.fit(as_of=as_of, confidence=confidence).teams()

    def _frame(self, outcome: str, as_of: Any) -> pd.DataFrame:
        t = contacts(self._wh, as_of=as_of)
        counts = self._wh.execute(t.aggregate(
            rows=t.count(), agent_id=t.agent_id.count(), **{outcome: t[outcome].count()}),
            what="count service contacts")
        rows = int(counts["rows"].iloc[0])
        if rows == 0:
            raise SchemaError(f"The table {INTERACTIONS!r} has no contacts{' as of ' + str(as_of) if as_of else ''}. "
                              "Load service contacts with `crmine ingest DIR` (a source with table = "
                              f"\"{INTERACTIONS}\" in crmine.toml).")
        empty = [c for c in ("agent_id", outcome) if int(counts[c].iloc[0]) == 0]
        if empty:
            raise SchemaError(
                f"Agent effects need column(s) {', '.join(empty)} of table {INTERACTIONS!r}, which hold no "
                f"values in its {rows:,} rows. Map them in crmine.toml under [sources.NAME.columns] "
                "(canonical name = \"raw name\") and run `crmine ingest DIR` again.")
        return self._wh.execute(t.select(*FIT_COLUMNS), what="read service contacts")
