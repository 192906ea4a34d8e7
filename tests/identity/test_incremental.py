"""Incremental identity: after a small load only new and changed records are compared, with the
saved model, and the result is the one a full re-resolution gives."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmine.identity import evaluate, resolve
from crmine.identity._incremental import MAX_CHANGED_SHARE
from crmine.warehouse import connect
from tests.identity._identity_fakes import fake_customers


@pytest.fixture(scope="module")
def people():
    return fake_customers(1500, seed=3)


def _partition(wh) -> set[frozenset[str]]:
    lineage = wh.execute(wh.table("customer_lineage"))
    return {frozenset(g) for _, g in lineage.groupby("unified_id").customer_id}


def _ids(wh) -> dict[str, str]:
    lineage = wh.execute(wh.table("customer_lineage"))
    return dict(zip(lineage.customer_id, lineage.unified_id, strict=True))


def test_one_percent_new_records_are_compared_alone_and_match_a_full_resolution(people):
    customers, truth = people
    rng = np.random.default_rng(0)
    late = rng.choice(len(customers), size=len(customers) // 100, replace=False)
    wh = connect()
    wh.write("customers", customers.drop(customers.index[late]))
    assert resolve(wh).mode == "full"
    before = _ids(wh)
    wh.write("customers", customers)
    result = resolve(wh)
    assert (result.mode, result.compared, result.new_records) == ("incremental", len(late), len(late))
    assert result.changed_records == result.removed_records == 0
    after = _ids(wh)
    # The earlier customers keep their ids (a late record joins one, it does not rename it).
    assert all(after[k] == v for k, v in before.items())
    full = connect()
    full.write("customers", customers)
    assert resolve(full, incremental=False).mode == "full"
    assert _partition(wh) == _partition(full)
    inc, ref = evaluate(wh.execute(wh.table("customer_lineage")), truth), evaluate(
        full.execute(full.table("customer_lineage")), truth)
    assert inc["f1"] == pytest.approx(ref["f1"]) and inc["f1"] > 0.9


def test_a_late_duplicate_joins_its_customer(warehouse, hand_df):
    warehouse.write("customers", hand_df)
    resolve(warehouse)
    twin = hand_df[hand_df.customer_id == "crm-4"].assign(customer_id="app-4", source_system="app")
    warehouse.write("customers", pd.concat([hand_df, twin], ignore_index=True))
    result = resolve(warehouse)
    assert (result.mode, result.compared) == ("incremental", 1)
    ids = _ids(warehouse)
    assert ids["app-4"] == ids["crm-4"]
    lineage = warehouse.execute(warehouse.table("customer_lineage")).set_index("customer_id")
    assert lineage.loc[["crm-4", "app-4"], "cluster_size"].tolist() == [2, 2]
    assert lineage.loc["app-4", "match_probability"] >= 0.95


def test_a_record_edited_into_someone_else_splits_off_and_the_split_is_recorded(warehouse, hand_df):
    warehouse.write("customers", hand_df)
    resolve(warehouse)
    first = _ids(warehouse)
    assert first["crm-1"] == first["web-1"]
    edited = hand_df.copy()
    i = edited.index[edited.customer_id == "web-1"][0]
    edited.loc[i, ["name", "email", "phone", "address", "postcode"]] = [
        "Omar Reid", "omar.reid@example.org", "07700 900888", "5 Elm Grove", "G1 1XQ"]
    edited.loc[i, "birth_date"] = pd.Timestamp("1999-03-03")
    edited.loc[i, "gender"] = "M"
    warehouse.write("customers", edited)
    result = resolve(warehouse)
    # The changed record re-opens its customer: both records are compared again.
    assert (result.mode, result.changed_records, result.compared) == ("incremental", 1, 2)
    ids = _ids(warehouse)
    assert ids["crm-1"] == first["crm-1"] and ids["web-1"] != first["web-1"]
    changes = warehouse.execute(warehouse.table("identity_changes"))
    assert changes[["kind", "old_id", "new_id"]].to_dict("records") == [
        {"kind": "split", "old_id": first["crm-1"], "new_id": ids["web-1"]}]


def test_nothing_changed_compares_nothing_and_changes_nothing(warehouse, hand_df):
    warehouse.write("customers", hand_df)
    resolve(warehouse)
    lineage = warehouse.execute(warehouse.table("customer_lineage"))
    warehouse.write("customers", hand_df.sample(frac=1, random_state=1))  # row order is not a change
    result = resolve(warehouse)
    assert (result.mode, result.compared) == ("incremental", 0)
    again = warehouse.execute(warehouse.table("customer_lineage"))
    pd.testing.assert_frame_equal(again, lineage)


def test_a_full_resolution_is_run_when_the_model_does_not_fit_or_much_changed(warehouse, hand_df):
    warehouse.write("customers", hand_df)
    resolve(warehouse)
    assert resolve(warehouse, threshold=0.9).mode == "full"  # another threshold: retrain
    assert resolve(warehouse, threshold=0.9).mode == "incremental"
    many = int(np.ceil(MAX_CHANGED_SHARE * len(hand_df))) + 1
    extra = hand_df.head(many).assign(customer_id=lambda d: "new-" + d.customer_id, source_system="app")
    warehouse.write("customers", pd.concat([hand_df, extra], ignore_index=True))
    assert resolve(warehouse, threshold=0.9).mode == "full"
    assert resolve(warehouse, threshold=0.9, incremental=False).mode == "full"
