"""Agents and interactions, feedback text, consents, and campaigns with a random control group.

Service quality of the agents drives resolution and satisfaction; satisfaction drives dropout (see
``_simulate_orders.CHURN_COEFFICIENTS``) and the sentiment of feedback. Campaign responses have a
known response probability with and without contact for every contacted customer.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from crmine.datasets import _simulate_lexicon as lex
from crmine.datasets._simulate_orders import BGNBD, GAMMA_GAMMA
from crmine.datasets._simulate_people import (
    CATEGORY_NAMES,
    SEGMENT_NAMES,
    SEGMENTS,
    Calendar,
    Persons,
    choose_record,
    record_ids,
)

TEAMS = ("customer care", "billing", "returns", "sales")
TEAM_SHARES = (0.45, 0.15, 0.15, 0.25)
INTERACTION_TYPES = ("question", "order", "complaint", "return", "billing")
TYPE_WEIGHTS = (0.35, 0.20, 0.20, 0.15, 0.10)
TYPE_TEAM = (0, 3, 0, 2, 1)
INTERACTION_CHANNELS = ("phone", "email", "chat", "store")
INTERACTION_CHANNEL_WEIGHTS = (0.40, 0.25, 0.20, 0.15)
MEDIAN_DURATION_S = (360.0, 240.0, 540.0, 420.0)  # by interaction channel
SERVICE = {
    "resolved_logit": {"intercept": 0.9, "agent_quality": 0.9, "complaint": -0.7},
    "satisfaction": {
        "intercept": 3.0,
        "agent_quality": 0.6,
        "resolved": 1.0,
        "resolved_centre": 0.7,
        "complaint": -0.5,
        "person_temper_sd": 0.5,
        "noise_sd": 0.7,
        "rule": "round(intercept + agent_quality*q + resolved*(resolved - centre) "
        "+ complaint*is_complaint + temper + noise), clipped to 1..5",
    },
    "satisfaction_missing_share": 0.25,
    "agent_quality": "N(0, 1) per agent, stored in truth/agents.csv",
}
SENTIMENT = {
    "rule": "person sentiment = tanh(0.9 * service + 0.6 * temper + N(0, 0.3)); each text: "
    "clip(person + N(0, 0.25), -1, 1); levels cut at -0.6, -0.2, 0.2, 0.6",
    "levels": ("very negative", "negative", "neutral", "positive", "very positive"),
}
CATEGORY_WORDS = {
    "women": "womenswear",
    "men": "menswear",
    "kids": "kidswear",
    "home": "homeware",
    "beauty": "beauty",
    "electronics": "electronics",
}
CAMPAIGN_CHANNELS = ("email", "mail", "sms", "email", "phone", "mail")
COST_PER_CONTACT = {"email": 0.05, "sms": 0.08, "mail": 0.85, "phone": 3.5}
CAMPAIGN_WINDOW_DAYS = 21
CONTACT_SHARE = 0.45
RESPONSE = {
    "control_logit": "base_c - 1.2 + 1.4 * alive_at_start + 0.35 * ln(lambda / mean_lambda) + segment",
    "segment_control": {
        "bargain_hunters": 0.3,
        "loyal_high_value": 0.5,
        "occasional": -0.4,
        "family_shoppers": 0.1,
        "online_young": 0.0,
    },
    "uplift_logit": "(theta_c + segment + age_coef * (age - 45) / 15 + channel_fit) * (1 if alive else 0.3)",
    "segment_uplift": {
        "bargain_hunters": 0.6,
        "loyal_high_value": -0.5,
        "occasional": 0.3,
        "family_shoppers": 0.2,
        "online_young": 0.1,
    },
    "age_coef": -0.15,
    "channel_fit": "online_young: +0.5 on email/sms, -0.2 on mail/phone; others 0",
    "p_treatment": "sigmoid(control_logit + uplift_logit)",
}
CONSENT_GRANT = {
    ("marketing", "email"): 0.72,
    ("marketing", "sms"): 0.50,
    ("marketing", "mail"): 0.55,
    ("marketing", "phone"): 0.30,
    ("profiling", "email"): 0.60,
    ("profiling", "sms"): 0.60,
    ("profiling", "mail"): 0.60,
    ("profiling", "phone"): 0.60,
}


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _ts(seconds: np.ndarray) -> pa.Array:
    return pa.array(np.asarray(seconds, dtype=np.int64), type=pa.timestamp("s"))


def _day_ts(seconds: np.ndarray, fmt: str = "%Y-%m-%d") -> pa.Array:
    return pc.strftime(_ts(seconds), format=fmt)


class Service:
    """Agents and the planned interactions (times are set once lifetimes are known)."""


def plan_service(P: Persons, rng: np.random.Generator, cal: Calendar) -> Service:
    """Agents with a known quality, and who talks to whom about what, with which outcome."""
    S = Service()
    n = P.n
    n_agents = int(np.clip(round(n / 200), 12, 400))
    team = rng.choice(len(TEAMS), size=n_agents, p=np.asarray(TEAM_SHARES))
    team[: len(TEAMS)] = np.arange(len(TEAMS))
    team = np.sort(team, kind="stable")
    tenure_days = rng.integers(30, 9 * 365, n_agents)
    tenure = tenure_days / 365.0
    S.quality = rng.normal(0, 0.95, n_agents) + 0.3 * (tenure - tenure.mean()) / max(
        tenure.std(), 1e-9
    )
    S.quality = (S.quality - S.quality.mean()) / S.quality.std()
    S.agent_ids = np.array([f"A{i + 1:04d}" for i in range(n_agents)])
    S.team = team
    S.employees = pa.table(
        {
            "agent_id": S.agent_ids,
            "team": np.asarray(TEAMS)[team],
            "hired": _day_ts(cal.start_s - tenure_days * 86400),
        }
    )

    rate = np.array([SEGMENTS[s]["interactions"] for s in SEGMENT_NAMES])[P.segment]
    count = rng.poisson(rate)
    person = np.repeat(np.arange(n), count)
    m = person.size
    kind = rng.choice(len(INTERACTION_TYPES), size=m, p=np.asarray(TYPE_WEIGHTS))
    ch_w = np.tile(np.asarray(INTERACTION_CHANNEL_WEIGHTS), (m, 1))
    ch_w[P.segment[person] == SEGMENT_NAMES.index("online_young")] = (0.15, 0.3, 0.5, 0.05)
    cw = np.cumsum(ch_w, axis=1)
    channel = (cw < rng.random(m)[:, None] * cw[:, -1:]).sum(axis=1)
    t_team = np.asarray(TYPE_TEAM)[kind]
    team_start = np.searchsorted(team, np.arange(len(TEAMS)))
    team_size = np.bincount(team, minlength=len(TEAMS))
    agent = team_start[t_team] + np.floor(rng.random(m) * team_size[t_team]).astype(np.int64)
    q = S.quality[agent]
    complaint = kind == INTERACTION_TYPES.index("complaint")
    rl = SERVICE["resolved_logit"]
    resolved = rng.random(m) < _sigmoid(
        rl["intercept"] + rl["agent_quality"] * q + rl["complaint"] * complaint
    )
    sp = SERVICE["satisfaction"]
    sat = np.clip(
        np.round(
            sp["intercept"]
            + sp["agent_quality"] * q
            + sp["resolved"] * (resolved - sp["resolved_centre"])
            + sp["complaint"] * complaint
            + P.temper[person]
            + rng.normal(0, sp["noise_sd"], m)
        ),
        1,
        5,
    )
    P.n_interactions = count
    P.service = np.bincount(person, weights=sat - 3.0, minlength=n) / np.maximum(count, 1)
    S.person, S.kind, S.channel, S.agent, S.resolved, S.sat = (
        person,
        kind,
        channel,
        agent,
        resolved,
        sat,
    )
    dur = (
        np.asarray(MEDIAN_DURATION_S)[channel]
        * np.exp(rng.normal(0, 0.6, m))
        * np.where(complaint, 1.5, 1.0)
    )
    S.duration = np.round(np.clip(dur, 15, 86_400))
    S.sat_missing = rng.random(m) < SERVICE["satisfaction_missing_share"]
    return S


def _active_window(
    P: Persons, person: np.ndarray, cal: Calendar, after_days: float
) -> tuple[np.ndarray, np.ndarray]:
    lo = P.first_s[person] + 3600
    end = cal.day_seconds(cal.horizon - 1, 86399)
    hi = np.minimum(cal.seconds(P.t_drop[person] + after_days), end)
    return lo, np.maximum(hi, lo)


def interactions_table(P: Persons, S: Service, rng: np.random.Generator, cal: Calendar) -> pa.Table:
    m = S.person.size
    lo, hi = _active_window(P, S.person, cal, 21)
    ts = lo + np.floor(rng.random(m) * (hi - lo)).astype(np.int64)
    # phone, chat and store contacts happen in opening hours
    day = (ts - cal.start_s) // 86400
    office = cal.day_seconds(day, rng.integers(8 * 3600, 20 * 3600, m))
    ts = np.where(S.channel == 1, ts, np.clip(office, lo, hi))
    order = np.lexsort((np.arange(m), ts))
    customer = choose_record(P, S.person, ts, rng.random(m) < 0.5)
    sat = np.where(S.sat_missing, np.nan, S.sat)
    t = pa.table(
        {
            "interaction_id": record_ids("I", np.arange(m) + 1),
            "customer_id": pc.take(customer, pa.array(order)),
            "ts": _ts(ts[order]),
            "channel": pa.array(np.asarray(INTERACTION_CHANNELS)[S.channel[order]]),
            "type": pa.array(np.asarray(INTERACTION_TYPES)[S.kind[order]]),
            "agent_id": pa.array(S.agent_ids[S.agent[order]]),
            "duration_s": pa.array(S.duration[order]),
            "resolved": pa.array(S.resolved[order]),
            "satisfaction": pa.array(sat[order], from_pandas=True),
        }
    )
    return t


def feedback_tables(
    P: Persons, rng: np.random.Generator, cal: Calendar
) -> tuple[pa.Table, pa.Table]:
    """feedback.jsonl rows and the truth per text (person, sentiment score and level)."""
    n = P.n
    P.sentiment = np.tanh(0.9 * P.service + 0.6 * P.temper + rng.normal(0, 0.3, n))
    count = rng.poisson(0.12 + 0.2 * P.n_interactions)
    person = np.repeat(np.arange(n), count)
    m = person.size
    score = np.clip(P.sentiment[person] + rng.normal(0, 0.25, m), -1, 1)
    level = np.digitize(score, (-0.6, -0.2, 0.2, 0.6))
    lo, hi = _active_window(P, person, cal, 30)
    ts = lo + np.floor(rng.random(m) * (hi - lo)).astype(np.int64)
    order = np.lexsort((np.arange(m), ts))
    person, score, level, ts = person[order], score[order], level[order], ts[order]

    # text = opener + body (with the person's favourite category) + closer, chosen by level
    openers, prefixes, suffixes, closers, has_cat = [], [], [], [], []
    for lv in range(5):
        op, bodies, cl = lex.FEEDBACK[lv]
        openers.append(op)
        closers.append(cl)
        pre, suf, hc = [], [], []
        for b in bodies:
            b = b[0].upper() + b[1:]
            a, _, z = b.partition("{cat}")
            pre.append(a)
            suf.append(z)
            hc.append("{cat}" in b)
        prefixes.append(pre)
        suffixes.append(suf)
        has_cat.append(hc)
    k = 4
    i_op, i_body, i_cl = rng.integers(0, k, m), rng.integers(0, k, m), rng.integers(0, k, m)
    flat = lambda lists: pa.array([x for lst in lists for x in lst])  # noqa: E731
    fav = np.argmax(P.category_pref[person] + rng.gamma(0.3, 0.3, (m, len(CATEGORY_NAMES))), axis=1)
    cat_word = np.asarray([CATEGORY_WORDS[c] for c in CATEGORY_NAMES])[fav]
    body_idx = level * k + i_body
    cat_word = np.where(np.asarray([x for lst in has_cat for x in lst])[body_idx], cat_word, "")
    text = pc.binary_join_element_wise(
        pc.take(flat(openers), pa.array(level * k + i_op)),
        " ",
        pc.take(flat(prefixes), pa.array(body_idx)),
        pa.array(cat_word),
        pc.take(flat(suffixes), pa.array(body_idx)),
        ". ",
        pc.take(flat(closers), pa.array(level * k + i_cl)),
        "",
    )
    customer = choose_record(P, person, ts, rng.random(m) < 0.6)
    ids = record_ids("F", np.arange(m) + 1)
    fb = pa.table(
        {
            "feedback_id": ids,
            "customer_id": customer,
            "ts": _day_ts(ts, "%Y-%m-%dT%H:%M:%S"),
            "channel": pa.array(
                np.asarray(("web", "email", "app", "survey"))[
                    rng.choice(4, m, p=(0.4, 0.25, 0.2, 0.15))
                ]
            ),
            "text": text,
        }
    )
    truth = pa.table(
        {
            "feedback_id": ids,
            "person_id": pc.take(P.person_id, pa.array(person)),
            "sentiment": pa.array(np.round(score, 4)),
            "level": pa.array(np.asarray(SENTIMENT["levels"])[level]),
        }
    )
    return fb, truth


def _records(P: Persons) -> tuple[np.ndarray, np.ndarray, pa.Array, np.ndarray]:
    """Every record that other tables may refer to: person, is_web, id and signup second."""
    crm = np.flatnonzero(P.has_crm & (P.sec_ref_ok | ~P.primary_web))
    web = np.flatnonzero(P.has_web)
    person = np.concatenate([crm, web])
    is_web = np.concatenate([np.zeros(crm.size, bool), np.ones(web.size, bool)])
    ids = pa.concat_arrays([pc.take(P.crm_id, pa.array(crm)), pc.take(P.web_id, pa.array(web))])
    signup = np.concatenate([P.crm_signup_s[crm], P.web_signup_s[web]])
    return person, is_web, ids, signup


def consents_table(P: Persons, rng: np.random.Generator, cal: Calendar) -> tuple[pa.Table, dict]:
    person, is_web, ids, signup = _records(P)
    order = np.argsort(np.asarray(ids.to_numpy(zero_copy_only=False), dtype=str), kind="stable")
    person, is_web, ids, signup = (
        person[order],
        is_web[order],
        ids.take(pa.array(order)),
        signup[order],
    )
    combos = list(CONSENT_GRANT)
    r = person.size
    present = rng.random((r, len(combos))) < 0.8
    rec, combo = np.nonzero(present)  # row-major: by record, then combo
    base = np.asarray([CONSENT_GRANT[c] for c in combos])[combo]
    age_std = (P.age[person[rec]] - 45.0) / 15.0
    logit = np.log(base / (1 - base)) - 0.3 * age_std * np.isin(combo, (0, 1))
    granted = rng.random(rec.size) < _sigmoid(logit)
    end = cal.day_seconds(cal.horizon - 1, 86399)
    ts = signup[rec] + np.floor(rng.exponential(2 * 86400, rec.size)).astype(np.int64)
    later = rng.random(rec.size) < 0.15
    ts = np.where(
        later,
        signup[rec] + np.floor(rng.random(rec.size) * (end - signup[rec])).astype(np.int64),
        ts,
    )
    ts = np.minimum(ts, end)
    t = pa.table(
        {
            "customer_id": ids.take(pa.array(rec)),
            "purpose": pa.array(np.asarray([c[0] for c in combos])[combo]),
            "channel": pa.array(np.asarray([c[1] for c in combos])[combo]),
            "granted": pa.array(granted),
            "ts": _ts(ts),
        }
    )
    ab_rec, ab_combo = np.nonzero(~present)
    pick = np.sort(rng.choice(ab_rec.size, size=min(50, ab_rec.size), replace=False))
    absent_ids = ids.take(pa.array(ab_rec[pick])).to_pylist()
    absent = [(i, *combos[c]) for i, c in zip(absent_ids, ab_combo[pick], strict=True)]
    index = {
        "absent": absent,
        "person": person[rec],
        "is_web": is_web[rec],
        "combo": combo,
        "granted": granted,
        "ts": ts,
        "ids": ids.take(pa.array(rec)),
        "combos": combos,
    }
    return t, index


def campaigns_tables(P: Persons, consent: dict, rng: np.random.Generator, cal: Calendar):
    """campaigns, campaign_contacts and campaign_responses, plus the uplift truth and a summary."""
    H = cal.horizon
    n_c = 12
    starts = np.linspace(75, H - 45, n_c).astype(np.int64) + rng.integers(-7, 8, n_c)
    starts = np.clip(starts, 30, H - CAMPAIGN_WINDOW_DAYS - 1)
    mean_lam = BGNBD["r"] / BGNBD["alpha"]
    camp_rows, contact_parts, response_parts, uplift_parts, summary = [], [], [], [], []
    seg_ctrl = np.asarray([RESPONSE["segment_control"][s] for s in SEGMENT_NAMES])
    seg_up = np.asarray([RESPONSE["segment_uplift"][s] for s in SEGMENT_NAMES])
    young = SEGMENT_NAMES.index("online_young")
    for c in range(n_c):
        cid = f"CMP{c + 1:03d}"
        ch = CAMPAIGN_CHANNELS[c % len(CAMPAIGN_CHANNELS)]
        start_s = cal.day_seconds(starts[c], 0)
        year = str(np.datetime64(int(start_s), "s").astype("datetime64[Y]"))
        camp_rows.append(
            (
                cid,
                f"{lex.CAMPAIGN_THEMES[c % len(lex.CAMPAIGN_THEMES)]} {ch} {year}",
                ch,
                start_s,
                start_s + (CAMPAIGN_WINDOW_DAYS - 1) * 86400,
                lex.CAMPAIGN_OFFERS[c % len(lex.CAMPAIGN_OFFERS)],
                COST_PER_CONTACT[ch],
                float(np.round(rng.uniform(15, 40), 2)),
            )
        )
        combo = consent["combos"].index(("marketing", ch))
        ok = (consent["combo"] == combo) & consent["granted"] & (consent["ts"] <= start_s)
        rows = np.flatnonzero(ok)
        rows = rows[rng.permutation(rows.size)]
        _, first = np.unique(consent["person"][rows], return_index=True)  # one record per person
        rows = np.sort(rows[first])
        rows = rows[rng.random(rows.size) < CONTACT_SHARE]
        person = consent["person"][rows]
        m = rows.size
        treat = rng.random(m) < 0.5
        alive = P.t_drop[person] > starts[c]
        base_c = -2.6 + rng.uniform(-0.3, 0.3)
        lc = (
            base_c
            - 1.2
            + 1.4 * alive
            + 0.35 * np.log(P.lam[person] / mean_lam)
            + seg_ctrl[P.segment[person]]
        )
        fit = np.where(P.segment[person] == young, 0.5 if ch in ("email", "sms") else -0.2, 0.0)
        theta_c = rng.uniform(0.35, 0.8)
        lu = (
            theta_c
            + seg_up[P.segment[person]]
            + RESPONSE["age_coef"] * (P.age[person] - 45) / 15
            + fit
        )
        lu = lu * np.where(alive, 1.0, 0.3)
        p_c, p_t = _sigmoid(lc), _sigmoid(lc + lu)
        responded = rng.random(m) < np.where(treat, p_t, p_c)
        contact_ts = start_s + rng.integers(9 * 3600, 11 * 3600, m)
        ids = consent["ids"].take(pa.array(rows))
        contact_parts.append(
            pa.table(
                {
                    "campaign_id": pa.array([cid] * m, type=pa.string()),
                    "customer": ids,
                    "ts": _ts(contact_ts),
                    "group": pa.array(np.where(treat, "treatment", "control")),
                    "channel": pa.array([ch] * m, type=pa.string()),
                }
            )
        )
        uplift_parts.append(
            pa.table(
                {
                    "campaign_id": pa.array([cid] * m, type=pa.string()),
                    "source_customer_id": ids,
                    "person_id": pc.take(P.person_id, pa.array(person)),
                    "group": pa.array(np.where(treat, "treatment", "control")),
                    "p_response_control": pa.array(np.round(p_c, 6)),
                    "p_response_treatment": pa.array(np.round(p_t, 6)),
                    "uplift": pa.array(np.round(p_t - p_c, 6)),
                }
            )
        )
        r = np.flatnonzero(responded)
        r_ts = start_s + rng.integers(3600, CAMPAIGN_WINDOW_DAYS * 86400 - 3600, r.size)
        value = np.round(rng.gamma(GAMMA_GAMMA["p"], 1.0 / P.nu[person[r]]), 2)
        parts = [(r, np.full(r.size, "purchase"), r_ts, value)]
        if ch in ("email", "sms"):
            clicked = np.flatnonzero(treat & (rng.random(m) < 0.08 + 0.5 * responded))
            c_ts = contact_ts[clicked] + rng.integers(60, 2 * 86400, clicked.size)
            parts.append(
                (clicked, np.full(clicked.size, "click"), c_ts, np.full(clicked.size, np.nan))
            )
        idx = np.concatenate([p[0] for p in parts])
        kinds = np.concatenate([p[1] for p in parts])
        rts = np.concatenate([p[2] for p in parts])
        vals = np.concatenate([p[3] for p in parts])
        o = np.lexsort((kinds, rts))
        response_parts.append(
            pa.table(
                {
                    "campaign_id": pa.array([cid] * idx.size, type=pa.string()),
                    "customer": ids.take(pa.array(idx[o])),
                    "response_type": pa.array(kinds[o].astype(str)),
                    "ts": _ts(rts[o]),
                    "value": pa.array(vals[o], from_pandas=True),
                }
            )
        )
        summary.append(
            {
                "campaign_id": cid,
                "channel": ch,
                "n_contacts": int(m),
                "n_treatment": int(treat.sum()),
                "true_average_uplift": float(np.mean(p_t - p_c)) if m else 0.0,
                "mean_p_control": float(np.mean(p_c)) if m else 0.0,
                "mean_p_treatment": float(np.mean(p_t)) if m else 0.0,
                "theta": float(theta_c),
                "base_logit": float(base_c),
            }
        )
    campaigns = pa.table(
        {
            "campaign_id": [r[0] for r in camp_rows],
            "name": [r[1] for r in camp_rows],
            "channel": [r[2] for r in camp_rows],
            "start": _day_ts(np.array([r[3] for r in camp_rows])),
            "end": _day_ts(np.array([r[4] for r in camp_rows])),
            "offer": [r[5] for r in camp_rows],
            "cost_per_contact": [r[6] for r in camp_rows],
            "margin_per_response": [r[7] for r in camp_rows],
        }
    )
    return (
        campaigns,
        pa.concat_tables(contact_parts),
        pa.concat_tables(response_parts),
        pa.concat_tables(uplift_parts),
        summary,
    )
