"""A table in a real PostgreSQL server, started by the test on a loopback port, loads like a file."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

import crmine


def _pg_bin() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(candidates[-1]).parent if candidates else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def postgres_url():
    bindir = _pg_bin()
    if bindir is None or not (bindir / "initdb").exists():
        pytest.skip("no PostgreSQL server binaries (initdb, pg_ctl) on this machine")
    pytest.importorskip("psycopg")
    # PostgreSQL refuses to run as root: run it as the postgres system user in a folder it owns.
    as_root = os.geteuid() == 0
    if as_root and shutil.which("runuser") is None:
        pytest.skip("running as root without `runuser` to start PostgreSQL as another user")
    base = Path(tempfile.mkdtemp(prefix="crmine-pg-"))
    data, sock = base / "data", base / "sock"
    sock.mkdir()
    if as_root:
        shutil.chown(base, "postgres")
        shutil.chown(sock, "postgres")
    prefix = ["runuser", "-u", "postgres", "--"] if as_root else []
    port = _free_port()
    subprocess.run([*prefix, str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"],
                   check=True, capture_output=True)
    opts = f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run([*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-o", opts, "-w", "-l", str(base / "log"), "start"],
                   check=True, capture_output=True)
    try:
        yield f"postgres://postgres@127.0.0.1:{port}/postgres"
    finally:
        with contextlib.suppress(Exception):
            subprocess.run([*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                           capture_output=True, timeout=60)
        shutil.rmtree(base, ignore_errors=True)


def test_a_postgres_table_loads_with_mapping_and_quarantine(postgres_url, make_workspace):
    import psycopg

    with psycopg.connect(postgres_url.replace("postgres://", "postgresql://")) as con:
        con.execute("DROP TABLE IF EXISTS customer_master")
        con.execute("CREATE TABLE customer_master (cust text, full_name text, yearly_income numeric, born date)")
        with con.cursor() as cur:
            cur.executemany(
                "INSERT INTO customer_master VALUES (%s, %s, %s, %s)",
                [("P1", "Ann", 50000, "1980-01-02"), ("P2", "Bob", -3, "1981-02-03"),
                 (None, "Cy", 10, "1982-03-04"), ("P3", "Dee", None, None), ("P1", "Ann again", 1, None)],
            )
    toml = f"""
    [sources.crm_db]
    table = "customers"
    url = "{postgres_url}"
    sql_table = "customer_master"
    source_system = "crm"
    [sources.crm_db.columns]
    customer_id = "cust"
    name = "full_name"
    income = "yearly_income"
    birth_date = "born"
    """
    ws = crmine.init(make_workspace(toml, {}))
    r = ws.ingest.run()[0]
    assert (r.read, r.loaded, r.quarantined) == (5, 2, 3)
    assert r.reasons == {"duplicate_key": 1, "missing_required": 1, "out_of_range": 1}
    got = ws.warehouse.execute(ws.table("customers").order_by("customer_id"))
    assert got.customer_id.tolist() == ["P1", "P3"]
    assert got.income.tolist()[0] == 50000.0
    assert str(got.birth_date.iloc[0].date()) == "1980-01-02"
    assert "postgres@127.0.0.1" in r.file and "customer_master" in r.file
    again = ws.ingest.run()[0]
    assert again.skipped and ws.status()["tables"]["customers"] == 2  # unchanged table: nothing added
