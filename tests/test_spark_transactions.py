"""On Spark a table is replaced by renames; a process killed between them loses nothing: the
next connect finishes the swap (the new table is whole) or leaves the old one."""

from __future__ import annotations

import pandas as pd
import pytest

from crmine.warehouse import connect

pytestmark = pytest.mark.spark


@pytest.fixture
def wh(tmp_path):
    pytest.importorskip("pyspark", reason="PySpark not installed (pip install 'crmine[spark]')")
    w = connect(tmp_path / "wh", engine="spark")
    w.write("t", pd.DataFrame({"a": [1, 2, 3]}))
    yield w
    for name in w.con.list_tables():
        w.drop(name)


class Killed(BaseException):
    """Stands for the process dying: nothing after it runs."""


def _die_on_rename(wh, monkeypatch, nth: int) -> None:
    calls = []
    rename = wh.con.rename_table

    def dying(old, new):
        calls.append(old)
        if len(calls) == nth:
            raise Killed
        return rename(old, new)

    monkeypatch.setattr(wh.con, "rename_table", dying)


def _leftovers(wh) -> set[str]:
    return {n for n in wh.con.list_tables() if n.endswith(("_old", "_staging", "_widened"))}


def _values(wh, name="t") -> list[int]:
    return sorted(wh.execute(wh.table(name)).a.tolist())


def test_a_kill_between_the_renames_is_finished_on_the_next_connect(wh, monkeypatch, tmp_path):
    _die_on_rename(wh, monkeypatch, nth=2)  # the old table is aside, the new one not yet named
    with pytest.raises(Killed):
        wh.write("t", pd.DataFrame({"a": [1, 2, 3, 4, 5]}))
    monkeypatch.undo()
    assert not wh.has_table("t")
    again = connect(tmp_path / "wh", engine="spark")
    assert _values(again) == [1, 2, 3, 4, 5]
    assert _leftovers(again) == set()


def test_a_kill_before_the_swap_leaves_the_old_table(wh, monkeypatch, tmp_path):
    _die_on_rename(wh, monkeypatch, nth=1)  # the new rows are staged; nothing renamed yet
    with pytest.raises(Killed):
        wh.write("t", pd.DataFrame({"a": [9]}))
    monkeypatch.undo()
    again = connect(tmp_path / "wh", engine="spark")
    assert _values(again) == [1, 2, 3]
    assert _leftovers(again) == set()


def test_an_update_and_a_widening_on_spark_keep_every_row(wh):
    wh.upsert("t", pd.DataFrame({"a": [3, 4]}), ["a"])
    assert _values(wh) == [1, 2, 3, 4]
    wh.add_columns("t", {"b": "string"})
    assert list(wh.table("t").columns) == ["a", "b"] and _values(wh) == [1, 2, 3, 4]
    assert _leftovers(wh) == set()


def test_a_transaction_is_all_or_nothing_and_reads_its_own_writes(wh):
    with pytest.raises(RuntimeError, match="boom"), wh.transaction():
        wh.insert("t", pd.DataFrame({"a": [4]}))
        assert _values(wh) == [1, 2, 3, 4]  # the transaction sees its own rows
        wh.write("u", pd.DataFrame({"a": [7]}))
        raise RuntimeError("boom")
    assert _values(wh) == [1, 2, 3] and not wh.has_table("u")
    assert {n for n in wh.con.list_tables() if "_txn" in n} == set()
    with wh.transaction():
        wh.insert("t", pd.DataFrame({"a": [4]}))
        wh.insert("t", pd.DataFrame({"a": [5]}))
        wh.write("u", pd.DataFrame({"a": [7]}))
    assert _values(wh) == [1, 2, 3, 4, 5] and _values(wh, "u") == [7]


def test_a_kill_while_a_transaction_is_swapped_in_is_finished_on_the_next_connect(wh, monkeypatch, tmp_path):
    _die_on_rename(wh, monkeypatch, nth=3)  # t's copy is in; u's rename never happens
    with pytest.raises(Killed), wh.transaction():
        wh.insert("t", pd.DataFrame({"a": [4]}))
        wh.write("u", pd.DataFrame({"a": [7]}))
    monkeypatch.undo()
    again = connect(tmp_path / "wh", engine="spark")
    assert _values(again) == [1, 2, 3, 4] and _values(again, "u") == [7]
    assert {n for n in again.con.list_tables() if "_txn" in n or "journal" in n} == set()


@pytest.mark.parametrize("engine", ["spark"], indirect=True)
def test_a_load_that_fails_after_its_update_leaves_the_spark_warehouse_as_it_was(make_workspace, engine,
                                                                                 monkeypatch):
    import crmine
    from crmine.io import _changes

    files = {"customers.csv": "customer_id,name,city\nC1,Ann,Leeds\nC2,Bob,York\n"}
    root = make_workspace('[sources.crm]\ntable = "customers"\npath = "sources/customers.csv"\n', files,
                          engine=engine)
    ws = crmine.init(root)
    ws.ingest.run()
    before = {t: ws.warehouse.execute(ws.warehouse.table(t)).sort_values(list(ws.warehouse.table(t).columns)[:1])
              .reset_index(drop=True) for t in ("customers", "customers_history", "load_log", "quarantine")}
    (root / "sources" / "customers.csv").write_text(files["customers.csv"].replace("York", "Ripon") + "C3,Cy,Bath\n")
    keep = _changes._keep

    def fail_after_the_update(*args, **kwargs):
        keep(*args, **kwargs)
        raise RuntimeError("the disk filled up")

    monkeypatch.setattr(_changes, "_keep", fail_after_the_update)
    with pytest.raises(Exception, match="the disk filled up"):
        ws.ingest.run()
    monkeypatch.undo()
    for t, frame in before.items():
        now = ws.warehouse.execute(ws.warehouse.table(t)).sort_values(list(frame.columns)[:1]).reset_index(drop=True)
        pd.testing.assert_frame_equal(now, frame, check_dtype=False)
    r = ws.ingest.run()[0]  # and the load simply runs again
    assert (r.inserted, r.updated, r.unchanged) == (1, 1, 1)
