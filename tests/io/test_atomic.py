"""A load that dies part-way, even by kill -9, leaves the warehouse as it was."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap

import pytest

import crmine
from tests.io.fixtures import FILES, TOML

# Runs in a child process: load customers and products, then die by SIGKILL in the middle of the
# orders load, after its good rows were inserted and before the load was recorded.
_CHILD = textwrap.dedent("""
    import os, signal, sys
    import crmine
    import crmine.io._ingest as ingest

    ws = crmine.open(sys.argv[1])
    ws.ingest.run(sources=["crm", "catalogue"])

    def die(wh):
        os.kill(os.getpid(), signal.SIGKILL)

    ingest._next_load_id = die
    ws.ingest.run(sources=["orders"])
""")


def test_kill_9_during_a_load_leaves_the_warehouse_as_it_was(make_workspace):
    root = make_workspace(TOML, FILES)
    crmine.init(root).close()
    proc = subprocess.run([sys.executable, "-c", _CHILD, str(root)], capture_output=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()[-2000:]

    ws = crmine.open(root)
    st = ws.status()
    assert [ld["source"] for ld in st["loads"]] == ["crm", "catalogue"]
    assert st["tables"]["transactions"] == 0
    assert st["tables"]["customers"] == 3
    assert st["tables"]["quarantine"] == 4  # only the customers' bad rows
    assert not [t for t in ws.warehouse.con.list_tables() if t.startswith("_")]

    # And the load simply runs again.
    r = ws.ingest.run(sources=["orders"])[0]
    assert (r.read, r.loaded, r.quarantined) == (12, 5, 7)


def test_an_error_during_a_load_rolls_it_back(make_workspace, monkeypatch):
    import crmine.io._ingest as ingest

    ws = crmine.init(make_workspace(TOML, FILES))
    ws.ingest.run(sources=["crm", "catalogue"])
    before = ws.status()

    def fail(wh):
        raise OSError("disk full")

    monkeypatch.setattr(ingest, "_next_load_id", fail)
    with pytest.raises(OSError, match="disk full"):
        ws.ingest.run(sources=["orders"])
    assert ws.status() == before
