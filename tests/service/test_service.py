"""Service contacts: KPIs worked out by hand on a tiny workspace, and agent effects recovered from the
simulator's planted agent quality."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from typer.testing import CliRunner

import crmine
from crmine.datasets import simulate
from crmine.errors import SchemaError, SettingsError
from crmine.service import AgentEffects

runner = CliRunner()

# ---- a tiny workspace whose KPIs were worked out by hand --------------------------------------
TOML = """
[sources.people]
table = "customers"
path = "sources/people.csv"
[sources.staff]
table = "employees"
path = "sources/staff.csv"
[sources.service]
table = "interactions"
path = "sources/service.csv"
"""
PEOPLE = """
    customer_id,signup_date
    C1,2023-12-01
    C2,2023-12-01
    C3,2023-12-01
"""
STAFF = """
    agent_id,team
    A1,care
    A2,sales
"""
HEADER = "interaction_id,customer_id,ts,channel,type,agent_id,duration_s,resolved,satisfaction"
ROWS = [
    "I1,C1,2024-01-01 10:00:00,phone,question,A1,100,true,4",     # I2 follows within 4 days: not FCR
    "I2,C1,2024-01-05 10:00:00,email,question,A2,200,true,3",     # a repeat; resolved, next in 15 days: FCR
    "I3,C1,2024-01-20 10:00:00,phone,complaint,A1,300,false,2",   # unresolved: not FCR
    "I4,C2,2024-01-02 09:00:00,phone,order,A2,400,true,5",        # I5 follows in exactly 7 days: not FCR
    "I5,C2,2024-01-09 09:00:00,chat,order,A2,,,",                 # a repeat (7 days); resolution unknown
    "I6,C3,2024-01-03 12:00:00,store,question,A1,600,false,1",    # unresolved: not FCR
]


def _tiny(make_workspace, rows, *, name="ws", header=HEADER):
    files = {"people.csv": PEOPLE, "staff.csv": STAFF,
             "service.csv": "\n".join([header, *rows]) + "\n"}
    root = make_workspace(TOML, files, name=name)
    ws = crmine.init(root)
    ws.ingest.run()
    return ws


def test_kpis_match_the_hand_worked_answers(make_workspace):
    ws = _tiny(make_workspace, ROWS)
    total = ws.service.kpis().iloc[0]
    assert total.contacts == 6 and total.customers == 3
    assert total.resolution_rate == pytest.approx(3 / 5)
    assert total.fcr_rate == pytest.approx(1 / 5)
    assert total.repeat_rate == pytest.approx(2 / 6)
    assert total.mean_duration_s == pytest.approx(320.0)
    assert total.rated == 5 and total.mean_satisfaction == pytest.approx(3.0)

    phone = ws.service.kpis(by="channel").set_index("channel").loc["phone"]
    assert phone.contacts == 3 and phone.fcr_rate == 0.0
    assert phone.resolution_rate == pytest.approx(2 / 3)
    assert phone.mean_satisfaction == pytest.approx(11 / 3)
    teams = ws.service.kpis(by=["team"]).set_index("team")
    assert teams.contacts.to_dict() == {"care": 3, "sales": 3}

    # A shorter window: I2 (4 days after I1) and I5 (7 days after I4) are no longer repeats.
    short = ws.service.kpis(repeat_days=3).iloc[0]
    assert short.repeat_rate == 0.0 and short.fcr_rate == pytest.approx(3 / 5)
    # Point in time: as of 2024-01-05 only I1, I2 (10:00 that day), I4 and I6 are known.
    assert ws.service.kpis(as_of="2024-01-05").iloc[0].contacts == 4
    monthly = ws.service.kpis(by="type", period="month")
    assert set(monthly.period.astype(str)) == {"2024-01-01"} and monthly.contacts.sum() == 6


def test_contact_flags_do_not_depend_on_row_order(make_workspace):
    a = _tiny(make_workspace, ROWS, name="forward")
    b = _tiny(make_workspace, ROWS[::-1], name="backward")
    cols = ["interaction_id", "prior_contacts", "is_repeat", "first_contact_resolved", "team"]
    pd.testing.assert_frame_equal(a.service.contacts()[cols], b.service.contacts()[cols])
    pd.testing.assert_frame_equal(a.service.kpis(by="channel,team"), b.service.kpis(by="channel,team"))
    fcr = a.service.contacts().set_index("interaction_id").first_contact_resolved
    assert pd.isna(fcr.loc["I5"])  # resolution unknown: so is first-contact resolution
    assert fcr.drop("I5").astype(bool).to_dict() == {"I1": False, "I2": True, "I3": False, "I4": False, "I6": False}


def test_bad_options_are_named(make_workspace):
    ws = _tiny(make_workspace, ROWS)
    with pytest.raises(SettingsError, match="Unknown KPI dimension.*colour.*Choose from: channel"):
        ws.service.kpis(by="colour")
    with pytest.raises(SettingsError, match="period must be one of day, week, month"):
        ws.service.kpis(period="fortnight")
    with pytest.raises(SettingsError, match="repeat_days must be a whole number"):
        ws.service.kpis(repeat_days=-1)
    with pytest.raises(SchemaError, match="need the table 'customer_segments'.*ws.segments.fit"):
        ws.service.kpis(by="segment")


def test_agents_without_agent_or_satisfaction_name_the_columns_and_the_fix(make_workspace):
    rows = [",".join(r.split(",")[:5]) for r in ROWS]
    ws = _tiny(make_workspace, rows, header="interaction_id,customer_id,ts,channel,type")
    with pytest.raises(SchemaError, match=r"agent_id, satisfaction of table 'interactions', which hold no values "
                                          r"in its 6 rows\. Map them in crmine.toml under \[sources"):
        ws.service.agents()
    result = runner.invoke(_app(), ["service", "agents", str(ws.root), "--json"])
    assert result.exit_code != 0 and isinstance(result.exception, SchemaError)


def test_agents_without_interactions_say_how_to_load_them(make_workspace):
    root = make_workspace(TOML, {"people.csv": PEOPLE, "staff.csv": STAFF, "service.csv": HEADER + "\n"})
    ws = crmine.init(root)
    ws.ingest.run()
    with pytest.raises(SchemaError, match=r"The table 'interactions' has no contacts\. Load service contacts"):
        ws.service.agents()


def test_estimator_is_not_fitted_until_fit():
    from crmine.errors import NotFittedError

    with pytest.raises(NotFittedError, match="Call fit"):
        AgentEffects().teams()


# ---- the simulator: planted agent quality -----------------------------------------------------
@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    root = tmp_path_factory.mktemp("service")
    simulate(5000, seed=7, out_dir=root)
    ws = crmine.init(root)
    ws.ingest.run()
    ws.identity.resolve()
    ws.customers.build()
    truth = pd.read_csv(root / "truth" / "agents.csv", dtype={"agent_id": str})
    params = json.loads((root / "truth" / "params.json").read_text())["service"]
    agents = ws.service.agents()
    yield ws, agents, truth, params
    ws.close()


def test_agent_effects_rank_agents_as_their_planted_quality(sim):
    _, agents, truth, _ = sim
    m = agents.merge(truth, on="agent_id", suffixes=("", "_truth"))
    assert len(m) == len(truth) == len(agents)
    rho = stats.spearmanr(m.effect, m.quality)[0]
    assert rho >= 0.85, rho  # measured 0.99 (seed 7)
    assert stats.spearmanr(m.resolution_effect, m.quality)[0] >= 0.85
    assert (m.team == m.team_truth).all()
    assert list(agents.columns[:6]) == ["agent_id", "team", "contacts", "effect", "ci_low", "ci_high"]
    assert agents.effect.is_monotonic_decreasing
    assert (agents.ci_low < agents.effect).all() and (agents.effect < agents.ci_high).all()


def _planted_effect(quality: np.ndarray, p: dict) -> np.ndarray:
    """E[satisfaction] of a non-complaint contact with an agent of ``quality``, from the planted rule:
    round(m + temper + noise) clipped to 1..5 has mean 1 + sum_k P(m + Z >= k + 0.5), k = 1..4."""
    s, r = p["satisfaction"], p["resolved_logit"]
    sd = np.hypot(s["person_temper_sd"], s["noise_sd"])
    p_res = 1 / (1 + np.exp(-(r["intercept"] + r["agent_quality"] * quality)))
    out = np.zeros_like(quality)
    for resolved, w in ((1.0, p_res), (0.0, 1 - p_res)):
        m = s["intercept"] + s["agent_quality"] * quality + s["resolved"] * (resolved - s["resolved_centre"])
        out += w * (1 + sum(stats.norm.sf((k + 0.5 - m) / sd) for k in range(1, 5)))
    return out


def test_agent_intervals_cover_the_planted_effect(sim):
    _, agents, truth, params = sim
    m = agents.merge(truth, on="agent_id")
    planted = _planted_effect(m.quality.to_numpy(), params)
    planted = planted - planted.mean()
    centre = m.effect.mean()  # both sides against the average agent
    covered = (m.ci_low - centre <= planted) & (planted <= m.ci_high - centre)
    assert covered.mean() >= 0.8, covered.mean()  # measured 1.00 (25 of 25, seed 7)
    slope = np.polyfit(planted, m.effect - centre, 1)[0]
    assert slope == pytest.approx(1.0, abs=0.15), slope  # measured 1.02: the scale is recovered


def test_an_agent_with_few_contacts_is_shrunk_and_uncertain(sim):
    ws, agents, _, _ = sim
    frame = ws.service.contacts()
    frame = frame[frame.satisfaction.notna()]
    extreme = agents.agent_id.iloc[0]  # the best agent: far from 0, so shrinkage shows
    keep = frame[frame.agent_id == extreme].sort_values("interaction_id").head(4)
    thin = pd.concat([frame[frame.agent_id != extreme], keep])
    full = AgentEffects().fit(frame).effects_.set_index("agent_id")
    few = AgentEffects().fit(thin).effects_.set_index("agent_id")
    row = few.loc[extreme]
    assert row.contacts == 4
    assert abs(row.effect) < abs(row.raw_effect) and row.shrinkage > 0.1
    assert row.ci_high - row.ci_low > 2 * (full.loc[extreme].ci_high - full.loc[extreme].ci_low)
    assert (row.ci_high - row.ci_low) > (few.ci_high - few.ci_low).drop(extreme).max()


def test_agent_effects_do_not_depend_on_row_order(sim):
    ws, _, _, _ = sim
    frame = ws.service.contacts()
    a = AgentEffects().fit(frame).effects_
    b = AgentEffects().fit(frame.sample(frac=1.0, random_state=3)).effects_
    pd.testing.assert_frame_equal(a, b)


def test_kpis_reconcile_with_the_interactions(sim):
    ws, _, _, _ = sim
    n = ws.status()["tables"]["interactions"]
    by_channel = ws.service.kpis(by="channel")
    assert by_channel.contacts.sum() == n
    assert ws.service.kpis(by="team,type").contacts.sum() == n
    assert ws.service.kpis(by="agent_id", period="month").contacts.sum() == n
    who = ws.service.who()  # no segments fitted: by value decile of spend
    assert list(who.value_decile) == list(range(1, 11))
    assert who.contacts.sum() <= n
    total = ws.service.kpis().iloc[0]
    raw = ws.warehouse.execute(ws.table("interactions"))
    assert total.mean_satisfaction == pytest.approx(raw.satisfaction.mean())
    assert total.resolution_rate == pytest.approx(raw.resolved.astype(float).mean())
    teams = ws.service.teams()
    assert set(teams.team) == {"customer care", "billing", "returns", "sales"}


def _app():
    from crmine.cli._app import app

    return app


def test_cli_agents_json_has_the_contract_keys(sim):
    ws, agents, _, _ = sim
    result = runner.invoke(_app(), ["service", "agents", str(ws.root), "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["outcome"] == "satisfaction" and out["contacts"] > 0 and out["method"]
    assert len(out["agents"]) == len(agents)
    for row in out["agents"]:
        assert {"agent_id", "team", "contacts", "effect", "ci_low", "ci_high"} <= set(row)
    assert [r["agent_id"] for r in out["agents"]] == agents.agent_id.tolist()


def test_cli_text_and_kpis(sim):
    ws, agents, _, _ = sim
    text = runner.invoke(_app(), ["service", "agents", str(ws.root), "--top", "3"])
    assert text.exit_code == 0, text.output
    assert agents.agent_id.iloc[0] in text.output and agents.agent_id.iloc[-1] in text.output
    k = runner.invoke(_app(), ["service", "kpis", str(ws.root), "--by", "channel,team", "--period", "month",
                               "--json"])
    assert k.exit_code == 0, k.output
    rows = json.loads(k.output)["kpis"]
    assert sum(r["contacts"] for r in rows) == ws.status()["tables"]["interactions"]
    assert {"channel", "team", "period", "fcr_rate", "repeat_rate"} <= set(rows[0])
