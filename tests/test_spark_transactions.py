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
