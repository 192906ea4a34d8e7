"""What the command modules share: the main module's consoles, and JSON-safe values."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any

import typer

__all__ = ["AsJson", "Dir", "json_value", "ui"]

# The arguments every workspace command takes.
Dir = Annotated[Path, typer.Argument(help="The workspace folder.", metavar="DIR")]
AsJson = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


def ui():
    """The CLI's consoles and helpers (imported late: crmine.cli._app imports the command modules)."""
    from crmine.cli import _app

    return _app


def json_value(v: Any) -> Any:
    """A value JSON can hold: numpy scalars become Python ones, NaN and infinities null, times ISO text."""
    if hasattr(v, "item"):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if hasattr(v, "isoformat"):  # a day when there is no time of day, else the full moment
        text = v.isoformat()
        return text[:10] if text[10:].strip("T0:.") in ("", "+") else text
    return v
