"""Ingest: the load contract on a small company whose every bad row is known."""

from __future__ import annotations

import pandas as pd
import pytest

import crmine
from crmine.errors import SchemaError
from tests.conftest import ENGINES
from tests.io.fixtures import EXPECTED_QUARANTINE, FILES, TOML


def _quarantine_set(ws) -> set:
    q = ws.ingest.quarantine()
    return {(r.source, int(r.line), r.reason, None if pd.isna(r.column) else r.column) for r in q.itertuples()}


@pytest.mark.parametrize("engine", ENGINES, indirect=True)
def test_ingest_quarantines_every_planted_bad_row_with_its_reason(make_workspace, engine):
    ws = crmine.init(make_workspace(TOML, FILES, engine=engine))
    results = {r.source: r for r in ws.ingest.run()}

    assert {s: (r.read, r.loaded, r.quarantined) for s, r in results.items()} == {
        "crm": (7, 3, 4), "catalogue": (2, 2, 0), "orders": (12, 5, 7),
    }
    assert _quarantine_set(ws) == EXPECTED_QUARANTINE
    st = ws.status()
    assert st["tables"]["customers"] == 3
    assert st["tables"]["transactions"] == 5
    assert all(ld["read"] == ld["loaded"] + ld["quarantined"] for ld in st["loads"])

    tx = ws.warehouse.execute(ws.table("transactions").order_by(["order_id", "line_no"]))
    assert tx.order_id.tolist() == ["O1", "O1", "O2", "O6", "O9"]
    assert tx.gross.tolist() == [40.0, 50.0, 40.0, 25.0, 50.0]  # derived: quantity * unit_price
    cust = ws.warehouse.execute(ws.table("customers").order_by("customer_id"))
    assert cust.birth_date.dt.strftime("%Y-%m-%d").tolist() == ["1980-02-03", "1975-07-11", "1986-06-06"]
    assert set(cust.source_system) == {"crm"}
    ws.close()


def test_reloading_the_same_files_adds_nothing(make_workspace):
    ws = crmine.init(make_workspace(TOML, FILES))
    ws.ingest.run()
    before = ws.status()
    again = ws.ingest.run()
    assert all(r.skipped and r.read == 0 for r in again)
    assert ws.status() == before


def test_a_grown_file_inserts_the_new_keys_and_leaves_the_loaded_rows_alone(make_workspace):
    root = make_workspace(TOML, FILES)
    ws = crmine.init(root)
    ws.ingest.run()
    path = root / "sources" / "orders.csv"
    path.write_text(path.read_text() + "O10,1,C1,2024-03-01 09:00:00,P1,1,40,40,web\n")
    r = {x.source: x for x in ws.ingest.run()}["orders"]
    assert (r.read, r.inserted, r.updated, r.unchanged, r.quarantined) == (13, 1, 0, 5, 7)
    assert r.reasons["duplicate_key"] == 1  # the in-file repeat; the five loaded rows are unchanged
    assert ws.status()["tables"]["transactions"] == 6


def test_quarantine_keeps_the_raw_record_so_nothing_is_lost(make_workspace):
    ws = crmine.init(make_workspace(TOML, FILES))
    ws.ingest.run()
    q = ws.ingest.quarantine(source="orders", reason="malformed_row")
    assert q.record.tolist() == ["O8,1,C2,2024-02-03 09:00:00,P2,1,25,25,web,extra"]
    bad_ts = ws.ingest.quarantine(source="orders", reason="bad_type")
    assert '"ts":"2024-13-45 13:00:00"' in bad_ts.record.iloc[0]


def test_missing_required_columns_are_all_named_in_one_error(make_workspace):
    toml = '[sources.orders]\ntable = "transactions"\npath = "sources/o.csv"\n'
    ws = crmine.init(make_workspace(toml, {"o.csv": "order_id,when,value\nO1,2024-01-01,3\n"}))
    with pytest.raises(SchemaError, match=r"lacks column\(s\) for transactions: ts, amount\. "
                       r"Existing columns: order_id, when, value\. Map them in crmine.toml under \[sources.orders.columns\]"):
        ws.ingest.run()
    assert ws.status()["loads"] == []


def test_formats_in_jsonl_and_parquet_load_like_csv(make_workspace, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    toml = """
    [sources.web]
    table = "customers"
    path = "sources/web.jsonl"
    source_system = "web"
    [sources.web.columns]
    customer_id = "id"
    income = "annual_income"
    [sources.staff]
    table = "employees"
    path = "sources/staff.parquet"
    """
    jsonl = '{"id": "W1", "annual_income": 30000}\n{"id": "W2", "annual_income": "lots"}\nnot json\n\n{"id": "W3"}\n'
    root = make_workspace(toml, {"web.jsonl": jsonl})
    pq.write_table(pa.table({"agent_id": ["A1", "A2", None], "team": ["x", "y", "z"]}), root / "sources" / "staff.parquet")
    ws = crmine.init(root)
    r = {x.source: x for x in ws.ingest.run()}
    assert (r["web"].read, r["web"].loaded, r["web"].quarantined) == (4, 2, 2)
    assert (r["staff"].read, r["staff"].loaded, r["staff"].quarantined) == (3, 2, 1)
    assert _quarantine_set(ws) == {
        ("web", 2, "bad_type", "income"), ("web", 3, "malformed_row", None),
        ("staff", 3, "missing_required", "agent_id"),
    }


@pytest.mark.parametrize("engine", ENGINES, indirect=True)
def test_jsonl_key_first_seen_in_a_later_batch_is_loaded(make_workspace, engine, monkeypatch):
    from crmine.io import _read

    monkeypatch.setattr(_read, "_BATCH_ROWS", 2)  # batches of 2 records
    toml = """
    [sources.web]
    table = "customers"
    path = "sources/web.jsonl"
    source_system = "web"
    [sources.web.columns]
    customer_id = "id"
    income = "annual_income"
    email = 'e"mail'
    """
    jsonl = (
        '{"id": "W1"}\n{"id": "W2"}\n{"id": "W3", "annual_income": 41000}\n'
        '{"id": "W4", "e\\"mail": "a@b.example"}\n{"id": "W5", "annual_income": "x"}\n'
    )
    ws = crmine.init(make_workspace(toml, {"web.jsonl": jsonl}, engine=engine))
    (r,) = ws.ingest.run()
    assert (r.read, r.loaded, r.quarantined) == (5, 4, 1)
    got = ws.warehouse.execute(ws.table("customers").select("customer_id", "income", "email")).set_index("customer_id")
    assert got.loc["W3", "income"] == 41000 and got.loc["W4", "email"] == "a@b.example"
    assert got.income.isna().sum() == 3
    assert _quarantine_set(ws) == {("web", 5, "bad_type", "income")}


@pytest.mark.parametrize("engine", ENGINES, indirect=True)
def test_a_failed_load_leaves_no_scratch_table_and_changes_nothing(make_workspace, engine):
    from crmine.errors import ExpressionError

    toml = TOML.replace("[sources.orders.derive]", "[sources.orders.derive]\nbroken = \"quantty * 2\"")
    ws = crmine.init(make_workspace(toml, FILES, engine=engine))
    with pytest.raises(ExpressionError, match=r"In \[sources.orders.derive\] broken: unknown column 'quantty' "
                                              r"\(did you mean 'quantity'\?\)"):
        ws.ingest.run()
    # The sources before it loaded; orders left neither rows nor its scratch tables.
    assert ws.status()["tables"]["transactions"] == 0
    assert {ld["source"] for ld in ws.status()["loads"]} == {"crm", "catalogue"}
    leftovers = [t for t in ws.warehouse.con.list_tables() if t.startswith(("_stage_", "_typed_", "_checked_"))]
    assert leftovers == []
