"""The files crmine wrote that may name a person: exports, reports and models.

- ``exports/``: every CSV or JSON list is read cell by cell; a row is theirs when a cell is one of
  their ids or one of their e-mail addresses (standardised). An erasure rewrites the files that hold
  such rows without them, atomically; an access request quotes the rows.
- ``reports/``: a report is a snapshot of the whole warehouse. One whose text names them (customer-
  level rows) is deleted; the others are listed as stale in ``reports/STALE.json``.
- ``models/``: a model trained on them is flagged for retraining in ``models/RETRAIN.json``.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from crmine import _atomic
from crmine.privacy._find import Person, standardised
from crmine.warehouse import Warehouse

__all__ = ["ExportFile", "flag_models", "flag_reports", "plan_reports", "rewrite_exports", "scan_exports"]

STALE = "STALE.json"
RETRAIN = "RETRAIN.json"


@dataclass
class ExportFile:
    """One export file: its path, name (relative to the workspace), rows, their cells as text, and
    which rows are theirs."""

    path: Path
    name: str
    fmt: str
    header: list[str]
    rows: list
    cells: list[list[str]]
    theirs: list[bool] = field(default_factory=list)

    def kept_text(self) -> str:
        kept = [r for r, t in zip(self.rows, self.theirs, strict=True) if not t]
        if self.fmt == "json":
            return json.dumps(kept, ensure_ascii=False)
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(self.header)
        w.writerows(kept)
        return buf.getvalue()

    def their_rows(self) -> list[dict]:
        rows = [r for r, t in zip(self.rows, self.theirs, strict=True) if t]
        return rows if self.fmt == "json" else [dict(zip(self.header, r, strict=False)) for r in rows]


def scan_exports(wh: Warehouse, root: Path, person: Person) -> list[ExportFile]:
    """The export files that hold rows about ``person``."""
    folder = Path(root) / "exports"
    if not folder.is_dir():
        return []
    files = []
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or path.name.startswith(".") or path.suffix.lower() not in (".csv", ".json"):
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        if path.suffix.lower() == ".json":
            try:
                rows = json.loads(text)
            except ValueError:
                continue
            if not isinstance(rows, list):
                continue
            header, cells = [], [[str(v) for v in r.values()] if isinstance(r, dict) else [] for r in rows]
            fmt = "json"
        else:
            parsed = list(csv.reader(io.StringIO(text)))
            if not parsed:
                continue
            header, rows, fmt = parsed[0], parsed[1:], "csv"
            cells = rows
        files.append(ExportFile(path, str(path.relative_to(root)), fmt, header, rows, cells))
    std = standardised(wh, {c.strip() for f in files for row in f.cells for c in row if "@" in c})
    ids = person.ids
    for f in files:
        f.theirs = [any(c.strip() in ids or std.get(c.strip()) in person.emails for c in row if c)
                    for row in f.cells]
    return [f for f in files if any(f.theirs)]


def rewrite_exports(files: list[ExportFile]) -> dict[str, int]:
    """Rewrite each file without their rows (atomically); returns file -> rows dropped."""
    dropped = {}
    for f in files:
        _atomic.write_text(f.path, f.kept_text())
        dropped[f.name] = sum(f.theirs)
    return dropped


def plan_reports(root: Path, person: Person) -> dict[str, str]:
    """What an erasure does to each report: "deleted" when its text names them, else "stale"."""
    folder = Path(root) / "reports"
    if not folder.is_dir():
        return {}
    needles = [n.lower() for n in (*person.ids, *person.emails, *person.raw_emails)]
    actions = {}
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or path.name == STALE or path.name.startswith("."):
            continue
        text = path.read_text(encoding="utf-8", errors="replace").lower()
        actions[str(path.relative_to(root))] = "deleted" if any(n in text for n in needles) else "stale"
    return actions


def flag_reports(root: Path, actions: dict[str, str], at: datetime) -> None:
    """Delete the reports :func:`plan_reports` found naming them; list the others in STALE.json."""
    for name, action in actions.items():
        if action == "deleted":
            (Path(root) / name).unlink(missing_ok=True)
    stale = sorted(n for n, a in actions.items() if a == "stale")
    if stale:
        _merge_marker(Path(root) / "reports" / STALE, at,
                      "built before an erasure: rebuild with `crmine report DIR`", stale)


def flag_models(root: Path, at: datetime) -> list[str]:
    """Flag every saved model for retraining (they were fitted on data that included the person)."""
    folder = Path(root) / "models"
    if not folder.is_dir():
        return []
    models = sorted(str(p.relative_to(root)) for p in folder.rglob("*")
                    if p.is_file() and p.name != RETRAIN and not p.name.startswith("."))
    if models:
        _merge_marker(folder / RETRAIN, at, "trained on data that included an erased person: retrain "
                      "(`crmine run DIR`)", models)
    return models


def _merge_marker(path: Path, at: datetime, reason: str, files: list[str]) -> None:
    old: list[str] = []
    if path.is_file():
        try:
            old = list(json.loads(path.read_text(encoding="utf-8")).get("files", []))
        except (ValueError, AttributeError):
            old = []
    body = {"since": at.isoformat(timespec="seconds"), "reason": reason, "files": sorted({*old, *files})}
    _atomic.write_text(path, json.dumps(body, indent=2) + "\n")
