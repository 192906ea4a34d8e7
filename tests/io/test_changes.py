"""A living warehouse: reloads update changed rows, keep history, load consent withdrawals, and
count every record of the file independently of the reader."""

from __future__ import annotations

import csv
import io
import signal
import subprocess
import sys
import textwrap

import pandas as pd
import pytest

import crmine
from crmine.errors import SettingsError
from crmine.io._changes import as_it_was
from tests.conftest import ENGINES

CUSTOMERS = """customer_id,name,email,city
C1,Ann Lee,ann@example.com,Leeds
C2,Bob Stone,bob@example.com,York
C3,Cy Twombly,cy@example.com,Bath
C4,Dee Moss,dee@example.com,Hull
"""
TOML = """
[sources.crm]
table = "customers"
path = "sources/customers.csv"
source_system = "crm"
"""


def _customers(ws) -> pd.DataFrame:
    return ws.warehouse.execute(ws.table("customers").order_by("customer_id"))


@pytest.mark.parametrize("engine", ENGINES, indirect=True)
def test_an_edited_file_updates_the_changed_rows_and_keeps_their_history(make_workspace, engine):
    root = make_workspace(TOML, {"customers.csv": CUSTOMERS}, engine=engine)
    ws = crmine.init(root)
    ws.ingest.run()
    first_load = pd.Timestamp.now(tz="UTC").tz_localize(None)
    edited = CUSTOMERS.replace("bob@example.com", "bob.stone@example.com").replace("Bath", "Wells")
    (root / "sources" / "customers.csv").write_text(edited + "C5,Eve Dalton,eve@example.com,Ely\n")
    r = ws.ingest.run()[0]

    assert (r.read, r.inserted, r.updated, r.unchanged, r.quarantined) == (5, 1, 2, 2, 0)
    now = _customers(ws)
    assert now.email.tolist()[:2] == ["ann@example.com", "bob.stone@example.com"]
    assert now.city.tolist() == ["Leeds", "York", "Wells", "Hull", "Ely"]
    hist = ws.warehouse.execute(ws.table("customers_history").order_by(["customer_id", "valid_from"]))
    bob = hist[hist.customer_id == "C2"]
    assert bob.email.tolist() == ["bob@example.com", "bob.stone@example.com"]
    assert bob.change.tolist() == ["insert", "update"]
    assert bob.valid_to.isna().tolist() == [False, True]  # the old version closed, the new one current
    # The table as it stood between the two loads is the first file exactly.
    before = ws.warehouse.execute(as_it_was(ws.warehouse, "customers", first_load).order_by("customer_id"))
    assert before.city.tolist() == ["Leeds", "York", "Bath", "Hull"]
    ws.close()


def test_rows_loaded_before_history_was_kept_get_a_version_when_they_change(make_workspace):
    root = make_workspace(TOML, {"customers.csv": CUSTOMERS})
    ws = crmine.init(root)
    ws.ingest.run()
    ws.warehouse.con.con.execute("DELETE FROM customers_history")  # as a warehouse made before history
    (root / "sources" / "customers.csv").write_text(CUSTOMERS.replace("Hull", "Selby"))
    assert ws.ingest.run()[0].updated == 1
    hist = ws.warehouse.execute(ws.table("customers_history").order_by("valid_to"))
    assert hist.city.tolist() == ["Hull", "Selby"]
    assert hist.valid_from.isna().tolist() == [True, False]  # since an unknown time
    ws.close()


def test_a_second_source_does_not_erase_the_columns_it_does_not_fill(make_workspace):
    toml = TOML + '\n[sources.places]\ntable = "customers"\npath = "sources/cities.csv"\n'
    files = {"customers.csv": CUSTOMERS, "cities.csv": "customer_id,city\nC1,Otley\n"}
    ws = crmine.init(make_workspace(toml, files))
    results = {r.source: r for r in ws.ingest.run()}
    assert results["places"].updated == 1
    ann = _customers(ws).iloc[0]
    assert (ann["name"], ann["email"], ann["city"]) == ("Ann Lee", "ann@example.com", "Otley")
    ws.close()


def test_with_a_version_column_an_older_row_does_not_overwrite_a_newer_one(make_workspace):
    toml = TOML.replace('source_system = "crm"', 'source_system = "crm"\nversion = "signup_date"')
    text = "customer_id,city,signup_date\nC1,Leeds,2024-05-01\nC2,York,2024-05-01\n"
    root = make_workspace(toml, {"customers.csv": text})
    ws = crmine.init(root)
    ws.ingest.run()
    (root / "sources" / "customers.csv").write_text(
        "customer_id,city,signup_date\nC1,Bath,2024-04-01\nC2,Ripon,2024-06-01\n")
    r = ws.ingest.run()[0]
    assert (r.updated, r.quarantined, r.reasons) == (1, 1, {"superseded": 1})
    assert _customers(ws).city.tolist() == ["Leeds", "Ripon"]
    ws.close()


def test_a_snapshot_source_removes_the_rows_it_no_longer_holds(make_workspace):
    toml = TOML + 'mode = "snapshot"\n'
    root = make_workspace(toml, {"customers.csv": CUSTOMERS})
    ws = crmine.init(root)
    ws.ingest.run()
    (root / "sources" / "customers.csv").write_text(CUSTOMERS.replace("C3,Cy Twombly,cy@example.com,Bath\n", ""))
    r = ws.ingest.run()[0]
    assert (r.read, r.unchanged, r.removed) == (3, 3, 1)
    assert _customers(ws).customer_id.tolist() == ["C1", "C2", "C4"]
    hist = ws.warehouse.execute(ws.table("customers_history"))
    assert hist[hist.customer_id == "C3"].change.tolist() == ["insert", "remove"] or \
        sorted(hist[hist.customer_id == "C3"].change) == ["insert", "remove"]
    ws.close()


def test_change_settings_are_checked(make_workspace):
    for extra, fragment in [('mode = "sometimes"', "mode: must be one of incremental, snapshot"),
                            ('version = "updated"', "version: 'updated' is not a column of customers"),
                            ('key = ["nope"]', "key: 'nope' is not a column of customers")]:
        root = make_workspace(TOML + extra + "\n", {"customers.csv": CUSTOMERS}, name=extra[:4])
        with pytest.raises(SettingsError, match=fragment):
            crmine.init(root)


CONSENT_TOML = TOML + """
[sources.consents]
table = "consents"
path = "sources/consents.csv"
"""


def test_a_consent_withdrawal_loads_as_a_later_row(make_workspace):
    grants = "customer_id,purpose,channel,granted,ts\nC1,marketing,email,true,2024-01-01\nC2,marketing,email,true,2024-01-01\n"
    root = make_workspace(CONSENT_TOML, {"customers.csv": CUSTOMERS, "consents.csv": grants})
    ws = crmine.init(root)
    ws.ingest.run()
    (root / "sources" / "consents.csv").write_text(grants + "C1,marketing,email,false,2024-03-01\n")
    r = {x.source: x for x in ws.ingest.run()}["consents"]
    assert (r.inserted, r.unchanged, r.quarantined) == (1, 2, 0)
    c = ws.warehouse.execute(ws.table("consents").order_by(["customer_id", "ts"]))
    assert list(zip(c.customer_id, c.granted, strict=True)) == [("C1", True), ("C1", False), ("C2", True)]
    ws.close()


# -- The load contract, counted from the file itself --------------------------------------------
def _records(data: bytes) -> int:
    """Records of a CSV file by Python's csv module (header and blank lines excluded): the oracle."""
    text = data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    return sum(1 for row in rows[1:] if row)


ODD_FILES = {
    "embedded_breaks": b'customer_id,name,city\nC1,"Ann\nLee",Leeds\nC2,"Bob\r\n\r\nStone",York\nC3,Cy,"Ba\nth"\n',
    "bom_crlf": b"\xef\xbb\xbfcustomer_id,name,city\r\nC1,Ann,Leeds\r\nC2,Bob,York\r\n\r\nC3,Cy,Bath",
    "blank_and_ragged": b"customer_id,name\nC1,Ann\n\nC2\nC3,Cy,extra\n\n\nC4,Dee\n",
    "quoted_quotes": b'customer_id,name\nC1,"Ann ""the"" Lee"\nC2,"Bob, Jr"\n"C3","Cy\n""x"""\n',
}


@pytest.mark.parametrize("engine", ENGINES, indirect=True)
@pytest.mark.parametrize("name", sorted(ODD_FILES))
def test_read_is_the_files_own_record_count_and_every_record_is_accounted_for(make_workspace, engine, name):
    data = ODD_FILES[name]
    ws = crmine.init(make_workspace(TOML, {"customers.csv": data}, engine=engine, name=name))
    r = ws.ingest.run()[0]
    assert r.read == _records(data)
    assert r.read == r.inserted + r.updated + r.unchanged + r.quarantined
    assert ws.warehouse.count("customers") + ws.warehouse.count("quarantine") == r.read
    ws.close()


@pytest.mark.parametrize("engine", ENGINES, indirect=True)
def test_a_file_with_a_repeated_column_name_is_refused_whole(make_workspace, engine):
    data = b"customer_id,city,note,note\nC1,Leeds,a,b\nC2,York,c,d\n"
    ws = crmine.init(make_workspace(TOML, {"customers.csv": data}, engine=engine))
    with pytest.raises(crmine.errors.SourceError, match="columns 3 and 4 are both named 'note'"):
        ws.ingest.run()
    assert ws.warehouse.count("customers") + ws.warehouse.count("quarantine") + ws.warehouse.count("load_log") == 0
    ws.close()


def test_a_record_the_reader_loses_fails_the_load_and_writes_nothing(make_workspace, monkeypatch):
    import crmine.io._ingest as ingest

    ws = crmine.init(make_workspace(TOML, {"customers.csv": CUSTOMERS}))
    monkeypatch.setattr(ingest, "count_records", lambda source, path: 5)  # one more than read
    with pytest.raises(crmine.errors.SourceError, match=r"holds 5 records but the reader accounted for 4 .*"
                       r"so 1 would be lost; nothing was loaded"):
        ws.ingest.run()
    assert ws.warehouse.count("customers") == 0
    assert ws.warehouse.count("load_log") == 0
    ws.close()


# -- kill -9 during a load that updates rows -----------------------------------------------------
_CHILD = textwrap.dedent("""
    import os, signal, sys
    import crmine
    import crmine.io._changes as changes

    ws = crmine.open(sys.argv[1])
    real = changes._keep

    def die_after_the_update(wh, table, versions):
        real(wh, table, versions)
        if wh.count(table) and wh.count(table + "_history") > 4:  # the updated rows are written
            os.kill(os.getpid(), signal.SIGKILL)

    changes._keep = die_after_the_update
    ws.ingest.run()
""")


def test_kill_9_during_an_updating_load_leaves_the_warehouse_as_it_was(make_workspace):
    root = make_workspace(TOML, {"customers.csv": CUSTOMERS})
    ws = crmine.init(root)
    ws.ingest.run()
    before = (_customers(ws), ws.status()["tables"])
    ws.close()
    (root / "sources" / "customers.csv").write_text(CUSTOMERS.replace("York", "Ripon") + "C5,Eve,e@x.org,Ely\n")
    proc = subprocess.run([sys.executable, "-c", _CHILD, str(root)], capture_output=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()[-2000:]

    ws = crmine.open(root)
    pd.testing.assert_frame_equal(_customers(ws), before[0])
    assert ws.status()["tables"] == before[1]
    r = ws.ingest.run()[0]  # and the load simply runs again
    assert (r.inserted, r.updated, r.unchanged) == (1, 1, 3)
    ws.close()


_FIRST_LOAD = textwrap.dedent("""
    import json, sys
    import crmine

    ws = crmine.init(sys.argv[1])
    ws.ingest.run()
    people = ws.warehouse.execute(ws.table("customers").order_by("customer_id"))
    print(json.dumps({"customers": people.astype(str).to_dict("records"), "tables": ws.status()["tables"]}))
""")


@pytest.mark.spark
@pytest.mark.slow
def test_kill_9_during_an_updating_load_on_spark_leaves_the_warehouse_as_it_was(make_workspace):
    # Every step that writes runs in its own process, as the CLI does: the next process sees the
    # tables from their files (Spark's local catalog lives in memory) and what the kill left is repaired.
    import json

    pytest.importorskip("pyspark", reason="PySpark not installed (pip install 'crmine[spark]')")
    root = make_workspace(TOML, {"customers.csv": CUSTOMERS}, engine="spark")
    first = subprocess.run([sys.executable, "-c", _FIRST_LOAD, str(root)], capture_output=True, timeout=300)
    assert first.returncode == 0, first.stderr.decode()[-2000:]
    before = json.loads(first.stdout.decode().strip().splitlines()[-1])
    (root / "sources" / "customers.csv").write_text(CUSTOMERS.replace("York", "Ripon") + "C5,Eve,e@x.org,Ely\n")
    proc = subprocess.run([sys.executable, "-c", _CHILD, str(root)], capture_output=True, timeout=300)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()[-2000:]

    ws = crmine.open(root)
    people = ws.warehouse.execute(ws.table("customers").order_by("customer_id"))
    assert people.astype(str).to_dict("records") == before["customers"]
    assert ws.status()["tables"] == before["tables"]
    r = ws.ingest.run()[0]  # and the load simply runs again
    assert (r.inserted, r.updated, r.unchanged) == (1, 1, 3)


TWO_SYSTEMS = TOML + """
[sources.web]
table = "customers"
path = "sources/web.csv"
source_system = "web"
"""
WEB = """customer_id,name,email,city
C2,Zoe Park,zoe@example.net,Derby
C9,Ian Holm,ian@example.net,Ripon
"""


def test_a_raw_id_of_another_source_system_never_updates_its_record(make_workspace):
    root = make_workspace(TWO_SYSTEMS, {"customers.csv": CUSTOMERS, "web.csv": WEB})
    ws = crmine.init(root)
    crm, web = ws.ingest.run()
    assert (web.read, web.inserted, web.updated, web.quarantined) == (2, 1, 0, 1)
    q = ws.ingest.quarantine(source="web")
    assert q[["line", "reason", "column"]].to_dict("records") == [
        {"line": 2, "reason": "id_collision", "column": "customer_id"}]
    assert "give one of the sources an id_prefix" in q.detail.iloc[0]
    assert _customers(ws).set_index("customer_id").loc["C2", "name"] == "Bob Stone"  # crm's record intact


def test_an_id_prefix_keeps_two_systems_raw_ids_apart(make_workspace):
    toml = TWO_SYSTEMS + 'id_prefix = "web-"\n'
    root = make_workspace(toml, {"customers.csv": CUSTOMERS, "web.csv": WEB})
    ws = crmine.init(root)
    _, web = ws.ingest.run()
    assert (web.inserted, web.quarantined) == (2, 0)
    people = _customers(ws).set_index("customer_id")
    assert people.loc["C2", "name"] == "Bob Stone" and people.loc["web-C2", "name"] == "Zoe Park"
    assert people.loc["web-C2", "source_system"] == "web"


def test_an_id_prefix_on_a_table_without_customer_ids_is_refused(make_workspace):
    toml = TOML + '[sources.cat]\ntable = "products"\npath = "sources/p.csv"\nid_prefix = "x-"\n'
    with pytest.raises(SettingsError, match=r"id_prefix applies to sources of tables with a customer_id column; "
                                            r"products has none"):
        crmine.init(make_workspace(toml, {"customers.csv": CUSTOMERS, "p.csv": "product_id\nP1\n"}))
