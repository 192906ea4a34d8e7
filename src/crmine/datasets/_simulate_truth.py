"""Ground truth of a simulation: ``truth/params.json`` and the per-person, per-record CSV files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from crmine.datasets import _simulate_orders as so
from crmine.datasets import _simulate_people as sp
from crmine.datasets import _simulate_service as ss


def _csv(path: Path, table: pa.Table) -> None:
    try:
        pacsv.write_csv(table, path, pacsv.WriteOptions(quoting_style="none"))
    except pa.ArrowInvalid:  # a value holds a comma or a quote
        pacsv.write_csv(table, path, pacsv.WriteOptions(quoting_style="needed"))


def write_truth(
    folder: Path,
    P,
    cal,
    identity,
    uplift,
    feedback_truth,
    S,
    catalog,
    campaign_summary,
    bad,
    settings,
) -> dict[str, Path]:
    n = P.n
    secs = lambda t: pa.array(cal.seconds(t), type=pa.timestamp("s"))  # noqa: E731
    persons = pa.table(
        {
            "person_id": P.person_id,
            "segment": pa.array(np.asarray(sp.SEGMENT_NAMES)[P.segment]),
            "primary_system": pa.array(np.where(P.primary_web, "web", "crm")),
            "n_records": pa.array(1 + P.dup.astype(np.int64)),
            "gender": pa.array(np.where(P.female, "F", "M")),
            "birth_date": pa.array(P.birth_day.astype("datetime64[D]")),
            "age": pa.array(np.round(P.age, 2)),
            "income": pa.array(P.income),
            "city": pa.array(np.asarray([c[0] for c in sp.lex.CITIES])[P.city]),
            "first_purchase_ts": pa.array(P.first_s, type=pa.timestamp("s")),
            "lambda": pa.array(P.lam),
            "p_dropout": pa.array(P.p),
            "nu": pa.array(P.nu),
            "mean_spend": pa.array(P.mean_spend),
            "T_weeks": pa.array(P.T),
            "n_orders": pa.array(1 + P.K),
            "expected_repeat_in_window": pa.array(P.expected_window),
            "dropout_ts": secs(P.t_drop),
            "alive_at_end": pa.array(~P.dead),
            "churn_prob_180d": pa.array(P.churn_180),
            "p_no_purchase_180d": pa.array(P.no_purchase_180),
            "p_no_purchase_180d_given_history": pa.array(so.no_purchase_given_history(P)),
            "expected_purchases_180d": pa.array(P.expected_180),
            "n_interactions": pa.array(P.n_interactions),
            "service": pa.array(P.service),
            "sentiment": pa.array(np.round(P.sentiment, 4)),
            "lookalike_of": pc.if_else(
                pa.array(P.lookalike_of >= 0),
                pc.take(P.person_id, pa.array(np.maximum(P.lookalike_of, 0))),
                pa.scalar(None, pa.string()),
            ),
            "lookalike_kind": pa.array(P.lookalike_kind, type=pa.string()),
        }
    )
    folder.mkdir(parents=True, exist_ok=True)
    paths = {
        k: folder / f"{k}.csv"
        for k in ("persons", "identity", "uplift", "bad_rows", "agents", "feedback")
    }
    _csv(paths["persons"], persons)
    _csv(paths["identity"], identity)
    _csv(paths["uplift"], uplift)
    bad_sorted = sorted(bad, key=lambda b: (b[0], b[1]))
    _csv(
        paths["bad_rows"],
        pa.table(
            {
                "source": pa.array([b[0] for b in bad_sorted], type=pa.string()),
                "line": pa.array([b[1] for b in bad_sorted], type=pa.int64()),
                "column": pa.array([b[2] for b in bad_sorted], type=pa.string()),
                "reason": pa.array([b[3] for b in bad_sorted], type=pa.string()),
            }
        ),
    )
    _csv(
        paths["agents"],
        pa.table(
            {
                "agent_id": S.agent_ids,
                "team": np.asarray(ss.TEAMS)[S.team],
                "quality": np.round(S.quality, 6),
            }
        ),
    )
    _csv(paths["feedback"], feedback_truth)

    treat = np.asarray(uplift.column("group").to_numpy(zero_copy_only=False)) == "treatment"
    up = uplift.column("uplift").to_numpy()
    params = {
        "simulation": settings,
        "time": {
            "unit": "weeks",
            "operational_time": "calendar time warped by seasonality; BG/NBD holds "
            "exactly in operational weeks (mean intensity 1 over the period)",
            "acquisition": "30% uniform in the first 8 weeks, 70% uniform over the first 80% of the period",
        },
        "bgnbd": dict(so.BGNBD),
        "gamma_gamma": {
            **so.GAMMA_GAMMA,
            "order_value": "sum of amount over an order's non-return lines; equals the Gamma "
            "draw up to the discrete price grid (sd of log ratio about 0.07 per order)",
            "dependence": "nu is shifted by segment, like lambda, so spend and frequency are "
            "mildly dependent (corr of logs about -0.05)",
        },
        "latent_mapping": "lambda, p and nu are drawn through ranks of latent normal scores, so their marginals "
        "are exactly Gamma(r, alpha), Beta(a, b) and Gamma(q, gamma); segment shifts make them "
        "mildly dependent",
        "segments": {k: {kk: vv for kk, vv in v.items()} for k, v in sp.SEGMENTS.items()},
        "segment_order": {
            "categories": list(sp.CATEGORY_NAMES),
            "channels": list(sp.CHANNELS),
            "lines": "P(1..4 lines per order), capped at order value / 10",
            "category_choice": "segment preference (with gender tilt and a per-person Dirichlet) "
            "x (1 + promo_boost if the category is on promotion) x 0.01 if the category's price "
            "range does not suit the line budget",
        },
        "churn": {
            "model": "z = segment dropout_level + sum(coef * (feature - segment mean of feature)) "
            "+ N(0, 1); p = BetaPPF((rank(z) + 0.5) / n; a, b): drivers act within segments",
            "coefficients": dict(so.CHURN_COEFFICIENTS),
            "features": dict(so.CHURN_FEATURES),
            "dropout_level": {k: v["dropout_level"] for k, v in sp.SEGMENTS.items()},
            "segment_feature_means": {
                f: dict(zip(sp.SEGMENT_NAMES, map(float, m), strict=True))
                for f, m in P.churn_feature_means.items()
            },
            "horizon_days": 180,
            "churn_prob_180d": "alive at end: 1 - exp(-lambda * p * h); already dropped out: 1",
            "p_no_purchase_180d": "alive at end: exp(-lambda * h); already dropped out: 1",
            "p_no_purchase_180d_given_history": "1 - P(alive | K, t_x, T; lambda, p) * "
            "(1 - exp(-lambda * h)): the best forecast from the visible history, knowing lambda and p",
        },
        "seasonality": {
            "month_factors": list(sp.MONTH_FACTORS),
            "weekday_factors": list(sp.WEEKDAY_FACTORS),
        },
        "pricing": {
            "quantity_model": "quantity - 1 ~ Poisson(base_extra_units * price_ratio ** elasticity), "
            "price_ratio = unit_price / list_price = price_index * (1 - promotion pct / 100)",
            "elasticity": dict(so.ELASTICITY),
            "base_extra_units": dict(so.BASE_EXTRA_UNITS),
            "price_index": {
                q: dict(zip(sp.CATEGORY_NAMES, map(float, row), strict=True))
                for q, row in zip(catalog.quarter_start, catalog.quarter_index, strict=True)
            },
            "promotion_category": dict(
                zip(catalog.promo_ids.tolist(), catalog.promo_category, strict=True)
            ),
        },
        "returns": {
            "rate": dict(so.RETURN_RATE),
            "web_factor": so.RETURN_WEB_FACTOR,
            "delay_days": [2, 30],
        },
        "service": ss.SERVICE,
        "sentiment": ss.SENTIMENT,
        "campaigns": {
            "response": ss.RESPONSE,
            "contact_share_of_consenting": ss.CONTACT_SHARE,
            "window_days": ss.CAMPAIGN_WINDOW_DAYS,
            "per_campaign": campaign_summary,
            "true_average_uplift": float(up.mean()) if up.size else 0.0,
            "treatment_share": float(treat.mean()) if treat.size else 0.0,
            "note": "purchase responses are recorded in campaign_responses only, not in transactions",
        },
        "identity": {
            "lookalikes": dict(sp.LOOKALIKES),
            "duplicate_noise": dict(sp.DUPLICATE_NOISE),
            "note": "persons.csv lookalike_of names the person a lookalike was copied from",
        },
        "counts": {
            "persons": n,
            "duplicates": int(P.dup.sum()),
            "records": int(identity.num_rows),
            "alive_at_end": int((~P.dead).sum()),
        },
    }
    paths["params"] = folder / "params.json"
    paths["params"].write_text(json.dumps(params, indent=2, default=_json_default) + "\n")
    return {
        k: paths[k]
        for k in ("params", "persons", "identity", "uplift", "bad_rows", "agents", "feedback")
    }


def _json_default(o):
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, tuple):
        return list(o)
    raise TypeError(type(o).__name__)
