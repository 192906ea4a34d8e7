"""Malformed files give a clear error or a quarantine, never a traceback, and never lose a row."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import crmine
from crmine.errors import CrmineError, SourceError
from tests.conftest import ENGINES

TOML = """
[sources.staff]
table = "employees"
path = "sources/staff.csv"
"""


def _load(make_workspace, content: bytes | str, name="ws"):
    ws = crmine.init(make_workspace(TOML, {"staff.csv": content}, name=name))
    return ws, ws.ingest.run()[0]


def test_empty_file_is_a_clear_error(make_workspace):
    with pytest.raises(SourceError, match=r"Source 'staff' \(sources/staff.csv\): the file is empty \(0 bytes\)"):
        _load(make_workspace, b"")


def test_binary_garbage_is_a_clear_error(make_workspace):
    with pytest.raises(SourceError, match=r"contains NUL bytes, so it is binary, not csv text"):
        _load(make_workspace, bytes(range(256)) * 4)


def test_missing_file_says_where_to_fix_it(make_workspace):
    ws = crmine.init(make_workspace(TOML, {}))
    with pytest.raises(SourceError, match=r"file not found\. Check `path` under \[sources.staff\] in crmine.toml"):
        ws.ingest.run()


def test_header_only_loads_nothing_and_says_so(make_workspace):
    ws, r = _load(make_workspace, "agent_id,team\n")
    assert (r.read, r.loaded, r.quarantined) == (0, 0, 0)
    assert ws.status()["loads"] == [{"source": "staff", "file": "sources/staff.csv", "read": 0, "loaded": 0, "quarantined": 0}]


def test_invalid_utf8_and_ragged_rows_are_quarantined_by_line(make_workspace):
    content = b"agent_id,team\nA1,x\nA2,\xff\xfe\nA3\nA4,y,z\nA5,w\n"
    ws, r = _load(make_workspace, content)
    assert (r.read, r.loaded, r.quarantined) == (5, 2, 3)
    q = ws.ingest.quarantine()
    assert sorted(zip(q.line, q.reason, strict=True)) == [(3, "malformed_row"), (4, "malformed_row"), (5, "malformed_row")]


@pytest.mark.parametrize("engine", ENGINES, indirect=True)
def test_line_numbers_count_line_breaks_inside_quoted_values(make_workspace, engine):
    # Physical lines: 1 header, 2-3 A1, 4 A2 (bad), 5-7 A3, 8-9 A4 (ragged, spans two lines),
    # 10 A5 (bad), 11 A6.
    content = (
        'agent_id,team,hired\nA1,"two\nlines",2020-01-01\nA2,x,not-a-date\nA3,"three\nline\nteam",2021-02-02\n'
        'A4,"ragged\nrow",2022-03-03,extra\nA5,y,2023-13-45\nA6,z,2024-04-04\n'
    )
    ws = crmine.init(make_workspace(TOML, {"staff.csv": content}, engine=engine))
    (r,) = ws.ingest.run()
    assert (r.read, r.loaded, r.quarantined) == (6, 3, 3)
    q = ws.ingest.quarantine().sort_values("line")
    assert list(zip(q.line, q.reason, strict=True)) == [(4, "bad_type"), (8, "malformed_row"), (10, "bad_type")]
    assert q.record.iloc[1].startswith("A4,") and "ragged" in q.record.iloc[1]  # the raw text is kept


def test_adjacent_rejects_and_a_blank_line_keep_their_lines(make_workspace):
    # Found by the property test below: rows were duplicated and lines shifted here.
    ws, r = _load(make_workspace, b"agent_id\nA1,x\nA1,x\n\nA1,x")
    assert (r.read, r.loaded, r.quarantined) == (4, 0, 4)
    q = ws.ingest.quarantine().sort_values("line")
    assert list(zip(q.line, q.reason, strict=True)) == [
        (2, "malformed_row"), (3, "malformed_row"), (4, "missing_required"), (5, "malformed_row"),
    ]


def test_latin1_file_reads_with_declared_encoding(make_workspace):
    toml = TOML + 'encoding = "latin-1"\n'
    ws = crmine.init(make_workspace(toml, {"staff.csv": "agent_id,team\nA1,Café\n".encode("latin-1")}))
    r = ws.ingest.run()[0]
    assert r.loaded == 1
    assert ws.warehouse.execute(ws.table("employees")).team.tolist() == ["Café"]


def test_an_encoding_duckdb_cannot_read_loads_through_pythons_reader(make_workspace):
    # DuckDB's reader knows utf-8, utf-16 and latin-1; any other codec goes through Python's.
    toml = TOML + 'encoding = "cp1252"\n'
    ws = crmine.init(make_workspace(toml, {"staff.csv": "agent_id,team\nA1,Caf\u00e9 \u20ac\nA2\n".encode("cp1252")}))
    r = ws.ingest.run()[0]
    assert (r.read, r.loaded, r.quarantined) == (2, 1, 1)
    assert ws.warehouse.execute(ws.table("employees")).team.tolist() == ["Caf\u00e9 \u20ac"]
    assert list(ws.ingest.quarantine().line) == [3]


_COUNTER = itertools.count()
_CSVISH = st.lists(
    st.one_of(
        st.sampled_from([b"A1,x", b"A2,", b",y", b"A3,x,extra", b"A1,x", b'"A4","t"', b'"open', b"\xff\xfe,z", b"", b"A5;q"]),
        st.binary(max_size=20),
    ),
    max_size=12,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=_CSVISH, header=st.sampled_from([b"agent_id,team\n", b"agent_id\n", b"team,agent_id\n", b""]))
def test_any_bytes_give_an_error_or_a_reconciled_load(make_workspace, body, header):
    content = header + b"\n".join(body)
    name = f"h{next(_COUNTER)}"
    try:
        ws, r = _load(make_workspace, content, name=name)
    except CrmineError as e:
        assert str(e)  # a message, not a traceback
        return
    assert r.read == r.loaded + r.quarantined
    st_ = ws.status()
    assert st_["tables"]["employees"] == r.loaded
    assert st_["tables"]["quarantine"] == r.quarantined
    lines = ws.ingest.quarantine().line
    assert lines.is_unique and (lines >= 1).all()  # one reason per line, each a real line
    ws.close()
