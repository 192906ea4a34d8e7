"""One simulated workspace per test run, shared by tests/segment and tests/loyalty."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

import crmine
from crmine.datasets import simulate

N_CUSTOMERS, SEED = 3000, 7
_CACHE: dict[str, object] = {}


def simulated_workspace(tmp_path_factory):
    """The workspace (ingested, identities resolved), built on first use."""
    if "ws" not in _CACHE:
        root = tmp_path_factory.mktemp("segment_sim")
        simulate(N_CUSTOMERS, seed=SEED, out_dir=root)
        ws = crmine.init(root)
        ws.ingest.run()
        ws.identity.resolve()
        _CACHE["ws"] = ws
    return _CACHE["ws"]


def close_simulated_workspace() -> None:
    """Close the shared workspace (at the end of the session; a second call does nothing)."""
    ws = _CACHE.pop("ws", None)
    if ws is not None:
        ws.close()


def planted_segment(ws) -> pd.Series:
    """Planted segment of every unified customer: that of the person most of its records belong to."""
    root = Path(ws.root)
    identity = pd.read_csv(root / "truth" / "identity.csv", dtype=str)
    persons = pd.read_csv(
        root / "truth" / "persons.csv", usecols=["person_id", "segment"], dtype=str
    )
    lineage = ws.warehouse.execute(ws.table("customer_lineage").select("customer_id", "unified_id"))
    m = lineage.merge(identity, left_on="customer_id", right_on="source_customer_id").merge(
        persons, on="person_id"
    )
    return m.groupby("unified_id")["segment"].agg(lambda s: s.mode().iloc[0]).rename("planted")
