"""The one governed way customer-level data leaves the warehouse.

Every file (or stream) of customer rows that crmine writes goes through :func:`export_customers`,
which, in this order:

1. for a marketing list (``marketing=(purpose, channel)``), drops the customers whose consent for
   that purpose and channel is not granted at the moment of export (:func:`consent_at`);
2. inserts a row in ``export_audit``: when, who, which file, what (JSON), kind, how many rows, how
   many left out for consent, whether personal contact columns are in it; before the file exists;
3. writes the file atomically and without overwriting (:func:`crmine._atomic.creating`): whole or
   not at all, so an audit row never describes a file that another export replaced later. An
   audit row whose file is missing records an export that failed while writing.

Consent is a history (one row per grant or withdrawal). Its state for (customer, purpose, channel)
at a moment is the latest record at or before it, read per source record and then per unified
customer:

- a record with no ``ts`` counts as given before any dated one (a consent of unknown date is the
  oldest thing known: any dated record overrides it), and as given at every moment;
- records of one source customer at the same latest moment that disagree: the withdrawal wins;
- source records of one unified customer that disagree: the withdrawal wins (the safe side);
- a missing ``granted`` counts as refused; a customer with no record has no consent.

Analysis lists (``crmine query --list``) hold customer_id and the asked-for columns only; the
personal contact columns of :data:`PERSONAL_COLUMNS` need ``personal=True`` and are audited.
"""

from __future__ import annotations

import getpass
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import ibis
import ibis.expr.types as ir
import pandas as pd

from crmine import _atomic
from crmine._customers import LINEAGE, resolved
from crmine.errors import SchemaError, SettingsError
from crmine.schema import require_columns
from crmine.warehouse import Warehouse

__all__ = ["AUDIT_TABLE", "PERSONAL_COLUMNS", "Export", "consent_at", "customer_list", "export_customers"]

AUDIT_TABLE = "export_audit"
# Contact details of the customers table. They identify a person and reach them, so an export
# carries them only when asked for explicitly (and the audit row says so).
PERSONAL_COLUMNS = ("name", "email", "phone", "address")
# Columns added after the first audit rows were written; older tables get them, null, on use.
_LATER_AUDIT_COLUMNS = {"kind": "string", "personal": "boolean"}
STDOUT = "<stdout>"


@dataclass(frozen=True)
class Export:
    """What one export wrote.

    Attributes
    ----------
    customers
        The rows exported (after the consent rule for a marketing list).
    file
        Where they went: a path, or ``"<stdout>"`` for a stream.
    rows
        Rows written.
    excluded_no_consent
        Customers left out for lack of consent (0 for lists that are not marketing lists).
    """

    customers: pd.DataFrame
    file: str
    rows: int
    excluded_no_consent: int


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def consent_at(wh: Warehouse, purpose: str, channel: str, at: Any = None) -> pd.DataFrame:
    """Consent for ``purpose`` by ``channel`` at the moment ``at`` (default: now, UTC), one row per
    unified customer with a record: columns customer_id and granted (see the module docstring)."""
    moment = pd.Timestamp(_now() if at is None else at)
    if moment.tzinfo is not None:  # the warehouse keeps times without a zone, in UTC
        moment = moment.tz_convert("UTC").tz_localize(None)
    if not wh.has_table("consents"):
        return pd.DataFrame({"customer_id": pd.Series(dtype=object), "granted": pd.Series(dtype=bool)})
    c = wh.table("consents")
    c = c.filter(c.customer_id.notnull() & (c.purpose == purpose) & (c.channel == channel))
    c = c.filter(c.ts.isnull() | (c.ts <= ibis.literal(moment.to_pydatetime(), "timestamp")))
    # Per source record: its latest moment (null when all its records are undated), and every
    # record at that moment; one refusal among them refuses.
    latest = c.group_by(_rec="customer_id").aggregate(_latest=c.ts.max())
    j = c.inner_join(latest, c.customer_id == latest._rec)
    j = j.filter((j.ts == j._latest) | (j._latest.isnull() & j.ts.isnull()))
    per_record = j.group_by("customer_id").aggregate(granted=j.granted.fill_null(False).all())
    state = _unified(wh, per_record)
    state = state.group_by("customer_id").aggregate(granted=state.granted.all())
    frame = wh.execute(state.order_by("customer_id"), what="read consents")
    frame["granted"] = frame["granted"].astype(bool)
    return frame


def _unified(wh: Warehouse, t: ir.Table) -> ir.Table:
    """``t`` with customer_id mapped to the unified id (as :func:`crmine._customers.resolved`)."""
    if not wh.has_table(LINEAGE):
        return t
    lin = wh.table(LINEAGE).select(_rec_id="customer_id", _unified="unified_id")
    j = t.left_join(lin, t.customer_id == lin._rec_id)
    return j.mutate(customer_id=ibis.coalesce(j._unified, j.customer_id)).drop("_rec_id", "_unified")


def customer_list(wh: Warehouse, table: ir.Table, condition: str | None, /, *,
                  columns: Sequence[str] | None = None, personal: bool = False) -> pd.DataFrame:
    """The customers of ``table`` meeting ``condition``: customer_id and ``columns`` (default: the
    columns the condition uses), ordered by customer_id.

    Columns of :data:`PERSONAL_COLUMNS` come from the customers table (one value per unified
    customer) and need ``personal=True``.
    """
    from crmine._expression import referenced_columns
    from crmine.features import select_customers

    selected = select_customers(table, condition)
    if columns is None:
        used = referenced_columns(condition, table) if condition and condition.strip() else set()
        columns = [c for c in table.columns if c in used]
    wanted = list(dict.fromkeys(c for c in ("customer_id", *columns)))
    asked_personal = [c for c in wanted if c in PERSONAL_COLUMNS]
    if asked_personal and not personal:
        raise SettingsError(
            f"{', '.join(asked_personal)}: personal contact details ({', '.join(PERSONAL_COLUMNS)}) leave the "
            "warehouse only when asked for explicitly. Add --personal (personal=True); the export is audited.")
    require_columns([*table.columns, *asked_personal], wanted, where="The customer table",
                    hint="See `crmine dictionary`; personal columns are name, email, phone and address.")
    out = selected.select(*[c for c in wanted if c not in asked_personal])
    if asked_personal:
        people = resolved(wh, "customers")
        missing = [c for c in asked_personal if c not in people.columns]
        if missing:
            raise SchemaError(f"The customers table has no column {', '.join(missing)}; map it at ingest.")
        # max() is a deterministic pick among a unified customer's records.
        g = people.group_by(_pid="customer_id").aggregate(**{c: people[c].max() for c in asked_personal})
        out = out.left_join(g, out.customer_id == g._pid).drop("_pid")
        out = out.select(*wanted)
    return wh.execute(out.order_by("customer_id"), what="list customers")


def export_customers(
    wh: Warehouse,
    root: Path,
    frame: pd.DataFrame,
    /,
    *,
    kind: str,
    what: dict[str, Any],
    user: str | None = None,
    out: str | os.PathLike | TextIO | None = None,
    marketing: tuple[str, str] | None = None,
    personal: bool = False,
    at: datetime | None = None,
    excluded: int = 0,
    fmt: str = "csv",
) -> Export:
    """Export ``frame`` (one row per customer, with customer_id) the governed way.

    Parameters
    ----------
    wh, root
        The warehouse and the workspace folder (files under it are recorded relative to it).
    frame
        The rows to export.
    kind
        What sort of list: targets, query, lookalike, scores; names the default file.
    what
        How the list was made (recorded as JSON in the audit row).
    user
        Who exports (default: the login name).
    out
        A file that must not exist yet, a text stream (recorded as ``<stdout>``), or None for a new
        file ``exports/<kind>-<date>-<time>-<microseconds>.csv``.
    marketing
        (purpose, channel) for a marketing list: customers without that consent at ``at`` are left out.
    personal
        Whether the rows hold personal contact columns; required when they do.
    at
        The moment of export (default: now, UTC): the audit time and the moment consent is read at.
    excluded
        Customers already left out upstream for lack of consent, added to the audited count.
    fmt
        csv, or json (records) for a stream.
    """
    require_columns(list(map(str, frame.columns)), ["customer_id"], where=f"The {kind} list")
    held = [c for c in frame.columns if c in PERSONAL_COLUMNS]
    if held and not personal:
        raise SettingsError(f"The {kind} list holds personal contact columns ({', '.join(held)}); "
                            "export them only with personal=True (--personal).")
    if fmt not in ("csv", "json"):
        raise SettingsError(f"fmt must be csv or json; received {fmt!r}.")
    stamp = _now() if at is None else at
    if marketing is not None:
        consent = consent_at(wh, *marketing, stamp)
        allowed = set(consent.customer_id[consent.granted])
        keep = frame.customer_id.isin(allowed).to_numpy(dtype=bool)
        excluded += int((~keep).sum())
        frame = frame[keep].reset_index(drop=True)
    path = _new_file(root, kind, stamp) if out is None else out if hasattr(out, "write") else Path(out)
    if isinstance(path, Path):
        if path.exists():  # checked before the audit row; _atomic.creating enforces it again
            raise SettingsError(f"{path} exists already; an export never replaces a file. Choose another "
                                 "name (--out), or move the old file away.")
        full, base = path.resolve(), Path(root).resolve()
        file = str(full.relative_to(base)) if full.is_relative_to(base) else str(full)
    else:
        file = STDOUT
    row = {"exported": stamp, "user": user or getpass.getuser(), "file": file,
           "what": json.dumps(what, default=str), "rows": len(frame),
           "excluded_no_consent": excluded, "kind": kind, "personal": bool(held)}
    _audit(wh, row)
    if isinstance(path, Path):
        with _atomic.creating(path) as tmp:  # looked up at call time: tests watch it
            _write(frame, tmp, fmt)
    else:
        _write(frame, path, fmt)
    return Export(customers=frame, file=file, rows=len(frame), excluded_no_consent=excluded)


def _write(frame: pd.DataFrame, dest: Path | TextIO, fmt: str) -> None:
    if fmt == "csv":
        frame.to_csv(dest, index=False)
    elif isinstance(dest, Path):
        dest.write_text(frame.to_json(orient="records", date_format="iso"), encoding="utf-8")
    else:
        dest.write(frame.to_json(orient="records", date_format="iso") + "\n")


def _audit(wh: Warehouse, row: dict[str, Any]) -> None:
    """Append ``row`` to the audit table, creating it or adding the columns it lacks."""
    if not wh.has_table(AUDIT_TABLE):
        wh.write(AUDIT_TABLE, pd.DataFrame([row]))
        return
    present = wh.table(AUDIT_TABLE).columns
    wh.add_columns(AUDIT_TABLE, {c: t for c, t in _LATER_AUDIT_COLUMNS.items() if c not in present})
    columns = wh.table(AUDIT_TABLE).columns
    wh.insert(AUDIT_TABLE, pd.DataFrame([{c: row.get(c) for c in columns}]))


def _new_file(root: Path, kind: str, stamp: datetime) -> Path:
    """``exports/<kind>-<date>-<time>-<microseconds>.csv``, with a counter if that name is taken."""
    folder = Path(root) / "exports"
    base = f"{kind}-{stamp:%Y%m%d-%H%M%S-%f}"
    out, n = folder / f"{base}.csv", 1
    while out.exists():
        n += 1
        out = folder / f"{base}-{n}.csv"
    return out
