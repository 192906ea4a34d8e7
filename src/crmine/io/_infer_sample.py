"""Read the first rows of a file as text, and find out how to read it: format, encoding, delimiter.

Only a sample is read (the first ``rows`` records, at most ``_MAX_BYTES`` of text), so that a large
file is inspected in about a second. Values come back as text, as crmine's reader stages them;
Parquet columns keep their logical type beside the text, since the reader keeps it too.
"""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from crmine.errors import SourceError
from crmine.io._header import looks_like_data
from crmine.io._read import value_text

__all__ = ["SAMPLE_ROWS", "Sample", "read_sample"]

SAMPLE_ROWS = 20_000
_MAX_BYTES = 16 * 2**20
_DELIMITERS = (",", ";", "\t", "|")
_DELIMITER_NAMES = {",": "','", ";": "';'", "\t": "tab", "|": "'|'"}
_SNIFF_LINES = 200
_EXTENSIONS = {".csv": "csv", ".txt": "csv", ".tsv": "csv", ".tab": "csv", ".parquet": "parquet",
               ".pq": "parquet", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl",
               ".xlsx": "xlsx", ".xlsm": "xlsx", ".xls": "xlsx"}


@dataclass
class Sample:
    """The first rows of a file as text, and how the file reads.

    ``problem`` is set when crmine cannot read the file as it is (a JSON array, a header-less
    file); the file is then described, not classified. ``kinds`` gives the logical type of a
    column where the format stores one (Parquet): "timestamp", "integer", "number", "boolean".
    """

    path: Path
    format: str
    header: list[str]
    rows: list[list[str | None]]
    format_reason: str = ""
    encoding: str = "utf-8"
    encoding_reason: str = ""
    delimiter: str = ","
    delimiter_reason: str = ""
    sheet: str | None = None
    sheet_reason: str = ""
    kinds: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    problem: str | None = None

    def column(self, i: int) -> list[str | None]:
        return [r[i] for r in self.rows]


def read_sample(path: str | Path, *, rows: int = SAMPLE_ROWS) -> Sample:
    """The first ``rows`` records of ``path``; a SourceError naming the file if it cannot be read."""
    path = Path(path)
    _check_file(path)
    fmt, reason = _detect_format(path)
    if fmt == "parquet":
        sample = _parquet_sample(path, rows)
    elif fmt == "xlsx":
        sample = _xlsx_sample(path, rows)
    else:
        sample = _text_sample(path, rows, fmt)
    sample.format_reason = reason
    return sample


def _check_file(path: Path) -> None:
    if not path.exists():
        raise SourceError(f"{path}: file not found. Check the path given to --from.")
    if path.is_dir():
        raise SourceError(f"{path}: is a folder; name a file.")
    if path.stat().st_size == 0:
        raise SourceError(f"{path}: the file is empty (0 bytes); there is nothing to inspect.")


# -- format --------------------------------------------------------------------------------------
def _detect_format(path: Path) -> tuple[str, str]:
    """The format from the file's first bytes, which outrank its extension (exports get misnamed)."""
    with path.open("rb") as f:
        head = f.read(4096)
    by_name = _EXTENSIONS.get(path.suffix.lower())
    if head.startswith(b"PAR1"):
        found, what = "parquet", "Parquet"
    elif head.startswith(b"PK\x03\x04") or head.startswith(b"\xd0\xcf\x11\xe0"):
        found, what = "xlsx", "an Excel workbook"
    elif _first_char(head) in ("{", "["):
        found, what = "jsonl", "JSON"
    else:
        found, what = "csv", "delimited text"
    if by_name == found or (by_name is None and found == "csv"):
        return found, f"the file starts like {what}" if by_name is None else f"{what} (extension {path.suffix})"
    return found, f"the file's first bytes are {what}" + (f", despite its extension {path.suffix}" if by_name else "")


def _first_char(head: bytes) -> str:
    for enc in ("utf-8-sig", "utf-16"):
        try:
            text = head.decode(enc, errors="ignore")
        except LookupError:
            continue
        stripped = text.lstrip("\ufeff \t\r\n")
        if stripped:
            return stripped[0]
    return ""


# -- text: encoding, delimiter, rows -------------------------------------------------------------
def _head_bytes(path: Path, rows: int) -> tuple[bytes, bool]:
    """Whole lines from the start of the file, and whether the file goes on after them."""
    lines: list[bytes] = []
    size = 0
    with path.open("rb") as f:
        for line in f:
            lines.append(line)
            size += len(line)
            # The header, the rows, and one more that may be cut short (it is dropped).
            if len(lines) > rows + 1 or size >= _MAX_BYTES:
                return b"".join(lines), bool(f.read(1))
    return b"".join(lines), False


def detect_encoding(head: bytes) -> tuple[str, str, bool]:
    """The encoding crmine should declare, the reason, and whether a byte-order mark leads.

    DuckDB reads utf-8, utf-16 and latin-1 only; latin-1 reads any byte, so it is the fallback.
    """
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8", "UTF-8 with a byte-order mark, which utf-8 reads", True
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16", "starts with a UTF-16 byte-order mark", True
    if len(head) >= 4 and (head[1::2].count(0) > 0.4 * len(head) / 2 or head[0::2].count(0) > 0.4 * len(head) / 2):
        return "utf-16", "every other byte is zero: UTF-16 text without a byte-order mark", False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as e:
        line = head[: e.start].count(b"\n") + 1
        reason = f"not valid UTF-8 (from line {line}); latin-1 reads every byte"
        if re.search(rb"[\x80-\x9f]", head):
            reason += ("; some bytes are Windows-1252 characters (curly quotes, the euro sign) "
                       "that latin-1 reads as control characters")
        return "latin-1", reason, False
    return "utf-8", "the sample is plain ASCII" if head.isascii() else "the sample is valid UTF-8", False


def detect_delimiter(lines: list[str], *, prefer_tab: bool = False) -> tuple[str, str]:
    """The delimiter that splits the header and the first lines into the same number of fields."""
    best: tuple[float, int, int, str] | None = None
    for d in _DELIMITERS:
        counts = [len(r) for r in csv.reader(lines, delimiter=d) if r]
        if not counts:
            continue
        mode, hits = Counter(counts).most_common(1)[0]
        share = hits / len(counts) if mode > 1 else 0.0
        # The header rarely holds a decimal comma; agreeing with it beats a consistent count of commas.
        header_agrees = int(counts[0] == mode)
        rank = (share * (0.5 + 0.5 * header_agrees) + (0.01 if prefer_tab and d == "\t" else 0), header_agrees, mode, d)
        if best is None or rank[:3] > best[:3]:
            best = rank
    if best is None or best[0] == 0:
        return ",", "no delimiter splits the lines: one column, read with ','"
    score, _, mode, d = best
    n = min(len(lines), _SNIFF_LINES)
    pct = "every one" if score >= 0.999 else f"{score:.0%}"
    return d, f"{_DELIMITER_NAMES[d]}: {pct} of the first {n} lines split into {mode} fields"


def _text_sample(path: Path, rows: int, fmt: str) -> Sample:
    head, more = _head_bytes(path, rows)
    encoding, enc_reason, bom = detect_encoding(head)
    text = head.decode("utf-16" if encoding == "utf-16" else encoding, errors="replace")
    text = text.lstrip("\ufeff") if bom or text.startswith("\ufeff") else text
    lines = text.splitlines(keepends=True)
    if fmt == "jsonl":
        sample = _jsonl_rows(path, lines, rows)
    else:
        sample = _csv_rows(path, lines, rows, more)
    sample.encoding, sample.encoding_reason = encoding, enc_reason
    return sample


def _csv_rows(path: Path, lines: list[str], rows: int, more: bool) -> Sample:
    delimiter, reason = detect_delimiter(lines[:_SNIFF_LINES], prefer_tab=path.suffix.lower() in (".tsv", ".tab"))
    records = list(csv.reader(lines, delimiter=delimiter))
    if more and records:
        records.pop()  # the sample may end inside a record
    records = [r for r in records if r]
    if not records:
        raise SourceError(f"{path}: holds no lines of text.")
    header, body = records[0], records[1 : rows + 1]
    good = [[v if v != "" else None for v in r] for r in body if len(r) == len(header)]
    sample = Sample(path, "csv", header, good, delimiter=delimiter, delimiter_reason=reason)
    ragged = len(body) - len(good)
    if ragged:
        sample.notes.append(f"{ragged} of the first {len(body)} lines have a different number of fields "
                            "than the header; crmine quarantines them as malformed_row")
    _check_header(sample)
    return sample


def _check_header(sample: Sample) -> None:
    """A header that looks like data means the file has none: its 'names' are a customer's values."""
    numeric = sum(1 for h in sample.header if _is_number_or_date(h.strip()))
    if sample.header and (looks_like_data(sample.header) or numeric >= max(1, len(sample.header) / 2)):
        sample.problem = ("the first line looks like data, not column names: add a header line "
                          "naming the columns, then run init again")
        sample.header = [f"column {i + 1}" for i in range(len(sample.header))]
    elif len(set(sample.header)) < len(sample.header):
        sample.notes.append("some column names repeat; name every column once")
    if any(h.strip() != h for h in sample.header):
        sample.notes.append("some column names have spaces around them; the mapping keeps them as they are")


def _is_number_or_date(text: str) -> bool:
    return bool(re.fullmatch(r"[+-]?\d[\d.,/:\- ]*", text))


def _jsonl_rows(path: Path, lines: list[str], rows: int) -> Sample:
    keys: list[str] = []
    records: list[dict] = []
    bad = 0
    for line in lines:
        stripped = line.strip()
        if not stripped:
            continue
        if len(records) >= rows:
            break
        try:
            record = json.loads(stripped)
        except ValueError:
            bad += 1
            continue
        if not isinstance(record, dict):
            bad += 1
            continue
        keys.extend(k for k in record if k not in keys)
        records.append(record)
    sample = Sample(path, "jsonl", keys, [[_text(r.get(k)) for k in keys] for r in records])
    if not records and lines and lines[0].lstrip().startswith("["):
        sample.problem = ("a JSON array, not JSON lines (one object per line): convert it, "
                          "e.g. with `jq -c '.[]' in.json > out.jsonl`")
    elif not records:
        sample.problem = "no line of the sample is a JSON object"
    if bad:
        sample.notes.append(f"{bad} of the first {bad + len(records)} lines are not JSON objects; "
                            "crmine quarantines them as malformed_row")
    return sample


def _text(value) -> str | None:
    """A JSON or Parquet value as the text crmine's reader stages for it; empty text is no value."""
    return value_text(value) or None


# -- Parquet: the schema and the first rows ------------------------------------------------------
def _parquet_sample(path: Path, rows: int) -> Sample:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        f = pq.ParquetFile(path)
        batch = next(f.iter_batches(batch_size=rows), None)
    except Exception as e:
        raise SourceError(f"{path}: not a readable Parquet file ({type(e).__name__}).") from None
    schema = f.schema_arrow
    header = list(schema.names)
    table = pa.Table.from_batches([batch]) if batch is not None else schema.empty_table()
    columns = [[_text(v) for v in table.column(i).to_pylist()] for i in range(len(header))]
    kinds = {name: kind for name, t in zip(header, schema.types, strict=True) if (kind := _arrow_kind(t))}
    sample = Sample(path, "parquet", header, [list(r) for r in zip(*columns, strict=True)], kinds=kinds)
    sample.encoding_reason = "Parquet stores text as UTF-8"
    return sample


def _arrow_kind(t) -> str | None:
    import pyarrow as pa

    if pa.types.is_timestamp(t) or pa.types.is_date(t):
        return "timestamp"
    if pa.types.is_integer(t):
        return "integer"
    if pa.types.is_floating(t) or pa.types.is_decimal(t):
        return "number"
    if pa.types.is_boolean(t):
        return "boolean"
    return None


# -- Excel: the first sheet with data ------------------------------------------------------------
def _xlsx_sample(path: Path, rows: int) -> Sample:
    from crmine.io._excel import list_sheets, xlsx_batches

    sheets = list_sheets(path)
    for name in sheets:
        try:
            header, batches = xlsx_batches(path, sheet=name, batch_rows=rows)
        except SourceError:
            continue  # an empty sheet: try the next
        batch = next(batches, None)
        batches.close()
        data = batch.rows if batch else []
        sample = Sample(path, "xlsx", header, data, sheet=name)
        others = [s for s in sheets if s != name]
        sample.sheet_reason = ("the only sheet" if not others else
                               f"the first sheet with data, of {len(sheets)}; the others ("
                               f"{', '.join(others)}) each need a source of their own")
        sample.encoding_reason = "a workbook stores its own text encoding"
        _check_header(sample)
        return sample
    raise SourceError(f"{path}: every sheet of the workbook is empty.")
