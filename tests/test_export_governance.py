"""The governed export path: consent as a history at the moment of export, audit row before the file."""

from __future__ import annotations

import contextlib

import pandas as pd
import pytest

from crmine import _atomic, _export
from crmine.errors import SettingsError
from crmine.warehouse import connect

NOW = pd.Timestamp("2026-06-01 12:00:00")


@pytest.fixture
def wh():
    w = connect(None)
    rows = [  # customer, granted, ts
        ("A", True, "2025-01-01"), ("A", False, "2026-01-01"),      # withdrew later: out
        ("B", True, "2025-01-01"),                                    # granted: in
        ("C", True, "2027-01-01"),                                    # granted in the future: out
        ("D", True, None), ("D", False, "2025-01-01"),                # undated grant, dated withdrawal: out
        ("E", False, None), ("E", True, "2025-01-01"),                # undated refusal, dated grant: in
        ("F", True, "2025-01-01"), ("F", False, "2025-01-01"),        # tie: the withdrawal wins
        ("G", True, None),                                            # only undated: in
        ("H", None, "2025-01-01"),                                    # unknown: refused
    ]
    frame = pd.DataFrame(rows, columns=["customer_id", "granted", "ts"]).assign(
        purpose="marketing", channel="email", ts=lambda d: pd.to_datetime(d.ts))
    w.write("consents", frame[["customer_id", "purpose", "channel", "granted", "ts"]])
    yield w
    w.close()


def test_consent_at_takes_the_latest_record_at_or_before_the_moment(wh):
    state = _export.consent_at(wh, "marketing", "email", NOW).set_index("customer_id").granted
    assert {c for c, g in state.items() if g} == {"B", "E", "G"}
    later = _export.consent_at(wh, "marketing", "email", "2027-06-01").set_index("customer_id").granted
    assert later["C"]


def test_consent_at_withdrawal_of_one_source_record_refuses_the_unified_customer(wh):
    wh.write("customer_lineage", pd.DataFrame({"customer_id": ["B", "G"], "unified_id": ["U", "U"]}))
    wh.insert("consents", pd.DataFrame({"customer_id": ["G"], "purpose": ["marketing"], "channel": ["email"],
                                        "granted": [False], "ts": [pd.Timestamp("2026-02-01")]}))
    state = _export.consent_at(wh, "marketing", "email", NOW).set_index("customer_id").granted
    assert not state["U"] and "B" not in state.index


def test_marketing_export_leaves_out_the_unconsented_and_audits_first(wh, tmp_path, monkeypatch):
    frame = pd.DataFrame({"customer_id": list("ABCDEFGHZ")})
    creating, seen = _atomic.creating, []

    @contextlib.contextmanager
    def watched(path):
        audit = wh.execute(wh.table("export_audit"))
        seen.append((audit.file.tolist(), path.exists()))
        with creating(path) as tmp:
            yield tmp

    monkeypatch.setattr(_atomic, "creating", watched)
    done = _export.export_customers(wh, tmp_path, frame, kind="targets", what={"list": "t"}, user="me",
                                    marketing=("marketing", "email"), at=NOW.to_pydatetime())
    assert done.customers.customer_id.tolist() == ["B", "E", "G"] and done.excluded_no_consent == 6
    assert seen == [([done.file], False)]
    audit = wh.execute(wh.table("export_audit"))
    assert audit[["user", "rows", "excluded_no_consent", "kind"]].iloc[0].tolist() == ["me", 3, 6, "targets"]
    assert pd.read_csv(tmp_path / done.file).customer_id.tolist() == ["B", "E", "G"]


def test_a_failed_write_leaves_the_audit_row_and_no_file(wh, tmp_path, monkeypatch):
    @contextlib.contextmanager
    def failing(path):
        raise OSError("disk full")
        yield  # pragma: no cover

    monkeypatch.setattr(_atomic, "creating", failing)
    out = tmp_path / "list.csv"
    with pytest.raises(OSError, match="disk full"):
        _export.export_customers(wh, tmp_path, pd.DataFrame({"customer_id": ["B"]}), kind="query", what={},
                                 out=out)
    assert wh.execute(wh.table("export_audit")).file.tolist() == ["list.csv"] and not out.exists()


def test_export_refuses_personal_columns_without_the_flag_and_existing_files(wh, tmp_path):
    frame = pd.DataFrame({"customer_id": ["B"], "email": ["b@example.com"]})
    with pytest.raises(SettingsError, match="personal=True"):
        _export.export_customers(wh, tmp_path, frame, kind="query", what={})
    (tmp_path / "x.csv").write_text("old")
    with pytest.raises(SettingsError, match="exists already"):
        _export.export_customers(wh, tmp_path, frame[["customer_id"]], kind="query", what={}, out=tmp_path / "x.csv")
    assert not wh.has_table("export_audit")
    done = _export.export_customers(wh, tmp_path, frame, kind="query", what={}, personal=True)
    assert bool(wh.execute(wh.table("export_audit")).personal.iloc[0]) and done.rows == 1


def test_an_old_audit_table_gets_the_new_columns(wh, tmp_path):
    wh.write("export_audit", pd.DataFrame({"exported": [NOW], "user": ["x"], "file": ["old.csv"], "what": ["{}"],
                                           "rows": [1], "excluded_no_consent": [0]}))
    _export.export_customers(wh, tmp_path, pd.DataFrame({"customer_id": ["B"]}), kind="query", what={})
    audit = wh.execute(wh.table("export_audit").order_by("exported"))
    assert len(audit) == 2 and audit.kind.tolist()[1] == "query"
