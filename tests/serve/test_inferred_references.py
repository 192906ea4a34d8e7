"""A shop that exports only its sales: a till line naming a new customer creates that customer, as
ingest's ``references = "infer"`` does; with ``references = "strict"`` it is a 422."""

from __future__ import annotations

import warnings

import pytest

import crmine
from crmine.serve import create_app, create_key
from tests.serve.conftest import auth

TOML = """
[sources.orders]
table = "transactions"
path = "sources/orders.csv"
"""
FILES = {"orders.csv": """
    order_id,line_no,customer_id,ts,product_id,amount
    O1,1,A,2024-01-01 10:00:00,P1,40
    O2,1,B,2024-01-03 12:00:00,P2,20
"""}
LINE = {"order_id": "N1", "line_no": 1, "customer_id": "NEW", "ts": "2024-01-04T09:00:00",
        "product_id": "P7", "amount": 12.5}


def _client(ws):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    return TestClient(create_app(ws))


@pytest.mark.parametrize("references", ["infer", "strict"])
def test_a_new_customer_is_inferred_or_refused_as_ingest_would(make_workspace, references):
    root = make_workspace(TOML.replace("[sources.orders]", f'references = "{references}"\n[sources.orders]'), FILES)
    with crmine.init(root) as ws:
        ws.ingest.run()
        key = create_key(ws.warehouse, role="till")
        lines = ws.warehouse.count("transactions")  # strict: ingest quarantined both lines (no customers)
        with _client(ws) as client:
            r = client.post("/v1/events/transactions", json=LINE, headers=auth(key))
        c = ws.table("customers")
        known = ws.warehouse.execute(c.filter(c.customer_id == "NEW"))
        if references == "infer":
            assert r.status_code == 201, r.text
            assert r.json()["features"]["orders"] == 1 and r.json()["features"]["spend"] == 12.5
            assert known.source_system.tolist() == ["inferred"]
        else:
            assert r.status_code == 422, r.text
            assert r.json()["detail"][0]["loc"] == ["body", "customer_id"]
            assert "unknown_reference" in r.json()["detail"][0]["type"]
            assert known.empty and ws.warehouse.count("transactions") == lines
