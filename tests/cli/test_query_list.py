"""`crmine query --list` is a governed export: the id and the asked-for columns only, personal
contact columns only when asked for, an audit row before the file, never an overwrite."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest
from typer.testing import CliRunner

import crmine
from crmine.cli._app import app
from crmine.errors import SettingsError

TOML = """
[sources.people]
table = "customers"
path = "sources/people.csv"
[sources.orders]
table = "transactions"
path = "sources/orders.csv"
"""

FILES = {
    "people.csv": """
        customer_id,name,email,region
        C1,Ann Lee,ann@example.com,North
        C2,Bob Stone,bob@example.org,South
        C3,Cy Dale,cy@example.net,North
    """,
    "orders.csv": """
        order_id,line_no,customer_id,ts,product_id,quantity,amount
        O1,1,C1,2024-01-01 10:00:00,P1,1,40
        O2,1,C1,2024-01-11 12:00:00,P2,1,80
        O3,1,C2,2024-01-05 15:00:00,P2,1,30
        O4,1,C3,2024-02-01 09:00:00,P1,2,70
    """,
}


@pytest.fixture
def ws(make_workspace):
    w = crmine.init(make_workspace(TOML, FILES))
    w.ingest.run()
    w.customers.build(as_of="2024-02-15")
    return w


def _audit(ws) -> pd.DataFrame:
    return ws.warehouse.execute(ws.warehouse.table("export_audit"))


def test_list_holds_the_id_and_the_condition_columns_by_default(ws):
    out = CliRunner().invoke(app, ["query", str(ws.root), "spend > 60 and region = 'North'", "--list"])
    assert out.exit_code == 0, out.output
    listed = pd.read_csv(io.StringIO(out.stdout))
    # C1 spent 120 and C3 70, both in the North; C2 (South, 30) is not listed.
    assert list(listed.columns) == ["customer_id", "region", "spend"]
    assert listed.customer_id.tolist() == ["C1", "C3"]
    assert listed.spend.tolist() == [120.0, 70.0]
    audit = _audit(ws)
    assert len(audit) == 1
    row = audit.iloc[0]
    assert (row.kind, row.file, row.rows, bool(row.personal)) == ("query", "<stdout>", 2, False)
    assert json.loads(row.what)["condition"] == "spend > 60 and region = 'North'"


def test_list_columns_and_a_file_that_is_never_overwritten(ws, tmp_path):
    dest = tmp_path / "north.csv"
    args = ["query", str(ws.root), "region = 'North'", "--list", "--columns", "orders,spend", "--out", str(dest)]
    first = CliRunner().invoke(app, args)
    assert first.exit_code == 0, first.output
    assert "Listed 2 customers" in first.stdout
    listed = pd.read_csv(dest)
    assert list(listed.columns) == ["customer_id", "orders", "spend"]
    assert listed.orders.tolist() == [2, 1]
    again = CliRunner().invoke(app, args)
    assert isinstance(again.exception, SettingsError)
    assert "exists already; an export never replaces a file" in str(again.exception)
    assert len(_audit(ws)) == 1  # the refused export wrote no audit row
    assert pd.read_csv(dest).equals(listed)


def test_personal_columns_need_the_flag_and_are_audited_as_personal(ws):
    refused = CliRunner().invoke(app, ["query", str(ws.root), "spend > 60", "--list", "--columns", "email"])
    assert isinstance(refused.exception, SettingsError)
    assert str(refused.exception).startswith("email: personal contact details (name, email, phone, address)")
    assert "Add --personal" in str(refused.exception)
    assert not ws.warehouse.has_table("export_audit")  # nothing left the warehouse
    ok = CliRunner().invoke(app, ["query", str(ws.root), "spend > 60", "--list", "--columns", "email,name",
                                  "--personal"])
    assert ok.exit_code == 0, ok.output
    listed = pd.read_csv(io.StringIO(ok.stdout))
    assert listed.to_dict("records") == [
        {"customer_id": "C1", "email": "ann@example.com", "name": "Ann Lee"},
        {"customer_id": "C3", "email": "cy@example.net", "name": "Cy Dale"},
    ]
    assert bool(_audit(ws).personal.iloc[-1])


def test_list_options_without_list_are_refused(ws):
    out = CliRunner().invoke(app, ["query", str(ws.root), "spend > 60", "--columns", "spend"])
    assert isinstance(out.exception, SettingsError)
    assert str(out.exception) == "--columns, --personal and --out go with --list."


def test_the_python_export_is_the_same_governed_path(ws, tmp_path):
    export = ws.customers.export("orders >= 1", out=tmp_path / "all.csv")
    assert (export.rows, export.excluded_no_consent) == (3, 0)
    assert list(pd.read_csv(tmp_path / "all.csv").columns) == ["customer_id", "orders"]
    row = _audit(ws).iloc[-1]
    assert row.file == str((tmp_path / "all.csv").resolve()) and row.rows == 3
