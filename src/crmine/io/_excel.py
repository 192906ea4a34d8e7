"""Read an Excel sheet as rows of text, the way the user sees them in Excel.

A workbook's cells are typed (numbers, dates, booleans); the rest of ingest expects text, as it
gets from a CSV file, so that typing and checking happen in one place (:mod:`crmine.io._validate`).
The text is what a user reads in the cell: ``17850`` for an integral number (not ``17850.0``),
dates as ISO text, empty cells as None. Each row keeps its sheet row number as its line, so a
quarantined row can be found in Excel; the header is the first non-empty row (row 1 normally).

python-calamine does the reading (a Rust reader, fast and without a Python XML parse); it is
imported lazily, so only users of .xlsx files need it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

from crmine.errors import DependencyError, SourceError

__all__ = ["SheetBatch", "cell_text", "list_sheets", "xlsx_batches"]

# Integral floats below this print as integers; above it a float has lost digits anyway (2**53).
_EXACT_INTEGER = 2**53


class SheetBatch(NamedTuple):
    """Consecutive non-empty rows of a sheet: each row's sheet row number and its cells as text."""

    lines: list[int]
    rows: list[list[str | None]]


def list_sheets(path: str | Path) -> list[str]:
    """The names of the worksheets in the workbook at ``path``, in workbook order.

    Chart sheets and other non-data sheets are left out.
    """
    book = _open(Path(path))
    try:
        return [m.name for m in book.sheets_metadata if _is_worksheet(m)]
    finally:
        book.close()


def xlsx_batches(
    path: str | Path, *, sheet: str | None = None, batch_rows: int = 100_000
) -> tuple[list[str], Iterator[SheetBatch]]:
    """The header of a sheet and an iterator of its data rows, ``batch_rows`` at a time.

    Parameters
    ----------
    path
        The workbook (.xlsx, .xlsm; python-calamine also reads .xls, .xlsb and .ods).
    sheet
        The sheet's name; None takes the first worksheet.
    batch_rows
        Rows per batch.

    Every row has as many cells as the header. Empty header cells are named ``column_<n>``
    (n is the sheet's column number) and repeated names get ``_2``, ``_3``, so every column has
    a distinct name. Rows whose cells are all empty are skipped; line numbers stay the sheet's.
    """
    if batch_rows < 1:
        raise ValueError(f"batch_rows must be at least 1, got {batch_rows}.")
    path = Path(path)
    book = _open(path)
    try:
        data = _sheet(book, path, sheet)
        rows = data.iter_rows()
        first_col = (data.start or (0, 0))[1]
        header_line, header = _header(rows)
    except BaseException:
        book.close()
        raise
    if header_line is None:
        book.close()
        raise SourceError(f"{path.name}: sheet {data.name!r} is empty; there is no header row to read.")
    names = _column_names(header, first_col)
    return names, _batches(book, rows, header_line, len(names), batch_rows, path)


def _open(path: Path):
    try:
        import python_calamine
    except ImportError as e:
        raise DependencyError(
            "Reading .xlsx files needs python-calamine: pip install 'python-calamine>=0.9'."
        ) from e
    if not path.is_file():
        what = "is a folder, not a workbook" if path.is_dir() else "file not found"
        raise SourceError(f"{path}: {what}. Check the path of the workbook.")
    if path.stat().st_size == 0:
        raise SourceError(f"{path}: the file is empty (0 bytes); save the workbook again.")
    try:
        return python_calamine.CalamineWorkbook.from_path(str(path))
    except python_calamine.PasswordError:
        raise SourceError(f"{path}: the workbook is password-protected; save an unprotected copy.") from None
    except Exception as e:  # calamine raises several error types for a damaged or foreign file
        raise SourceError(
            f"{path}: not a readable Excel workbook ({type(e).__name__}). "
            "Open it in Excel and save it again as .xlsx, or export the sheet as CSV."
        ) from None


def _is_worksheet(meta) -> bool:
    return str(meta.typ).rsplit(".", 1)[-1].lower() == "worksheet"


def _sheet(book, path: Path, sheet: str | None):
    names = [m.name for m in book.sheets_metadata if _is_worksheet(m)]
    if not names:
        raise SourceError(f"{path.name}: the workbook has no worksheet.")
    if sheet is None:
        sheet = names[0]
    elif sheet not in names:
        raise SourceError(
            f"{path.name}: no sheet called {sheet!r}. Sheets: {', '.join(names)}. "
            "Set `sheet` to one of them."
        )
    try:
        return book.get_sheet_by_name(sheet)
    except Exception as e:
        raise SourceError(f"{path.name}: sheet {sheet!r} cannot be read ({type(e).__name__}).") from None


def _header(rows: Iterator[list[Any]]) -> tuple[int | None, list[Any]]:
    """The first non-empty row and its sheet line (1-based), or (None, []) for an empty sheet.

    calamine's rows start at the sheet's row 1, empty leading rows included, and its cells at
    the first used column; so the i-th row (from 0) is sheet row i + 1 (tests pin this).
    """
    for i, row in enumerate(rows):
        if any(_is_filled(v) for v in row):
            return i + 1, row
    return None, []


def _column_names(header: list[Any], first_col: int) -> list[str]:
    names: list[str] = []
    seen: set[str] = set()
    for i, cell in enumerate(header):
        name = (cell_text(cell) or "").strip() or f"column_{first_col + i + 1}"
        unique, n = name, 1
        while unique in seen:
            n += 1
            unique = f"{name}_{n}"
        seen.add(unique)
        names.append(unique)
    return names


def _batches(book, rows: Iterator[list[Any]], header_line: int, width: int, batch_rows: int,
             path: Path) -> Iterator[SheetBatch]:
    lines: list[int] = []
    out: list[list[str | None]] = []
    line = header_line
    try:
        for row in rows:
            line += 1
            if not any(_is_filled(v) for v in row):
                continue
            cells = [cell_text(v) for v in row[:width]]
            cells.extend([None] * (width - len(cells)))
            lines.append(line)
            out.append(cells)
            if len(out) >= batch_rows:
                yield SheetBatch(lines, out)
                lines, out = [], []
        if out:
            yield SheetBatch(lines, out)
    except SourceError:
        raise
    except Exception as e:
        raise SourceError(f"{path.name}: reading stopped near sheet row {line} ({type(e).__name__}).") from None
    finally:
        book.close()


def _is_filled(value: Any) -> bool:
    return value is not None and value != ""


def cell_text(value: Any) -> str | None:
    """One cell as the text a user sees: None for an empty cell.

    Examples
    --------
    >>> cell_text(17850.0), cell_text(2.55), cell_text(dt.datetime(2010, 12, 1, 8, 26)), cell_text("")
    ('17850', '2.55', '2010-12-01 08:26:00', None)
    """
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):  # before int: a bool is an int in Python
        return "true" if value else "false"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < _EXACT_INTEGER:
            return str(int(value))
        return repr(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="microseconds" if value.microsecond else "seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.isoformat(timespec="microseconds" if value.microsecond else "seconds")
    if isinstance(value, dt.timedelta):
        # A duration cell: seconds, the unit of the canonical duration columns.
        seconds = value.total_seconds()
        return str(int(seconds)) if seconds.is_integer() else repr(seconds)
    return str(value)
