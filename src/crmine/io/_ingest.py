"""Load sources into the canonical tables, losing nothing.

For every load: rows read = inserted + updated + unchanged + quarantined, recorded in ``load_log``,
where ``read`` is counted from the file itself in a separate pass (:mod:`crmine.io._count`): a load
whose reader accounts for a different number of records fails, writing nothing. A row that breaks
a rule goes to ``quarantine`` with its source, line, column, reason and raw values. A reloaded key
updates the stored row when it changed and leaves it alone otherwise; every version is kept in the
table's history (:mod:`crmine.io._changes`). A source whose content has not changed since its last
successful load is skipped. Each load is one transaction: if it fails part-way (even by
``kill -9``), the warehouse is as it was before.

A source that fails does not stop the others: every source is tried (except those whose rows refer
to a table a failed source was to fill), and the ingest then raises one error that gives each
source's outcome: loaded, unchanged, failed (with its reason) or not attempted (and why).
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import ibis
import pandas as pd
import pyarrow as pa

from crmine._progress import Progress
from crmine.errors import CrmineError, EngineError, SourceError
from crmine.io._changes import apply_changes, history_name, history_schema
from crmine.io._count import count_records
from crmine.io._masters import infer_masters
from crmine.io._read import LINE, REC, Reject, stage
from crmine.io._validate import checked_rows, provided_columns, resolve_columns
from crmine.privacy._suppress import suppressed_flag
from crmine.schema import LOAD_ORDER, TABLES
from crmine.settings import FUTURE_TOLERANCE_DAYS, Settings, SourceSettings
from crmine.warehouse import Warehouse

__all__ = ["LOAD_LOG", "QUARANTINE", "LoadResult", "create_tables", "ingest"]

LOAD_LOG = "load_log"
QUARANTINE = "quarantine"

_LOAD_LOG_SCHEMA = ibis.schema({
    "load_id": "int64", "source": "string", "table_name": "string", "file": "string",
    "fingerprint": "string", "read": "int64", "loaded": "int64", "quarantined": "int64",
    "started": "timestamp", "seconds": "float64",
    "inserted": "int64", "updated": "int64", "unchanged": "int64", "removed": "int64",
})
_QUARANTINE_SCHEMA = ibis.schema({
    "load_id": "int64", "source": "string", "file": "string", "line": "int64", "table_name": "string",
    "column": "string", "reason": "string", "detail": "string", "record": "string",
})


@dataclass(frozen=True)
class LoadResult:
    """What one load did; ``read == inserted + updated + unchanged + quarantined`` always holds.

    ``loaded`` is inserted + updated: the rows written. ``removed`` counts stored rows a snapshot
    source no longer holds. ``status`` is "loaded", "unchanged" (skipped: loaded before as it is),
    "failed" or "not_attempted"; for the last two, ``error`` says why in one line and the counts are 0.
    """

    source: str
    table: str
    file: str
    read: int
    loaded: int
    quarantined: int
    skipped: bool = False
    seconds: float = 0.0
    reasons: dict[str, int] = field(default_factory=dict)
    # Loaded lines that analyses treat apart: returns, non-product lines, guest lines (no customer).
    kept_apart: dict[str, int] = field(default_factory=dict)
    status: str = "loaded"
    error: str | None = None
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0

    def to_dict(self) -> dict:
        return asdict(self)


def create_tables(wh: Warehouse) -> None:
    """Create the canonical tables and the ingest bookkeeping tables, where missing."""
    for t in TABLES.values():
        wh.create_empty(t.name, ibis.schema({c.name: c.dtype for c in t.columns}))
        wh.create_empty(history_name(t.name), history_schema(t))
    wh.create_empty(LOAD_LOG, _LOAD_LOG_SCHEMA)
    wh.create_empty(QUARANTINE, _QUARANTINE_SCHEMA)
    # A warehouse made by an earlier version lacks the newer bookkeeping columns.
    present = wh.table(LOAD_LOG).columns
    wh.add_columns(LOAD_LOG, {c: t for c, t in _LOAD_LOG_SCHEMA.items() if c not in present})


def ingest(
    wh: Warehouse,
    settings: Settings,
    root: Path,
    *,
    sources: Iterable[str] | None = None,
    progress: Progress | None = None,
) -> list[LoadResult]:
    """Load every source of ``settings`` (or those named in ``sources``) in dependency order.

    A source that fails is reported and the others still load; then one error is raised, of the
    failures' class (SourceError when they differ, or for an engine failure), whose message gives
    every source's outcome and whose ``results`` attribute holds them as LoadResult objects.
    """
    create_tables(wh)
    chosen = list(settings.sources) if sources is None else [settings.source(n) for n in sources]
    chosen.sort(key=lambda s: (LOAD_ORDER.index(s.table), s.name))
    for src in chosen:  # a settings mistake stops the ingest before any source is read
        if src.path:
            settings.source_path(src, root)
    inferred = settings.inferred_tables()
    results: list[LoadResult] = []
    errors: list[CrmineError] = []
    failed_tables: dict[str, str] = {}  # table -> the first source that failed to load into it
    for i, src in enumerate(chosen):
        if progress:
            progress(src.name, i, len(chosen))
        blocked = _blocked_by(src, failed_tables, inferred)
        if blocked:
            results.append(_not_done(src, "not_attempted", blocked))
            continue
        try:
            results.append(load_source(wh, src, root, inferred=inferred,
                                       future_tolerance_days=settings.future_tolerance_days))
        except CrmineError as e:
            errors.append(e)
            failed_tables.setdefault(src.table, src.name)
            results.append(_not_done(src, "failed", _one_line(e)))
    if progress:
        progress("done", len(chosen), len(chosen))
    if errors:
        # The failures' own class when they share one, so `except SchemaError` still works; an
        # engine's failure is not re-raised as one (its message here is crmine's, with no SQL).
        kinds = {type(e) for e in errors}
        cls = kinds.pop() if len(kinds) == 1 and EngineError not in kinds else SourceError
        err = cls(_outcome_text(results))
        err.results = results
        raise err from errors[0]
    return results


def _blocked_by(src: SourceSettings, failed_tables: dict[str, str], inferred: frozenset[str]) -> str | None:
    """Why ``src`` is not loaded: its rows refer to a table that a failed source was to fill."""
    for col in TABLES[src.table].columns:
        ref = col.references.split(".")[0] if col.references else None
        if ref in failed_tables and ref not in inferred:
            return (f"its {col.name} refers to {ref}, whose source {failed_tables[ref]!r} failed "
                    "(loaded now, its rows would be quarantined as unknown_reference)")
    return None


def _not_done(src: SourceSettings, status: str, why: str) -> LoadResult:
    return LoadResult(src.name, src.table, src.location(), 0, 0, 0, status=status, error=why)


def _one_line(e: CrmineError) -> str:
    """An error's message in one line, without what an engine quotes from the data."""
    text = (str(e).strip().splitlines() or [type(e).__name__])[0]
    if isinstance(e, EngineError):
        # "duckdb failed to compute X: ConversionException: <engine text quoting values>"
        m = re.match(r"(.*? failed to .*?: \w+)", text)
        text = (m.group(1) if m else type(e).__name__) + " (the engine's own message is in the cause)"
    return text


def _outcome_text(results: list[LoadResult]) -> str:
    """Each source's outcome, one line each, under a count of each outcome."""
    counts: dict[str, int] = {}
    for r in results:
        counts[r.status] = counts.get(r.status, 0) + 1
    order = ("loaded", "unchanged", "failed", "not_attempted")
    summary = ", ".join(f"{counts[k]} {k.replace('_', ' ')}" for k in order if k in counts)
    lines = [f"Ingest of {len(results)} source(s): {summary}."]
    for r in results:
        where = f"{r.source} ({r.table}, {r.file})"
        if r.status == "loaded":
            what = f"loaded: {_contract(r)}"
        elif r.status == "unchanged":
            what = "unchanged since its last load, skipped"
        else:
            what = f"{r.status.replace('_', ' ')}: {r.error}"
        lines.append(f"  - {where}: {what}")
    lines.append("Fix the failed source(s) and run the ingest again; the sources loaded now are then "
                 "skipped as unchanged.")
    return "\n".join(lines)


def load_source(wh: Warehouse, source: SourceSettings, root: Path, *,
                inferred: frozenset[str] = frozenset(),
                future_tolerance_days: float = FUTURE_TOLERANCE_DAYS) -> LoadResult:
    """Load one source in one transaction; rows of the ``inferred`` master tables that its lines
    refer to are created from them."""
    started = time.perf_counter()
    path = (root / source.path) if source.path else None
    canon = TABLES[source.table]
    fingerprint = _fingerprint(path) if path is not None and path.is_file() else None
    if fingerprint and _already_loaded(wh, source.name, fingerprint):
        return LoadResult(source.name, source.table, source.location(), 0, 0, 0, skipped=True, status="unchanged")

    stage_name = f"_stage_{source.name}"
    checked_name = f"_checked_{source.name}"
    try:
        # Reading, typing and checking write only scratch tables (temporary on DuckDB), so they run
        # outside the transaction: DuckDB builds tables twice as fast there. Everything that
        # changes the warehouse happens in the one transaction below.
        staged = stage(wh, source, path, stage_name)
        if fingerprint is None and staged.fingerprint is not None:
            fingerprint = staged.fingerprint
            if _already_loaded(wh, source.name, fingerprint):
                return LoadResult(source.name, source.table, source.location(), 0, 0, 0, skipped=True,
                                  status="unchanged")
        raw = wh.con.table(stage_name)
        mapping = resolve_columns(source, canon, staged.columns)
        checked = wh.materialize(checked_name, checked_rows(wh, raw, source, canon, mapping, inferred=inferred,
                                                            future_tolerance_days=future_tolerance_days,
                                                            erased=lambda t: suppressed_flag(wh, root, t)))  # privacy
        # One pass counts the rows per reason and change and, for the good ones, the lines kept apart.
        counts = wh.execute(
            checked.group_by(reason=checked._reason, change=checked._change)
            .aggregate(n=checked.count(), **_kept_apart(checked, canon.name)),
            what=f"count {source.name}",
        )
        reasons = {r: int(n) for r, n in zip(counts.reason, counts.n, strict=True) if isinstance(r, str)}
        for rej in staged.rejects:
            reasons[rej.reason] = reasons.get(rej.reason, 0) + 1
        good = counts.loc[counts.reason.isna()]
        by_change = {c: int(n) for c, n in zip(good.change, good.n, strict=True)}
        unchanged = by_change.get("unchanged", 0)
        quarantined = sum(reasons.values())
        accounted = sum(by_change.values()) + quarantined
        read = _records_in(source, path, accounted)
        good_counts = good.drop(columns=["reason", "change", "n"]).sum()
        kept_apart = {k: int(v) for k, v in good_counts.items() if v}

        with wh.transaction():
            _add_derived_columns(wh, canon.name, checked, source)
            load_id = _next_load_id(wh)
            at = datetime.now(UTC).replace(tzinfo=None)
            changes = apply_changes(wh, source, checked, provided_columns(source, canon, mapping),
                                    load_id=load_id, at=at, source_loads=_loads_of(wh, source.name))
            good_rows = checked.filter(checked._reason.isnull() & (checked._change == "insert"))
            infer_masters(wh, canon, good_rows, inferred)

            bad = checked.filter(checked._reason.notnull())
            bad = bad.join(raw.drop(LINE), bad[REC] == raw[REC])
            record = ibis.struct({c: raw[c].cast("string") for c in staged.columns}).cast("json").cast("string")
            record = ibis.ifelse(bad._reason == "erased", ibis.null("string"), record)  # never kept
            wh.insert(QUARANTINE, bad.select(
                load_id=ibis.literal(load_id, "int64"), source=ibis.literal(source.name),
                file=ibis.literal(source.location()), line=bad[LINE], table_name=ibis.literal(canon.name),
                column=bad._column, reason=bad._reason, detail=bad._detail, record=record,
            ))
            if staged.rejects:
                wh.insert(QUARANTINE, _rejects_frame(staged.rejects, load_id, source, canon.name))
            loaded = changes.inserted + changes.updated
            result = LoadResult(
                source.name, canon.name, source.location(), read, loaded, quarantined,
                seconds=round(time.perf_counter() - started, 3), reasons=dict(sorted(reasons.items())),
                kept_apart=kept_apart, inserted=changes.inserted, updated=changes.updated, unchanged=unchanged,
                removed=changes.removed,
            )
            wh.insert(LOAD_LOG, pa.Table.from_pylist([{
                "load_id": load_id, "source": source.name, "table_name": canon.name, "file": source.location(),
                "fingerprint": fingerprint or "", "read": read, "loaded": loaded,
                "quarantined": quarantined, "started": at, "seconds": result.seconds,
                "inserted": changes.inserted, "updated": changes.updated, "unchanged": unchanged,
                "removed": changes.removed,
            }], schema=_LOAD_LOG_SCHEMA.to_pyarrow()).select(wh.table(LOAD_LOG).columns))
        return result
    finally:
        # Also after a failure: on Spark the scratch tables are real tables and would linger.
        for scratch in (checked_name, f"_typed_{source.name}", stage_name, f"_merged_{source.name}",
                        f"_gone_{source.name}", f"_removed_{source.name}"):
            with contextlib.suppress(Exception):
                wh.drop(scratch)


def _records_in(source: SourceSettings, path: Path | None, accounted: int) -> int:
    """The file's record count, counted apart from the reader; a SourceError when they disagree."""
    counted = count_records(source, path)
    if counted is None or counted == accounted:
        return accounted
    raise SourceError(
        f"Source {source.name!r} ({source.location()}): the file holds {counted:,} records but the reader "
        f"accounted for {accounted:,} (loaded, unchanged or quarantined), so "
        f"{abs(counted - accounted):,} would be {'lost' if counted > accounted else 'invented'}; nothing was "
        "loaded. This is a crmine bug or a file whose quoting the two counts read differently: check for an "
        "unclosed double quote, and please report it."
    )


def _contract(r: LoadResult) -> str:
    """``read = inserted + updated + unchanged + quarantined`` in words (updated and unchanged when not 0)."""
    parts = [(r.inserted, "inserted"), (r.updated, "updated"), (r.unchanged, "unchanged"),
             (r.quarantined, "quarantined")]
    shown = [f"{n:,} {what}" for n, what in parts if n or what in ("inserted", "quarantined")]
    text = f"{r.read:,} read = {' + '.join(shown)}"
    return text + (f"; {r.removed:,} removed (no longer in the snapshot)" if r.removed else "")


def _loads_of(wh: Warehouse, source: str) -> list[int]:
    log = wh.table(LOAD_LOG)
    ids = wh.execute(log.filter(log.source == source).load_id, what="read load_log")
    return sorted(int(i) for i in ids)


def _kept_apart(checked: ibis.Table, table: str) -> dict[str, ibis.Value]:
    """Counts of transaction lines that are returns, not goods, or bought by a guest."""
    if table != "transactions":
        return {}
    return {
        "returns": checked.is_return.fill_null(False).cast("int64").sum(),
        "non_product": checked.non_product.fill_null(False).cast("int64").sum(),
        "guest_lines": checked.customer_id.isnull().cast("int64").sum(),
    }


def _add_derived_columns(wh: Warehouse, table: str, checked: ibis.Table, source: SourceSettings) -> None:
    """A derived column that is not canonical becomes a new column of the table (null for old rows)."""
    for name in (table, history_name(table)):
        existing = wh.table(name).columns
        wh.add_columns(name, {n: checked.schema()[n] for n in source.derive if n not in existing})


def _rejects_frame(rejects: tuple[Reject, ...], load_id: int, source: SourceSettings, table: str) -> pa.Table:
    rows = [{"load_id": load_id, "source": source.name, "file": source.location(), "line": r.line,
             "table_name": table, "column": None, "reason": r.reason, "detail": r.detail, "record": r.text}
            for r in rejects]
    return pa.Table.from_pylist(rows, schema=_QUARANTINE_SCHEMA.to_pyarrow())


def _next_load_id(wh: Warehouse) -> int:
    current = wh.execute(wh.table(LOAD_LOG).load_id.max(), what="read load_log")
    return 1 if current is None or pd.isna(current) else int(current) + 1


def _already_loaded(wh: Warehouse, source: str, fingerprint: str) -> bool:
    log = wh.table(LOAD_LOG)
    hit = log.filter((log.source == source) & (log.fingerprint == fingerprint)).count()
    return int(wh.execute(hit, what="read load_log")) > 0


def _fingerprint(path: Path) -> str:
    h = hashlib.blake2b(digest_size=16)
    with path.open("rb") as f:
        while chunk := f.read(1 << 22):
            h.update(chunk)
    return h.hexdigest()
