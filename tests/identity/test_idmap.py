"""Unified ids stay put: joins, merges, splits and deletions move as few ids as they must, and say so."""

from __future__ import annotations

import pandas as pd

from crmine.identity import resolve
from crmine.identity._idmap import assign_stable_ids, fresh_id


def _clusters(groups: dict[str, list[str]]) -> pd.DataFrame:
    rows = [(rec, "crm", cluster) for cluster, recs in groups.items() for rec in recs]
    return pd.DataFrame(rows, columns=["customer_id", "source_system", "cluster"])


def _previous(ids: dict[str, list[str]]) -> pd.DataFrame:
    rows = [(rec, "crm", uid) for uid, recs in ids.items() for rec in recs]
    return pd.DataFrame(rows, columns=["customer_id", "source_system", "unified_id"])


def _named(clusters: pd.DataFrame, ids: pd.Series) -> dict[str, str]:
    return dict(zip(clusters["customer_id"], ids, strict=True))


def test_a_first_resolution_names_each_cluster_from_its_smallest_record():
    c = _clusters({"x": ["b", "a"], "y": ["c"]})
    ids, changes = assign_stable_ids(c, None)
    named = _named(c, ids)
    assert named["a"] == named["b"] == fresh_id("crm:a")
    assert named["c"] == fresh_id("crm:c")
    assert changes.empty


def test_a_record_with_a_smaller_id_joining_a_customer_does_not_rename_it():
    c = _clusters({"x": ["a0", "b", "c"]})
    ids, changes = assign_stable_ids(c, _previous({"U_old": ["b", "c"]}))
    assert set(ids) == {"U_old"} and changes.empty


def test_a_merge_keeps_the_larger_customer_and_records_the_other():
    c = _clusters({"x": ["a", "b", "c"]})
    ids, changes = assign_stable_ids(c, _previous({"U_big": ["b", "c"], "U_small": ["a"]}))
    assert set(ids) == {"U_big"}
    assert changes.to_dict("records") == [{"kind": "merge", "old_id": "U_small", "new_id": "U_big", "records": 1}]


def test_a_split_leaves_the_id_with_the_larger_part_and_names_the_other_freshly():
    c = _clusters({"x": ["a", "b"], "y": ["c"]})
    ids, changes = assign_stable_ids(c, _previous({"U_one": ["a", "b", "c"]}))
    named = _named(c, ids)
    assert named["a"] == named["b"] == "U_one"
    assert named["c"] not in ("U_one",) and named["c"].startswith("U")
    assert changes.to_dict("records") == [{"kind": "split", "old_id": "U_one", "new_id": named["c"], "records": 1}]


def test_a_customer_whose_records_are_all_gone_is_retired():
    c = _clusters({"x": ["a"]})
    _, changes = assign_stable_ids(c, _previous({"U_a": ["a"], "U_gone": ["z"]}))
    assert changes.to_dict("records") == [{"kind": "retire", "old_id": "U_gone", "new_id": None, "records": 0}]


def test_an_id_once_issued_is_never_issued_again():
    # "a" would be named fresh_id("crm:a"), but that id belonged to someone before.
    c = _clusters({"x": ["a"]})
    ids, _ = assign_stable_ids(c, None, used={fresh_id("crm:a")})
    assert ids.iloc[0] != fresh_id("crm:a") and ids.iloc[0].startswith("U")


def test_the_same_record_ids_in_two_source_systems_are_two_records():
    c = pd.DataFrame({"customer_id": ["1", "1"], "source_system": ["shop", "crm"], "cluster": ["p", "q"]})
    ids, _ = assign_stable_ids(c, None)
    assert ids.nunique() == 2


def test_ids_do_not_depend_on_row_order():
    c = _clusters({"x": ["a", "b", "c"], "y": ["d", "e"], "z": ["f"]})
    prev = _previous({"U1": ["a", "d"], "U2": ["b"], "U3": ["e", "f"]})
    ids, changes = assign_stable_ids(c, prev)
    shuffled = c.sample(frac=1, random_state=4)
    ids2, changes2 = assign_stable_ids(shuffled, prev.sample(frac=1, random_state=5))
    assert _named(c, ids) == _named(shuffled, ids2)
    key = ["kind", "old_id", "new_id"]
    pd.testing.assert_frame_equal(changes.sort_values(key).reset_index(drop=True),
                                  changes2.sort_values(key).reset_index(drop=True))


def _lineage(wh) -> dict[str, str]:
    df = wh.execute(wh.table("customer_lineage"))
    return dict(zip(df.customer_id, df.unified_id, strict=True))


def test_resolving_again_after_a_new_duplicate_keeps_every_id_and_keeps_history(warehouse, hand_df):
    warehouse.write("customers", hand_df)
    resolve(warehouse)
    first = _lineage(warehouse)
    # A new record of the crm-1 / web-1 person, with an id that sorts before both.
    twin = hand_df[hand_df.customer_id == "crm-1"].assign(customer_id="aaa-1", source_system="app")
    warehouse.write("customers", pd.concat([hand_df, twin], ignore_index=True))
    resolve(warehouse)
    second = _lineage(warehouse)
    assert {k: second[k] for k in first} == first  # nobody was renamed
    assert second["aaa-1"] == first["crm-1"]  # the newcomer joined the existing customer
    history = warehouse.execute(warehouse.table("customer_lineage_history"))
    assert history.valid_to.isna().all()  # no pair ended: every earlier pair is still current
    assert len(history) == len(second)
    assert history.loc[history.customer_id == "aaa-1", "valid_from"].iloc[0] >= history.valid_from.min()


def test_a_deleted_record_closes_its_history_and_retires_a_lone_customer(warehouse, hand_df):
    warehouse.write("customers", hand_df)
    resolve(warehouse)
    first = _lineage(warehouse)
    warehouse.write("customers", hand_df[hand_df.customer_id != "crm-6"])
    resolve(warehouse)
    history = warehouse.execute(warehouse.table("customer_lineage_history"))
    ended = history[history.valid_to.notna()]
    assert list(ended.customer_id) == ["crm-6"]
    changes = warehouse.execute(warehouse.table("identity_changes"))
    assert changes[["kind", "old_id"]].to_dict("records") == [{"kind": "retire", "old_id": first["crm-6"]}]
