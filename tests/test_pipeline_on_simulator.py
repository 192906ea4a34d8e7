"""The foundation end to end on the simulator, checked against the truth it planted."""

from __future__ import annotations

import json

import pandas as pd
import pytest

import crmine
import crmine.behaviour
from crmine.datasets import simulate


@pytest.fixture(scope="module")
def sim_ws(tmp_path_factory):
    root = tmp_path_factory.mktemp("sim")
    simulate(4000, seed=11, out_dir=root)
    ws = crmine.init(root)
    results = ws.ingest.run()
    ws.identity.resolve()  # every later test sees unified customers, whatever runs first
    yield ws, results
    ws.close()


def test_every_load_reconciles(sim_ws):
    ws, results = sim_ws
    assert len(results) == 12
    for r in results:
        assert r.read == r.loaded + r.quarantined, r.source
        assert r.read > 0, r.source
    st = ws.status()
    loaded = {}
    for r in results:
        loaded[r.table] = loaded.get(r.table, 0) + r.loaded
    assert {t: st["tables"][t] for t in loaded} == loaded
    assert st["tables"]["quarantine"] == sum(r.quarantined for r in results)


def test_every_planted_bad_row_is_quarantined_with_its_reason_and_nothing_else(sim_ws):
    ws, _ = sim_ws
    truth = pd.read_csv(ws.root / "truth" / "bad_rows.csv", keep_default_na=False)
    q = ws.ingest.quarantine()
    planted = set(zip(truth.source, truth.line, truth.reason, strict=True))
    found = set(zip(q.source, q.line, q.reason, strict=True))
    assert len(planted) > 50
    assert found == planted
    # The column named for each row matches the one the simulator broke.
    cols = dict(zip(zip(truth.source, truth.line, strict=True), truth.column, strict=True))
    for r in q.itertuples():
        if r.reason != "malformed_row":
            assert r.column == cols[(r.source, r.line)] or cols[(r.source, r.line)] in r.column.split(","), (r.source, r.line)


def test_identity_through_the_workspace_finds_the_planted_duplicates(sim_ws):
    from crmine.identity import evaluate

    ws, _ = sim_ws
    result = ws.identity.resolve()
    truth = pd.read_csv(ws.root / "truth" / "identity.csv")
    scores = evaluate(ws.identity.lineage(), truth)
    assert scores["precision"] >= 0.95 and scores["recall"] >= 0.95, scores
    assert result.unified_customers == ws.warehouse.execute(ws.table("customer_lineage").unified_id.nunique())
    assert result.records == ws.status()["tables"]["customers"]


def test_clv_recovers_the_planted_purchase_process(sim_ws):
    ws, _ = sim_ws
    truth = json.loads((ws.root / "truth" / "params.json").read_text())["bgnbd"]
    fit = ws.clv.fit()
    for name in ("r", "alpha"):
        assert fit.params[name] == pytest.approx(truth[name], rel=0.25), name
    # a and b are identified mostly through their ratio (the mean dropout probability).
    assert fit.params["a"] / (fit.params["a"] + fit.params["b"]) == pytest.approx(
        truth["a"] / (truth["a"] + truth["b"]), rel=0.3
    )
    scores = ws.clv.score()
    assert scores.customer_id.is_unique and len(scores) == fit.customers
    # Scored per unified customer: every id is one of identity resolution's.
    assert scores.customer_id.str.startswith("U").all()
    # On a holdout the model beats the naive "same rate as before" forecast.
    error = ws.clv.check(holdout_weeks=26)
    assert error.loc["model", "mae"] < error.loc["naive", "mae"]
    calibration = ws.warehouse.execute(ws.table("clv_check_calibration"))
    assert calibration.frequency.tolist() == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert calibration.predicted.corr(calibration.actual) > 0.9
    assert scores.probability_alive.between(0, 1).all() and (scores.clv >= 0).all()


def _planted_segment(ws) -> pd.Series:
    """The simulator's segment of each unified customer (through lineage and the identity truth)."""
    lineage = ws.identity.lineage()
    ident = pd.read_csv(ws.root / "truth" / "identity.csv")
    persons = pd.read_csv(ws.root / "truth" / "persons.csv")
    m = lineage.merge(ident, left_on="customer_id", right_on="source_customer_id").merge(persons, on="person_id")
    return m.groupby("unified_id").segment.first()


def test_rfm_and_planted_behaviour_groups_on_the_simulator(sim_ws):
    ws, _ = sim_ws
    toml = ws.root / "crmine.toml"
    toml.write_text(toml.read_text() + (
        "\n[analysis.behaviours]\n"
        "kids = \"category == 'kids'\"\n"
        "online_tech = \"channel == 'web' and category in ('electronics', 'beauty')\"\n"
    ))
    ws2 = crmine.open(ws.root)
    ws2.customers.build()
    rfm = ws2.customers.rfm()
    assert set(rfm.segments.segment) <= set(crmine.behaviour.SEGMENTS)
    assert rfm.segments.customers.sum() == len(rfm.scores) == ws2.customers.count("orders > 0")

    ws2.customers.behaviours(min_count=3)
    groups = ws2.warehouse.execute(ws2.table("behaviour_groups")).set_index("customer_id")
    planted = _planted_segment(ws2).reindex(groups.index)
    base = planted.value_counts(normalize=True)
    kids = planted[groups.pattern.str.contains("kids")].value_counts(normalize=True)
    tech = planted[groups.pattern.str.contains("online_tech")].value_counts(normalize=True)
    # The planted family shoppers buy kids' products, the planted online young buy tech on the web.
    assert kids["family_shoppers"] > 2 * base["family_shoppers"]
    assert tech["online_young"] > 2 * base["online_young"]
    ws2.close()
