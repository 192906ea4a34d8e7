"""A small shop for the API tests: 60 customers over 18 months, a churn model, keys for each role.

Built once per session into a template folder (ingest, customer table, RFM, churn model, keys);
each test gets a copy, so tests never see one another's events.
"""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import crmine
from crmine.serve import ROLES, create_key

TOML = """
[sources.people]
table = "customers"
path = "sources/people.csv"
[sources.catalogue]
table = "products"
path = "sources/products.csv"
[sources.orders]
table = "transactions"
path = "sources/orders.csv"
[analysis.derived]
spend_per_order = "spend / orders"
"""


def _write_sources(root: Path) -> None:
    rng = np.random.default_rng(15)
    src = root / "sources"
    src.mkdir(parents=True)
    n = 60
    ids = [f"C{i:02d}" for i in range(1, n + 1)]
    pd.DataFrame({
        "customer_id": ids,
        "name": [f"Person {i}" for i in range(1, n + 1)],
        "email": [f"p{i}@example.com" for i in range(1, n + 1)],
        "gender": rng.choice(["F", "M"], n),
        "income": rng.integers(10, 90, n) * 1000,
        "region": rng.choice(["North", "South", "East"], n),
        "signup_date": "2023-01-01",
    }).to_csv(src / "people.csv", index=False)
    pd.DataFrame({"product_id": ["P1", "P2", "P3"], "category": ["women", "home", "men"],
                  "unit_cost": [10, 5, 8]}).to_csv(src / "products.csv", index=False)
    start = pd.Timestamp("2023-01-01")
    rows = []
    for k, cid in enumerate(ids):
        active_days = 540 if k % 2 else int(rng.integers(120, 360))  # half stop buying early
        for j in range(int(rng.integers(2, 9))):
            day = start + pd.Timedelta(days=int(rng.integers(0, active_days)), hours=int(rng.integers(8, 20)))
            rows.append({"order_id": f"O{k:02d}{j}", "line_no": 1, "customer_id": cid, "ts": day,
                         "product_id": rng.choice(["P1", "P2", "P3"]), "quantity": 1,
                         "amount": float(rng.integers(5, 120)), "channel": rng.choice(["store", "web"])})
    pd.DataFrame(rows).sort_values("ts").to_csv(src / "orders.csv", index=False)
    (root / "crmine.toml").write_text('[workspace]\nengine = "duckdb"\n' + TOML, encoding="utf-8")


@pytest.fixture(scope="session")
def template(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("serve") / "shop"
    _write_sources(root)
    with crmine.init(root) as ws:
        ws.ingest.run()
        ws.models.fit(candidates=("logistic",), horizon_days=120)
        ws.models.score()
        ws.customers.build()
        ws.customers.rfm()
        wh = ws.warehouse
        ids = wh.execute(wh.table("customer_table").customer_id).sort_values().tolist()
        wh.write("customer_segments", pd.DataFrame({
            "customer_id": ids, "segment": [i % 2 for i in range(len(ids))],
            "name": ["steady" if i % 2 else "fading" for i in range(len(ids))]}))
        keys = {role: create_key(wh, role=role) for role in ROLES}
    (root / "keys.json").write_text(json.dumps(keys), encoding="utf-8")
    return root


@pytest.fixture
def shop(template, tmp_path) -> Path:
    """A fresh copy of the template workspace."""
    root = tmp_path / "shop"
    shutil.copytree(template, root)
    return root


@pytest.fixture
def keys(shop) -> dict[str, str]:
    return json.loads((shop / "keys.json").read_text(encoding="utf-8"))


@pytest.fixture
def ws(shop):
    w = crmine.open(shop)
    yield w
    w.close()


@pytest.fixture
def client(ws):
    from crmine.serve import create_app

    with warnings.catch_warnings():  # starlette asks for its httpx fork, httpx2; httpx works the same
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    with TestClient(create_app(ws)) as c:
        yield c


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}
