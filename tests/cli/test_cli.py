from __future__ import annotations

import json
import subprocess
import sys

from typer.testing import CliRunner

from crmine.cli import app
from tests.io.fixtures import FILES, TOML

runner = CliRunner()


def _crmine(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "crmine", *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=300)


def test_errors_print_one_line_without_traceback(tmp_path):
    proc = _crmine("status", tmp_path / "nowhere")
    assert proc.returncode == 1
    assert proc.stderr.strip().startswith("error: ")
    assert "Traceback" not in proc.stderr
    assert "crmine init" in proc.stderr


def test_ingest_then_status_json_reconciles(make_workspace):
    root = make_workspace(TOML, FILES)
    assert runner.invoke(app, ["init", str(root)]).exit_code == 0
    out = runner.invoke(app, ["ingest", str(root), "--json"])
    assert out.exit_code == 0, out.output
    loads = json.loads(out.output)
    assert [(x["source"], x["read"], x["loaded"], x["quarantined"]) for x in loads] == [
        ("crm", 7, 3, 4), ("catalogue", 2, 2, 0), ("orders", 12, 5, 7),
    ]
    st = json.loads(runner.invoke(app, ["status", str(root), "--json"]).output)
    assert st["tables"]["transactions"] == 5 and st["tables"]["customers"] == 3
    assert st["loads"][2] == {"source": "orders", "file": "sources/orders.csv", "read": 12, "loaded": 5, "quarantined": 7}


def test_dictionary_lists_every_canonical_column():
    out = runner.invoke(app, ["dictionary", "--json"])
    rows = json.loads(out.output)
    assert len(rows) == 85  # the eleven canonical tables (transactions gained product_name, non_product)
    amount = next(r for r in rows if r["table"] == "transactions" and r["column"] == "amount")
    assert amount["type"] == "float64" and amount["rule"].startswith("required") and "clv" in amount["used_by"]


def test_dictionary_of_an_unknown_table_is_an_error():
    proc = _crmine("dictionary", "--table", "orders")
    assert proc.returncode == 1
    assert "Unknown table 'orders'. Canonical tables: customers" in proc.stderr
