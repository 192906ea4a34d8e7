"""The simulator writes complete, deterministic sources whose planted truth can be recovered."""

from __future__ import annotations

import csv
import json
import math
import tomllib
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from scipy.special import hyp2f1

from crmine.datasets import Simulation, simulate
from crmine.datasets import _simulate as simulate_module
from crmine.errors import SettingsError
from crmine.schema import TABLES

N = 2000
SOURCE_FILES = {
    "crm_customers.csv",
    "web_customers.jsonl",
    "products.csv",
    "promotions.csv",
    "campaigns.csv",
    "employees.csv",
    "transactions.csv",
    "campaign_contacts.csv",
    "campaign_responses.csv",
    "interactions.parquet",
    "feedback.jsonl",
    "consents.csv",
}
TRUTH_FILES = {
    "params.json",
    "persons.csv",
    "identity.csv",
    "uplift.csv",
    "bad_rows.csv",
    "agents.csv",
    "feedback.csv",
}


@pytest.fixture(scope="module")
def sim(tmp_path_factory) -> Simulation:
    return simulate(N, seed=0, out_dir=tmp_path_factory.mktemp("sim"))


@pytest.fixture(scope="module")
def settings(sim) -> dict:
    return tomllib.loads((sim.out_dir / "crmine.toml").read_text())


@pytest.fixture(scope="module")
def truth(sim) -> dict:
    t = sim.out_dir / "truth"
    return {
        "params": json.loads((t / "params.json").read_text()),
        "persons": pd.read_csv(t / "persons.csv"),
        "identity": pd.read_csv(t / "identity.csv", dtype=str),
        "uplift": pd.read_csv(
            t / "uplift.csv", dtype={"campaign_id": str, "source_customer_id": str}
        ),
        "bad_rows": pd.read_csv(t / "bad_rows.csv", dtype={"column": str}, keep_default_na=False),
    }


# --------------------------------------------------------------------------- reading sources as text


def _records(path: Path) -> tuple[list[str], list[tuple[int, dict | None]]]:
    """Column names and (physical line, raw record) pairs; a record is None when malformed."""
    if path.suffix == ".csv":
        with path.open(newline="", encoding="utf-8") as f:
            reader = csv.reader(f)
            header = next(reader)
            rows = []
            for row in reader:
                ok = len(row) == len(header)
                rows.append((reader.line_num, dict(zip(header, row, strict=True)) if ok else None))
        return header, rows
    if path.suffix == ".jsonl":
        rows, keys = [], []
        with path.open(encoding="utf-8") as f:
            for i, line in enumerate(f, 1):
                rec = json.loads(line)
                keys += [k for k in rec if k not in keys]
                rows.append((i, rec))
        return keys, rows
    table = pq.read_table(path)
    return table.column_names, [(i + 1, r) for i, r in enumerate(table.to_pylist())]


def _canonical(settings: dict, name: str) -> tuple[str, dict[str, str], dict[str, str]]:
    s = settings["sources"][name]
    return s["table"], dict(s.get("columns", {})), dict(s.get("formats", {}))


def _mapped(header: list[str], renames: dict[str, str], table: str) -> dict[str, str]:
    """canonical -> raw for every raw column present."""
    raw_to_canon = {raw: canon for canon, raw in renames.items()}
    return {
        raw_to_canon.get(h, h): h
        for h in header
        if raw_to_canon.get(h, h) in TABLES[table].column_names
    }


def _parse(value, dtype: str, fmt: str | None):
    """The typed value, or raise ValueError."""
    if dtype == "string":
        return str(value)
    if dtype == "float64":
        if isinstance(value, bool):
            raise ValueError
        v = float(value)
        if math.isnan(v):
            raise ValueError
        return v
    if dtype == "int64":
        return int(value)
    if dtype == "boolean":
        if isinstance(value, bool):
            return value
        if str(value).lower() in ("true", "1"):
            return True
        if str(value).lower() in ("false", "0"):
            return False
        raise ValueError
    if isinstance(value, datetime):
        return value
    return datetime.strptime(value, fmt) if fmt else datetime.fromisoformat(value)


def _problems(sim: Simulation, settings: dict) -> dict[str, set[tuple[int, str, str]]]:
    """Apply the schema rules to every row of every source: the oracle of bad rows."""
    refs: dict[str, set] = {}
    for name in settings["sources"]:
        table, renames, _ = _canonical(settings, name)
        path = sim.out_dir / settings["sources"][name]["path"]
        header, rows = _records(path)
        for canon, raw in _mapped(header, renames, table).items():
            refs.setdefault(f"{table}.{canon}", set()).update(
                r[raw] for _, r in rows if r and r.get(raw)
            )
    found: dict[str, set[tuple[int, str, str]]] = {}
    for name in settings["sources"]:
        table, renames, formats = _canonical(settings, name)
        path = sim.out_dir / settings["sources"][name]["path"]
        header, rows = _records(path)
        cols = _mapped(header, renames, table)
        spec = TABLES[table]
        seen: set[tuple] = set()
        out = set()
        for line, rec in rows:
            if rec is None:
                out.add((line, "", "malformed_row"))
                continue
            probs = []
            for canon, raw in cols.items():
                col = spec.column(canon)
                v = rec.get(raw)
                if v is None or v == "":
                    if col.required:
                        probs.append((canon, "missing_required"))
                    continue
                try:
                    x = _parse(v, col.dtype, formats.get(canon))
                except (ValueError, TypeError):
                    probs.append((canon, "bad_type"))
                    continue
                if (
                    (col.min is not None and x < col.min)
                    or (col.max is not None and x > col.max)
                    or col.allowed
                    and x not in col.allowed
                ):
                    probs.append((canon, "out_of_range"))
                elif col.references and x not in refs.get(col.references, set()):
                    probs.append((canon, "unknown_reference"))
            key = tuple(rec.get(cols.get(k, k)) for k in spec.key)
            if not probs and all(k not in (None, "") for k in key):
                if key in seen:
                    probs.append((",".join(spec.key), "duplicate_key"))
                seen.add(key)
            assert len(probs) <= 1, f"{name} line {line} has several problems: {probs}"
            out.update((line, c, r) for c, r in probs)
        found[name] = out
    return found


def _valid_transactions(sim: Simulation, truth: dict) -> pd.DataFrame:
    bad = set(truth["bad_rows"].query("source == 'transactions'")["line"])
    _, rows = _records(sim.files["transactions"])
    t = pd.DataFrame([{**r, "line": line} for line, r in rows if r is not None and line not in bad])
    for c in ("qty", "unit_price", "amount", "discount"):
        t[c] = t[c].astype(float)
    return t


# --------------------------------------------------------------------------- tests


def test_simulate_returns_counts_and_paths(sim):
    assert sim.n_customers == N
    assert set(sim.files) == {Path(f).stem for f in SOURCE_FILES}
    assert {p.name for p in sim.files.values()} == SOURCE_FILES
    assert {p.name for p in sim.truth.values()} == TRUTH_FILES


def test_simulate_writes_every_file(sim):
    assert {p.name for p in (sim.out_dir / "sources").iterdir()} == SOURCE_FILES
    assert {p.name for p in (sim.out_dir / "truth").iterdir()} == TRUTH_FILES
    assert (sim.out_dir / "crmine.toml").is_file()


def test_simulate_is_byte_identical_for_a_seed(sim, tmp_path):
    again = simulate(N, seed=0, out_dir=tmp_path / "again")
    for folder in ("sources", "truth"):
        for p in sorted((sim.out_dir / folder).iterdir()):
            assert p.read_bytes() == (again.out_dir / folder / p.name).read_bytes(), p.name
    assert (sim.out_dir / "crmine.toml").read_bytes() == (
        again.out_dir / "crmine.toml"
    ).read_bytes()


def test_simulate_differs_by_seed(sim, tmp_path):
    other = simulate(300, seed=1, out_dir=tmp_path / "other")
    a = sim.files["crm_customers"].read_text().splitlines()[1]
    b = other.files["crm_customers"].read_text().splitlines()[1]
    assert a != b


def test_toml_maps_every_raw_column(sim, settings):
    assert settings["workspace"]["engine"] == "duckdb"
    assert set(settings["sources"]) == set(sim.files)
    for name, s in settings["sources"].items():
        header, _ = _records(sim.out_dir / s["path"])
        table = TABLES[s["table"]]
        renames = s.get("columns", {})
        assert set(renames.values()) <= set(header), name
        assert all(canon != raw for canon, raw in renames.items()), name
        canon = {k for k, v in renames.items()} | {h for h in header if h not in renames.values()}
        assert canon <= set(table.column_names), (name, canon - set(table.column_names))
        for c in s.get("formats", {}):
            assert table.column(c).dtype == "timestamp" and c in canon, (name, c)
        assert set(table.key) <= canon, name
    assert settings["sources"]["crm_customers"]["source_system"] == "crm"
    assert settings["sources"]["web_customers"]["source_system"] == "web"


def test_existing_toml_is_kept(tmp_path):
    (tmp_path / "crmine.toml").write_text("# mine\n")
    simulate(150, seed=3, out_dir=tmp_path, bad_rows=False)
    assert (tmp_path / "crmine.toml").read_text() == "# mine\n"


def test_transactions_are_about_twenty_per_customer(sim):
    assert 16 <= sim.n_transactions / N <= 25
    with sim.files["transactions"].open() as f:
        assert sum(1 for _ in f) == sim.n_transactions + 1


def test_bad_rows_are_exactly_the_rows_that_break_the_rules(sim, settings, truth):
    found = _problems(sim, settings)
    listed = truth["bad_rows"]
    assert set(listed["reason"]) == {
        "missing_required",
        "bad_type",
        "out_of_range",
        "unknown_reference",
        "duplicate_key",
        "malformed_row",
    }
    assert 1 <= (listed["reason"] == "malformed_row").sum() <= 3
    assert set(listed.query("reason == 'malformed_row'")["source"]) == {"transactions"}
    assert 40 <= (listed["source"] == "transactions").sum() <= 60
    for name in settings["sources"]:
        mine = listed[listed["source"] == name]
        expected = set(zip(mine["line"], mine["column"], mine["reason"], strict=True))
        assert found[name] == expected, name
    assert not set(listed["source"]) & {
        "web_customers",
        "products",
        "promotions",
        "campaigns",
        "employees",
    }


def test_transactions_written_in_chunks_keep_line_numbers_and_orders(monkeypatch, tmp_path):
    monkeypatch.setattr(simulate_module, "CHUNK_PERSONS", 400)
    s = simulate(1000, seed=4, out_dir=tmp_path)
    settings = tomllib.loads((tmp_path / "crmine.toml").read_text())
    listed = pd.read_csv(s.truth["bad_rows"], dtype={"column": str}, keep_default_na=False)
    tx = listed[listed["source"] == "transactions"]
    found = _problems(s, settings)["transactions"]
    assert found == set(zip(tx["line"], tx["column"], tx["reason"], strict=True))
    assert {"unknown_reference", "duplicate_key", "out_of_range"} <= set(tx["reason"])
    truth = {"bad_rows": listed, "identity": pd.read_csv(s.truth["identity"], dtype=str)}
    t = _valid_transactions(s, truth)
    assert t.set_index(["order_id", "line_no"]).index.is_unique
    ident = truth["identity"].set_index("source_customer_id")["person_id"]
    sales = t[t["is_return"] == "0"]
    n_orders = sales.groupby(sales["customer"].map(ident))["order_id"].nunique()
    persons = pd.read_csv(s.truth["persons"]).set_index("person_id")
    assert n_orders.reindex(persons.index, fill_value=0).equals(persons["n_orders"])


def test_no_bad_rows_when_disabled(tmp_path):
    s = simulate(300, seed=2, out_dir=tmp_path, bad_rows=False)
    assert pd.read_csv(s.truth["bad_rows"]).empty


def test_identity_covers_every_record_and_the_duplicate_rate(sim, truth):
    crm = pd.read_csv(sim.files["crm_customers"], dtype=str)
    web = pd.read_json(sim.files["web_customers"], lines=True, dtype=False)
    ident = truth["identity"]
    assert ident["source_customer_id"].is_unique
    assert set(ident["source_customer_id"]) == set(crm["cust_no"]) | set(web["id"])
    assert dict(ident["source_system"].value_counts()) == {"crm": len(crm), "web": len(web)}
    persons = ident.groupby("person_id").size()
    assert len(persons) == N
    assert persons.max() == 2
    assert (persons == 2).mean() == pytest.approx(0.06, abs=0.005)
    both = ident[ident["person_id"].isin(persons[persons == 2].index)]
    assert both.groupby("person_id")["source_system"].nunique().eq(2).all()


def test_duplicates_look_alike_and_strangers_share_names(sim, truth):
    crm = pd.read_csv(sim.files["crm_customers"], dtype=str).rename(columns={"cust_no": "id"})
    web = pd.read_json(sim.files["web_customers"], lines=True, dtype=False).rename(
        columns={"full_name": "name", "zip": "postcode", "dob": "birth_date"}
    )
    ident = truth["identity"].set_index("source_customer_id")["person_id"]
    crm["person"], web["person"] = crm["id"].map(ident), web["id"].map(ident)
    pairs = crm.merge(web, on="person", suffixes=("_c", "_w"))
    norm = lambda s: s.fillna("").str.lower().str.replace(" ", "")  # noqa: E731
    same_pc = (norm(pairs["postcode_c"]) == norm(pairs["postcode_w"])).mean()
    same_name = (pairs["name_c"].str.lower() == pairs["name_w"].str.lower()).mean()
    assert 0.75 < same_pc < 1.0
    assert 0.5 < same_name < 0.95  # some typos
    people = pd.concat([crm[["name", "person"]], web[["name", "person"]]]).drop_duplicates()
    namesakes = people.groupby("name")["person"].nunique()
    assert (namesakes > 1).sum() > 50  # different persons with the same name


def test_orders_per_person_match_truth(sim, truth):
    t = _valid_transactions(sim, truth)
    ident = truth["identity"].set_index("source_customer_id")["person_id"]
    sales = t[t["is_return"] == "0"]
    n_orders = (
        sales.assign(person=sales["customer"].map(ident)).groupby("person")["order_id"].nunique()
    )
    persons = truth["persons"].set_index("person_id")
    assert n_orders.reindex(persons.index, fill_value=0).equals(persons["n_orders"])
    assert (t["ts"] >= "2023-01-01").all() and (t["ts"] <= "2025-12-31 23:59:59").all()


def test_repeat_purchases_follow_the_planted_bgnbd(truth):
    p = truth["params"]["bgnbd"]
    r, alpha, a, b = p["r"], p["alpha"], p["a"], p["b"]
    persons = truth["persons"]
    t = persons["T_weeks"].to_numpy()
    # Fader, Hardie & Lee (2005), eq. 9: E[X(t)]
    expected = (
        (a + b - 1)
        / (a - 1)
        * (1 - (alpha / (alpha + t)) ** r * hyp2f1(r, b, a + b - 1, t / (alpha + t)))
    )
    observed = (persons["n_orders"] - 1).mean()
    assert observed == pytest.approx(expected.mean(), rel=0.10)
    assert observed == pytest.approx(persons["expected_repeat_in_window"].mean(), rel=0.06)
    assert persons["lambda"].mean() == pytest.approx(r / alpha, rel=0.05)
    assert persons["p_dropout"].mean() == pytest.approx(a / (a + b), rel=0.05)
    alive = persons["alive_at_end"]
    assert (persons.loc[~alive, "churn_prob_180d"] == 1).all()
    assert persons.loc[alive, "churn_prob_180d"].between(0, 1).all()


def test_order_values_follow_gamma_gamma(sim, truth):
    t = _valid_transactions(sim, truth)
    ident = truth["identity"].set_index("source_customer_id")["person_id"]
    sales = t[t["is_return"] == "0"]
    orders = sales.groupby("order_id").agg(value=("amount", "sum"), customer=("customer", "first"))
    per_person = orders.groupby(orders["customer"].map(ident))["value"].mean()
    persons = truth["persons"].set_index("person_id")
    ratio = per_person / persons["mean_spend"].reindex(per_person.index)
    assert ratio.median() == pytest.approx(1.0, abs=0.06)
    g = truth["params"]["gamma_gamma"]
    assert persons["mean_spend"].mean() == pytest.approx(
        g["p"] * g["gamma"] / (g["q"] - 1), rel=0.08
    )


def test_quantities_follow_the_planted_elasticities(sim, truth):
    t = _valid_transactions(sim, truth)
    t = t[t["is_return"] == "0"]
    products = pd.read_csv(sim.files["products"]).set_index("sku")
    pricing = truth["params"]["pricing"]
    t["category"] = t["sku"].map(products["category"])
    ratio = t["unit_price"] / t["sku"].map(products["list_price"])
    eps, base = (
        t["category"].map(pricing["elasticity"]),
        t["category"].map(pricing["base_extra_units"]),
    )
    predicted = base * ratio**eps
    for cat, g in t.assign(extra=t["qty"] - 1, predicted=predicted).groupby("category"):
        assert g["extra"].mean() == pytest.approx(g["predicted"].mean(), rel=0.12), cat
    promo = t["promotion_id"] != ""
    assert (t.loc[promo, "qty"].mean()) > (t.loc[~promo, "qty"].mean())
    assert np.allclose(t["amount"], (t["qty"] * t["unit_price"]).round(2))


def test_december_is_the_peak_month(sim, truth):
    t = _valid_transactions(sim, truth)
    sales = t[t["is_return"] == "0"].drop_duplicates("order_id")
    by_month = pd.to_datetime(sales["ts"]).dt.month.value_counts()
    assert by_month.idxmax() == 12


def test_treatment_and_control_are_random_and_uplift_is_realised(sim, truth):
    up = truth["uplift"]
    assert (up["group"] == "treatment").mean() == pytest.approx(0.5, abs=0.03)
    contacts = pd.read_csv(sim.files["campaign_contacts"], dtype=str, keep_default_na=False)
    responses = pd.read_csv(sim.files["campaign_responses"], dtype=str, keep_default_na=False)
    key = ["campaign_id", "customer"]
    bought = (
        responses[responses["response_type"] == "purchase"][key].drop_duplicates().assign(bought=1)
    )
    c = (
        up.rename(columns={"source_customer_id": "customer"})
        .merge(bought, on=key, how="left")
        .fillna({"bought": 0})
    )
    assert len(c) == len(contacts) - (truth["bad_rows"]["source"] == "campaign_contacts").sum()
    rate = c.groupby("group")["bought"].mean()
    realised = rate["treatment"] - rate["control"]
    true = up["uplift"].mean()
    assert true == pytest.approx(truth["params"]["campaigns"]["true_average_uplift"], abs=1e-6)
    assert 0.01 < true < 0.2
    assert realised == pytest.approx(true, abs=0.025)
    expected_control = up.loc[up["group"] == "control", "p_response_control"].mean()
    assert rate["control"] == pytest.approx(expected_control, abs=0.02)
    assert (up["uplift"] < 0).any() and (up["uplift"] > 0.05).any()  # heterogeneous


def test_service_quality_moves_satisfaction_and_sentiment(sim, truth):
    inter = pq.read_table(sim.files["interactions"]).to_pandas()
    agents = pd.read_csv(sim.truth["agents"]).set_index("agent_id")
    inter = inter[inter["agent_id"].isin(agents.index) & inter["satisfaction"].between(1, 5)]
    q = inter["agent_id"].map(agents["quality"])
    assert np.corrcoef(q, inter["satisfaction"])[0, 1] > 0.2
    persons = truth["persons"]
    assert np.corrcoef(persons["service"], persons["sentiment"])[0, 1] > 0.3
    fb = pd.read_csv(sim.truth["feedback"])
    assert set(fb["level"]) == {"very negative", "negative", "neutral", "positive", "very positive"}


def test_progress_is_reported(tmp_path):
    steps = []
    simulate(150, seed=0, out_dir=tmp_path, progress=lambda step, f: steps.append((step, f)))
    assert steps[0][1] == 0.0 and steps[-1] == ("truth", 1.0)
    assert ("transactions", 1.0) in steps
    assert all(0.0 <= f <= 1.0 for _, f in steps)


def test_invalid_arguments_are_listed_in_one_error(tmp_path):
    with pytest.raises(SettingsError, match=r"n_customers.*duplicate_rate.*end must be"):
        simulate(5, out_dir=tmp_path, duplicate_rate=0.9, start="2024-01-01", end="2024-02-01")
