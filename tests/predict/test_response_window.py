"""A response model learns the outcome campaign lift judges: a response inside the campaign's window."""

from __future__ import annotations

import crmine
from crmine.predict._namespace import response_training_frame

TOML = """
[sources.people]
table = "customers"
path = "sources/people.csv"
[sources.orders]
table = "transactions"
path = "sources/orders.csv"
[sources.camps]
table = "campaigns"
path = "sources/campaigns.csv"
[sources.contacts]
table = "campaign_contacts"
path = "sources/contacts.csv"
[sources.responses]
table = "campaign_responses"
path = "sources/responses.csv"
"""

FILES = {
    "people.csv": "customer_id,region\nC1,North\nC2,South\nC3,North\nC4,East\n",
    "orders.csv": """order_id,line_no,customer_id,ts,product_id,quantity,amount
O1,1,C1,2024-01-01 10:00:00,P1,1,40
O2,1,C2,2024-01-02 10:00:00,P1,1,40
O3,1,C3,2024-01-03 10:00:00,P1,1,40
O4,1,C4,2024-01-04 10:00:00,P1,1,40
""",
    "campaigns.csv": "campaign_id,name,start,end\nK1,spring,2024-03-01,2024-03-31\n",
    "contacts.csv": """campaign_id,customer_id,ts,group
K1,C1,2024-03-01,treatment
K1,C2,2024-03-01,treatment
K1,C3,2024-03-01,treatment
K1,C4,2024-03-01,control
""",
    # C1 answers on the last day of the window; C2 before the campaign started, C3 months after.
    "responses.csv": """campaign_id,customer_id,response_type,ts
K1,C1,purchase,2024-03-31 23:30:00
K1,C2,purchase,2024-02-15 09:00:00
K1,C3,purchase,2024-07-01 09:00:00
K1,C4,purchase,2024-03-10 09:00:00
""",
}


def test_only_responses_in_the_campaign_window_are_positives(make_workspace):
    ws = crmine.init(make_workspace(TOML, FILES))
    ws.ingest.run()
    frame = response_training_frame(ws.warehouse, campaign="K1")
    labels = dict(zip(frame.customer_id, frame.responded, strict=True))
    assert labels == {"C1": "yes", "C2": "no", "C3": "no"}  # C4 is the control group: not learned from
    lift = ws.campaigns.lift("K1")
    treated = lift[(lift.outcome == "purchase")].iloc[0]
    assert treated["mean"] == 1 / 3 and treated["control_mean"] == 1.0
