"""ws.loyalty wiring, on the shared simulated workspace."""

from __future__ import annotations

from crmine.loyalty._namespace import LoyaltyNamespace


def test_loyalty_namespace(sim_ws):
    ns = LoyaltyNamespace(sim_ws.warehouse)
    scores = ns.scores()
    assert sim_ws.warehouse.count("loyalty_scores") == len(scores)
    assert ns.survival().customers == len(scores)
    assert ns.cohorts(freq="Q")["size"].sum() == len(scores)
