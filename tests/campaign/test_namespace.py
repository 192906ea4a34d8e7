"""ws.campaigns on the simulator: each campaign's measured lift against the uplift it planted."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from crmine.campaign._namespace import CampaignsNamespace
from crmine.errors import WorkspaceError


def _truth(ws) -> dict[str, dict]:
    params = json.loads((ws.root / "truth" / "params.json").read_text())
    return {c["campaign_id"]: c for c in params["campaigns"]["per_campaign"]}


def test_every_campaign_lift_interval_contains_the_planted_average_uplift(campaign_ws):
    ns = CampaignsNamespace(campaign_ws.warehouse, campaign_ws.root)
    table = ns.lift_all()
    truth = _truth(campaign_ws)
    purchase = table[table.outcome == "purchase"].set_index("campaign_id")
    assert set(purchase.index) == set(truth)
    for cid, t in truth.items():
        row = purchase.loc[cid]
        assert row.n + row.control_n == t["n_contacts"], cid  # no contact lost on the way
        assert row.n == t["n_treatment"], cid
        assert row.ci_low <= t["true_average_uplift"] <= row.ci_high, cid
    # Taken together the campaigns' planted uplift is recovered closely.
    pooled = (purchase.lift * (purchase.n + purchase.control_n)).sum() / (purchase.n + purchase.control_n).sum()
    planted = sum(t["true_average_uplift"] * t["n_contacts"] for t in truth.values()) / sum(
        t["n_contacts"] for t in truth.values())
    assert pooled == pytest.approx(planted, abs=0.015)


def test_one_campaign_with_its_economics(campaign_ws):
    ns = CampaignsNamespace(campaign_ws.warehouse, campaign_ws.root)
    t = ns.lift("CMP001")
    camp = campaign_ws.warehouse.execute(campaign_ws.table("campaigns").filter(lambda c: c.campaign_id == "CMP001"))
    assert set(t.outcome) >= {"purchase", "value"} and (t.arm == "treatment").all()
    p = t.set_index("outcome").loc["purchase"]
    margin, cost = float(camp.margin_per_response.iloc[0]), float(camp.cost_per_contact.iloc[0])
    assert p.incremental_profit == pytest.approx(margin * p.lift * p.n - cost * p.n)
    assert pd.isna(t.set_index("outcome").loc["value", "incremental_profit"])
    assert "Newcombe" in p.test and "Welch" in t.set_index("outcome").loc["value", "test"]


def test_responses_count_only_within_the_campaign_window(campaign_ws):
    wh = campaign_ws.warehouse
    ns = CampaignsNamespace(wh, campaign_ws.root)
    r = wh.execute(wh.table("campaign_responses").filter(lambda t: t.campaign_id == "CMP002"))
    c = wh.execute(wh.table("campaigns").filter(lambda t: t.campaign_id == "CMP002"))
    start, end = c.start.iloc[0], c.end.iloc[0] + pd.Timedelta(days=1)
    inside = r[(r.ts >= start) & (r.ts < end) & (r.response_type == "purchase")].customer_id.nunique()
    row = ns.lift("CMP002").set_index("outcome").loc["purchase"]
    assert round(row["mean"] * row.n + row.control_mean * row.control_n) == inside
    # Move the window past every response: nothing counts any more.
    wh.con.raw_sql("UPDATE campaigns SET start = start + INTERVAL 60 DAY, \"end\" = \"end\" + INTERVAL 60 DAY "
                   "WHERE campaign_id = 'CMP002'")
    try:
        moved = ns.lift("CMP002")
        assert "purchase" not in set(moved.outcome)
        assert moved.set_index("outcome").loc["value", "mean"] == 0.0
    finally:
        wh.con.raw_sql("UPDATE campaigns SET start = start - INTERVAL 60 DAY, \"end\" = \"end\" - INTERVAL 60 DAY "
                       "WHERE campaign_id = 'CMP002'")


def test_an_unknown_campaign_lists_the_known_ones(campaign_ws):
    ns = CampaignsNamespace(campaign_ws.warehouse, campaign_ws.root)
    with pytest.raises(WorkspaceError, match=r"Campaign 'CMP999' is not in table campaigns\. Campaigns: CMP001, CMP002"):
        ns.lift("CMP999")
