from __future__ import annotations

import pytest

import crmine
from crmine.datasets import simulate


@pytest.fixture(scope="session")
def campaign_ws(tmp_path_factory):
    """A 1,500-customer simulated workspace with its campaigns ingested (no identity step: the
    contacts and responses name the same source records)."""
    root = tmp_path_factory.mktemp("campaign_sim")
    simulate(1500, seed=6, out_dir=root)
    ws = crmine.init(root)
    ws.ingest.run(sources=["crm_customers", "web_customers", "campaigns", "campaign_contacts", "campaign_responses"])
    yield ws
    ws.close()
