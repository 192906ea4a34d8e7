"""Read one source into a staging table of raw values, each row tagged with its line.

The staging table keeps the source's own column names and, for text formats, every value as text:
typing and checking happen afterwards, in :mod:`crmine.io._validate`, so that a bad value becomes a
quarantined row rather than a failed load. Rows that cannot even be split into fields (a ragged CSV
line, a JSON line that does not parse, invalid text encoding) are returned as *rejects* with their
line number, and are quarantined too; so are records with a field longer than :data:`FIELD_LIMIT`.
Before any row is read, the column names are checked (:mod:`crmine.io._header`).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from crmine.errors import DependencyError, SourceError
from crmine.io._header import check_names
from crmine.settings import RESERVED_RAW_NAMES, SourceSettings
from crmine.warehouse import Warehouse

__all__ = ["FIELD_LIMIT", "Reject", "Staged", "stage"]

LINE, REC = RESERVED_RAW_NAMES  # REC: a unique row number within the stage (lines can repeat in odd files)
_BATCH_ROWS = 100_000
# The longest value (and, for DuckDB's reader, the longest line) a text source may hold: 10 MB.
# A record with a longer one is quarantined as field_too_long.
FIELD_LIMIT = 10_000_000


@dataclass(frozen=True)
class Reject:
    """A record that could not be split into fields."""

    line: int
    reason: str
    detail: str
    text: str


@dataclass(frozen=True)
class Staged:
    """A staging table holding a source's raw rows, and the rows that could not be read."""

    table: str
    rejects: tuple[Reject, ...]
    columns: tuple[str, ...]
    fingerprint: str | None = None  # of the rows read, where the source is not a file


def stage(wh: Warehouse, source: SourceSettings, path: Path | None, table: str) -> Staged:
    """Read ``source`` into the staging table ``table``; raise SourceError if it cannot be read."""
    if source.format != "sql":
        _check_file(source, path)
    if source.format == "csv":
        header = _csv_header(source, path)
        if header is not None:
            check_names(source, header, first_line=True)
    if source.format == "csv" and wh.engine == "duckdb":
        staged = _stage_csv_duckdb(wh, source, path, table)
        if staged is not None:
            return staged
        # DuckDB's reader gave up on the whole file (it does on a line over its size limit, wherever
        # it is); Python's reader splits it record by record and quarantines what it cannot read.
    batches, rejects = _batches(source, path)
    digest = hashlib.blake2b(digest_size=16) if source.format == "sql" else None
    columns = _write_batches(wh, table, batches, source, digest)
    return Staged(table, tuple(rejects), columns, digest.hexdigest() if digest else None)


def _check_file(source: SourceSettings, path: Path) -> None:
    where = f"Source {source.name!r} ({source.path})"
    if not path.exists():
        raise SourceError(f"{where}: file not found. Check `path` under [sources.{source.name}] in crmine.toml.")
    if path.is_dir():
        raise SourceError(f"{where}: is a folder; point `path` at a file.")
    if path.stat().st_size == 0:
        raise SourceError(f"{where}: the file is empty (0 bytes). Nothing to load; export it again.")
    if source.format in ("csv", "jsonl"):
        head = path.open("rb").read(65536)
        if b"\x00" in head and not source.encoding.lower().startswith("utf-16"):
            raise SourceError(
                f"{where}: the file contains NUL bytes, so it is binary, not {source.format} text. "
                "Check that the right file is named, or set `encoding` (e.g. 'utf-16')."
            )
        try:
            codecs.lookup(source.encoding)
        except LookupError:
            raise SourceError(f"{where}: unknown encoding {source.encoding!r}; use e.g. 'utf-8' or 'latin-1'.") from None


def _csv_header(source: SourceSettings, path: Path) -> list[str] | None:
    """The first record's fields as written (DuckDB renames repeated names), or None if unreadable."""
    try:
        with path.open("r", encoding=source.encoding, errors="replace", newline="") as f:
            fields = next(csv.reader(f, delimiter=source.delimiter), [])
    except (csv.Error, LookupError, ValueError):
        return None
    return [fields[0].removeprefix("\ufeff"), *fields[1:]] if fields else None


# -- CSV on DuckDB: the fast, streaming path ---------------------------------------------------------
_DUCKDB_ENCODINGS = {"utf-8": "utf-8", "utf8": "utf-8", "utf-16": "utf-16", "latin-1": "latin-1",
                     "latin1": "latin-1", "iso-8859-1": "latin-1"}


def _stage_csv_duckdb(wh: Warehouse, source: SourceSettings, path: Path, table: str) -> Staged | None:
    """The staged file, or None when DuckDB's reader cannot read it (the caller reads it in Python)."""
    encoding = _DUCKDB_ENCODINGS.get(source.encoding.lower())
    if encoding is None:  # e.g. cp1252: Python's reader decodes every codec Python knows
        return None
    raw = wh.duckdb
    reader = (
        "read_csv(?, all_varchar = true, header = true, delim = ?, quote = '\"', escape = '\"', "
        "encoding = ?, strict_mode = true, null_padding = false, store_rejects = true, "
        "rejects_table = '_crmine_rejects', rejects_scan = '_crmine_reject_scans', "
        f"max_line_size = {FIELD_LIMIT}, sample_size = -1)"
    )
    # The rejects tables are temporary; clear any left by an earlier load in this connection.
    raw.execute("DROP TABLE IF EXISTS temp._crmine_rejects")
    raw.execute("DROP TABLE IF EXISTS temp._crmine_reject_scans")
    try:
        # row_number() keeps the file's order (DuckDB preserves insertion order by default). Without
        # rejects, record k sits on line k + 1 (after the header).
        raw.execute(
            f'CREATE OR REPLACE TEMP TABLE "{table}" AS '
            f"SELECT *, row_number() OVER () AS {REC}, row_number() OVER () + 1 AS {LINE} FROM {reader}",
            [str(path), source.delimiter, encoding],
        )
    except Exception:  # noqa: BLE001 - DuckDB's message quotes the line; the Python reader says more
        raw.execute(f'DROP TABLE IF EXISTS "{table}"')
        return None
    # DuckDB reports each broken rule; a record that breaks two (bad encoding and too few fields)
    # is still one rejected record, with both reasons in its detail.
    rejects = raw.execute(
        "SELECT line, string_agg(DISTINCT error_type, '|' ORDER BY error_type), min(column_idx), "
        "first(csv_line) FROM temp._crmine_rejects GROUP BY line ORDER BY line"
    ).fetchall()
    if rejects:
        # Good record k then sits on line k + 1 + the number of rejected lines before it; the i-th
        # reject (1-based) at line l shifts every good record k > l - i - 1.
        raw.execute("CREATE OR REPLACE TEMP TABLE _crmine_shift(thr BIGINT, n BIGINT)")
        raw.executemany(
            "INSERT INTO _crmine_shift VALUES (?, ?)",
            [(line - i - 1, i) for i, (line, *_) in enumerate(rejects, start=1)],
        )
        raw.execute(
            f'CREATE OR REPLACE TEMP TABLE "{table}" AS SELECT s.* REPLACE ('
            f"s.{REC} + 1 + coalesce(r.n, 0) AS {LINE}) "
            # Adjacent rejects share a threshold; the last of them (the largest count) applies.
            f'FROM "{table}" s ASOF LEFT JOIN (SELECT thr, max(n) AS n FROM _crmine_shift GROUP BY thr) r '
            f"ON s.{REC} > r.thr"
        )
    columns = tuple(c for c in wh.con.table(table).columns if c not in (LINE, REC))
    first_line = _physical_lines(raw, table, columns, rejects)
    reject_lines = [first_line.get(line, line) for line, *_ in rejects]
    texts = _lines_of(path, set(reject_lines), source.encoding)
    out = tuple(
        Reject(int(at), "field_too_long" if _TOO_LONG in kinds else "malformed_row",
               "; ".join(_REJECT_DETAIL.get(k, k.lower()) for k in kinds.split("|")), texts.get(at, ""))
        for at, (_, kinds, *_) in zip(reject_lines, rejects, strict=True)
    )
    return Staged(table, out, columns)


def _physical_lines(raw, table: str, columns: tuple[str, ...], rejects: list[tuple]) -> dict[int, int]:
    """Fix line numbers when quoted values hold line breaks; return {DuckDB's line: first line} of rejects.

    DuckDB numbers records, so up to here ``_line`` is the record's ordinal + 1 (the header). A
    record really starts that many lines down plus every line break inside the records before it,
    good or rejected. Files without such breaks (nearly all) cost one scan and are left as they are.
    """
    quoted = [f'"{c.replace(chr(34), chr(34) * 2)}"' for c in columns]
    if not quoted:
        return {}
    breaks = " + ".join(f"coalesce(length({c}) - length(replace({c}, chr(10), '')), 0)" for c in quoted)
    # DuckDB may hand a reject's text with the blank line before it; only breaks inside count.
    rejected = [(line - 1, (text or "").lstrip("\r\n").count("\n")) for line, _, _, text in rejects]
    anywhere = " OR ".join(f"contains({c}, chr(10))" for c in quoted)
    if not raw.execute(f'SELECT count(*) FROM "{table}" WHERE {anywhere}').fetchone()[0] and not any(
        n for _, n in rejected
    ):
        return {}
    # Rows are keyed by (kind, key): a staged record by its _rec, a reject by its position, so that
    # two records DuckDB gave the same number (it can, around blank lines) never merge.
    raw.execute(
        f"CREATE OR REPLACE TEMP TABLE _crmine_breaks AS SELECT 0 AS kind, {REC} AS key, {LINE} - 1 AS o, "
        f'{breaks} AS n FROM "{table}"'
    )
    if rejected:
        raw.executemany("INSERT INTO _crmine_breaks VALUES (1, ?, ?, ?)",
                        [(i, o, n) for i, (o, n) in enumerate(rejected)])
    raw.execute(
        "CREATE OR REPLACE TEMP TABLE _crmine_lines AS SELECT kind, key, o + 1 + coalesce(sum(n) OVER "
        "(ORDER BY o, kind, key ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS first "
        "FROM _crmine_breaks"
    )
    raw.execute(
        f'CREATE OR REPLACE TEMP TABLE "{table}" AS SELECT s.* REPLACE (l.first AS {LINE}) '
        f'FROM "{table}" s JOIN _crmine_lines l ON l.kind = 0 AND s.{REC} = l.key ORDER BY s.{REC}'
    )
    by_position = dict(raw.execute("SELECT key, first FROM _crmine_lines WHERE kind = 1").fetchall())
    fixed = {line: by_position[i] for i, (line, *_) in enumerate(rejects)}
    raw.execute("DROP TABLE IF EXISTS _crmine_breaks")
    raw.execute("DROP TABLE IF EXISTS _crmine_lines")
    return fixed


_REJECT_DETAIL = {
    "TOO MANY COLUMNS": "more fields than the header",
    "MISSING COLUMNS": "fewer fields than the header",
    "INVALID ENCODING": "text not valid in the declared encoding",
    "UNQUOTED VALUE": "a quote inside an unquoted field",
    "LINE SIZE OVER MAXIMUM": "line longer than 10 MB",
}
_TOO_LONG = "LINE SIZE OVER MAXIMUM"


def _lines_of(path: Path, lines: set[int], encoding: str) -> dict[int, str]:
    """The raw text of a few lines, kept in quarantine so nothing is lost."""
    out: dict[int, str] = {}
    if not lines:
        return out
    last = max(lines)
    with path.open("rb") as f:
        for n, raw in enumerate(f, start=1):
            if n in lines:
                out[n] = raw.rstrip(b"\r\n").decode(encoding, errors="replace")
            if n >= last:
                break
    return out


# -- Everything else: Arrow batches, engine-agnostic -------------------------------------------------
def _batches(source: SourceSettings, path: Path | None) -> tuple[Iterator[pa.RecordBatch], list[Reject]]:
    rejects: list[Reject] = []
    if source.format == "parquet":
        return _parquet_batches(source, path), rejects
    if source.format == "jsonl":
        return _jsonl_batches(source, path, rejects), rejects
    if source.format == "csv":
        return _csv_batches(source, path, rejects), rejects
    if source.format == "xlsx":
        return _xlsx_batches(source, path), rejects
    return _sql_batches(source), rejects


def _with_lines(batch: pa.RecordBatch, first_line: int) -> pa.RecordBatch:
    lines = pa.array(range(first_line, first_line + batch.num_rows), type=pa.int64())
    return pa.RecordBatch.from_arrays([*batch.columns, lines], names=[*batch.schema.names, LINE])


def _parquet_batches(source: SourceSettings, path: Path) -> Iterator[pa.RecordBatch]:
    try:
        f = pq.ParquetFile(path)
    except Exception as e:
        raise SourceError(f"Source {source.name!r} ({source.path}) is not a readable Parquet file: {type(e).__name__}.") from None
    check_names(source, f.schema_arrow.names, first_line=False)
    line = 1  # Parquet has no lines; the row number (1-based) stands in for one.
    for batch in f.iter_batches(batch_size=_BATCH_ROWS):
        yield _with_lines(batch, line)
        line += batch.num_rows


def _jsonl_batches(source: SourceSettings, path: Path, rejects: list[Reject]) -> Iterator[pa.RecordBatch]:
    keys: list[str] = []
    rows: list[dict] = []
    lines: list[int] = []

    def flush():
        cols = {k: pa.array([value_text(r.get(k)) for r in rows], type=pa.string()) for k in keys}
        cols[LINE] = pa.array(lines, type=pa.int64())
        return pa.RecordBatch.from_pydict(cols)

    with path.open("rb") as f:
        for n, raw in enumerate(f, start=1):
            stripped = raw.strip()
            if not stripped:
                continue
            try:
                record = json.loads(stripped.decode(source.encoding))
            except (UnicodeDecodeError, ValueError):
                rejects.append(Reject(n, "malformed_row", "not a JSON object", raw.decode(source.encoding, "replace")[:10000]))
                continue
            if not isinstance(record, dict):
                rejects.append(Reject(n, "malformed_row", "a JSON value that is not an object", stripped.decode(source.encoding, "replace")[:10000]))
                continue
            # A key first seen mid-batch is simply missing (null) in the rows before it.
            new = [k for k in record if k not in keys]
            if new:
                keys.extend(new)
                check_names(source, keys, first_line=False)
            rows.append(record)
            lines.append(n)
            if len(rows) >= _BATCH_ROWS:
                yield flush()
                rows, lines = [], []
    if rows or not keys:
        yield flush()


def value_text(v) -> str | None:
    """A JSON (or Parquet) value as the text staged for it: typing happens later, in one place."""
    if v is None:
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, dict | list):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, dt.datetime):
        return v.isoformat(sep=" ")
    if isinstance(v, dt.date):
        return v.isoformat()
    return str(v)


def _csv_batches(source: SourceSettings, path: Path, rejects: list[Reject]) -> Iterator[pa.RecordBatch]:
    """CSV through Python's csv module: exact line numbers, even with line breaks inside quotes.

    Slower than DuckDB's reader, which the DuckDB engine uses; this path serves the other engines,
    and files DuckDB's reader gives up on.
    """
    limit = csv.field_size_limit(FIELD_LIMIT)  # Python's default is 128 KB; restored when done
    try:
        yield from _csv_records(source, path, rejects)
    finally:
        csv.field_size_limit(limit)


def _csv_records(source: SourceSettings, path: Path, rejects: list[Reject]) -> Iterator[pa.RecordBatch]:
    line_of = {"n": 0}
    record_text: list[str] = []  # the lines of the record being read, kept for a rejected one

    def decoded() -> Iterator[str]:
        with path.open("rb") as f:
            for raw in f:
                line_of["n"] += 1
                try:
                    text = raw.decode(source.encoding)
                    # A byte-order mark is not part of the first column's name.
                    text = text.removeprefix("\ufeff") if line_of["n"] == 1 else text
                except UnicodeDecodeError:
                    rejects.append(Reject(line_of["n"], "malformed_row", _REJECT_DETAIL["INVALID ENCODING"],
                                          raw.decode(source.encoding, "replace").rstrip("\r\n")))
                    text = "\n"  # an empty row keeps the reader in step; it is skipped below
                record_text.append(text)
                yield text

    reader = csv.reader(decoded(), delimiter=source.delimiter, strict=True)
    try:
        header = next(reader)
    except StopIteration:
        header = []
    except csv.Error as e:
        raise SourceError(f"Source {source.name!r} ({source.path}) cannot be read as CSV: {_csv_problem(e)}.") from None
    rows: list[list[str | None]] = []
    lines: list[int] = []

    def flush() -> pa.RecordBatch:
        cols = {h: pa.array([r[i] for r in rows], type=pa.string()) for i, h in enumerate(header)}
        cols[LINE] = pa.array(lines, type=pa.int64())
        return pa.RecordBatch.from_pydict(cols)

    while True:
        start = line_of["n"] + 1
        record_text.clear()
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as e:
            too_long = "field limit" in str(e)
            rejects.append(Reject(start, "field_too_long" if too_long else "malformed_row", _csv_problem(e),
                                  "".join(record_text).rstrip("\r\n")))
            continue
        if not fields:
            if len(header) != 1:
                continue
            fields = [""]  # in a one-column file a blank line is an empty value (as DuckDB reads it)
        if len(fields) != len(header):
            kind = "TOO MANY COLUMNS" if len(fields) > len(header) else "MISSING COLUMNS"
            rejects.append(Reject(start, "malformed_row", _REJECT_DETAIL[kind], source.delimiter.join(fields)))
            continue
        rows.append([v if v != "" else None for v in fields])
        lines.append(start)
        if len(rows) >= _BATCH_ROWS:
            yield flush()
            rows, lines = [], []
    if rows or header:
        yield flush()


def _csv_problem(e: csv.Error) -> str:
    """Python's csv message in words (it names no value; its field limit is ours)."""
    if "field limit" in str(e):
        return f"a field longer than {FIELD_LIMIT:,} characters (10 MB), the most one value may hold"
    return str(e)


def _xlsx_batches(source: SourceSettings, path: Path) -> Iterator[pa.RecordBatch]:
    from crmine.io._excel import xlsx_batches

    header, batches = xlsx_batches(path, sheet=source.sheet, batch_rows=_BATCH_ROWS)
    check_names(source, header, first_line=True)
    empty = True
    for batch in batches:
        empty = False
        cols = {h: pa.array([r[i] for r in batch.rows], type=pa.string()) for i, h in enumerate(header)}
        cols[LINE] = pa.array(batch.lines, type=pa.int64())
        yield pa.RecordBatch.from_pydict(cols)
    if empty:  # a sheet with only its header still has columns
        yield pa.RecordBatch.from_pydict({**{h: pa.array([], pa.string()) for h in header},
                                          LINE: pa.array([], pa.int64())})


def _sql_batches(source: SourceSettings) -> Iterator[pa.RecordBatch]:
    import ibis

    try:
        con = ibis.connect(source.url)
    except ImportError as e:
        raise DependencyError(f"Source {source.name!r}: the driver for this database is not installed ({e.name}).") from e
    except Exception as e:
        raise SourceError(f"Source {source.name!r}: cannot connect to {source.location()}: {type(e).__name__}.") from None
    try:
        if source.sql_table not in con.list_tables():
            raise SourceError(f"Source {source.name!r}: table {source.sql_table!r} not found in {source.location()}.")
        t = con.table(source.sql_table)
        check_names(source, t.columns, first_line=False)
        line = 1
        for batch in con.to_pyarrow_batches(t, chunk_size=_BATCH_ROWS):
            yield _with_lines(batch, line)
            line += batch.num_rows
    finally:
        con.disconnect()


def _write_batches(wh: Warehouse, table: str, batches: Iterator[pa.RecordBatch], source: SourceSettings,
                   digest=None) -> tuple[str, ...]:
    schema = None
    n = 0
    for batch in batches:
        if digest is not None:
            sink = pa.BufferOutputStream()
            with pa.ipc.new_stream(sink, batch.schema) as w:
                w.write_batch(batch)
            digest.update(sink.getvalue())
        tbl = pa.Table.from_batches([batch])
        tbl = tbl.append_column(REC, pa.array(range(n + 1, n + 1 + tbl.num_rows), type=pa.int64()))
        n += tbl.num_rows
        if schema is None:
            schema = tbl.schema
            wh.con.create_table(table, wh.frame(tbl), temp=wh.engine == "duckdb", overwrite=True)
        else:
            # JSON lines may reveal new keys in a later batch: widen the staging table first, so
            # that their values are kept (the earlier rows hold null there).
            new = [f for f in tbl.schema if f.name not in schema.names]
            if new:
                wh.add_columns(table, {f.name: "string" for f in new})
                schema = pa.schema([*schema, *new])
            wh.con.insert(table, wh.frame(_align(tbl, schema)))
    if schema is None:
        raise SourceError(f"Source {source.name!r} ({source.location()}) holds no columns.")
    return tuple(c for c in schema.names if c not in (LINE, REC))


def _align(tbl: pa.Table, schema: pa.Schema) -> pa.Table:
    cols = [tbl.column(n) if n in tbl.column_names else pa.nulls(tbl.num_rows, schema.field(n).type) for n in schema.names]
    return pa.Table.from_arrays(cols, schema=schema)
