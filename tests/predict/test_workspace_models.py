"""Churn on a simulated workspace: no look-ahead, scores, consented targets, and the CLI on files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score
from typer.testing import CliRunner

import crmine
from crmine.cli import app
from crmine.datasets import simulate
from crmine.predict._namespace import HISTORY_COLUMNS, churn_training_frame

TELCO = Path(__file__).resolve().parents[3] / "shared" / "data" / "wa_churn.csv"


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    root = tmp_path_factory.mktemp("churn")
    simulate(3000, seed=5, out_dir=root)
    w = crmine.init(root)
    w.ingest.run()
    w.identity.resolve()
    yield w
    w.close()


def test_training_frame_has_no_look_ahead(ws):
    frame = churn_training_frame(ws.warehouse, horizon_days=180)
    end = pd.Timestamp(ws.warehouse.execute(ws.table("transactions").ts.max())).normalize()
    cutoff = end - pd.Timedelta(days=180)
    # Features describe the customer as of the cutoff: nobody was seen buying after it.
    assert (frame.recency_days >= 0).all()
    table = ws.customers.build(as_of=cutoff)
    assert table == ws.customers.count() and len(frame) == ws.customers.count("orders > 0")
    assert set(frame.churned) == {"yes", "no"}


def test_churn_model_beats_baseline_and_approaches_the_true_probabilities(ws):
    search = ws.models.fit(candidates=("logistic", "gradient_boosting"))
    r = search.results_
    assert r.loc[search.best_, "roc_auc_mean"] > r.loc["baseline", "roc_auc_mean"]
    # Against the simulator's truth: who really buys nothing in the 180 days after `end`.
    scored = ws.models.score()
    psi = scored.attrs["psi"]
    assert "probability" in set(psi.column) and (psi.psi >= 0).all()
    scores = scored.set_index("customer_id")
    truth = _truth_by_customer(ws, scores.index).dropna(subset=["p_no_purchase_180d"])
    assert len(truth) > 0.95 * len(scores)
    # Who really buys nothing in the 180 days after `end`, drawn from the true probabilities.
    outcome = np.random.default_rng(0).random(len(truth)) < truth.p_no_purchase_180d.to_numpy()
    auc_model = roc_auc_score(outcome, scores.probability.reindex(truth.index))
    # The ceiling for anyone who sees the purchase history, even knowing each lambda and p ...
    auc_history = roc_auc_score(outcome, truth.p_no_purchase_180d_given_history)
    # ... and for an oracle that also knows who has already dropped out.
    auc_true = roc_auc_score(outcome, truth.p_no_purchase_180d)
    print(f"churn AUC: model {auc_model:.3f}, best possible from the history {auc_history:.3f}, "
          f"true probabilities {auc_true:.3f}")
    assert auc_model > auc_history - 0.03, (auc_model, auc_history)
    assert auc_history < auc_true


def test_backtest_out_of_time_agrees_with_cross_validation(ws):
    out = CliRunner().invoke(app, ["model", "backtest", str(ws.root), "--json"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)
    rows = {r["candidate"]: r for r in doc["candidates"]}
    assert set(rows) == {"logistic", "additive_logistic", "gradient_boosting", "random_forest", "baseline"}
    best = rows[doc["best"]]
    print("\n" + json.dumps(doc["candidates"], indent=1))
    # Trained a horizon earlier, the model still ranks next period's churners as well as
    # cross-validation promised (no leakage, no drift in the simulator), and beats the baseline.
    assert best["out_of_time_roc_auc"] == pytest.approx(best["cv_roc_auc"], abs=0.03)
    assert best["out_of_time_roc_auc"] > rows["baseline"]["out_of_time_roc_auc"] + 0.01
    with pytest.raises(crmine.errors.SettingsError, match="kind must be churn or cross_sell, not 'response'"):
        ws.models.backtest("response")


def _truth_by_customer(ws, scores_index):
    lineage = ws.identity.lineage()
    ident = pd.read_csv(ws.root / "truth" / "identity.csv")
    persons = pd.read_csv(ws.root / "truth" / "persons.csv")
    m = lineage.merge(ident, left_on="customer_id", right_on="source_customer_id").merge(persons, on="person_id")
    return m.groupby("unified_id").first().reindex(scores_index)


def test_profit_ranking_beats_probability_ranking_against_the_truth(ws):
    # Churn lists are valued by each customer's lifetime value by default. Judged by the
    # simulator's truth, a contact can save only a customer still alive who would drop out within
    # 180 days, and saves a year of their spend: the list ranked by expected profit reaches more of
    # that value than the same number of customers ranked by P(churn) alone.
    ws.clv.fit()
    ws.clv.score()
    ws.models.fit(candidates=("logistic",))
    ws.models.score()
    by_profit = ws.models.target(top_n=300, min_profit=-1e9)
    assert json.loads(ws.warehouse.execute(ws.table("export_audit")).what.iloc[-1])["value"] == "clv_scores.clv"
    scores = ws.warehouse.execute(ws.table("churn_scores")).set_index("customer_id")
    truth = _truth_by_customer(ws, scores.index)
    saveable = truth.alive_at_end.astype(bool) * truth.churn_prob_180d
    true_value = saveable * truth["lambda"] * 52 * truth.mean_spend
    eligible = set(ws.models.target(min_profit=-1e9).customers.customer_id)  # the same consented pool
    by_p = scores.loc[sorted(eligible)].probability.nlargest(300).index
    kept_profit = true_value.reindex(by_profit.customers.customer_id).sum()
    kept_p = true_value.reindex(by_p).sum()
    print(f"\ntrue value reached: profit ranking {kept_profit:,.0f}, probability ranking {kept_p:,.0f}")
    assert kept_profit > 1.2 * kept_p


def test_response_list_takes_the_campaign_economics(ws):
    camps = ws.warehouse.execute(ws.table("campaigns"))
    row = camps.iloc[1]
    ws.models.fit(kind="response", campaign=row.campaign_id, candidates=("logistic",))
    name = f"response_{row.campaign_id.lower()}"
    ws.models.score(name)
    result = ws.models.target(name, min_profit=-1e9)
    listed = result.customers
    assert (listed.margin == row.margin_per_response).all()
    np.testing.assert_allclose(listed.expected_profit,
                               listed.probability * row.margin_per_response - row.cost_per_contact)
    what = json.loads(ws.warehouse.execute(ws.table("export_audit")).what.iloc[-1])
    assert what["value"] == f"campaign {row.campaign_id} margin_per_response"
    with pytest.raises(crmine.errors.SettingsError, match=r"Pass margin= \(--margin\)"):
        ws.models.fit(kind="cross_sell", category="kids", candidates=("logistic",))
        ws.models.score("cross_sell_kids")
        ws.models.target("cross_sell_kids")


def test_drivers_analysis_ranks_the_planted_churn_drivers_first(ws):
    # The simulator plants age, income and satisfaction with service as causes of dropout
    # (truth/params.json, churn.coefficients), and dropout levels per segment, which the segments'
    # discount and return habits reveal. Nothing else about the person matters.
    planted = json.loads((ws.root / "truth" / "params.json").read_text())["churn"]["coefficients"]
    assert set(planted) == {"age", "log_income", "service"}
    out = CliRunner().invoke(app, ["model", "drivers", str(ws.root), "--json", "--top", "30"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)
    drivers = pd.DataFrame(doc["drivers"])
    drivers.attrs.update(roc_auc=doc["roc_auc"])
    print("\n" + drivers.head(8).to_string(), doc["roc_auc"])
    assert {"recency_days", "orders", "service_contacts"} <= set(doc["left_out"]) <= set(HISTORY_COLUMNS)
    assert not set(HISTORY_COLUMNS) & set(drivers.feature)
    rank = drivers.set_index("feature")["rank"]
    top5 = set(drivers.feature.head(5))
    assert {"age", "income"} <= top5 and {"mean_satisfaction", "resolution_rate"} & top5
    unplanted = [c for c in ("gender", "region", "city", "country", "occupation", "education") if c in rank]
    assert len(unplanted) >= 4
    assert max(rank["age"], rank["income"], rank["mean_satisfaction"]) < rank[unplanted].min()
    assert 0.6 < drivers.attrs["roc_auc"] < 0.8  # real but modest: the causes, without the symptoms
    stored = ws.warehouse.execute(ws.table("churn_drivers"))
    assert stored.feature.head(30).tolist() == drivers.feature.tolist()


def test_target_list_respects_consent_and_writes_an_audit_record(ws):
    result = ws.models.target(purpose="marketing", channel="email", margin=50.0, top_n=200)
    consents = ws.warehouse.execute(ws.table("consents"))
    lineage = ws.identity.lineage().set_index("customer_id").unified_id
    consents["unified"] = consents.customer_id.map(lineage)
    ok = consents[(consents.purpose == "marketing") & (consents.channel == "email")]
    granted = set(ok.groupby("unified").granted.all().loc[lambda s: s].index)
    assert set(result.customers.customer_id) <= granted
    assert result.excluded_no_consent > 0
    audit = ws.warehouse.execute(ws.table("export_audit"))
    assert audit.rows.iloc[-1] == result.selected and audit.excluded_no_consent.iloc[-1] == result.excluded_no_consent
    exported = pd.read_csv(ws.root / audit.file.iloc[-1])
    assert exported.customer_id.tolist() == result.customers.customer_id.tolist()


def test_consent_withdrawals_appended_to_the_source_keep_those_customers_off_the_next_list(ws):
    listed = ws.models.target(purpose="marketing", channel="email", margin=50.0, top_n=50).customers
    lineage = ws.identity.lineage()
    records = lineage[lineage.unified_id.isin(listed.customer_id)]
    path = ws.root / "sources" / "consents.csv"
    when = (pd.Timestamp.now() - pd.Timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S")
    withdrawn = records[records.source_system == "crm"].customer_id.head(20).tolist()
    with path.open("a") as f:
        f.writelines(f"{cid},marketing,email,false,{when}\n" for cid in withdrawn)
    loaded = {r.source: r for r in ws.ingest.run()}["consents"]
    assert loaded.inserted == len(withdrawn) == 20
    gone = set(lineage.set_index("customer_id").unified_id.loc[withdrawn])
    again = ws.models.target(purpose="marketing", channel="email", margin=50.0, top_n=50).customers
    assert not gone & set(again.customer_id)
    assert len(again) == 50  # the list is refilled from the next-best consented customers


@pytest.mark.skipif(not TELCO.exists(), reason="the telco churn file is in the project's shared data only")
def test_model_evaluate_fit_and_score_on_a_flat_file(tmp_path):
    runner = CliRunner()
    out = runner.invoke(app, ["model", "evaluate", str(TELCO), "--target", "churn", "--json"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.output)
    names = [c["name"] for c in doc["candidates"]]
    assert names[-1] == "baseline" and doc["best"] in names
    logistic = next(c for c in doc["candidates"] if c["name"] == "logistic")
    assert logistic["roc_auc"] == pytest.approx(0.845, abs=0.01)
    model = tmp_path / "m.joblib"
    small = tmp_path / "small.csv"
    pd.read_csv(TELCO).head(300).assign(id=lambda d: range(len(d))).to_csv(small, index=False)
    assert runner.invoke(app, ["model", "fit", str(small), "--target", "churn", "--id", "id", "--out", str(model)]).exit_code == 0
    unlabelled = tmp_path / "new.csv"
    pd.read_csv(small).drop(columns=["churn"]).to_csv(unlabelled, index=False)
    scores_path = tmp_path / "scores.csv"
    res = runner.invoke(app, ["model", "score", str(model), str(unlabelled), "--out", str(scores_path)])
    assert res.exit_code == 0, res.output
    scores = pd.read_csv(scores_path)
    assert list(scores.columns) == ["id", "score"] and len(scores) == 300 and scores.score.between(0, 1).all()


def test_response_model_learns_from_the_test_mailing_and_targets_by_profit(ws):
    camps = ws.warehouse.execute(ws.table("campaigns"))
    campaign = camps.campaign_id.iloc[1]
    search = ws.models.fit(kind="response", campaign=campaign, candidates=("logistic",))
    assert set(search.results_.index) == {"logistic", "baseline"}
    name = f"response_{campaign.lower()}"
    scores = ws.models.score(name)
    assert scores.probability.between(0, 1).all()
    result = ws.models.target(name, margin=30.0, contact_cost=0.5, budget=50.0)
    assert result.customers.expected_profit.is_monotonic_decreasing
    assert result.selected * 0.5 <= 50.0 + 1e-9


def test_cross_sell_and_lookalike(ws):
    search = ws.models.fit(kind="cross_sell", category="kids", candidates=("logistic",))
    assert search.results_.loc["logistic", "roc_auc_mean"] > 0.6
    ws.customers.build()
    look = ws.models.lookalike("spend > 1500", top_n=50)
    members = set(ws.customers.list("spend > 1500").customer_id)
    assert len(look) == 50 and not (set(look.customer_id) & members)
    assert look.similarity.is_monotonic_decreasing


def test_lookalike_of_half_a_planted_segment_finds_the_other_half(ws, tmp_path):
    # Seed: a random half of one planted segment. Its other half should crowd the top of the
    # ranking, far above its share of the customers outside the seed.
    table = ws.warehouse.execute(ws.table("customer_table").select("customer_id"))
    truth = _truth_by_customer(ws, pd.Index(table.customer_id)).dropna(subset=["segment"])
    members = truth.index[truth.segment == truth.segment.value_counts().index[0]].to_numpy()
    rng = np.random.default_rng(0)
    seed = rng.choice(members, size=len(members) // 2, replace=False)
    pd.DataFrame({"customer_id": seed}).to_csv(tmp_path / "seed.csv", index=False)
    out = CliRunner().invoke(app, ["lookalike", str(ws.root), "--ids", str(tmp_path / "seed.csv"),
                                   "--top-n", "200", "--json"])
    assert out.exit_code == 0, out.output
    ranked = pd.DataFrame(json.loads(out.stdout))
    held_out = set(members) - set(seed)
    assert not set(ranked.customer_id) & set(seed)
    base_rate = len(held_out) / (len(truth) - len(seed))
    hit_rate = ranked.customer_id.isin(held_out).mean()
    print(f"\nlookalike: {hit_rate:.2f} of the top 200 are held-out members; base rate {base_rate:.2f}")
    assert hit_rate > 2 * base_rate
    audit = ws.warehouse.execute(ws.warehouse.table("export_audit"))
    last = audit[audit.kind == "lookalike"].iloc[-1]  # the list on stdout was an audited export
    assert (last.file, last.rows) == ("<stdout>", 200)
    gold = CliRunner().invoke(app, ["lookalike", str(ws.root), "--gold", "--top-n", "20", "--json"])
    assert gold.exit_code == 0, gold.output
    assert len(json.loads(gold.stdout)) == 20
    both = CliRunner().invoke(app, ["lookalike", str(ws.root), "spend > 10", "--gold"])
    assert isinstance(both.exception, crmine.errors.SettingsError)  # `crmine` prints it as one error line
    assert str(both.exception) == "Give the seed one way: a condition, --ids FILE or --gold."


def test_model_errors_name_what_is_missing(ws):
    from crmine.errors import SettingsError, WorkspaceError

    with pytest.raises(SettingsError, match="needs the campaign"):
        ws.models.fit(kind="response")
    with pytest.raises(WorkspaceError, match=r"Campaign 'NOPE' not found"):
        ws.models.fit(kind="response", campaign="NOPE")
    with pytest.raises(SettingsError, match="Unknown model kind 'uplift'"):
        ws.models.fit(kind="uplift")
