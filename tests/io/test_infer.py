"""`crmine init --from`: guessing format, table, columns and timestamp formats from small faithful files."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import tomllib

import pytest

from crmine.errors import SourceError
from crmine.io._infer import (
    FileGuess,
    guess_rows,
    inspect_file,
    missing_analyses,
    settings_text,
)
from crmine.io._infer_toml import source_names
from crmine.settings import Settings


def _csv(path, header, rows, *, delimiter=",", encoding="utf-8", bom=b""):
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes(bom + buf.getvalue().encode(encoding))
    return path


def _mapping(guess: FileGuess, *, confident: bool = True) -> dict[str, str]:
    return {c.canonical: c.raw for c in guess.columns if c.confident or not confident}


def _cdnow(tmp_path):
    """CDNOW's layout: customer, compact date, quantity, amount; no order id."""
    rows = [("00001", "19970101", 1, "11.77"), ("00002", "19970112", 1, "12.00"), ("00002", "19970112", 5, "77.00"),
            ("00003", "19970102", 2, "20.76"), ("00003", "19970330", 2, "20.76"), ("00003", "19970402", 2, "19.54"),
            ("00003", "19971115", 5, "57.45"), ("00004", "19970101", 2, "29.33"), ("00004", "19970118", 2, "29.73")]
    return _csv(tmp_path / "CDNOW_master.csv", ["customer_id", "date", "quantity", "amount"], rows)


_RETAIL_TIMES = ["12/1/2010 8:26", "12/1/2010 8:26", "12/1/2010 9:01", "12/2/2010 10:03", "12/13/2010 9:41",
                 "12/13/2010 9:41", "1/5/2011 14:10", "1/20/2011 15:55", "2/1/2011 8:05", "2/14/2011 11:30"]


def _online_retail(tmp_path):
    """UCI Online Retail: latin-1 text, month-first dates, '.0' customer ids, 'C' cancellations."""
    rows = []
    for i, when in enumerate(_RETAIL_TIMES * 3):
        cancel = i % 10 == 4
        rows.append([("C" if cancel else "") + str(536365 + i // 2), ["85123A", "71053", "22752"][i % 3],
                     ["WHITE HANGING HEART T-LIGHT HOLDER", "CRÈME BRÛLÉE DISH", "SET 7 BABUSHKA NESTING BOXES"][i % 3],
                     -2 if cancel else 6 + i % 4, when, ["2.55", "3.39", "7.65"][i % 3],
                     "" if i % 7 == 0 else f"{17850 + i % 5}.0", "United Kingdom"])
    header = ["InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID", "Country"]
    return _csv(tmp_path / "Online Retail.csv", header, rows, encoding="latin-1")


_PEOPLE = [("C0001", "Ann Lee", "ann.lee@example.com", "+44 20 7946 0011", "Leeds"),
           ("C0002", "Bob Stone", "bob.stone@example.org", "020 7946 0012", "York"),
           ("C0003", "Cy Twombly", "cy@example.net", "+1 (555) 010-2000", "Boston"),
           ("C0004", "Dee Nobody", "dee.n@example.com", "07700 900123", "Leeds"),
           ("C0005", "Eve Dalton", "eve.dalton@example.com", "+44 113 496 0000", "Hull")]


def _customers(tmp_path):
    return _csv(tmp_path / "crm_export.csv", ["Customer ID", "Full Name", "E-mail", "Phone", "City"], _PEOPLE)


# -- what inspect_file finds ---------------------------------------------------------------------
def test_inspect_cdnow_like_file_is_transactions_without_order_id(tmp_path):
    g = inspect_file(_cdnow(tmp_path))
    assert (g.format, g.table, g.delimiter, g.encoding) == ("csv", "transactions", ",", "utf-8")
    assert g.confident
    assert _mapping(g) == {"customer_id": "customer_id", "ts": "date", "quantity": "quantity", "amount": "amount"}
    assert [(f.canonical, f.format) for f in g.formats] == [("ts", "%Y%m%d")]
    assert any(n.startswith("no order id: each line is its own order line") for n in g.notes)
    assert g.derive == () and g.return_prefix is None


def test_inspect_online_retail_like_file_reads_month_first_latin1_and_cancellations(tmp_path):
    g = inspect_file(_online_retail(tmp_path))
    assert g.table == "transactions" and g.confident
    assert g.encoding == "latin-1" and "not valid UTF-8" in g.encoding_reason
    assert _mapping(g) == {"order_id": "InvoiceNo", "customer_id": "CustomerID", "ts": "InvoiceDate",
                           "product_id": "StockCode", "product_name": "Description", "quantity": "Quantity",
                           "unit_price": "UnitPrice"}
    (ts,) = g.formats
    assert ts.format == "%m/%d/%Y %H:%M" and ts.confidence >= 0.9
    assert "second field above 12, so the month comes first" in ts.reason
    for value in _RETAIL_TIMES:  # the format parses non-padded values the way crmine will
        dt.datetime.strptime(value, ts.format)
    assert g.return_prefix == "C" and "negative quantity" in g.return_reason
    assert [(d.canonical, d.expression) for d in g.derive] == [("amount", "quantity * unit_price")]
    assert g.unused == ("Country",)
    assert any("'.0'" in n for n in g.notes) and any("guest lines" in n for n in g.notes)
    assert any("crmine numbers the lines within each order" in n for n in g.notes)


def test_inspect_day_first_semicolon_file(tmp_path):
    rows = [(f"B{100 + i // 2}", f"K{i % 4}", d, i % 3 + 1, f"{9.5 + i:.2f}")
            for i, d in enumerate(["25/12/2021", "03/01/2022", "14/02/2022", "01/03/2022", "30/04/2022", "07/05/2022"])]
    g = inspect_file(_csv(tmp_path / "bestellungen.csv", ["order_id", "customer", "order date", "qty", "total"], rows,
                          delimiter=";"))
    assert g.table == "transactions" and g.delimiter == ";"
    assert _mapping(g)["ts"] == "order date" and _mapping(g)["amount"] == "total"
    (ts,) = g.formats
    assert ts.format == "%d/%m/%Y" and ts.confident
    assert "first field above 12, so the day comes first" in ts.reason


def test_inspect_ambiguous_dates_give_a_commented_low_confidence_format(tmp_path):
    rows = [(f"O{i}", f"C{i % 3}", d, f"{5 + i}.99") for i, d in
            enumerate(["01/02/2022", "03/04/2022", "05/06/2022", "07/08/2022", "09/10/2022", "11/12/2022"])]
    path = _csv(tmp_path / "orders.csv", ["order_id", "customer_id", "order_date", "amount"], rows)
    g = inspect_file(path)
    (ts,) = g.formats
    assert ts.format == "%m/%d/%Y" and not ts.confident
    assert "ambiguous" in ts.reason and ts.alternatives == ("%d/%m/%Y",)
    toml = settings_text([g], root=tmp_path)
    line = next(x for x in toml.splitlines() if x.startswith('# ts = "%m/%d/%Y"'))
    assert "# low confidence (0.35): " in line and "ambiguous" in line and "'%d/%m/%Y'" in line
    assert "formats" not in tomllib.loads(toml)["sources"]["orders"] or not tomllib.loads(toml)["sources"]["orders"]["formats"]


def test_inspect_mixed_timestamp_layouts_are_reported(tmp_path):
    dates = ["2024-01-05", "2024-02-06", "13/03/2024", "2024-04-07", "2024-05-08", "2024-06-09", "25/07/2024",
             "2024-08-10"]
    rows = [(f"O{i}", "C1", d, "10.00") for i, d in enumerate(dates)]
    g = inspect_file(_csv(tmp_path / "orders.csv", ["order_id", "customer_id", "order_date", "amount"], rows))
    assert any("mixed formats" in n for n in g.notes)
    (ts,) = g.formats
    assert ts.format is None and ts.confidence < 0.9


def test_inspect_customers_master(tmp_path):
    g = inspect_file(_customers(tmp_path))
    assert g.table == "customers" and g.confidence >= 0.8
    assert _mapping(g) == {"customer_id": "Customer ID", "name": "Full Name", "email": "E-mail",
                           "phone": "Phone", "city": "City"}
    assert g.runner_up is not None and g.runner_up[1] < 0.3


def test_inspect_email_column_found_by_content_when_its_name_says_nothing(tmp_path):
    rows = [(p[0], p[1], p[2]) for p in _PEOPLE]
    g = inspect_file(_csv(tmp_path / "people.csv", ["Customer ID", "Full Name", "contact"], rows))
    email = g.column("email")
    assert email is not None and email.raw == "contact" and email.confident
    assert "content: 100% e-mail addresses" in email.reason


def test_inspect_json_lines(tmp_path):
    path = tmp_path / "tickets.jsonl"
    with path.open("w") as f:
        for i in range(12):
            f.write(json.dumps({"ticket_id": f"T{i}", "customer_id": f"C{i % 4}", "created_at": f"2024-03-{i + 1:02d}T10:00:00",
                                "agent": f"A{i % 2}", "duration": 60 + i, "resolved": i % 2 == 0, "csat": 1 + i % 5}) + "\n")
    g = inspect_file(path)
    assert (g.format, g.table) == ("jsonl", "interactions")
    assert _mapping(g) == {"interaction_id": "ticket_id", "customer_id": "customer_id", "ts": "created_at",
                           "agent_id": "agent", "duration_s": "duration", "resolved": "resolved", "satisfaction": "csat"}
    assert all(f.format is None for f in g.formats)  # ISO needs no format


def test_inspect_parquet_uses_schema_and_first_rows(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    path = tmp_path / "catalogue.parquet"
    pq.write_table(pa.table({"sku": [f"P{i}" for i in range(8)], "title": ["Blouse", "Kettle"] * 4,
                             "category": ["women", "home"] * 4, "price": [40.0, 25.5] * 4,
                             "added": [dt.datetime(2024, 1, 1 + i) for i in range(8)]}), path)
    g = inspect_file(path)
    assert (g.format, g.table) == ("parquet", "products")
    assert _mapping(g) == {"product_id": "sku", "name": "title", "category": "category", "list_price": "price"}
    assert g.unused == ("added",)


def test_inspect_xlsx_reads_the_first_sheet_with_data(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    pytest.importorskip("python_calamine")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Orders"
    ws.append(["Order ID", "Customer", "Order Date", "Product", "Qty", "Unit Price"])
    for i in range(10):
        ws.append([f"SO{100 + i // 2}", f"CU{i % 3}", dt.datetime(2023, 1, 1, 9) + dt.timedelta(hours=30 * i),
                   f"SKU{i % 4}", 1 + i % 3, [9.99, 4.5][i % 2]])
    wb.create_sheet("Notes")
    wb.save(tmp_path / "orders.xlsx")
    g = inspect_file(tmp_path / "orders.xlsx")
    assert (g.format, g.table, g.sheet) == ("xlsx", "transactions", "Orders")
    assert _mapping(g)["ts"] == "Order Date" and _mapping(g)["unit_price"] == "Unit Price"
    assert all(f.format is None for f in g.formats)  # Excel dates arrive as ISO text
    source = tomllib.loads(settings_text([g], root=tmp_path))["sources"]["orders"]
    assert source["sheet"] == "Orders" and source["derive"] == {"amount": "quantity * unit_price"}


def test_inspect_utf8_bom_and_utf16(tmp_path):
    rows = [(p[0], p[1], p[2]) for p in _PEOPLE]
    header = ["customer_id", "name", "email"]
    bom = inspect_file(_csv(tmp_path / "a.csv", header, rows, bom=b"\xef\xbb\xbf"))
    assert bom.encoding == "utf-8" and "byte-order mark" in bom.encoding_reason
    assert bom.raw_columns[0] == "customer_id"  # the mark is not part of the first name
    utf16 = inspect_file(_csv(tmp_path / "b.csv", header, rows, encoding="utf-16"))
    assert utf16.encoding == "utf-16" and utf16.table == "customers"


def test_inspect_reads_only_a_sample(tmp_path):
    rows = [(f"C{i % 50}", f"2024-01-{1 + i % 28:02d}", f"{i % 90}.50") for i in range(5000)]
    g = inspect_file(_csv(tmp_path / "orders.csv", ["customer_id", "ts", "amount"], rows), sample_rows=300)
    assert g.rows_sampled == 300 and g.table == "transactions"


def test_inspect_unclassifiable_file_is_written_commented_with_alternatives(tmp_path):
    rows = [(1, "Spring", "a", "2024-01-01"), (2, "Summer", "b", "2024-06-01"), (3, "Autumn", "a", "2024-09-01")]
    g = inspect_file(_csv(tmp_path / "things.csv", ["id", "name", "type", "start"], rows))
    assert not g.confident and len(g.ranking) >= 2
    toml = settings_text([g], root=tmp_path)
    assert "sources" not in tomllib.loads(toml)
    assert "# [sources.things]" in toml and "Not sure which table" in toml
    first, second = g.ranking[0][0], g.ranking[1][0]
    assert f"best: {first} (" in toml and f"{second} (" in toml


def test_inspect_file_no_table_fits_gives_a_skeleton(tmp_path):
    g = inspect_file(_csv(tmp_path / "misc.csv", ["colour", "weight"], [("red", 3), ("blue", 4)]))
    assert g.table is None
    toml = settings_text([g], root=tmp_path)
    assert "sources" not in tomllib.loads(toml)
    assert '# table = ""  # one of customers, products, transactions' in toml
    assert "columns in the file: 'colour', 'weight'" in toml


def test_inspect_header_that_is_data_is_not_classified_and_not_echoed(tmp_path):
    path = tmp_path / "CDNOW_master.txt"
    path.write_text("00001,19970101,1,11.77\n00002,19970112,1,12.00\n")
    g = inspect_file(path)
    assert g.table is None and g.raw_columns == ()
    toml = settings_text([g], root=tmp_path)
    assert "add a header line" in toml and "19970101" not in toml and "11.77" not in toml


def test_inspect_json_array_is_explained(tmp_path):
    path = tmp_path / "orders.json"
    path.write_text(json.dumps([{"order_id": "O1", "amount": 3.5}]))
    g = inspect_file(path)
    assert g.table is None and "JSON array" in g.reason


def test_inspect_missing_empty_or_folder_is_a_source_error(tmp_path):
    with pytest.raises(SourceError, match="file not found"):
        inspect_file(tmp_path / "nope.csv")
    (tmp_path / "empty.csv").write_bytes(b"")
    with pytest.raises(SourceError, match="empty"):
        inspect_file(tmp_path / "empty.csv")
    with pytest.raises(SourceError, match="folder"):
        inspect_file(tmp_path)


def test_inspect_misnamed_file_is_read_by_its_content(tmp_path):
    path = tmp_path / "orders.dat"
    path.write_text('{"order_id": "O1", "customer_id": "C1", "ts": "2024-01-01", "amount": 3.5}\n' * 3)
    g = inspect_file(path)
    assert g.format == "jsonl"
    source = tomllib.loads(settings_text([g], root=tmp_path))["sources"]["orders"]
    assert source["format"] == "jsonl"


# -- crmine.toml ---------------------------------------------------------------------------------
def test_settings_text_parses_and_holds_exactly_the_expected_sources(tmp_path):
    (tmp_path / "data").mkdir()
    guesses = [inspect_file(_cdnow(tmp_path / "data")), inspect_file(_online_retail(tmp_path / "data")),
               inspect_file(_customers(tmp_path / "data")),
               inspect_file(_csv(tmp_path / "data" / "misc.csv", ["colour"], [("red",), ("blue",)]))]
    toml = settings_text(guesses, root=tmp_path)
    data = tomllib.loads(toml)
    assert data["workspace"] == {"engine": "duckdb"}
    assert "# references = \"infer\"" in toml and '"strict" quarantines' in toml
    assert set(data["identity"]) == {"enabled", "threshold", "seed"}
    sources = data["sources"]
    assert set(sources) == {"cdnow_master", "online_retail", "crm_export"}
    assert set(sources["cdnow_master"]) == {"table", "path", "columns", "formats"}
    assert set(sources["online_retail"]) == {"table", "path", "encoding", "return_prefix", "columns", "formats", "derive"}
    assert set(sources["crm_export"]) == {"table", "path", "columns"}
    assert sources["online_retail"]["path"] == "data/Online Retail.csv"
    assert sources["online_retail"]["formats"] == {"ts": "%m/%d/%Y %H:%M"}
    assert sources["online_retail"]["return_prefix"] == "C"
    assert sources["cdnow_master"]["columns"] == {"customer_id": "customer_id", "ts": "date",
                                                  "quantity": "quantity", "amount": "amount"}
    assert "# not used: 'Country'" in toml
    assert "# note: no order id: each line is its own order line" in toml
    # The settings reader accepts what was written.
    settings = Settings.from_dict(data)
    assert {s.name: s.table for s in settings.sources} == {"cdnow_master": "transactions",
                                                         "online_retail": "transactions", "crm_export": "customers"}


def test_settings_text_comments_every_written_mapping_with_its_reason(tmp_path):
    toml = settings_text([inspect_file(_cdnow(tmp_path))], root=tmp_path)
    section = toml.split("[sources.cdnow_master.columns]")[1].split("[")[0]
    for line in filter(None, section.strip().splitlines()):
        assert "  # " in line, line


def test_settings_text_paths_outside_the_workspace_are_absolute(tmp_path):
    g = inspect_file(_cdnow(tmp_path))
    root = tmp_path / "ws"
    root.mkdir()
    source = tomllib.loads(settings_text([g], root=root))["sources"]["cdnow_master"]
    assert source["path"] == (tmp_path / "CDNOW_master.csv").resolve().as_posix()


def test_source_names_are_bare_keys_and_distinct(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    guesses = [inspect_file(_cdnow(a)), inspect_file(_cdnow(b)), inspect_file(_online_retail(tmp_path))]
    assert source_names(guesses) == ["cdnow_master", "cdnow_master_2", "online_retail"]


def test_settings_text_escapes_odd_column_names(tmp_path):
    rows = [("C1", "2024-01-01", "1.50"), ("C2", "2024-01-02", "2.50"), ("C1", "2024-01-03", "3.50")]
    g = inspect_file(_csv(tmp_path / "orders.csv", ["customer_id", 'order "date"', "amount\\total"], rows))
    data = tomllib.loads(settings_text([g], root=tmp_path))
    assert data["sources"]["orders"]["columns"]["ts"] == 'order "date"'


def test_derive_expression_compiles_over_the_canonical_columns(tmp_path):
    import ibis

    from crmine._expression import compile_expression

    g = inspect_file(_online_retail(tmp_path))
    t = ibis.table({"quantity": "float64", "unit_price": "float64", "discount": "float64"}, name="t")
    for d in g.derive:
        assert compile_expression(d.expression, t).type().is_numeric()


def test_no_sample_value_appears_in_the_toml_or_any_reason(tmp_path):
    guesses = [inspect_file(_customers(tmp_path)), inspect_file(_online_retail(tmp_path))]
    text = settings_text(guesses, root=tmp_path)
    rows = guess_rows(guesses)
    analyses = missing_analyses(guesses)
    everything = "\n".join([text, json.dumps(rows, default=str), json.dumps(analyses),
                            *[n for g in guesses for n in g.notes]])
    for value in ("ann.lee@example.com", "Ann Lee", "Twombly", "7946", "17850", "536365", "HANGING HEART"):
        assert value not in everything, value


# -- what the files allow, and the rows for the CLI ----------------------------------------------
def test_missing_analyses_say_what_is_ready_and_what_is_missing(tmp_path):
    status = {name: s for name, _, s in missing_analyses([inspect_file(_cdnow(tmp_path))])}
    assert status["RFM, CLV and churn"] == "ready"
    assert status["Demographic queries and segments"] == "missing: a customers file"
    assert status["Product and basket analyses"] == "missing: transactions.product_id"
    assert status["Response models and campaign lift"].startswith("missing: a campaigns file, a campaign_contacts file")
    assert status["Consented target lists"] == "missing: a consents file"
    both = {name: s for name, _, s in missing_analyses([inspect_file(_cdnow(tmp_path)), inspect_file(_customers(tmp_path))])}
    assert both["Identity resolution"] == "ready"


def test_missing_analyses_flag_low_confidence_needs(tmp_path):
    # Two timestamp columns whose names say nothing: either could be the order time.
    rows = [(f"O{i}", f"C{i % 3}", d, d, f"{5 + i}.99") for i, d in enumerate(["2022-01-02", "2022-03-04"] * 3)]
    g = inspect_file(_csv(tmp_path / "orders.csv", ["order_id", "customer_id", "when_it_was", "stamp", "amount"], rows))
    status = {name: s for name, _, s in missing_analyses([g])}
    assert status["RFM, CLV and churn"].startswith("to check: transactions.ts")


def test_guess_rows_are_plain_rows_for_the_cli(tmp_path):
    rows = guess_rows([inspect_file(_online_retail(tmp_path))])
    assert set(rows[0]) == {"file", "table", "confidence", "column", "raw", "reason", "written"}
    assert rows[0]["column"] == "(table)" and rows[0]["table"] == "transactions"
    by_column = {r["column"]: r for r in rows}
    assert by_column["ts"]["raw"] == "InvoiceDate" and by_column["ts"]["written"]
    assert by_column["formats.ts"]["raw"] == "%m/%d/%Y %H:%M"
    assert by_column["derive.amount"]["raw"] == "quantity * unit_price"
    assert by_column["return_prefix"]["raw"] == "C"
    assert any(r["raw"] == "Country" and r["reason"] == "not used" for r in rows)
