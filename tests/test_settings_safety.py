"""crmine.toml cannot smuggle SQL through a name, read files outside the workspace unasked, or print a password."""

from __future__ import annotations

import pytest

import crmine
from crmine.errors import SettingsError
from crmine.settings import Settings, SourceSettings, _strip_password
from tests.io.fixtures import FILES, TOML

SECRET = "hunter2"


@pytest.mark.parametrize("name", ['orders"; drop table customers; --', "web orders", "_stage", "ünï", "x" * 65])
def test_source_names_outside_letters_digits_underscore_hyphen_are_refused(name):
    with pytest.raises(SettingsError, match=r"is not allowed; use 1-64 letters, digits, '_' or '-'"):
        Settings.from_dict({"sources": {name: {"table": "transactions", "path": "t.csv"}}})


@pytest.mark.parametrize("name", ["orders", "web-orders_2024", "2024"])
def test_plain_source_names_are_accepted(name):
    assert Settings.from_dict({"sources": {name: {"table": "transactions", "path": "t.csv"}}}).sources[0].name == name


@pytest.mark.parametrize("url", [
    f"postgres://bob:{SECRET}@db.internal:5432/crm",
    f"bob:{SECRET}@db.internal/crm",
    f"postgres://db.internal/crm?user=bob&password={SECRET}",
    f"mssql://bob@db/crm?PWD={SECRET};Encrypt=yes",
    f"host=db.internal password={SECRET} dbname=crm",
    f"postgres://bob:p@ss{SECRET}@db.internal/crm",
])
def test_no_form_of_database_url_prints_its_password(url):
    src = SourceSettings(name="crm", table="customers", format="sql", url=url, sql_table="people")
    assert SECRET not in src.location()
    assert "db" in src.location()  # still says which database


def test_strip_password_keeps_the_user_and_host():
    assert _strip_password(f"postgres://bob:{SECRET}@db:5432/crm") == "postgres://bob@db:5432/crm"


def _outside_workspace(make_workspace, tmp_path, extra: str = ""):
    (tmp_path / "elsewhere.csv").write_text("order_id,line_no,customer_id,ts,product_id,quantity,unit_price,amount\n")
    root = make_workspace(TOML, FILES)
    toml = root / "crmine.toml"
    text = toml.read_text().replace('[workspace]\n', f'[workspace]\n{extra}', 1)
    toml.write_text(text + '\n[sources.outside]\ntable = "transactions"\npath = "../elsewhere.csv"\n')
    return root


def test_a_source_outside_the_workspace_needs_outside_paths(make_workspace, tmp_path):
    root = _outside_workspace(make_workspace, tmp_path)
    ws = crmine.init(root)
    with pytest.raises(SettingsError, match=r"sources\.outside\.path: \.\./elsewhere\.csv is outside the "
                                            r"workspace .*`outside_paths = true` under \[workspace\]"):
        ws.ingest.run()
    assert ws.status()["tables"]["transactions"] == 0  # nothing was read before the refusal


def test_outside_paths_true_reads_it(make_workspace, tmp_path):
    root = _outside_workspace(make_workspace, tmp_path, "outside_paths = true\n")
    results = {r.source: r for r in crmine.init(root).ingest.run()}
    assert results["outside"].read == 0 and results["orders"].loaded == 5


def test_init_from_a_file_elsewhere_allows_it_in_the_settings_it_writes(tmp_path):
    from crmine.io import inspect_file, settings_text

    export = tmp_path / "exports" / "orders.csv"
    export.parent.mkdir()
    export.write_text("customer_id,date,amount\nC1,2024-01-02,10.5\nC2,2024-01-03,3.25\nC1,2024-02-01,7.0\n")
    inside = settings_text([inspect_file(export)], root=export.parent)
    outside = settings_text([inspect_file(export)], root=tmp_path / "ws")
    assert Settings.from_dict(__import__("tomllib").loads(inside)).outside_paths is False
    assert Settings.from_dict(__import__("tomllib").loads(outside)).outside_paths is True
