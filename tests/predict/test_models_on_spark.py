"""The churn training frame (features as of the cut-off, outcome after it) is the same on Spark."""

from __future__ import annotations

import pandas as pd
import pytest

import crmine
from crmine.datasets import simulate
from crmine.predict._namespace import churn_training_frame
from tests.conftest import ENGINES

SPARK = [p for p in ENGINES if getattr(p, "values", (p,))[0] == "spark"]


def _workspace(root, engine: str):
    simulate(300, seed=4, out_dir=root, bad_rows=False)
    settings = root / "crmine.toml"
    settings.write_text(settings.read_text().replace('engine = "duckdb"', f'engine = "{engine}"', 1))
    ws = crmine.open(root)
    # What the churn frame reads; contacts, service and consents stay empty to keep Spark brief.
    ws.ingest.run(sources=["crm_customers", "web_customers", "products", "promotions", "transactions"])
    return ws


@pytest.mark.parametrize("engine", SPARK, indirect=True)
def test_churn_frame_matches_on_spark_and_duckdb(tmp_path, engine):
    frames = {}
    for name in ("duckdb", "spark"):
        ws = _workspace(tmp_path / name, name)
        assert ws.warehouse.engine == name
        frames[name] = churn_training_frame(ws.warehouse, horizon_days=120).sort_values("customer_id")
        ws.close()
    duck, spark = (frames[k].reset_index(drop=True) for k in ("duckdb", "spark"))
    assert len(duck) > 200 and set(duck.churned) == {"yes", "no"}
    pd.testing.assert_frame_equal(spark[duck.columns], duck, check_dtype=False, check_exact=False, rtol=1e-9)
