"""Erasure, access requests, the suppression list and the privacy log, on the simulator."""

from __future__ import annotations

import csv
import json
import random
import re
import shutil
import sys

import pandas as pd
import pytest

import crmine
from crmine._export import export_customers
from crmine.datasets import simulate
from crmine.privacy import CustomerNotFoundError

_PRIVACY = ("privacy_suppressed", "privacy_log")


def _workspace(root, n, seed):
    root.mkdir(parents=True)
    simulate(n, seed=seed, out_dir=root)
    ws = crmine.init(root)
    ws.ingest.run()
    ws.identity.resolve()
    ws.customers.build()
    return ws


def _base_tables(ws):
    rows = ws.warehouse.duckdb.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE' "
        "AND table_schema = 'main'").fetchall()
    return sorted(r[0] for r in rows)


def _string_columns(ws, table):
    rows = ws.warehouse.duckdb.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = ? AND table_schema = 'main' "
        "AND data_type = 'VARCHAR'", [table]).fetchall()
    return [r[0] for r in rows]


def _person(ws, unified):
    """A person's needles worked out apart from crmine.privacy: their lineage records, and the e-mail
    addresses of those that no other customer record holds (a shared family address stays)."""
    con = ws.warehouse.duckdb
    records = [r[0] for r in con.execute("SELECT customer_id FROM customer_lineage WHERE unified_id = ?",
                                         [unified]).fetchall()]
    emails = {r[0] for r in con.execute(
        "SELECT DISTINCT lower(trim(email)) FROM customers WHERE email IS NOT NULL AND customer_id IN "
        "(SELECT unnest(?)) EXCEPT SELECT lower(trim(email)) FROM customers WHERE email IS NOT NULL AND "
        "customer_id NOT IN (SELECT unnest(?))", [records, records]).fetchall()}
    return {"unified": unified, "records": records, "emails": sorted(emails)}


def _needles(people):
    ids = {i for p in people for i in (p["unified"], *p["records"])}
    emails = {e for p in people for e in p["emails"]}
    return ids, emails


def _hits(ws, people):
    """table -> rows whose string columns hold one of their ids (whole value, or quoted in a record)
    or e-mail addresses (anywhere, ignoring case)."""
    ids, emails = _needles(people)
    alternatives = [re.escape(e) for e in emails] + [rf'(^|")({re.escape(i)})("|$)' for i in ids]
    pattern = "|".join(alternatives)
    out = {}
    for table in _base_tables(ws):
        cols = _string_columns(ws, table)
        if not cols:
            continue
        cond = " OR ".join(f'regexp_matches(lower("{c}"), ?)' for c in cols)
        n = ws.warehouse.duckdb.execute(f'SELECT count(*) FROM "{table}" WHERE {cond}',
                                        [pattern.lower()] * len(cols)).fetchone()[0]
        out[table] = n
    return out


def _snapshot(ws):
    con = ws.warehouse.duckdb
    return {t: con.execute(f'SELECT * FROM "{t}"').df() for t in _base_tables(ws) if t not in _PRIVACY}


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    """A simulated workspace, ingested, resolved and built once; tests work on copies."""
    root = tmp_path_factory.mktemp("pristine") / "ws"
    _workspace(root, 300, seed=5).close()
    return root


def _copy(pristine, dest):
    shutil.copytree(pristine, dest)
    return crmine.open(dest)


@pytest.fixture(scope="module")
def erased(pristine, tmp_path_factory):
    root = tmp_path_factory.mktemp("privacy") / "ws"
    ws = _copy(pristine, root)
    lin = ws.identity.lineage()
    pairs = lin[lin.cluster_size == 2].groupby("unified_id").source_system.agg(lambda s: set(s) == {"crm", "web"})
    unified = sorted(pairs[pairs].index)[0]
    person = _person(ws, unified)
    assert len(person["records"]) == 2 and person["emails"]
    # A list crmine wrote that names them (and others), and an access request before the erasure.
    table = ws.warehouse.execute(ws.table("customer_table").select("customer_id", "orders"))
    export_customers(ws.warehouse, root, table, kind="query", what={"test": "everyone"})
    access = ws.privacy.access(root / "access.json", email=person["emails"][0])
    # A report with a customer-level row of theirs, one with aggregates only, and a saved model.
    (root / "reports" / "key-customers.html").write_text(f"<td>{person['unified']}</td>")
    (root / "reports" / "report.html").write_text("<td>42 customers</td>")
    (root / "models" / "churn.joblib").write_bytes(b"model")
    hits_before = _hits(ws, [person])
    # One address, spelt with other case and spaces, finds both records.
    result = ws.privacy.erase(email="  " + person["emails"][0].upper() + " ")
    print(f"\nerasure of 1 customer (2 records, {result.rows} rows) on 300 simulated customers: "
          f"{result.seconds:.2f} s")
    yield ws, root, person, result, access, hits_before
    ws.close()


def test_erase_by_one_email_leaves_no_row_in_any_table(erased):
    ws, _, person, result, _, before = erased
    assert before["customers"] == 2 and before["transactions"] > 0
    assert result.customers == 1 and result.records == 2
    after = _hits(ws, [person])
    assert {t: n for t, n in after.items() if n} == {}
    for table, n in before.items():  # every row that named them was counted as deleted
        if n and table not in ("quarantine", "export_audit"):
            assert result.tables.get(table) == n, table


def test_erase_rewrites_the_export_files_and_flags_nothing_else(erased):
    ws, root, person, result, _, _ = erased
    ids, emails = _needles([person])
    (name, action), = [(n, a) for n, a in result.files.items() if n.startswith("exports")]
    assert action == "rewritten: 1 rows dropped"
    text = (root / name).read_text()
    assert not any(i in text for i in ids)
    frame = pd.read_csv(root / name)
    assert len(frame) == ws.warehouse.count("customer_table")


def test_reloading_the_unchanged_sources_does_not_bring_them_back(erased):
    ws, _, person, _, _, _ = erased
    assert all(r.status == "unchanged" for r in ws.ingest.run())  # skipped: the files are as loaded
    # Read every file again, as a second delivery of the same files would be.
    ws.warehouse.duckdb.execute("UPDATE load_log SET fingerprint = 'forced'")
    results = ws.ingest.run()
    for r in results:
        assert r.read == r.inserted + r.updated + r.unchanged + r.quarantined, r.source
        assert r.inserted == 0, r.source
    erased_rows = sum(r.reasons.get("erased", 0) for r in results)
    # Their records in both systems, their transactions, consents, contacts...
    assert erased_rows >= 2 + 20
    assert {t: n for t, n in _hits(ws, [person]).items() if n} == {}
    q = ws.ingest.quarantine(reason="erased")
    assert len(q) == erased_rows and q.record.isna().all()
    # The steps of a run rebuild what they derive from what is left.
    ws.identity.resolve()
    ws.customers.build()
    assert {t: n for t, n in _hits(ws, [person]).items() if n} == {}


def test_the_log_has_the_request_without_their_values(erased):
    ws, _, person, result, access, _ = erased
    log = ws.privacy.log()
    kinds = [e["kind"] for e in log]
    assert kinds.count("erasure") == 1 and kinds.count("access") == 1 and kinds.count("export") == 1
    entry = next(e for e in log if e["kind"] == "erasure")
    assert entry["tables"] == result.tables and entry["by"]
    assert set(entry) >= {"kind", "at", "by", "tables"}
    text = json.dumps(log).lower()
    ids, emails = _needles([person])
    assert not any(v.lower() in text for v in (*ids, *emails))
    assert next(e for e in log if e["kind"] == "access")["tables"] == access


def test_the_access_export_held_all_their_transactions(erased):
    ws, root, person, _, access, _ = erased
    body = json.loads((root / "access.json").read_text())
    with open(root / "sources" / "transactions.csv", newline="") as f:
        lines = list(csv.reader(f))
    at = lines[0].index("customer")
    theirs = pd.DataFrame([r[:2] for r in lines[1:] if len(r) > at and r[at] in person["records"]],
                          columns=["order_id", "line_no"])
    assert len(theirs) > 0
    # Every line of theirs in the file is in the export, loaded or quarantined.
    exported = {(r["order_id"], str(r["line_no"])) for r in body["transactions"]}
    quarantined = {(r["load_id"], r["line"]) for r in body.get("quarantine", [])}
    assert len(exported) + sum(1 for r in body.get("quarantine", []) if r["table_name"] == "transactions") \
        == len(theirs)
    assert exported <= set(zip(theirs.order_id, theirs.line_no, strict=True))
    assert {r["customer_id"] for r in body["customers"]} == set(person["records"])
    assert len(body["lists"]) == 1 and body["lists"][0]["rows"][0]["customer_id"] == person["unified"]
    assert access["transactions"] == len(exported) and len(quarantined) == access.get("quarantine", 0)
    assert isinstance(body["transactions"][0]["ts"], str)  # times as ISO strings
    with pytest.raises(ValueError, match="exists already; an access export never replaces a file"):
        ws.privacy.access(root / "access.json", customer=person["unified"])


def test_unknown_customer_messages_do_not_echo_the_value(erased):
    ws = erased[0]
    with pytest.raises(CustomerNotFoundError, match=r"^No customer found for the e-mail address given") as e:
        ws.privacy.erase(email="nobody.here@example.org")
    assert "nobody" not in str(e.value)
    with pytest.raises(CustomerNotFoundError, match=r"^No customer found for the id") as e:
        ws.privacy.erase(customer="Z999")
    assert "Z999" not in str(e.value)
    with pytest.raises(CustomerNotFoundError, match="not a valid address"):
        ws.privacy.erase(email="no-at-sign")
    with pytest.raises(ValueError, match="exactly one of email or customer"):
        ws.privacy.erase()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_erasing_random_customers_removes_exactly_their_rows(pristine, tmp_path, seed):
    ws = _copy(pristine, tmp_path / "ws")
    rng = random.Random(seed)
    lin = ws.identity.lineage().sort_values("customer_id")
    chosen = rng.sample(sorted(set(lin.unified_id)), 6)
    people = [_person(ws, u) for u in chosen]
    before = _snapshot(ws)
    theirs = _hits(ws, people)
    for i, p in enumerate(people):  # by unified id, by source record id, by e-mail
        if i % 3 == 0 or not p["emails"]:
            ws.privacy.erase(customer=p["unified"])
        elif i % 3 == 1:
            ws.privacy.erase(customer=p["records"][-1])
        else:
            ws.privacy.erase(email=p["emails"][0])
    after = _snapshot(ws)
    assert set(after) == set(before)
    ids, emails = _needles(people)
    for table, frame in before.items():
        assert len(after[table]) == len(frame) - theirs.get(table, 0), table
        if not len(frame):
            continue
        # Nothing else changed: the rows kept are the rows that did not name them, unchanged.
        text = frame.astype(str).apply(lambda c: c.str.lower())
        named = pd.Series(False, index=frame.index)
        for col in _string_columns(ws, table):
            for v in emails:
                named |= text[col].str.contains(v, regex=False)
            named |= frame[col].isin(ids)
            if table == "quarantine":
                named |= frame[col].fillna("").str.contains("|".join(f'"{i}"' for i in ids))
        kept = frame[~named].astype(str).sort_values(list(frame.columns)).reset_index(drop=True)
        now = after[table].astype(str).sort_values(list(frame.columns)).reset_index(drop=True)
        pd.testing.assert_frame_equal(kept, now, check_dtype=False)
    ws.close()


def test_erase_deletes_reports_naming_them_and_flags_the_rest(erased):
    _, root, _, result, _, _ = erased
    assert result.files["reports/key-customers.html"] == "deleted"
    assert not (root / "reports" / "key-customers.html").exists()
    assert result.files["reports/report.html"] == "stale"
    assert json.loads((root / "reports" / "STALE.json").read_text())["files"] == ["reports/report.html"]
    assert result.retrain == ["models/churn.joblib"]
    assert json.loads((root / "models" / "RETRAIN.json").read_text())["files"] == ["models/churn.joblib"]


def test_the_cli_log_and_errors(erased, monkeypatch, capsys):
    from crmine.cli import _app

    ws, root, person, _, _, _ = erased

    def main(*args):
        monkeypatch.setattr(sys, "argv", ["crmine", *map(str, args)])
        try:
            _app.main()
        except SystemExit as stop:
            return stop.code, capsys.readouterr()
        return 0, capsys.readouterr()

    code, out = main("privacy", "log", root, "--json")
    assert code == 0
    requests = json.loads(out.out)["requests"]
    assert [r["kind"] for r in requests].count("erasure") == 1
    assert all(set(r) >= {"kind", "at", "by", "tables"} for r in requests)
    code, out = main("privacy", "erase", root, "--email", person["emails"][0])  # erased already
    assert code == 1 and out.err.startswith("error: No customer found for the e-mail address given")
    assert person["emails"][0] not in out.err and "Traceback" not in out.err
    code, out = main("privacy", "export", root, "--customer", "x", "--email", "y", "--out", root / "a.json")
    assert code == 1 and "exactly one of --email ADDRESS or --customer ID" in out.err


def test_retention_deletes_only_rows_older_than_the_period(pristine, tmp_path):
    from datetime import UTC, datetime, timedelta

    from crmine.errors import SettingsError

    root = tmp_path / "ws"
    shutil.copytree(pristine, root)
    toml = root / "crmine.toml"
    toml.write_text(toml.read_text() + '\n[privacy.retention]\ninteractions = "700d"\n')
    ws = crmine.open(root)
    con = ws.warehouse.duckdb
    cutoff = datetime.now(UTC).replace(tzinfo=None) - timedelta(days=700)
    counts = {t: con.execute(f"SELECT count(*), count(*) FILTER (ts < ?) FROM {t}", [cutoff]).fetchone()
              for t in ("interactions", "interactions_history", "transactions")}
    assert 0 < counts["interactions"][1] < counts["interactions"][0]
    deleted = ws.privacy.retain()
    assert deleted == {"interactions": counts["interactions"][1],
                       "interactions_history": counts["interactions_history"][1]}
    assert ws.warehouse.count("interactions") == counts["interactions"][0] - counts["interactions"][1]
    assert ws.warehouse.count("transactions") == counts["transactions"][0]
    assert [e["tables"] for e in ws.privacy.log() if e["kind"] == "retention"] == [deleted]
    ws.close()
    toml.write_text(toml.read_text() + 'products = "1y"\n')
    with pytest.raises(SettingsError, match=r"\[privacy.retention\] names products: retention applies to tables"):
        crmine.open(root).privacy.retain()


def test_retention_periods_are_parsed_and_checked():
    from crmine.errors import SettingsError
    from crmine.settings import Settings

    s = Settings.from_dict({"privacy": {"retention": {"interactions": "730d", "feedback": "2y", "consents": "4w"}}})
    assert dict(s.retention) == {"interactions": 730.0, "feedback": 730.0, "consents": 28.0}
    assert Settings.from_dict(s.to_dict()).retention == s.retention
    with pytest.raises(SettingsError, match=r'privacy.retention.feedback: must be a period such as "730d"'):
        Settings.from_dict({"privacy": {"retention": {"feedback": "730"}}})
