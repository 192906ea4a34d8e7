"""What the command modules share: the main module's consoles, and JSON-safe values."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any

import typer

__all__ = ["AsJson", "Dir", "json_value", "read_table", "ui"]

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


def read_table(path: Path, *, columns: list[str] | None = None, **csv_options: Any):
    """A CSV or Parquet file as a DataFrame (only ``columns``, when given); ``csv_options`` go to
    pandas' read_csv (e.g. ``dtype=str`` to keep ids as written). A SourceError names the file."""
    import pandas as pd

    from crmine.errors import SourceError

    try:
        if path.suffix.lower() == ".parquet":
            return pd.read_parquet(path, columns=columns)
        return pd.read_csv(path, usecols=columns, **csv_options)
    except (OSError, ValueError) as e:
        raise SourceError(f"Cannot read {path}: {type(e).__name__}. Give a CSV or Parquet file.") from None
