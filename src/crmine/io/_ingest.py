"""Load sources into the canonical tables, losing nothing.

For every load: rows read = rows loaded + rows quarantined, recorded in ``load_log``. A row that
breaks a rule goes to ``quarantine`` with its source, line, column, reason and raw values. A source
whose content has not changed since its last successful load is skipped. Each load is one
transaction: if it fails part-way (even by ``kill -9``), the warehouse is as it was before.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import ibis
import pandas as pd
import pyarrow as pa

from crmine._progress import Progress
from crmine.io._masters import infer_masters
from crmine.io._read import LINE, REC, Reject, stage
from crmine.io._validate import checked_rows, resolve_columns
from crmine.schema import LOAD_ORDER, TABLES
from crmine.settings import Settings, SourceSettings
from crmine.warehouse import Warehouse

__all__ = ["LOAD_LOG", "QUARANTINE", "LoadResult", "create_tables", "ingest"]

LOAD_LOG = "load_log"
QUARANTINE = "quarantine"

_LOAD_LOG_SCHEMA = ibis.schema({
    "load_id": "int64", "source": "string", "table_name": "string", "file": "string",
    "fingerprint": "string", "read": "int64", "loaded": "int64", "quarantined": "int64",
    "started": "timestamp", "seconds": "float64",
})
_QUARANTINE_SCHEMA = ibis.schema({
    "load_id": "int64", "source": "string", "file": "string", "line": "int64", "table_name": "string",
    "column": "string", "reason": "string", "detail": "string", "record": "string",
})


@dataclass(frozen=True)
class LoadResult:
    """What one load did; ``read == loaded + quarantined`` always holds."""

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

    def to_dict(self) -> dict:
        return asdict(self)


def create_tables(wh: Warehouse) -> None:
    """Create the canonical tables and the ingest bookkeeping tables, where missing."""
    for t in TABLES.values():
        wh.create_empty(t.name, ibis.schema({c.name: c.dtype for c in t.columns}))
    wh.create_empty(LOAD_LOG, _LOAD_LOG_SCHEMA)
    wh.create_empty(QUARANTINE, _QUARANTINE_SCHEMA)


def ingest(
    wh: Warehouse,
    settings: Settings,
    root: Path,
    *,
    sources: Iterable[str] | None = None,
    progress: Progress | None = None,
) -> list[LoadResult]:
    """Load every source of ``settings`` (or those named in ``sources``) in dependency order."""
    create_tables(wh)
    chosen = list(settings.sources) if sources is None else [settings.source(n) for n in sources]
    chosen.sort(key=lambda s: (LOAD_ORDER.index(s.table), s.name))
    for src in chosen:  # a settings mistake stops the ingest before any source is read
        if src.path:
            settings.source_path(src, root)
    results = []
    for i, src in enumerate(chosen):
        if progress:
            progress(src.name, i, len(chosen))
        results.append(load_source(wh, src, root, inferred=settings.inferred_tables()))
    if progress:
        progress("done", len(chosen), len(chosen))
    return results


def load_source(wh: Warehouse, source: SourceSettings, root: Path, *,
                inferred: frozenset[str] = frozenset()) -> LoadResult:
    """Load one source in one transaction; rows of the ``inferred`` master tables that its lines
    refer to are created from them."""
    started = time.perf_counter()
    path = (root / source.path) if source.path else None
    canon = TABLES[source.table]
    fingerprint = _fingerprint(path) if path is not None and path.is_file() else None
    if fingerprint and _already_loaded(wh, source.name, fingerprint):
        return LoadResult(source.name, source.table, source.location(), 0, 0, 0, skipped=True)

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
                return LoadResult(source.name, source.table, source.location(), 0, 0, 0, skipped=True)
        raw = wh.con.table(stage_name)
        mapping = resolve_columns(source, canon, staged.columns)
        checked = wh.materialize(checked_name, checked_rows(wh, raw, source, canon, mapping,
                                                                   inferred=inferred))
        # One pass counts the rows per reason and, for the good ones, the lines kept apart.
        counts = wh.execute(
            checked.group_by(reason=checked._reason).aggregate(n=checked.count(), **_kept_apart(checked, canon.name)),
            what=f"count {source.name}",
        )
        reasons = {r: int(n) for r, n in zip(counts.reason, counts.n, strict=True) if isinstance(r, str)}
        for rej in staged.rejects:
            reasons[rej.reason] = reasons.get(rej.reason, 0) + 1
        loaded = int(counts.loc[counts.reason.isna(), "n"].sum())
        quarantined = sum(reasons.values())
        good_counts = counts.loc[counts.reason.isna()].drop(columns=["reason", "n"]).sum()
        kept_apart = {k: int(v) for k, v in good_counts.items() if v}

        with wh.transaction():
            _add_derived_columns(wh, canon.name, checked, source)
            target = wh.table(canon.name)
            good = checked.filter(checked._reason.isnull())
            wh.insert(canon.name, good.select(*[_col(good, c, target) for c in target.columns]))
            infer_masters(wh, canon, good, inferred)

            load_id = _next_load_id(wh)
            bad = checked.filter(checked._reason.notnull())
            bad = bad.join(raw.drop(LINE), bad[REC] == raw[REC])
            record = ibis.struct({c: raw[c].cast("string") for c in staged.columns}).cast("json").cast("string")
            wh.insert(QUARANTINE, bad.select(
                load_id=ibis.literal(load_id, "int64"), source=ibis.literal(source.name),
                file=ibis.literal(source.location()), line=bad[LINE], table_name=ibis.literal(canon.name),
                column=bad._column, reason=bad._reason, detail=bad._detail, record=record,
            ))
            if staged.rejects:
                wh.insert(QUARANTINE, _rejects_frame(staged.rejects, load_id, source, canon.name))
            result = LoadResult(
                source.name, canon.name, source.location(), loaded + quarantined, loaded, quarantined,
                seconds=round(time.perf_counter() - started, 3), reasons=dict(sorted(reasons.items())),
                kept_apart=kept_apart,
            )
            wh.insert(LOAD_LOG, pa.Table.from_pylist([{
                "load_id": load_id, "source": source.name, "table_name": canon.name, "file": source.location(),
                "fingerprint": fingerprint or "", "read": result.read, "loaded": loaded,
                "quarantined": quarantined, "started": datetime.now(UTC).replace(tzinfo=None),
                "seconds": result.seconds,
            }], schema=_LOAD_LOG_SCHEMA.to_pyarrow()))
        return result
    finally:
        # Also after a failure: on Spark the scratch tables are real tables and would linger.
        for scratch in (checked_name, f"_typed_{source.name}", stage_name):
            with contextlib.suppress(Exception):
                wh.drop(scratch)


def _kept_apart(checked: ibis.Table, table: str) -> dict[str, ibis.Value]:
    """Counts of transaction lines that are returns, not goods, or bought by a guest."""
    if table != "transactions":
        return {}
    return {
        "returns": checked.is_return.fill_null(False).cast("int64").sum(),
        "non_product": checked.non_product.fill_null(False).cast("int64").sum(),
        "guest_lines": checked.customer_id.isnull().cast("int64").sum(),
    }


def _col(t: ibis.Table, name: str, target: ibis.Table) -> ibis.Value:
    dtype = target.schema()[name]
    return (t[name] if name in t.columns else ibis.null()).cast(dtype).name(name)


def _add_derived_columns(wh: Warehouse, table: str, checked: ibis.Table, source: SourceSettings) -> None:
    """A derived column that is not canonical becomes a new column of the table (null for old rows)."""
    existing = wh.table(table).columns
    wh.add_columns(table, {n: checked.schema()[n] for n in source.derive if n not in existing})


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
