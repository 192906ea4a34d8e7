"""The customer table equals what was worked out by hand, on every engine, with no look-ahead."""

from __future__ import annotations

import math

import pandas as pd
import pytest

import crmine
from crmine.errors import ExpressionError, SchemaError, WorkspaceError
from tests.conftest import ENGINES
from tests.features.fixtures import AS_OF, EXPECTED, FILES, TOML


@pytest.fixture
def tiny(make_workspace, request):
    engine = getattr(request, "param", "duckdb")
    ws = crmine.init(make_workspace(TOML, FILES, engine=engine))
    ws.ingest.run()
    return ws


@pytest.mark.parametrize("engine", ENGINES, indirect=True)
def test_customer_table_matches_the_hand_worked_values(make_workspace, engine):
    ws = crmine.init(make_workspace(TOML, FILES, engine=engine))
    ws.ingest.run()
    assert ws.customers.build(as_of=AS_OF) == 3
    got = ws.customers.list().set_index("customer_id")
    assert sorted(got.index) == ["C1", "C2", "C3"]
    for cid, values in EXPECTED.items():
        for col, want in values.items():
            assert got.loc[cid, col] == pytest.approx(want, abs=0.02 if col == "age" else 1e-9), (cid, col)
    assert pd.isna(got.loc["C2", "ipt_mean_days"]) and pd.isna(got.loc["C2", "response_rate"])
    assert pd.isna(got.loc["C3", "recency_days"]) and pd.isna(got.loc["C3", "avg_order_value"])


def test_a_table_as_of_a_past_day_ignores_later_events(tiny):
    tiny.customers.build(as_of="2024-01-10")
    got = tiny.customers.list().set_index("customer_id")
    assert sorted(got.index) == ["C1", "C2"]  # C3 signed up later
    assert got.loc["C1", "orders"] == 1 and got.loc["C1", "spend"] == 40.0
    assert got.loc["C1", "campaign_contacts"] == 0 and got.loc["C1", "service_contacts"] == 0


def test_query_count_list_and_crosstab(tiny):
    tiny.customers.build(as_of=AS_OF)
    assert tiny.customers.count("orders >= 1 and region in ('North', 'East')") == 1
    assert tiny.customers.count("gender = 'F'") == 2
    assert tiny.customers.list("spend > 50", columns=["customer_id", "spend"]).to_dict("records") == [
        {"customer_id": "C1", "spend": 100.0}
    ]
    xt = tiny.customers.crosstab(None, by=["region"])
    assert dict(zip(xt.region, xt.customers, strict=True)) == {"North": 2, "South": 1}
    assert xt.set_index("region").loc["North", "mean_spend"] == 50.0


def test_query_errors_say_what_and_where(tiny):
    tiny.customers.build(as_of=AS_OF)
    with pytest.raises(ExpressionError, match=r"unknown column 'incme' \(did you mean 'income'\?\)"):
        tiny.customers.count("incme > 3")
    with pytest.raises(ExpressionError, match=r"found 'betwen' \(did you mean 'between'\?\)"):
        tiny.customers.count("age betwen 3 and 4")
    with pytest.raises(ExpressionError, match=r"not true/false"):
        tiny.customers.count("income + 1")
    with pytest.raises(SchemaError, match=r"lacks column\(s\) colour"):
        tiny.customers.crosstab(None, by=["colour"])


def test_questions_before_building_say_what_to_run(tiny):
    with pytest.raises(WorkspaceError, match=r"Run `crmine customers build DIR` first"):
        tiny.customers.count("orders > 1")


def test_rfm_scores_and_segments(tiny):
    tiny.customers.build(as_of=AS_OF)
    r = tiny.customers.rfm()
    scores = r.scores.set_index("customer_id")
    # Two buyers: C1 bought more recently, more often and more; with quintiles over two rows,
    # ntile gives the lower one 1 and the higher one 2.
    assert scores.loc["C1", ["r", "f", "m"]].tolist() == [2, 2, 2]
    assert scores.loc["C2", ["r", "f", "m"]].tolist() == [1, 1, 1]
    assert scores.loc["C2", "segment"] == "lost" and scores.loc["C1", "segment"] == "hibernating"
    assert r.segments.customers.sum() == 2


def test_behaviour_groups(tiny):
    tiny.customers.build(as_of=AS_OF)
    groups = tiny.customers.behaviours().set_index("pattern")
    assert groups.customers.to_dict() == {"home+womenswear_web": 1, "home": 1}
    assert groups.loc["home+womenswear_web", "mean_spend"] == 100.0
    counts = tiny.warehouse.execute(tiny.table("behaviour_groups")).set_index("customer_id")
    assert counts.loc["C1", "womenswear_web"] == 2 and counts.loc["C1", "home"] == 1  # the return is not a reaction
    assert math.isclose(counts.loc["C2", "home"], 1)
