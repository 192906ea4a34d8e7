"""The data dictionary, generated from the schema so that it cannot drift from it."""

from __future__ import annotations

import pandas as pd

from crmine.schema import TABLES, Column

__all__ = ["dictionary"]


def _rule(c: Column) -> str:
    parts = []
    if c.required:
        parts.append("required")
    if c.min is not None and c.max is not None:
        parts.append(f"{c.min:g} to {c.max:g}")
    elif c.min is not None:
        parts.append(f">= {c.min:g}")
    elif c.max is not None:
        parts.append(f"<= {c.max:g}")
    if c.allowed:
        parts.append("one of " + ", ".join(c.allowed))
    if c.references:
        parts.append(f"must exist in {c.references}")
    return "; ".join(parts)


def dictionary() -> pd.DataFrame:
    """One row per canonical column: table, column, type, key, rule, meaning, used by."""
    rows = []
    for t in TABLES.values():
        for c in t.columns:
            rows.append({
                "table": t.name,
                "column": c.name,
                "type": c.dtype,
                "key": c.name in t.key,
                "rule": _rule(c),
                "meaning": c.description,
                "used_by": ", ".join(c.used_by),
            })
    return pd.DataFrame(rows)
