"""Access requests: everything crmine holds about a person, as one JSON object.

Keys are table names (``customers``, ``transactions``, ``consents``, their histories, scores,
segments, ``customer_lineage``, ``quarantine`` ...), each a list of rows with times as ISO strings;
``lists`` holds the export files (marketing and analysis lists) they were on, with the audit row of
each and their rows in it. The file is written atomically and never replaces an existing one.
"""

from __future__ import annotations

import json
import math
import os
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from crmine import _atomic
from crmine.errors import SettingsError
from crmine.privacy._erase import their_rows
from crmine.privacy._files import scan_exports
from crmine.privacy._find import find_person
from crmine.privacy._log import append_log
from crmine.privacy._tables import quarantine_keys
from crmine.settings import Settings
from crmine.warehouse import Warehouse

__all__ = ["access"]


def _plain(v: Any) -> Any:
    """A value as JSON holds it: times as ISO strings, missing as null."""
    if v is None or v is pd.NaT:
        return None
    if isinstance(v, pd.Timestamp | datetime | date):
        return v.isoformat()
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, Decimal):
        return float(v)
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, list | tuple | np.ndarray):
        return [_plain(x) for x in v]
    if isinstance(v, float | int | str | bool):
        return v
    return str(v)


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    frame = frame.astype(object).where(frame.notna(), None)
    return [{k: _plain(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]


def access(wh: Warehouse, settings: Settings, root: Path, out: str | os.PathLike, *, email: str | None = None,
           customer: str | None = None, by: str | None = None) -> dict[str, int]:
    """Write everything about the person to ``out`` (JSON); returns table -> rows written."""
    target = Path(out)
    if target.exists():
        raise SettingsError(f"{target} exists already; an access export never replaces a file. Choose another "
                            "name (--out), or move the old file away.")
    person = find_person(wh, settings, email=email, customer=customer)
    body: dict[str, Any] = {}
    for name, (rows, _) in their_rows(wh, person).items():
        frame = wh.execute(rows, what=f"read {name}")
        if len(frame):
            body[name] = _records(frame)
    keys = quarantine_keys(wh, settings, person)
    if len(keys):
        q = wh.table("quarantine")
        frame = wh.execute(q, what="read quarantine").merge(keys, on=["load_id", "line"])
        body["quarantine"] = _records(frame)
    lists = []
    audit = (wh.execute(wh.table("export_audit"), what="read export_audit")
             if wh.has_table("export_audit") else pd.DataFrame(columns=["file"]))
    for f in scan_exports(wh, root, person):
        row = audit[audit.file == f.name]
        lists.append({"file": f.name, "audit": _records(row)[0] if len(row) else None,
                      "rows": [_plain(r) for r in f.their_rows()]})
    if lists:
        body["lists"] = lists
    counts = {k: len(v) for k, v in body.items()}
    text = json.dumps(body, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    try:
        with _atomic.creating(target) as tmp:
            tmp.write_text(text, encoding="utf-8")
    except FileExistsError:
        raise SettingsError(f"{target} exists already; an access export never replaces a file.") from None
    append_log(wh, "access", datetime.now(UTC).replace(tzinfo=None), counts, by=by)
    return counts
