"""The loop on the simulator (6,000 customers, seed 11): the realised lift per decile of the
planted uplift, and an uplift model trained on campaigns 1-9 set against the truth on 10-12."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from crmine.cli._campaign import campaign_app
from tests.campaign import _sim

app = typer.Typer()
app.add_typer(campaign_app, name="campaign")


def _run(*args: str):
    return CliRunner().invoke(app, list(args))


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    ws = _sim.sim_workspace(tmp_path_factory.mktemp("loop_sim"), n=6000, seed=11)
    yield ws
    ws.close()


@pytest.fixture(scope="module")
def model(sim):
    return _sim.fit_on_earlier_campaigns(sim)


def test_realised_lift_is_higher_in_the_top_deciles_of_the_true_uplift(sim):
    planted = _sim.truth(sim)
    for cid, t in planted.groupby("campaign_id"):
        table = sim.campaigns.realised_lift(cid, scores=t[["customer_id", "uplift"]])
        assert table.attrs["unscored"] == 0 and len(table) == 10, cid
        assert table.n_treatment.sum() + table.n_control.sum() == len(t), cid
        top, bottom = table[table.decile <= 3], table[table.decile >= 8]
        assert top.lift.mean() > bottom.lift.mean(), cid
        assert (top.predicted_uplift.min() >= bottom.predicted_uplift.max()), cid
        assert (table.ci_low <= table.lift).all() and (table.lift <= table.ci_high).all(), cid


def test_model_ranking_against_the_planted_uplift(sim, model):
    r = _sim.against_truth(sim, model)
    # The model ranks by true uplift better than chance, and worse than the oracle.
    assert (r.spearman_model > 0.15).all() and (r.spearman_model < 1).all()
    assert (r.qini_expected_model > 0).all()
    assert (r.qini_expected_model < r.qini_expected_oracle).all()
    assert 0 < r.qini_realised_model.mean() < r.qini_realised_oracle.mean()
    # At equal budget no ranking beats the truth's. (Uplift vs response targeting: see docs/campaigns.md;
    # it did not hold on every seed, so it is not asserted.)
    assert (r.profit_oracle >= r.profit_model - 1e-9).all()
    assert (r.profit_oracle >= r.profit_response - 1e-9).all()


def test_realised_lift_of_the_model_ranking_is_reported(sim, model):
    ev = sim.campaigns.training_frame("CMP010")
    scores = model.predict_uplift(ev).reset_index().rename(columns={"index": "customer_id"})
    table = sim.campaigns.realised_lift("CMP010", scores=scores[["customer_id", "uplift"]])
    assert len(table) == 10 and table.attrs["scored"] == len(ev)
    # Over a whole campaign the deciles add up to its contacts.
    assert table.n_treatment.sum() + table.n_control.sum() == len(ev)


def test_cli_target_then_realised(sim, model, tmp_path):
    # The simulated contacts lie in 2023-2025 and the export happens now: a long period reaches them.
    period = (pd.Timestamp.now() - pd.Timestamp("2023-01-01")).days
    model.save(tmp_path / "m.joblib")
    out = tmp_path / "list.csv"
    r = _run("campaign", "target", str(sim.root), "--model", str(tmp_path / "m.joblib"), "--margin", "20",
             "--cost", "0.05", "--budget", "20", "--max-contacts", "2", "--period-days", str(period),
             "--control-share", "0.2", "--campaign", "CMP013", "--out", str(out), "--json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.output)
    listed = pd.read_csv(out)
    assert doc["listed"] == len(listed) == 400 and doc["cost"] == pytest.approx(20.0)
    assert doc["excluded_no_consent"] > 0 and doc["excluded_contact_limit"] > 0
    assert set(listed.group) == {"treatment", "control"}
    assert doc["expected_profit"] > doc["response_expected_profit"]  # by the model's own forecasts
    ev = sim.campaigns.training_frame("CMP010")
    model.predict_uplift(ev).reset_index()[["customer_id", "uplift"]].to_csv(tmp_path / "s.csv", index=False)
    r = _run("campaign", "realised", str(sim.root), "--campaign", "CMP010", "--scores", str(tmp_path / "s.csv"),
             "--json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.output)
    assert doc["outcome"] == "purchase" and len(doc["deciles"]) == 10 and doc["unscored"] == 0
    r = _run("campaign", "realised", str(sim.root), "--campaign", "CMP010")
    assert r.exit_code != 0 and "No uplift scores were saved for campaign 'CMP010'" in str(r.exception)


def test_qini_and_uplift_figures_of_the_model(model):
    from crmine.campaign import (
        qini_figure,
        realised_lift_figure,
        uplift_by_decile,
        uplift_curve_figure,
    )
    from crmine.campaign._plots import model_rankings

    y, w, rankings = model_rankings(model)
    fig = qini_figure(y, w, rankings)
    assert [t.name.split(" (")[0] for t in fig.data] == ["uplift model", "response model", "random"]
    assert fig.data[0].x[0] == 0 and fig.data[0].x[-1] == pytest.approx(1.0)
    assert len(fig.data[0].x) <= 402  # thinned: the picture, not the rows
    curve = uplift_curve_figure(y, w, rankings)
    assert curve.layout.title.text == "Uplift curves"
    bars = realised_lift_figure(uplift_by_decile(y, w, rankings["uplift model"]))
    assert [t.type for t in bars.data] == ["bar", "scatter"] and len(bars.data[0].x) == 10
