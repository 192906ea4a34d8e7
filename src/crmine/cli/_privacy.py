"""``crmine privacy ...`` (erase, export, log): parse, call :mod:`crmine.privacy`, format.
Plain text (no markup), or ``--json``. Messages carry counts and table names, never the address."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from crmine.cli._common import AsJson, Dir
from crmine.cli._common import ui as _ui

__all__ = ["privacy_app"]

privacy_app = typer.Typer(
    help="Privacy requests: erase a person everywhere, export everything held about them, and the log of "
         "erasures, access requests and exports.",
    no_args_is_help=True, rich_markup_mode=None)

Email = Annotated[str | None, typer.Option("--email", help="The person's e-mail address (case and spaces ignored).")]
Customer = Annotated[str | None, typer.Option("--customer", help="A unified customer id or a source record id.")]


def _privacy(path: Path):
    import crmine

    return crmine.open(path).privacy


def _one(email: str | None, customer: str | None) -> None:
    if (email is None) == (customer is None):
        from crmine.errors import SettingsError

        raise SettingsError("Give exactly one of --email ADDRESS or --customer ID.")


@privacy_app.command("erase")
def privacy_erase(path: Dir, email: Email = None, customer: Customer = None, as_json: AsJson = False) -> None:
    """Remove every row about one person from every table, rewrite the exports that name them, and
    keep them out of later loads (salted hashes in privacy_suppressed)."""
    _one(email, customer)
    result = _privacy(path).erase(email=email, customer=customer)
    if as_json:
        print(json.dumps(result.to_dict(), indent=2))
        return
    out = _ui().console
    out.print(f"erased {result.customers} customer(s), {result.records} source record(s): {result.rows:,} rows "
              f"in {len(result.tables)} tables, in {result.seconds:.2f} s", markup=False)
    for name, n in sorted(result.tables.items()):
        out.print(f"  {name}: {n:,}", markup=False)
    for name, action in sorted(result.files.items()):
        out.print(f"  {name}: {action}", markup=False)
    out.print(f"{result.suppressed} key(s) added to the suppression list; the next loads quarantine their rows "
              "as erased.", markup=False)
    if result.retrain:
        out.print(f"{len(result.retrain)} saved model file(s) flagged for retraining in models/RETRAIN.json.",
                  markup=False)


@privacy_app.command("export")
def privacy_export(
    path: Dir,
    out: Annotated[Path, typer.Option("--out", help="The JSON file to write (must not exist).")],
    email: Email = None,
    customer: Customer = None,
    as_json: AsJson = False,
) -> None:
    """Write everything crmine holds about one person to a JSON file (an access request)."""
    _one(email, customer)
    counts = _privacy(path).access(out, email=email, customer=customer)
    if as_json:
        print(json.dumps({"file": str(out), "tables": counts}, indent=2))
        return
    _ui().console.print(f"wrote {out}: {sum(counts.values()):,} rows from {len(counts)} tables", markup=False)


@privacy_app.command("retain")
def privacy_retain(path: Dir, as_json: AsJson = False) -> None:
    """Delete the rows older than the retention periods of [privacy.retention] in crmine.toml."""
    deleted = _privacy(path).retain()
    if as_json:
        print(json.dumps({"tables": deleted}, indent=2))
        return
    out = _ui().console
    out.print(f"retention: {sum(deleted.values()):,} rows deleted from {len(deleted)} table(s)", markup=False)
    for name, n in sorted(deleted.items()):
        out.print(f"  {name}: {n:,}", markup=False)


@privacy_app.command("log")
def privacy_log(path: Dir, as_json: AsJson = False) -> None:
    """Every erasure, access request and export, oldest first (counts only, no personal values)."""
    requests = _privacy(path).log()
    if as_json:
        print(json.dumps({"requests": requests}, indent=2))
        return
    out = _ui().console
    if not requests:
        out.print("no privacy requests or exports yet", markup=False)
    for r in requests:
        rows = sum(r["tables"].values())
        out.print(f"{r['at'][:19]}  {r['kind']:<8} by {r['by']}: {rows:,} rows in {len(r['tables'])} "
                  f"table(s){'; ' + str(len(r['files'])) + ' file(s)' if r['files'] else ''}", markup=False)
