"""`crmine run`: dependency order, nothing redone when nothing changed, a failure isolated."""

from __future__ import annotations

import dataclasses

import pytest

import crmine
import crmine.pipeline as pipeline
from crmine.datasets import simulate


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    root = tmp_path_factory.mktemp("run")
    simulate(800, seed=2, out_dir=root)
    w = crmine.init(root)
    yield w
    w.close()


def _status(results):
    return {r.step: r.status for r in results}


def test_run_does_everything_once_then_nothing(ws):
    first = pipeline.run(ws)
    assert _status(first) == {step.name: "ok" for step in pipeline.STEPS}
    assert len(list((ws.root / "reports").glob("report-*.html"))) == 1
    second = _status(pipeline.run(ws))
    assert second.pop("ingest") == "ok"
    assert set(second.values()) == {"up to date"}


def test_every_table_a_run_writes_is_in_the_registry(ws):
    from crmine.schema import TABLES
    from crmine.warehouse._registry import DERIVED, derived_table

    pipeline.run(ws)
    written = {t for t in ws.warehouse.con.list_tables()
               if t not in TABLES and not t.startswith(("ibis_", "_"))}
    for name in written:
        derived_table(name)  # KeyError names the table missing from the registry
    ran = {r["step"] for r in pipeline.last_run(ws) if r["status"] in ("ok", "up to date")}
    for entry in DERIVED:
        if entry.step in ran and entry.name not in ("clv_check_calibration", "clv_check_tracking"):
            assert entry.name in written, entry.name
    assert ws.status()["tables"]["campaign_lift"] > 0


def test_a_failing_step_skips_its_dependants_only(ws, monkeypatch):
    def broken(w):
        raise RuntimeError("model server on fire")

    steps = tuple(dataclasses.replace(s, action=broken) if s.name == "churn" else s for s in pipeline.STEPS)
    monkeypatch.setattr(pipeline, "STEPS", steps)
    results = {r.step: r for r in pipeline.run(ws, force=True)}
    assert results["churn"].status == "failed" and "model server on fire" in results["churn"].detail
    assert results["targets"].status == "skipped" and results["targets"].detail == "needs churn"
    for step in ("identity", "customers", "rfm", "segments", "clv", "report"):
        assert results[step].status == "ok", step


def test_a_changed_setting_reruns_the_steps(ws):
    toml = ws.root / "crmine.toml"
    toml.write_text(toml.read_text() + '\n[analysis.derived]\nspend_per_order = "spend / orders"\n')
    again = crmine.open(ws.root)
    status = _status(pipeline.run(again))
    assert status["customers"] == "ok" and status["report"] == "ok"
    assert "spend_per_order" in again.customers.table().columns
