"""The warehouse lives: on the simulator, edited and new customer records load as updates and
inserts, nothing else is quarantined, and unified ids stay put."""

from __future__ import annotations

import time

import pandas as pd
import pytest

import crmine
from crmine.datasets import simulate


@pytest.fixture(scope="module")
def changed_ws(tmp_path_factory):
    root = tmp_path_factory.mktemp("living")
    simulate(2000, seed=23, out_dir=root)
    ws = crmine.init(root)
    first = {r.source: r for r in ws.ingest.run()}
    ws.identity.resolve()
    before = ws.warehouse.execute(ws.table("customer_lineage"))

    path = root / "sources" / "crm_customers.csv"
    crm = pd.read_csv(path, dtype=str, keep_default_na=False)
    # Records that loaded, from lines that are the only ones with their id (not planted bad rows).
    loaded = set(ws.warehouse.execute(ws.table("customers").customer_id))
    once = crm.cust_no.map(crm.cust_no.value_counts()) == 1
    ids = crm.cust_no[once & crm.cust_no.isin(loaded)].sort_values()
    edited = ids.sample(20, random_state=1).tolist()
    # Ten customers move (city and postcode); ten correct their e-mail's letter case and domain.
    for i, cid in enumerate(edited):
        row = crm.cust_no == cid
        if i < 10:
            crm.loc[row, ["city", "postcode"]] = ["Ely", "CB7 4DL"]
        else:
            crm.loc[row, "email"] = crm.loc[row, "email"].str.replace(r"@.*", "@example.org", regex=True)
    new = crm[crm.cust_no.isin(ids.sample(30, random_state=2))].drop_duplicates("cust_no").copy()
    new["cust_no"] = [f"N{i:07d}" for i in range(len(new))]
    new["email"] = [f"new{i}@example.net" for i in range(len(new))]
    new["name"] = [f"Newcomer Number{i}" for i in range(len(new))]
    new["phone"] = ""
    pd.concat([crm, new]).to_csv(path, index=False)

    second = {r.source: r for r in ws.ingest.run()}
    started = time.perf_counter()
    ws.identity.resolve()
    seconds = time.perf_counter() - started
    after = ws.warehouse.execute(ws.table("customer_lineage"))
    yield ws, first, second, before, after, edited, new.cust_no.tolist(), seconds
    ws.close()


def test_edited_rows_update_and_new_rows_insert_and_nothing_else_is_quarantined(changed_ws):
    ws, first, second, *_ = changed_ws
    crm = second["crm_customers"]
    assert (crm.updated, crm.inserted) == (20, 30)
    assert crm.quarantined == first["crm_customers"].quarantined  # the planted bad rows, again, and no more
    assert crm.read == first["crm_customers"].read + 30
    assert crm.unchanged == first["crm_customers"].loaded - 20
    assert {s for s, r in second.items() if r.status == "loaded"} == {"crm_customers"}  # the others: unchanged


def test_updated_customers_keep_their_history(changed_ws):
    ws, _first, _second, _before, _after, edited, *_ = changed_ws
    hist = ws.warehouse.execute(ws.table("customers_history"))
    changed = hist[hist.change == "update"]
    assert sorted(changed.customer_id) == sorted(edited)
    closed = hist[hist.customer_id.isin(edited) & hist.valid_to.notna()]
    assert len(closed) == 20  # each old version is kept, closed when the new one came


def test_unified_ids_stay_stable_and_newcomers_are_new_customers(changed_ws):
    _ws, _first, _second, before, after, _edited, newcomers, _seconds = changed_ws
    keys = ["source_system", "customer_id"]
    both = before.merge(after, on=keys, suffixes=("_before", "_after"))
    assert len(both) == len(before)  # no record lost its lineage
    kept = (both.unified_id_before == both.unified_id_after).mean()
    assert kept >= 0.995, f"only {kept:.2%} of unified ids unchanged"
    fresh = after[after.customer_id.isin(newcomers)]
    assert len(fresh) == 30
    assert not set(fresh.unified_id) & set(before.unified_id)  # new people, new ids
