"""The campaign and uplift commands, through a test-local app that adds the two sub-apps."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from crmine.cli._campaign import campaign_app, uplift_app
from tests.campaign._data import HILLSTROM, synthetic_test

app = typer.Typer()
app.add_typer(campaign_app, name="campaign")
app.add_typer(uplift_app, name="uplift")
runner = CliRunner()


def _run(*args: str):
    return runner.invoke(app, list(args))


def test_lift_json_has_the_shape_the_checks_read(tmp_path):
    if not HILLSTROM.is_file():
        pytest.skip("Hillstrom data not available")
    r = _run("campaign", "lift", str(HILLSTROM), "--arm", "segment", "--control", "No E-Mail",
             "--outcome", "visit", "--outcome", "spend", "--json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.output)
    arms = doc["arms"]
    assert [(a["arm"], a["outcome"]) for a in arms] == [
        ("Mens E-Mail", "visit"), ("Womens E-Mail", "visit"), ("Mens E-Mail", "spend"), ("Womens E-Mail", "spend")]
    for a in arms:
        assert {"arm", "outcome", "n", "mean", "control_n", "control_mean", "lift", "ci_low", "ci_high",
                "p_value", "test"} <= set(a)
        assert a["lift"] == pytest.approx(a["mean"] - a["control_mean"])
        assert a["ci_low"] < a["lift"] < a["ci_high"] and a["ci_low"] > 0
    assert arms[1]["mean"] == pytest.approx(0.151400, abs=5e-7)
    assert arms[1]["incremental_profit"] is None  # no margin given: null, never NaN


def test_lift_table_and_a_clear_error(tmp_path):
    f = pd.DataFrame({"grp": ["t", "t", "c", "c"], "resp": [1, 0, 0, 0]})
    path = tmp_path / "test.csv"
    f.to_csv(path, index=False)
    r = _run("campaign", "lift", str(path), "--arm", "grp", "--control", "c", "--outcome", "resp")
    assert r.exit_code == 0 and "lift" in r.output and "Newcombe" in r.output
    r = _run("campaign", "lift", str(path), "--arm", "grp", "--control", "none", "--outcome", "resp")
    assert r.exit_code != 0
    assert "control value 'none' does not occur in arm column 'grp'" in str(r.exception)


def test_design_and_assign(tmp_path):
    r = _run("campaign", "design", "--baseline", "0.1", "--mde", "0.02", "--json")
    assert json.loads(r.output)["n_control"] == 3841
    r = _run("campaign", "design", "--baseline", "0.1", "--mde", "0.02", "--size", "100000")
    assert r.exit_code == 0 and "control share" in r.output
    pd.DataFrame({"customer_id": [f"c{i}" for i in range(100)], "tier": ["a", "b"] * 50}).to_csv(
        tmp_path / "list.csv", index=False)
    out = tmp_path / "assigned.csv"
    r = _run("campaign", "assign", str(tmp_path / "list.csv"), "--out", str(out), "--id", "customer_id",
             "--control-share", "0.2", "--strata", "tier", "--seed", "4", "--json")
    assert json.loads(r.output)["groups"] == {"control": 20, "treatment": 80}
    listed = pd.read_csv(out)
    assert len(listed) == 100 and listed.groupby("tier").group.apply(lambda g: (g == "control").sum()).tolist() == [10, 10]


def test_uplift_fit_score_and_target(tmp_path):
    frame, _ = synthetic_test(3000, seed=2, arms=("mail", "email"))
    path = tmp_path / "test.csv"
    frame.to_csv(path, index=False)
    model = tmp_path / "uplift.joblib"
    r = _run("uplift", "fit", str(path), "--arm", "arm", "--control", "none", "--treatment", "mail",
             "--outcome", "bought", "--id", "customer_id", "--out", str(model), "--base", "linear", "--json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.output)
    assert list(doc["best"]) == ["mail"] and {c["arm"] for c in doc["candidates"]} == {"mail"}
    scores = tmp_path / "scores.csv"
    r = _run("uplift", "score", str(model), str(path), "--out", str(scores))
    assert r.exit_code == 0, r.output
    s = pd.read_csv(scores)
    assert s.columns.tolist() == ["customer_id", "uplift"] and len(s) == 3000
    targets = tmp_path / "targets.csv"
    r = _run("uplift", "target", str(model), str(path), "--margin", "40", "--cost", "1", "--out", str(targets))
    assert r.exit_code == 0, r.output
    assert set(pd.read_csv(targets).offer) == {"mail"}
    # Both arms: one column per arm.
    r = _run("uplift", "fit", str(path), "--arm", "arm", "--control", "none", "--outcome", "bought",
             "--id", "customer_id", "--out", str(model), "--base", "linear", "--learner", "two_model")
    assert r.exit_code == 0, r.output
    assert "Best per arm" in r.output
    _run("uplift", "score", str(model), str(path), "--out", str(scores))
    assert pd.read_csv(scores).columns.tolist() == ["customer_id", "uplift_email", "uplift_mail"]
    targets = tmp_path / "targets.csv"
    r = _run("uplift", "target", str(model), str(path), "--margin", "40", "--cost", "1", "--budget", "300",
             "--out", str(targets), "--json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.output)
    listed = pd.read_csv(targets)
    assert doc["selected"] == len(listed) <= 300 and listed.cost.sum() <= 300
    assert set(listed.offer) <= {"mail", "email"}
    assert doc["expected_profit"] > doc["response_expected_profit"]


def test_lift_of_a_workspace_campaign(campaign_ws):
    r = _run("campaign", "lift", str(campaign_ws.root), "--campaign", "CMP003", "--json")
    assert r.exit_code == 0, r.output
    arms = json.loads(r.output)["arms"]
    assert {a["campaign_id"] for a in arms} == {"CMP003"} and "purchase" in {a["outcome"] for a in arms}
    r = _run("campaign", "lift", str(campaign_ws.root))
    assert r.exit_code == 0 and "CMP012" in r.output
