"""What the text functions share: reading a column of texts, and checking that columns exist."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from crmine.errors import SchemaError

__all__ = ["as_texts", "require_columns"]


def as_texts(texts: Iterable[Any]) -> tuple[np.ndarray, np.ndarray]:
    """``texts`` as an object array of str, and a mask of the empty ones.

    Missing values (None, NaN, pd.NA) and texts of only white space are empty; they become "".
    Anything else that is not a string (a number read from a file) is turned into its string.
    """
    values = texts.to_numpy(dtype=object) if isinstance(texts, pd.Series | pd.Index) else np.asarray(list(texts), dtype=object)
    out = np.empty(values.shape[0], dtype=object)
    empty = np.zeros(values.shape[0], dtype=bool)
    for i, v in enumerate(values):
        if v is None or (not isinstance(v, str) and pd.isna(v)):
            out[i], empty[i] = "", True
        else:
            s = v if isinstance(v, str) else str(v)
            out[i], empty[i] = s, not s.strip()
    return out, empty


def require_columns(frame: pd.DataFrame, wanted: dict[str, str | None], *, source: str) -> None:
    """Raise one SchemaError listing every column of ``wanted`` (role -> name) missing from ``frame``.

    The message names the source, each missing column with its role, the existing columns and the fix;
    never a value.
    """
    missing = [(role, name) for role, name in wanted.items() if name is not None and name not in frame.columns]
    if not missing:
        return
    listed = "; ".join(f"{role} column {name!r}" for role, name in missing)
    existing = ", ".join(map(str, frame.columns)) or "(none)"
    flags = ", ".join(f"--{role} COLUMN" for role, _ in missing)
    raise SchemaError(
        f"Not found in {source}: {listed}. Existing columns: {existing}. "
        f"Name an existing column ({flags} on the command line, or the same keyword in Python).")
