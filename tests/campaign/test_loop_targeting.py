"""ws.campaigns.target on a tiny hand-made workspace: consent at the moment of export, the contact
limit across campaigns in a period, the audit row, and the saved forecasts the loop reads back."""

from __future__ import annotations

import json
from datetime import datetime

import pandas as pd
import pytest

import crmine
from crmine.campaign._loop import SCORES_TABLE, contacts_in_period
from crmine.errors import SchemaError, SettingsError, WorkspaceError

TOML = """
[sources.people]
table = "customers"
path = "sources/people.csv"
[sources.camps]
table = "campaigns"
path = "sources/campaigns.csv"
[sources.contacts]
table = "campaign_contacts"
path = "sources/contacts.csv"
[sources.responses]
table = "campaign_responses"
path = "sources/responses.csv"
[sources.consent]
table = "consents"
path = "sources/consents.csv"
"""

FILES = {
    "people.csv": """
        customer_id,region
        C1,North
        C2,South
        C3,North
        C4,East
        C5,East
        C6,South
        C7,North
    """,
    "campaigns.csv": """
        campaign_id,name,start,end
        K0,autumn,2024-01-31,2024-02-02
        K1,winter,2024-02-05,2024-02-10
        K2,sale,2024-02-15,2024-02-20
        K3,spring,2024-03-01,2024-03-05
        K4,easter,2024-03-10,2024-03-20
    """,
    # C4: three campaigns in the 30 days up to 2024-03-01 (the last one that morning) -> at the limit.
    # C5: K0 on 2024-01-31 is before the period (it starts after the end of 2024-01-31): two.
    # C6: K3 as control (held out, not contacted): two.
    "contacts.csv": """
        campaign_id,customer_id,ts,group
        K1,C4,2024-02-05 10:00:00,treatment
        K2,C4,2024-02-15 10:00:00,treatment
        K3,C4,2024-03-01 09:00:00,treatment
        K0,C5,2024-01-31 10:00:00,treatment
        K2,C5,2024-02-15 10:00:00,treatment
        K3,C5,2024-03-01 09:00:00,treatment
        K1,C6,2024-02-05 10:00:00,treatment
        K2,C6,2024-02-15 10:00:00,treatment
        K3,C6,2024-03-01 09:00:00,control
        K4,C1,2024-03-10 09:00:00,treatment
        K4,C2,2024-03-10 09:00:00,control
        K4,C3,2024-03-10 09:00:00,treatment
        K4,C4,2024-03-10 09:00:00,control
        K4,C5,2024-03-10 09:00:00,treatment
        K4,C6,2024-03-10 09:00:00,control
    """,
    # K4's responses in its window: C1, C3, C4, C6; C2's is after the window and does not count.
    "responses.csv": """
        campaign_id,customer_id,response_type,ts,value
        K4,C1,purchase,2024-03-12 10:00:00,30
        K4,C3,purchase,2024-03-15 10:00:00,10
        K4,C4,purchase,2024-03-20 18:00:00,20
        K4,C6,purchase,2024-03-11 10:00:00,5
        K4,C2,purchase,2024-04-01 10:00:00,50
    """,
    # C2 withdrew before the export; C3 has no e-mail consent (an sms one only); C7's grant is dated
    # after the moment of export.
    "consents.csv": """
        customer_id,purpose,channel,granted,ts
        C1,marketing,email,true,2024-01-01
        C2,marketing,email,true,2024-01-01
        C2,marketing,email,false,2024-02-20
        C3,marketing,sms,true,2024-01-01
        C4,marketing,email,true,2024-01-01
        C5,marketing,email,true,2024-01-01
        C6,marketing,email,true,2024-01-01
        C7,marketing,email,true,2024-03-05
    """,
}

AT = datetime(2024, 3, 1, 12, 0)
# value 10, cost 0.3: expected profit 10 x uplift - 0.3.
SCORES = pd.DataFrame({
    "customer_id": ["C1", "C2", "C3", "C4", "C5", "C6", "C7"],
    "uplift": [0.10, 0.30, 0.25, 0.40, 0.05, 0.02, 0.50],
    "response": [0.20, 0.90, 0.50, 0.60, 0.95, 0.97, 0.10],
})


@pytest.fixture
def ws(make_workspace):
    w = crmine.init(make_workspace(TOML, FILES))
    w.ingest.run()
    yield w
    w.close()


def test_contacts_in_period_count_campaigns_not_control_groups(ws):
    counts = ws.warehouse.execute(contacts_in_period(ws.warehouse, at=AT, period_days=30))
    assert counts.set_index("customer_id").contacts.sort_index().to_dict() == {"C4": 3, "C5": 2, "C6": 2}
    longer = ws.warehouse.execute(contacts_in_period(ws.warehouse, at=AT, period_days=31))
    assert longer.set_index("customer_id").contacts.to_dict()["C5"] == 3  # K0 on 2024-01-31 now counts


def test_target_leaves_out_no_consent_and_the_contact_limit_and_audits(ws):
    result = ws.campaigns.target(SCORES, value=10.0, cost=0.3, purpose="marketing", channel="email",
                                 max_contacts=3, period_days=30, campaign="K4", at=AT, user="analyst")
    # C2 (withdrawn), C3 (sms only), C7 (granted later) lack consent; C4 is at the limit; C6's
    # expected profit 10 x 0.02 - 0.3 is negative; C1 (0.7) and C5 (0.2) remain, best first.
    assert (result.excluded_no_consent, result.excluded_contact_limit) == (3, 1)
    assert result.customers.customer_id.tolist() == ["C1", "C5"]
    assert result.targets.expected_profit == pytest.approx(0.7 + 0.2)
    # The same spend (0.6) down the response ranking among the eligible: C6 (0.97), C5 (0.95).
    assert result.targets.response_expected_profit == pytest.approx(-0.1 + 0.2)
    assert result.candidates == 7
    audit = ws.warehouse.execute(ws.warehouse.table("export_audit"))
    assert len(audit) == 1
    row = audit.iloc[0]
    assert (row.kind, row.rows, row.excluded_no_consent, row.user) == ("uplift_targets", 2, 3, "analyst")
    what = json.loads(row.what)
    assert (what["campaign"], what["max_contacts"], what["period_days"], what["excluded_contact_limit"]) == \
        ("K4", 3, 30, 1)
    written = pd.read_csv(ws.root / row.file)
    assert written.customer_id.tolist() == ["C1", "C5"]
    saved = ws.warehouse.execute(ws.warehouse.table(SCORES_TABLE))
    assert saved[["campaign", "customer_id"]].values.tolist() == [["K4", "C1"], ["K4", "C5"]]
    assert saved.file.unique().tolist() == [row.file]


def test_target_without_a_limit_keeps_the_customers_at_it_and_draws_a_holdout(ws):
    result = ws.campaigns.target(SCORES, value=10.0, cost=0.3, at=AT, control_share=0.5, seed=1)
    assert result.excluded_contact_limit == 0
    assert sorted(result.customers.customer_id) == ["C1", "C4", "C5"]
    assert sorted(result.customers.group) == ["control", "control", "treatment"]  # round(3 x 0.5) = 2


def test_target_budget_and_settings_errors(ws):
    result = ws.campaigns.target(SCORES, value=10.0, cost=0.3, budget=0.3, max_contacts=3, at=AT)
    assert result.customers.customer_id.tolist() == ["C1"]
    with pytest.raises(SettingsError, match="max_contacts must be a whole number"):
        ws.campaigns.target(SCORES, value=10.0, cost=0.3, max_contacts=0, at=AT)
    with pytest.raises(SchemaError, match="customer_id column and uplift"):
        ws.campaigns.target(SCORES.drop(columns="uplift"), value=10.0, cost=0.3, at=AT)
    with pytest.raises(SchemaError, match="1 duplicated"):
        ws.campaigns.target(pd.concat([SCORES, SCORES.iloc[:1]]), value=10.0, cost=0.3, at=AT)


def test_realised_lift_per_bin_of_the_scores_worked_by_hand(ws):
    scores = pd.DataFrame({"customer_id": ["C1", "C2", "C3", "C4", "C5", "C6"],
                           "uplift": [0.9, 0.8, 0.5, 0.4, 0.1, 0.0]})
    table = ws.campaigns.realised_lift("K4", scores=scores, bins=3)
    # Bins (C1 T, C2 C), (C3 T, C4 C), (C5 T, C6 C); responses C1, C3, C4, C6.
    assert table.lift.tolist() == [1.0, 0.0, -1.0]
    assert table.n_treatment.tolist() == [1, 1, 1] and table.n_control.tolist() == [1, 1, 1]
    assert table.predicted_uplift.round(2).tolist() == [0.85, 0.45, 0.05]
    assert table.attrs["outcome"] == "purchase" and table.attrs["unscored"] == 0
    money = ws.campaigns.realised_lift("K4", scores=scores, bins=3, response_type="value")
    assert money.lift.tolist() == [30.0, -10.0, -5.0]


def test_realised_lift_reads_the_scores_saved_with_the_list(ws):
    with pytest.raises(WorkspaceError, match="No uplift scores were saved for campaign 'K4'"):
        ws.campaigns.realised_lift("K4")
    ws.campaigns.target(SCORES, value=10.0, cost=0.3, max_contacts=3, campaign="K4", at=AT)
    table = ws.campaigns.realised_lift("K4", bins=2)  # C1 (treated, responded) and C5 (treated) were listed
    assert table.attrs["scored"] == 2 and table.attrs["unscored"] == 4
    assert table.treatment_mean.tolist() == [1.0, 0.0] and table.n_control.tolist() == [0, 0]


def test_report_section_shows_the_realised_lift_of_an_uplift_list(ws):
    from crmine.report._uplift import uplift_section

    assert uplift_section(ws, ws.warehouse, frozenset()) is None  # no list yet
    ws.campaigns.target(SCORES, value=10.0, cost=0.0, campaign="K4", at=AT)  # cost 0: every positive uplift
    section = uplift_section(ws, ws.warehouse, frozenset())
    assert section is not None and section.id == "uplift"
    kinds = [b["kind"] for b in section.blocks]
    assert kinds == ["figure", "figure", "table"]
    # Aggregates only: no customer id reaches the page.
    import re

    assert not any(re.search(rf"\bC{i}\b", str(b)) for b in section.blocks for i in range(1, 8))


def test_lists_without_and_with_a_campaign_share_the_scores_table(ws):
    ws.campaigns.target(SCORES, value=10.0, cost=0.3, at=AT)
    ws.campaigns.target(SCORES, value=10.0, cost=0.3, at=AT, campaign="K4")
    saved = ws.warehouse.execute(ws.warehouse.table(SCORES_TABLE))
    assert saved.campaign.isna().sum() == 3 and (saved.campaign == "K4").sum() == 3
    assert ws.campaigns.realised_lift("K4", bins=3).attrs["scored"] == 3
