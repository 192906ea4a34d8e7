"""Service contacts: KPIs by channel, type, team and period, who contacts, and the effect of each
agent on the customers they serve.

``contacts`` and ``kpis`` build the warehouse expressions; ``AgentEffects`` estimates each agent's
shrunken, mix-adjusted effect on satisfaction or resolution from one row per contact (any frame);
``ServiceNamespace`` is ``ws.service``.
"""

from crmine.service._agents import AgentEffects
from crmine.service._contacts import contacts, kpis
from crmine.service._namespace import ServiceNamespace

__all__ = ["AgentEffects", "ServiceNamespace", "contacts", "kpis"]
