"""`crmine run` on partial data: what the data supports runs, the rest is skipped with the reason."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pandas as pd
import pytest

import crmine
import crmine.pipeline as pipeline
from crmine.datasets import load_cdnow_sample, simulate

DOCUMENT_KEYS = {"step", "status", "rows", "seconds", "detail"}


def _keep_sources(toml: str, names: set[str]) -> str:
    """The simulator's crmine.toml with only the [sources.<name>] sections of ``names``."""
    blocks = re.split(r"(?m)^(?=\[)", toml)
    kept = [b for b in blocks if not b.startswith("[sources.")
            or re.match(r"\[sources\.([a-z_]+)[.\]]", b).group(1) in names]
    return "".join(kept)


def _simulated(root, names: set[str]):
    simulate(600, seed=4, out_dir=root)
    toml = root / "crmine.toml"
    toml.write_text(_keep_sources(toml.read_text(), names), encoding="utf-8")
    return crmine.open(root)


def _by_step(results):
    return {r.step: r for r in results}


@pytest.fixture(scope="module")
def sales_and_customers(tmp_path_factory):
    """The simulator's customers and transactions only: no consents, campaigns or interactions."""
    ws = _simulated(tmp_path_factory.mktemp("partial"), {"crm_customers", "web_customers", "transactions"})
    # What an earlier run with consents would have left: the skipped step's table must not reach the page.
    ws.warehouse.write("export_audit", pd.DataFrame({
        "exported": [pd.Timestamp("2025-01-01")], "user": ["someone"], "file": ["exports/old.csv"],
        "what": ["{}"], "rows": [10], "excluded_no_consent": [2]}))
    results = pipeline.run(ws)
    yield ws, results
    ws.close()


@pytest.fixture(scope="module")
def cdnow(tmp_path_factory):
    """A CDNOW-like export: customer_id, date, quantity, amount, and a few guest purchases."""
    root = tmp_path_factory.mktemp("cdnow")
    tx = load_cdnow_sample().rename(columns={"ts": "date"})
    guests = tx.head(3).assign(customer_id=None)
    pd.concat([tx, guests]).to_csv(root / "cdnow.csv", index=False, date_format="%Y-%m-%d")
    (root / "crmine.toml").write_text(
        '[sources.cdnow]\ntable = "transactions"\npath = "cdnow.csv"\n'
        '[sources.cdnow.columns]\nts = "date"\n', encoding="utf-8")
    ws = crmine.init(root)
    results = pipeline.run(ws)
    yield ws, results
    ws.close()


def test_run_on_sales_and_customers_runs_what_they_support(sales_and_customers):
    _, results = sales_and_customers
    steps = _by_step(results)
    for name in ("ingest", "identity", "customers", "rfm", "segments", "clv", "churn", "drivers", "report"):
        assert steps[name].status == "ok", (name, steps[name].detail)
    assert steps["targets"].status == "skipped"
    assert steps["targets"].detail == (
        'needs consents: no source maps to consents; add a [sources.<name>] with table = "consents"')
    assert not [r for r in results if r.status == "failed"]
    assert {r.status for r in results} <= set(pipeline.STATUSES)


def test_run_names_the_campaign_and_service_tables_the_customer_table_went_without(sales_and_customers):
    detail = _by_step(sales_and_customers[1])["customers"].detail
    assert "campaign measures (no source maps to campaign_contacts)" in detail
    assert "service measures (no source maps to interactions)" in detail
    assert "demographics" not in detail  # the simulator's customers have them


def test_run_document_has_exactly_the_documented_keys(sales_and_customers):
    _, results = sales_and_customers
    doc = pipeline.run_document(results)
    assert list(doc) == ["steps"]
    assert [s["step"] for s in doc["steps"]] == [s.name for s in pipeline.STEPS]
    for s in doc["steps"]:
        assert set(s) == DOCUMENT_KEYS
    assert doc["steps"][-1]["status"] == "ok"


def test_run_stores_its_results_for_the_report(sales_and_customers):
    ws, results = sales_and_customers
    assert pipeline.last_run(ws) == pipeline.run_document(results)["steps"]


def test_report_leaves_skipped_steps_out_and_says_why(sales_and_customers):
    _, results = sales_and_customers
    html = Path(_by_step(results)["report"].detail).read_text(encoding="utf-8")
    sections = dict(re.findall(r'<section id="([a-z]+)">(.*?)</section>', html, flags=re.S))
    assert "targets" not in sections and "Target lists" not in html  # though export_audit has a row
    for sid in ("kpis", "rfm", "segments", "clv", "churn"):
        assert sid in sections, sid
    note = sections["leftout"]
    assert "<td>targets</td>" in note.replace(' class=""', "")
    assert "needs consents: no source maps to consents" in note


def test_a_source_quarantined_whole_gives_the_reasons(tmp_path, monkeypatch):
    ws = _simulated(tmp_path, {"crm_customers", "transactions", "consents"})
    consents = tmp_path / "sources" / "consents.csv"
    # Consents of customers nobody loaded: every row breaks the reference to customers.
    rows = pd.read_csv(consents, dtype=str, keep_default_na=False)
    rows["customer_id"] = "X" + rows["customer_id"]
    rows.to_csv(consents, index=False)
    steps = {s.name: s for s in pipeline.STEPS}
    monkeypatch.setattr(pipeline, "STEPS", (steps["ingest"], steps["identity"],
                                            dataclasses.replace(steps["targets"], depends=())))
    targets = _by_step(pipeline.run(ws))["targets"]
    assert targets.status == "skipped"
    q = ws.ingest.quarantine(source="consents").reason.value_counts()
    assert q.index[0] == "unknown_reference"
    assert targets.detail.startswith(f"needs consents: consents is empty: all {len(rows):,} rows of source "
                                     f"consents were quarantined (reasons: unknown_reference {q.iloc[0]:,}")
    assert "see `crmine status`" in targets.detail
    ws.close()


def test_run_on_sales_alone_infers_customers_and_skips_what_they_cannot_tell(cdnow):
    ws, results = cdnow
    steps = _by_step(results)
    assert not [r for r in results if r.status == "failed"], [(r.step, r.detail) for r in results]
    for name in ("ingest", "identity", "customers", "rfm", "segments", "clv", "churn", "report"):
        assert steps[name].status == "ok", (name, steps[name].detail)
    assert "3 guest lines" in steps["ingest"].detail
    assert steps["drivers"].status == "skipped"
    assert steps["drivers"].detail.startswith("needs attributes beyond purchase history: customers hold no gender")
    assert steps["targets"].detail.startswith("needs consents: no source maps to consents")
    assert "without demographics (no values in customers)" in steps["customers"].detail


def test_identity_on_inferred_customers_keeps_each_record_and_the_lineage_shape(cdnow, sales_and_customers):
    ws, results = cdnow
    assert _by_step(results)["identity"].detail == (
        "no identifying columns: each of 2,357 records is its own customer")
    lineage = ws.identity.lineage()
    assert len(lineage) == 2357 and lineage.unified_id.is_unique
    assert (lineage.cluster_size == 1).all() and (lineage.source_system == "inferred").all()
    # The same table as a Splink resolution writes, column for column and type for type.
    matched = sales_and_customers[0].warehouse.table("customer_lineage").schema()
    assert ws.warehouse.table("customer_lineage").schema() == matched


def test_run_on_a_short_history_skips_churn_with_the_span(tmp_path, monkeypatch):
    tx = load_cdnow_sample()
    tx = tx[tx.ts < "1997-05-01"].rename(columns={"ts": "date"})
    tx.to_csv(tmp_path / "sales.csv", index=False, date_format="%Y-%m-%d")
    (tmp_path / "crmine.toml").write_text(
        '[sources.sales]\ntable = "transactions"\npath = "sales.csv"\n'
        '[sources.sales.columns]\nts = "date"\n', encoding="utf-8")
    ws = crmine.init(tmp_path)
    keep = ("ingest", "identity", "churn")
    monkeypatch.setattr(pipeline, "STEPS", tuple(s for s in pipeline.STEPS if s.name in keep))
    churn = _by_step(pipeline.run(ws))["churn"]
    assert churn.status == "skipped"
    assert churn.detail.startswith(
        "needs history: customers' purchases span 119 days (1997-01-01 to 1997-04-30), no longer than "
        "the churn horizon of 180 days")
    ws.close()


def test_run_on_few_repeat_customers_skips_clv_and_what_needs_it(tmp_path, monkeypatch):
    tx = load_cdnow_sample()
    tx = tx[tx.customer_id.isin(tx.customer_id.drop_duplicates().head(40))]
    tx.rename(columns={"ts": "date"}).to_csv(tmp_path / "sales.csv", index=False, date_format="%Y-%m-%d")
    (tmp_path / "crmine.toml").write_text(
        '[sources.sales]\ntable = "transactions"\npath = "sales.csv"\n'
        '[sources.sales.columns]\nts = "date"\n', encoding="utf-8")
    ws = crmine.init(tmp_path)
    repeat = int((tx.groupby("customer_id").ts.nunique() > 1).sum())
    keep = ("ingest", "identity", "clv", "targets")
    monkeypatch.setattr(pipeline, "STEPS", tuple(
        dataclasses.replace(s, depends=("clv",)) if s.name == "targets" else s
        for s in pipeline.STEPS if s.name in keep))
    steps = _by_step(pipeline.run(ws))
    assert steps["clv"].status == "skipped"
    assert steps["clv"].detail.startswith(
        f"needs repeat purchases: {repeat} of 40 customers bought on more than one day; a lifetime-value "
        f"model learns from at least {pipeline.MIN_REPEAT}")
    assert (steps["targets"].status, steps["targets"].detail) == ("skipped", "needs clv")
    ws.close()
