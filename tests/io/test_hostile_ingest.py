"""Hostile files: each bad row is quarantined with its reason and the rest of the load goes on.

Every test writes its own file, counts the file's records itself (never as loaded + quarantined),
and checks that the reasons, lines and counts reconcile with it, that the good rows were kept, and
that no message or quarantine detail repeats a value planted in the file.
"""

from __future__ import annotations

import csv
import io
import warnings
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

import crmine
from crmine._dates import as_of_day
from crmine.errors import SchemaError, SettingsError, SourceError
from crmine.settings import Settings
from tests.conftest import ENGINES

# Values that must never appear in a message: a customer's e-mail, phone and name.
EMAIL, PHONE, NAME = "ann.lee@example.com", "+44 20 7946 0958", "Ann Lee"


def _records(text: str) -> int:
    """The file's data records, counted here: non-empty CSV records after the header."""
    return sum(1 for r in csv.reader(io.StringIO(text)) if r) - 1


def _quarantined(ws) -> list[tuple[int, str, str | None]]:
    q = ws.ingest.quarantine().sort_values("line")
    return [(int(r.line), r.reason, None if pd.isna(r.column) else r.column) for r in q.itertuples()]


def _value_free(text: str, *values: str) -> None:
    for v in values:
        assert v not in text, f"the message repeats the planted value {v!r}: {text}"


def _details(ws) -> str:
    return " | ".join(ws.ingest.quarantine().detail.dropna())


TX = """
[sources.orders]
table = "transactions"
path = "sources/orders.csv"
"""
H = "order_id,line_no,customer_id,ts,quantity,amount\n"


# -- item 4: a header that looks like data is reported by position and type, never by value -------
def test_headerless_file_is_reported_by_position_and_type_never_by_value(make_workspace):
    body = f"C0000001,{NAME},{EMAIL},{PHONE},2020-01-05\nC0000002,Bob Stone,bob@example.com,+44 20 7946 0959,2020-02-01\n"
    toml = '[sources.crm]\ntable = "customers"\npath = "sources/customers.csv"\n'
    ws = crmine.init(make_workspace(toml, {"customers.csv": body}))
    with pytest.raises(SourceError) as info:
        ws.ingest.run()
    msg = str(info.value)
    assert ("Source 'crm' (sources/customers.csv): the first line looks like data, not a header (column 1 "
            "looks like an id, column 3 like an e-mail, column 4 like a phone number, column 5 like a date)") in msg
    assert "add a header line naming each of its 5 columns (customers needs at least customer_id)" in msg
    _value_free(msg, "C0000001", NAME, EMAIL, PHONE, "2020-01-05")
    assert [(r.source, r.status) for r in info.value.results] == [("crm", "failed")]
    assert ws.status()["tables"]["customers"] == 0


def test_missing_columns_list_data_like_names_by_position(make_workspace):
    # JSON objects keyed by a customer id: the keys are data, and the error must not repeat them.
    toml = '[sources.web]\ntable = "customers"\npath = "sources/web.jsonl"\n'
    ws = crmine.init(make_workspace(toml, {"web.jsonl": f'{{"name": "x", "C0000001": "{EMAIL}"}}\n'}))
    with pytest.raises(SchemaError, match=r"lacks column\(s\) for customers: customer_id\. Existing columns: "
                                          r"name, column 2 \(an id\)\. Map them"):
        ws.ingest.run()


def test_init_from_treats_a_headerless_file_as_having_no_names(tmp_path):
    from crmine.io import inspect_file

    path = tmp_path / "customers.csv"
    path.write_text(f"C0000001,{NAME},{EMAIL},{PHONE}\nC0000002,Bob Stone,bob@example.com,+44 20 7946 0959\n")
    guess = inspect_file(path)
    assert (guess.table, guess.raw_columns) == (None, ())  # its 'names' are values: none is used
    assert guess.reason.startswith("the first line looks like data, not column names: add a header line")
    _value_free(" ".join([*guess.notes, guess.reason]), "C0000001", NAME, EMAIL, PHONE)


# -- item 5: event times beyond the load time or before a plausible start are out_of_range --------
def test_event_times_out_of_the_plausible_window_are_out_of_range(make_workspace):
    now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    soon, later = now + timedelta(hours=6), now + timedelta(days=3)
    body = H + (
        "O1,1,C1,2024-01-02 10:00:00,1,10\n"
        "O2,1,C1,9999-12-31 23:59:59,1,10\n"   # line 3: a placeholder year
        "O3,1,C1,2099-03-04 10:00:00,1,10\n"   # line 4: a typo of 2019
        "O4,1,C1,0001-01-01 00:00:00,1,10\n"   # line 5
        "O5,1,C1,1899-12-31 23:59:59,1,10\n"   # line 6: before 1900
        f"O6,1,C1,{later},1,10\n"               # line 7: three days ahead
        f"O7,1,C1,{soon},1,10\n"                # line 8: within the tolerance
        "O8,1,C1,1900-01-01 00:00:00,1,10\n"
    )
    ws = crmine.init(make_workspace(TX, {"orders.csv": body}))
    (r,) = ws.ingest.run()
    assert r.read == _records(body) == 8
    assert (r.loaded, r.quarantined, r.reasons) == (3, 5, {"out_of_range": 5})
    assert _quarantined(ws) == [(i, "out_of_range", "ts") for i in (3, 4, 5, 6, 7)]
    details = ws.ingest.quarantine().set_index("line").detail
    assert details[3] == ("later than the load time plus 1 day(s) (future_tolerance_days under [ingest] in "
                          "crmine.toml)")
    assert details[5] == "before 1900-01-01, the earliest plausible date"
    kept = ws.warehouse.execute(ws.table("transactions")).order_id.tolist()
    assert sorted(kept) == ["O1", "O7", "O8"]
    # The as-of day is the latest plausible time, never an outlier.
    assert as_of_day(ws.warehouse, None) == pd.Timestamp(soon).normalize()


def test_future_tolerance_days_is_a_setting(make_workspace):
    ahead = datetime.now(UTC).replace(tzinfo=None, microsecond=0) + timedelta(days=10)
    body = H + f"O1,1,C1,{ahead},1,10\nO2,1,C1,2024-01-02 10:00:00,1,10\n"
    ws = crmine.init(make_workspace(TX + "[ingest]\nfuture_tolerance_days = 30\n", {"orders.csv": body}))
    (r,) = ws.ingest.run()
    assert (r.read, r.loaded, r.quarantined) == (_records(body), 2, 0)
    with pytest.raises(SettingsError, match=r"ingest.future_tolerance_days: must be between 0 and 3660"):
        Settings.from_dict({"ingest": {"future_tolerance_days": -1}})
    with pytest.raises(SettingsError, match=r"ingest.future_tolerance_days: must be int or float, got str"):
        Settings.from_dict({"ingest": {"future_tolerance_days": "1"}})
    s = Settings.from_dict({"ingest": {"future_tolerance_days": 2}})
    assert s.future_tolerance_days == 2.0 and Settings.from_dict(s.to_dict()) == s


def test_birth_dates_and_planned_days_have_their_own_ranges(make_workspace):
    toml = """
    [sources.crm]
    table = "customers"
    path = "sources/customers.csv"
    [sources.promos]
    table = "promotions"
    path = "sources/promos.csv"
    """
    customers = ("customer_id,email,birth_date,signup_date\n"
                 f"C1,{EMAIL},1980-02-03,2020-01-05\n"
                 "C2,b@example.com,1850-01-01,2020-01-05\n"   # line 3: born before 1900
                 "C3,c@example.com,9999-12-31,2020-01-05\n"   # line 4
                 "C4,d@example.com,1975-01-01,2099-01-01\n")  # line 5: signed up in the future
    promos = ("promotion_id,start,end\n"
              "P1,2024-01-01,2099-12-31\n"  # a promotion may be planned far ahead
              "P2,2024-01-01,9999-12-31\n")  # line 3: a placeholder, not a day
    ws = crmine.init(make_workspace(toml, {"customers.csv": customers, "promos.csv": promos}))
    r = {x.source: x for x in ws.ingest.run()}
    assert (r["crm"].read, r["crm"].loaded, r["crm"].quarantined) == (_records(customers), 1, 3)
    assert (r["promos"].read, r["promos"].loaded, r["promos"].quarantined) == (_records(promos), 1, 1)
    q = ws.ingest.quarantine()
    got = sorted(zip(q.source, q.line, q.column, q.reason, strict=True))
    assert got == [("crm", 3, "birth_date", "out_of_range"), ("crm", 4, "birth_date", "out_of_range"),
                   ("crm", 5, "signup_date", "out_of_range"), ("promos", 3, "end", "out_of_range")]
    promo_detail = q.loc[q.source == "promos", "detail"].iloc[0]
    assert promo_detail == "on or after 2200-01-01, a placeholder rather than a planned day (leave it empty for none)"
    _value_free(_details(ws), EMAIL)


def test_an_old_warehouse_with_out_of_bounds_times_still_has_an_as_of_day(make_workspace):
    body = H + "O1,1,C1,2024-01-02 10:00:00,1,10\nO2,1,C1,2024-03-05 10:00:00,1,10\n"
    ws = crmine.init(make_workspace(TX, {"orders.csv": body}))
    ws.ingest.run()
    # Rows an older crmine let in: a placeholder year and a typo, beyond what pandas can hold.
    ws.warehouse.duckdb.execute(
        "INSERT INTO transactions (order_id, line_no, customer_id, ts, amount) VALUES "
        "('O3', 1, 'C1', TIMESTAMP '9999-12-31 23:59:59', 10), ('O4', 1, 'C1', TIMESTAMP '2099-01-01', 10), "
        "('O5', 1, 'C1', TIMESTAMP '0001-01-01', 10)"
    )
    with pytest.warns(UserWarning, match=r"^3 transaction time\(s\) before 1900-01-01 or after \S+ were left out "
                                         r"when choosing the last transaction day"):
        day = as_of_day(ws.warehouse, None)
    assert day == pd.Timestamp("2024-03-05")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert as_of_day(ws.warehouse, "2024-02-01") == pd.Timestamp("2024-02-01")  # a given day asks nothing


# -- item 6: values that abort a load are quarantined instead ------------------------------------
@pytest.mark.parametrize("engine", ENGINES, indirect=True)
def test_unreadable_line_numbers_and_non_finite_numbers_are_bad_type(make_workspace, engine):
    body = H + (
        "O1,1,C1,2024-01-02,1,10\n"
        "O2,nan,C1,2024-01-02,1,10\n"                   # line 3
        "O3,inf,C1,2024-01-02,1,10\n"                   # line 4
        "O4,1e20,C1,2024-01-02,1,10\n"                  # line 5
        "O5,9223372036854775808,C1,2024-01-02,1,10\n"   # line 6: 2^63
        "O6,3.5,C1,2024-01-02,1,10\n"                   # line 7
        "O7,1,C1,2024-01-02,NaN,10\n"                   # line 8
        "O8,1,C1,2024-01-02,inf,10\n"                   # line 9
        "O9,1,C1,2024-01-02,1,-Infinity\n"              # line 10
        "O10,9223372036854775807,C1,2024-01-02,1,10\n"  # 2^63 - 1: the largest line number
        "O11,2.0,C1,2024-01-02,2,20\n"
    )
    ws = crmine.init(make_workspace(TX, {"orders.csv": body}, engine=engine))
    (r,) = ws.ingest.run()
    assert r.read == _records(body) == 11
    assert (r.loaded, r.quarantined, r.reasons) == (3, 8, {"bad_type": 8})
    assert _quarantined(ws) == [(3, "bad_type", "line_no"), (4, "bad_type", "line_no"), (5, "bad_type", "line_no"),
                                (6, "bad_type", "line_no"), (7, "bad_type", "line_no"), (8, "bad_type", "quantity"),
                                (9, "bad_type", "quantity"), (10, "bad_type", "amount")]
    details = ws.ingest.quarantine().set_index("line").detail
    assert details[3] == "not a valid int64 (a whole number within 64 bits)"
    assert details[8] == "not a valid float64 (a finite number; NaN and infinity are not values)"
    tx = ws.warehouse.execute(ws.table("transactions").order_by("order_id"))
    assert dict(zip(tx.order_id, tx.line_no, strict=True)) == {"O1": 1, "O10": 2**63 - 1, "O11": 2}


def test_a_field_over_10_mb_is_quarantined_on_its_own_line(make_workspace):
    lines = ["agent_id,team"] + [f"A{i},t{i}" for i in range(2, 201)]
    lines[151] = "A152," + "x" * 11_000_000  # line 152
    body = "\n".join(lines) + "\n"
    toml = '[sources.staff]\ntable = "employees"\npath = "sources/staff.csv"\n'
    ws = crmine.init(make_workspace(toml, {"staff.csv": body}))
    (r,) = ws.ingest.run()
    assert r.read == len(lines) - 1 == 199
    assert (r.loaded, r.quarantined, r.reasons) == (198, 1, {"field_too_long": 1})
    q = ws.ingest.quarantine()
    assert list(zip(q.line, q.reason, strict=True)) == [(152, "field_too_long")]
    assert q.detail.iloc[0] == "a field longer than 10,000,000 characters (10 MB), the most one value may hold"
    assert q.record.iloc[0].startswith("A152,xxx")  # the raw line is kept: nothing is lost
    staff = ws.warehouse.execute(ws.table("employees"))
    assert len(staff) == 198 and "A152" not in set(staff.agent_id) and "A151" in set(staff.agent_id)


def test_a_derive_that_fails_on_some_rows_quarantines_them_as_derive_failed(make_workspace):
    toml = TX + """
    [sources.orders.derive]
    log_excess = "log(quantity - 1000)"
    """
    body = H + (
        "O1,1,C1,2024-01-02,2000,10\n"
        "O2,1,C1,2024-01-02,5,10\n"      # line 3: log of a negative number
        "O3,1,C1,2024-01-02,1000,10\n"   # line 4: log of zero
        "O4,1,C1,2024-01-02,,10\n"       # no quantity: nothing to compute, not a failure
        "O5,1,C1,2024-01-02,1001,10\n"
    )
    ws = crmine.init(make_workspace(toml, {"orders.csv": body}))
    (r,) = ws.ingest.run()
    assert r.read == _records(body) == 5
    assert (r.loaded, r.quarantined, r.reasons) == (3, 2, {"derive_failed": 2})
    assert _quarantined(ws) == [(3, "derive_failed", "log_excess"), (4, "derive_failed", "log_excess")]
    assert ws.ingest.quarantine().detail.iloc[0].startswith("log_excess = 'log(quantity - 1000)' cannot be computed: ")
    tx = ws.warehouse.execute(ws.table("transactions").order_by("order_id"))
    assert tx.order_id.tolist() == ["O1", "O4", "O5"]
    assert tx.log_excess.round(6).tolist()[::2] == [6.907755, 0.0]


def test_a_derived_required_column_that_fails_is_derive_failed_not_missing(make_workspace):
    toml = TX.replace("orders.csv", "lines.csv") + '[sources.orders.derive]\namount = "sqrt(quantity - 10)"\n'
    body = "order_id,line_no,ts,quantity\nO1,1,2024-01-02,26\nO2,1,2024-01-02,1\nO3,1,2024-01-02,\n"
    ws = crmine.init(make_workspace(toml, {"lines.csv": body}))
    (r,) = ws.ingest.run()
    assert (r.read, r.loaded) == (_records(body), 1)
    assert _quarantined(ws) == [(3, "derive_failed", "amount"), (4, "missing_required", "amount")]


# -- item 10: repeated and reserved names ------------------------------------------------------
def test_a_repeated_header_name_is_an_error_naming_both_positions(make_workspace):
    toml = '[sources.crm]\ntable = "customers"\npath = "sources/customers.csv"\n'
    body = f"customer_id,email,name,email\nC1,{EMAIL},{NAME},other@example.com\n"
    ws = crmine.init(make_workspace(toml, {"customers.csv": body}))
    with pytest.raises(SourceError, match=r"Source 'crm' \(sources/customers.csv\): columns 2 and 4 are both named "
                                          r"'email', so only one of them could be loaded; name each column once") as info:
        ws.ingest.run()
    _value_free(str(info.value), EMAIL, NAME)
    assert ws.status()["tables"]["customers"] == 0


def test_names_that_reach_internal_columns_are_refused(make_workspace):
    data = {"sources": {"orders": {
        "table": "transactions", "path": "o.csv",
        "columns": {"customer_id": "_line"},
        "derive": {"_bad_type_quantity": "false", "_rec": "1", "gross": "quantity * unit_price"},
    }}}
    with pytest.raises(SettingsError) as info:
        Settings.from_dict(data)
    msg = str(info.value)
    assert "settings has 3 problem(s)" in msg
    assert "sources.orders.columns.customer_id: '_line' is a name crmine reserves for its own bookkeeping" in msg
    assert "sources.orders.derive._bad_type_quantity: names starting with '_' are reserved" in msg
    assert "sources.orders.derive._rec: names starting with '_' are reserved" in msg
    # A file whose own column has such a name is refused too, by position.
    toml = '[sources.staff]\ntable = "employees"\npath = "sources/staff.csv"\n'
    ws = crmine.init(make_workspace(toml, {"staff.csv": "agent_id,_rec\nA1,x\n"}))
    with pytest.raises(SourceError, match=r"column 2 is named '_rec', a name crmine keeps for its own bookkeeping"):
        ws.ingest.run()


# -- item 12: one failed source does not stop the others --------------------------------------
_MANY = """
[sources.crm]
table = "customers"
path = "sources/customers.csv"
[sources.catalogue]
table = "products"
path = "sources/products.csv"
[sources.staff]
table = "employees"
path = "sources/staff.csv"
[sources.orders]
table = "transactions"
path = "sources/orders.csv"
[sources.service]
table = "interactions"
path = "sources/service.csv"
"""


def test_a_failed_source_does_not_stop_the_others_and_each_is_reported(make_workspace):
    files = {
        "customers.csv": f"customer_id,email\nC1,{EMAIL}\nC2,b@example.com\n",
        "products.csv": b"",  # empty: fails
        "staff.csv": "agent_id,team\nA1,x\n",
        "orders.csv": H.replace("amount", "amount,product_id") + "O1,1,C1,2024-01-02,1,10,P1\n",
        "service.csv": "interaction_id,customer_id,ts,agent_id\nI1,C1,2024-01-02,A1\nI2,C9,2024-01-03,A1\n",
    }
    root = make_workspace(_MANY, files)
    ws = crmine.init(root)
    with pytest.raises(SourceError) as info:
        ws.ingest.run()
    msg = str(info.value)
    assert msg.splitlines() == [
        "Ingest of 5 source(s): 3 loaded, 1 failed, 1 not attempted.",
        "  - crm (customers, sources/customers.csv): loaded: 2 read = 2 inserted + 0 quarantined",
        "  - catalogue (products, sources/products.csv): failed: Source 'catalogue' (sources/products.csv): "
        "the file is empty (0 bytes). Nothing to load; export it again.",
        "  - staff (employees, sources/staff.csv): loaded: 1 read = 1 inserted + 0 quarantined",
        "  - orders (transactions, sources/orders.csv): not attempted: its product_id refers to products, whose "
        "source 'catalogue' failed (loaded now, its rows would be quarantined as unknown_reference)",
        "  - service (interactions, sources/service.csv): loaded: 2 read = 1 inserted + 1 quarantined",
        "Fix the failed source(s) and run the ingest again; the sources loaded now are then skipped as unchanged.",
    ]
    _value_free(msg, EMAIL)
    status = {r.source: (r.status, r.read, r.loaded, r.quarantined) for r in info.value.results}
    assert status == {"crm": ("loaded", 2, 2, 0), "catalogue": ("failed", 0, 0, 0), "staff": ("loaded", 1, 1, 0),
                      "orders": ("not_attempted", 0, 0, 0), "service": ("loaded", 2, 1, 1)}
    assert {ld["source"] for ld in ws.status()["loads"]} == {"crm", "staff", "service"}
    assert isinstance(info.value.__cause__, SourceError)  # the failure itself, for a traceback

    # Fixed, the ingest loads what was left and skips what was loaded.
    (root / "sources" / "products.csv").write_text("product_id,name\nP1,Kettle\n")
    again = {r.source: r.status for r in ws.ingest.run()}
    assert again == {"crm": "unchanged", "catalogue": "loaded", "staff": "unchanged", "orders": "loaded",
                     "service": "unchanged"}
    assert ws.status()["tables"]["transactions"] == 1


def test_an_engine_failure_is_reported_in_one_line_without_the_values_it_quotes(make_workspace, monkeypatch):
    from crmine.errors import EngineError
    from crmine.io import _ingest

    real = _ingest.load_source

    def load(wh, source, root, **kw):
        if source.name == "crm":
            raise EngineError(f"duckdb failed to compute _typed_crm: ConversionException: could not convert '{EMAIL}'"
                              "\nSQL:\nSELECT ...")
        return real(wh, source, root, **kw)

    monkeypatch.setattr(_ingest, "load_source", load)
    toml = '[sources.crm]\ntable = "customers"\npath = "sources/c.csv"\n[sources.staff]\ntable = "employees"\npath = "sources/s.csv"\n'
    ws = crmine.init(make_workspace(toml, {"c.csv": f"customer_id,email\nC1,{EMAIL}\n", "s.csv": "agent_id\nA1\n"}))
    with pytest.raises(SourceError) as info:  # not an EngineError: the CLI prints a crmine error whole
        ws.ingest.run()
    lines = str(info.value).splitlines()
    assert lines[1] == ("  - crm (customers, sources/c.csv): failed: duckdb failed to compute _typed_crm: "
                        "ConversionException (the engine's own message is in the cause)")
    assert lines[2] == "  - staff (employees, sources/s.csv): loaded: 1 read = 1 inserted + 0 quarantined"
    _value_free(str(info.value), EMAIL)
    assert isinstance(info.value.__cause__, EngineError)
