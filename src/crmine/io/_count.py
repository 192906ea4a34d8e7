"""Count a source file's records apart from the reader, so that the load contract can be checked.

``read`` in a load's counts must come from the file itself: were it computed as loaded + quarantined,
a record the reader dropped would never show. This pass knows only what a record is, in the
simplest terms: for CSV, lines joined while a double quote is open (RFC 4180), blank lines skipped,
the first record being the header; for JSON lines, non-blank lines; for Parquet, the row count in
the file's footer. Other formats (Excel, SQL) have no second reading and return None.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pyarrow.parquet as pq

from crmine.settings import SourceSettings

__all__ = ["count_records"]

_CHUNK = 1 << 22  # characters per read: big enough that Python's per-chunk work is negligible


def count_records(source: SourceSettings, path: Path | None) -> int | None:
    """The number of data records in ``path`` (header excluded), or None when not countable."""
    if path is None or not path.is_file():
        return None
    if source.format == "csv":
        records, blank = _csv_records(path, source.encoding)
        # A blank line in a one-column file is a record with an empty value (both readers agree).
        if _header_width(path, source) == 1:
            records += blank
        return max(records - 1, 0)
    if source.format == "jsonl":
        with path.open("rb") as f:
            return sum(1 for line in f if line.strip())
    if source.format == "parquet":
        return pq.ParquetFile(path).metadata.num_rows
    return None


def _header_width(path: Path, source: SourceSettings) -> int:
    with path.open("r", encoding=source.encoding, errors="replace", newline="") as f:
        try:
            return len(next(csv.reader(f, delimiter=source.delimiter), []))
        except csv.Error:
            return 0


def _csv_records(path: Path, encoding: str) -> tuple[int, int]:
    """Records of a CSV file, header included (lines outside quotes that hold anything but a line
    end), and blank lines (outside quotes; the last line break of the file does not make one)."""
    records = blank = 0
    quoted = False  # inside a quoted field: a line break there does not end the record
    content = False  # the record being read holds something (so it is not a blank line)
    first = True
    with path.open("r", encoding=encoding, errors="replace", newline="") as f:
        while chunk := f.read(_CHUNK):
            if first:
                chunk = chunk.removeprefix("\ufeff")
                first = False
            pieces = chunk.split("\n")
            if not quoted and '"' not in chunk:
                # The fast path: every line break ends a record. The first piece continues the
                # line begun in the last chunk; the last piece is begun here and ended later.
                ended = pieces[:-1]
                if ended:
                    head = content or bool(ended[0].strip("\r"))
                    full = sum(1 for p in ended[1:] if p and p != "\r")
                    records += head + full
                    blank += (not head) + len(ended) - 1 - full
                    content = bool(pieces[-1].strip("\r"))
                else:
                    content = content or bool(pieces[-1].strip("\r"))
                continue
            for i, piece in enumerate(pieces):
                if piece and piece != "\r":
                    content = True
                if piece.count('"') % 2:
                    quoted = not quoted
                if i < len(pieces) - 1 and not quoted:  # a line break outside quotes
                    records += content
                    blank += not content
                    content = False
    return records + content, blank
