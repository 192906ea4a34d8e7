"""One feature definition for batch and real time: sales posted one by one give, after each, the
row a batch rebuild of the customer table gives over the same data, value for value; the lines are
then in the warehouse for the next batch run."""

from __future__ import annotations

import math

import pytest

from crmine.serve._profile import plain
from tests.serve.conftest import auth

# Sales for two customers over a few days: a new order, a second line of it on a channel the shop
# has not seen (a new share column, the same day), a discounted web line, a return, a later order.
EVENTS = [
    {"order_id": "T1", "line_no": 1, "customer_id": "C03", "ts": "2024-06-25T10:00:00", "product_id": "P1",
     "quantity": 1, "amount": 40.0, "channel": "store"},
    {"order_id": "T1", "line_no": 2, "customer_id": "C03", "ts": "2024-06-25T10:00:00", "product_id": "P2",
     "quantity": 3, "unit_price": 5.0, "amount": 15.0, "channel": "phone"},  # a channel new to the shop
    {"order_id": "T2", "line_no": 1, "customer_id": "C01", "ts": "2024-06-27T18:30:00", "product_id": "P3",
     "quantity": 1, "amount": 70.0, "discount": 10.0, "channel": "web"},
    {"order_id": "R1", "line_no": 1, "customer_id": "C03", "ts": "2024-06-28T09:00:00", "product_id": "P1",
     "quantity": 1, "amount": -40.0, "is_return": True, "channel": "store"},
    {"order_id": "T3", "line_no": 1, "customer_id": "C03", "ts": "2024-07-01T11:00:00", "product_id": "P3",
     "quantity": 2, "amount": 90.0, "channel": "web"},
]


def _same(live: dict, batch: dict) -> None:
    assert set(live) == set(batch)
    for col, want in batch.items():
        got = live[col]
        if isinstance(want, float) and isinstance(got, float):
            assert got == pytest.approx(want, rel=1e-12, abs=1e-12), col
        else:
            assert got == want, (col, got, want)


def test_events_posted_one_by_one_equal_a_batch_rebuild(client, keys, ws):
    for event in EVENTS:
        r = client.post("/v1/events/transactions", json=event, headers=auth(keys["till"]))
        assert r.status_code == 201, r.text
        live = r.json()
        ws.customers.build()  # the batch rebuild over the same data, as `crmine customers build` runs it
        row = ws.customers.list(f"customer_id = '{event['customer_id']}'").iloc[0].to_dict()
        batch = {k: plain(v) for k, v in row.items() if k != "customer_id"}
        _same(live["features"], batch)
    # Customers without new sales move on too (recency grows with the last day), as in the batch.
    rebuilt = ws.customers.list("customer_id in ('C01', 'C02')").set_index("customer_id")
    for cid in ("C01", "C02"):
        live_row = client.get(f"/v1/customers/{cid}", headers=auth(keys["analyst"])).json()["features"]
        _same(live_row, {k: plain(v) for k, v in rebuilt.loc[cid].items()})
    assert "share_channel_phone" in live_row
    # The saved model scores the live row as batch scoring scores the rebuilt table.
    scored = ws.models.score().set_index("customer_id").probability
    assert live["scores"]["churn"] == pytest.approx(scored[EVENTS[-1]["customer_id"]], rel=1e-9)
    # Every acknowledged line is a row of transactions (and of its history) for the next batch run.
    t, h = ws.table("transactions"), ws.table("transactions_history")
    posted = [e["order_id"] for e in EVENTS]
    assert ws.warehouse.count(t.filter(t.order_id.isin(posted))) == len(EVENTS)
    assert ws.warehouse.count(h.filter(h.order_id.isin(posted) & (h.change == "insert"))) == len(EVENTS)
    # The customer who bought, returned and bought again: orders, spend and the return rate add up.
    c03 = client.get("/v1/customers/C03", headers=auth(keys["analyst"])).json()["features"]
    assert c03["last_purchase"] == "2024-07-01T11:00:00" and c03["recency_days"] == 0.0
    assert not math.isnan(c03["return_rate"]) and c03["return_rate"] > 0
