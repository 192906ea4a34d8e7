"""The privacy log: one row per erasure and access request, with counts and never a value.

``privacy_log`` holds kind, at, by (the login name), tables (JSON: table -> rows) and files (JSON:
file -> what was done). :func:`read_log` adds every export recorded in ``export_audit`` as kind
"export", so one list answers "what happened to personal data here".
"""

from __future__ import annotations

import getpass
import json
from datetime import datetime
from typing import Any

import ibis
import pandas as pd

from crmine.warehouse import Warehouse

__all__ = ["LOG", "append_log", "read_log"]

LOG = "privacy_log"
LOG_SCHEMA = ibis.schema({"kind": "string", "at": "timestamp", "by": "string", "tables": "string",
                          "files": "string"})


def append_log(wh: Warehouse, kind: str, at: datetime, tables: dict[str, int], *,
               files: dict[str, Any] | None = None, by: str | None = None) -> None:
    wh.create_empty(LOG, LOG_SCHEMA)
    row = {"kind": kind, "at": at, "by": by or getpass.getuser(), "tables": json.dumps(tables, sort_keys=True),
           "files": json.dumps(files or {}, sort_keys=True)}
    wh.insert(LOG, pd.DataFrame([row]).astype({"at": "datetime64[us]"}))


def read_log(wh: Warehouse) -> list[dict[str, Any]]:
    """Every request, oldest first: kind, at (ISO), by, tables {name: rows}, files."""
    out = []
    if wh.has_table(LOG):
        for r in wh.execute(wh.table(LOG), what=f"read {LOG}").itertuples():
            out.append({"kind": r.kind, "at": pd.Timestamp(r.at).isoformat(), "by": r.by,
                        "tables": json.loads(r.tables or "{}"), "files": json.loads(r.files or "{}")})
    if wh.has_table("export_audit"):
        for r in wh.execute(wh.table("export_audit"), what="read export_audit").to_dict(orient="records"):
            rows = r.get("rows")
            out.append({"kind": "export", "at": pd.Timestamp(r["exported"]).isoformat(), "by": r.get("user"),
                        "tables": {str(r.get("kind") or "export"): int(rows) if pd.notna(rows) else 0},
                        "files": {str(r.get("file")): "written"}})
    out.sort(key=lambda e: e["at"])
    return out
