"""The simulator's loop: a workspace with its planted per-customer uplift, an uplift model trained
on the earlier campaigns' randomised tests, and its ranking set against the truth."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

import crmine
from crmine.campaign import UpliftModel, qini_coefficient, uplift_targets
from crmine.datasets import simulate

SOURCES = ["crm_customers", "web_customers", "products", "transactions", "campaigns", "campaign_contacts",
           "campaign_responses", "consents"]
TRAIN = [f"CMP{i:03d}" for i in range(1, 10)]
EVALUATE = ["CMP010", "CMP011", "CMP012"]
BUDGET_SHARE = 0.3  # each list may contact 30% of the campaign's customers


def sim_workspace(root: Path, *, n: int = 6000, seed: int = 11) -> crmine.Workspace:
    """Simulated workspace without the identity step: contacts name the truth's source records."""
    simulate(n, seed=seed, out_dir=root)
    ws = crmine.init(root)
    ws.ingest.run(sources=SOURCES)
    return ws


def truth(ws) -> pd.DataFrame:
    return pd.read_csv(ws.root / "truth" / "uplift.csv").rename(columns={"source_customer_id": "customer_id"})


def fit_on_earlier_campaigns(ws) -> UpliftModel:
    train = pd.concat([ws.campaigns.training_frame(c) for c in TRAIN], ignore_index=True)
    features = [c for c in train.columns if c not in ("campaign_id", "customer_id", "group", "responded")]
    return UpliftModel(learners=("two_model", "x_learner"), bases=("linear",), cv=3, seed=0).fit(
        train, outcome="responded", arm="group", control="control", id_column="customer_id", features=features)


def against_truth(ws, model: UpliftModel) -> pd.DataFrame:
    """Per evaluated campaign: Spearman with the true uplift (model, response model), the Qini on
    the expected outcomes (the truth's response probabilities) and on the realised ones, for the
    model, the response model and the oracle (ranking by true uplift); and the true incremental
    profit of the lists each ranking picks with the same budget (30% of the contacts)."""
    planted = truth(ws)
    camps = ws.warehouse.execute(ws.table("campaigns")).set_index("campaign_id")
    rows = []
    for cid in EVALUATE:
        ev = ws.campaigns.training_frame(cid)
        t = planted[planted.campaign_id == cid].set_index("customer_id").loc[ev.customer_id]
        true = t.uplift.to_numpy()
        w = (ev.group == "treatment").to_numpy().astype(int)
        expected = np.where(w == 1, t.p_response_treatment, t.p_response_control)
        ids = pd.Index(ev.customer_id.astype(str), name="customer_id")
        ranks = {"model": model.predict_uplift(ev).iloc[:, 0].to_numpy(),
                 "response": model.predict_response(ev).iloc[:, 0].to_numpy(), "oracle": true}
        value, cost = float(camps.loc[cid, "margin_per_response"]), float(camps.loc[cid, "cost_per_contact"])
        budget = int(BUDGET_SHARE * len(ev)) * cost
        row = {"campaign_id": cid, "n": len(ev), "budget": budget}
        for name, score in ranks.items():
            row[f"spearman_{name}"] = float(stats.spearmanr(score, true)[0])
            row[f"qini_expected_{name}"] = qini_coefficient(expected, w, score)
            row[f"qini_realised_{name}"] = qini_coefficient(ev.responded, w, score)
            if name == "response":  # the same spend down the response ranking
                pick = np.argsort(-score, kind="stable")[: int(round(budget / cost))]
            else:
                chosen = uplift_targets(pd.DataFrame({"uplift": score}, index=ids), value=value, cost=cost,
                                        budget=budget).customers.customer_id
                pick = ids.get_indexer(chosen)
            row[f"profit_{name}"] = float((true[pick] * value - cost).sum())
        rows.append(row)
    return pd.DataFrame(rows)
