from __future__ import annotations

import pytest

import crmine
from crmine.errors import SettingsError, WorkspaceError
from crmine.settings import Settings


def test_settings_list_every_problem_at_once():
    bad = {
        "workspace": {"engine": "oracle", "colour": "blue"},
        "sources": {
            "orders": {"table": "transaction", "path": "o.csv"},
            "people": {"table": "customers", "path": "p.xls"},
            "web": {"table": "customers", "path": "w.jsonl", "columns": {"custmer_id": "id", "name": 3},
                    "formats": {"income": "%Y"}},
        },
        "identity": {"threshold": True},
    }
    with pytest.raises(SettingsError) as info:
        Settings.from_dict(bad, where="crmine.toml")
    msg = str(info.value)
    assert msg.startswith("crmine.toml has 8 problem(s):")
    for expected in [
        "workspace.colour: unknown key",
        "workspace.engine: must be 'duckdb' or 'spark', got 'oracle'",
        "sources.orders.table: 'transaction' is not a canonical table (did you mean 'transactions'?)",
        "sources.people.format: cannot tell the format of 'p.xls'",
        "sources.web.columns.custmer_id: not a column of customers (did you mean 'customer_id'?)",
        "sources.web.columns.name: must be a string, got int",
        "sources.web.formats.income: formats apply to timestamp columns; income is float64",
        "identity.threshold: must be int or float, got bool",
    ]:
        assert expected in msg


def test_settings_round_trip_through_to_dict():
    data = {
        "workspace": {"engine": "duckdb"},
        "sources": {"orders": {"table": "transactions", "path": "o.csv", "delimiter": ";",
                               "columns": {"amount": "total"}, "derive": {"amount": "quantity * unit_price"}}},
    }
    s = Settings.from_dict(data)
    assert s.source("orders").format == "csv"
    assert s.source("orders").raw_name("amount") == "total"
    assert Settings.from_dict(s.to_dict()) == s


def test_settings_are_frozen():
    s = Settings.from_dict({})
    with pytest.raises(AttributeError):
        s.engine = "spark"


def test_sql_source_needs_url_and_table_and_hides_password():
    with pytest.raises(SettingsError, match="a SQL source needs url"):
        Settings.from_dict({"sources": {"db": {"table": "customers", "format": "sql"}}})
    s = Settings.from_dict({"sources": {"db": {"table": "customers", "url": "postgres://me:secret@h:5432/crm",
                                                 "sql_table": "people"}}})
    assert s.source("db").location() == "postgres://me@h:5432/crm table people"


def test_bad_toml_names_the_file(tmp_path):
    (tmp_path / "crmine.toml").write_text("[workspace\nengine = 1\n")
    with pytest.raises(SettingsError, match=r"crmine.toml is not valid TOML: .*line 1"):
        crmine.open(tmp_path)


def test_open_a_folder_that_is_not_a_workspace(tmp_path):
    with pytest.raises(WorkspaceError, match=r"is not a crmine workspace \(no crmine.toml\)\. Create one with `crmine init"):
        crmine.open(tmp_path)


def test_init_writes_a_template_that_parses_and_is_idempotent(tmp_path):
    ws = crmine.init(tmp_path / "w")
    assert ws.settings.sources == () and ws.settings.engine == "duckdb"
    text = (tmp_path / "w" / "crmine.toml").read_text()
    ws.close()
    ws = crmine.init(tmp_path / "w")
    assert (tmp_path / "w" / "crmine.toml").read_text() == text
    assert {p.name for p in (tmp_path / "w").iterdir()} >= {"crmine.toml", "warehouse.duckdb", "models", "reports", "exports"}
