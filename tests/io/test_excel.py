"""Reading .xlsx sheets as text rows: values as a user sees them, sheet row numbers as lines."""

from __future__ import annotations

import datetime as dt

import pytest

from crmine.errors import SourceError
from crmine.io._excel import cell_text, list_sheets, xlsx_batches

openpyxl = pytest.importorskip("openpyxl")
pytest.importorskip("python_calamine")


def _workbook(path, sheets: dict[str, list[list]], *, at: str = "A1"):
    """Write ``sheets`` (name -> rows) with openpyxl, each starting at cell ``at``."""
    from openpyxl.utils.cell import column_index_from_string, coordinate_from_string

    col_letter, row0 = coordinate_from_string(at)
    col0 = column_index_from_string(col_letter)
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value is not None:
                    ws.cell(row=row0 + r, column=col0 + c, value=value)
    wb.save(path)
    return path


def _read(path, **kw):
    header, batches = xlsx_batches(path, **kw)
    return header, list(batches)


def test_xlsx_batches_give_values_as_the_user_sees_them(tmp_path):
    path = _workbook(tmp_path / "orders.xlsx", {"Orders": [
        ["InvoiceNo", "InvoiceDate", "Quantity", "UnitPrice", "CustomerID", "Gift", "Note", "Born"],
        ["536365", dt.datetime(2010, 12, 1, 8, 26), 6, 2.55, 17850.0, True, None, dt.date(1980, 2, 3)],
        ["C536379", dt.datetime(2010, 12, 1, 9, 41, 5), -1.0, 27.5, None, False, "x", None],
    ]})
    header, batches = _read(path)
    assert header == ["InvoiceNo", "InvoiceDate", "Quantity", "UnitPrice", "CustomerID", "Gift", "Note", "Born"]
    rows = [r for b in batches for r in b.rows]
    assert rows[0] == ["536365", "2010-12-01 08:26:00", "6", "2.55", "17850", "true", None, "1980-02-03"]
    assert rows[1] == ["C536379", "2010-12-01 09:41:05", "-1", "27.5", None, "false", "x", None]


def test_xlsx_batches_number_lines_by_sheet_row_and_skip_empty_rows(tmp_path):
    # The table starts at C3: the header is sheet row 3; row 5 is empty.
    path = _workbook(tmp_path / "t.xlsx", {"S": [["id", "v"], ["a", 1], [None, None], ["b", 2]]}, at="C3")
    header, batches = _read(path)
    assert header == ["id", "v"]
    assert [(b.lines, b.rows) for b in batches] == [([4, 6], [["a", "1"], ["b", "2"]])]


def test_xlsx_batches_split_into_batches_of_batch_rows(tmp_path):
    path = _workbook(tmp_path / "t.xlsx", {"S": [["n"], *[[i] for i in range(5)]]})
    _, batches = _read(path, batch_rows=2)
    assert [b.lines for b in batches] == [[2, 3], [4, 5], [6]]
    assert [r[0] for b in batches for r in b.rows] == ["0", "1", "2", "3", "4"]


def test_xlsx_batches_name_blank_and_repeated_header_cells(tmp_path):
    path = _workbook(tmp_path / "t.xlsx", {"S": [["id", None, "id"], ["a", "b", "c"]]})
    header, _ = _read(path)
    assert header == ["id", "column_2", "id_2"]


def test_xlsx_batches_read_the_named_sheet_and_list_sheets_in_order(tmp_path):
    path = _workbook(tmp_path / "t.xlsx", {"First": [["a"], [1]], "Second": [["b"], [2]]})
    assert list_sheets(path) == ["First", "Second"]
    header, batches = _read(path, sheet="Second")
    assert header == ["b"] and batches[0].rows == [["2"]]


def test_xlsx_batches_unknown_sheet_names_the_sheets(tmp_path):
    path = _workbook(tmp_path / "t.xlsx", {"First": [["a"], [1]]})
    with pytest.raises(SourceError, match=r"no sheet called 'Nope'\. Sheets: First"):
        xlsx_batches(path, sheet="Nope")


def test_xlsx_batches_empty_sheet_is_a_source_error(tmp_path):
    path = _workbook(tmp_path / "t.xlsx", {"Empty": []})
    with pytest.raises(SourceError, match="sheet 'Empty' is empty"):
        xlsx_batches(path)


def test_corrupt_workbook_is_a_source_error_naming_the_file_only(tmp_path):
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"PK\x03\x04" + b"secret-customer@example.com" * 20)
    with pytest.raises(SourceError, match="broken.xlsx: not a readable Excel workbook") as e:
        xlsx_batches(path)
    assert "example.com" not in str(e.value)
    with pytest.raises(SourceError, match="not a readable Excel workbook"):
        list_sheets(path)


def test_missing_or_empty_workbook_is_a_source_error(tmp_path):
    with pytest.raises(SourceError, match="file not found"):
        xlsx_batches(tmp_path / "nope.xlsx")
    (tmp_path / "empty.xlsx").write_bytes(b"")
    with pytest.raises(SourceError, match="empty"):
        xlsx_batches(tmp_path / "empty.xlsx")


def test_cell_text_keeps_precision_and_durations_as_seconds():
    assert cell_text(0.1) == "0.1"
    assert cell_text(1e20) == "1e+20"  # beyond exact integers a float is not an id
    assert cell_text(dt.datetime(2020, 1, 2, 3, 4, 5, 600000)) == "2020-01-02 03:04:05.600000"
    assert cell_text(dt.time(8, 30)) == "08:30:00"
    assert cell_text(dt.timedelta(minutes=5, seconds=30)) == "330"
