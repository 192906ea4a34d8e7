"""A source's column names, checked before its rows are read.

Three mistakes are caught here: a first line that is a record rather than a header (the file has
none, so every "name" is a customer's value), a name that repeats (one of the two columns would be
lost), and a name crmine keeps for its own bookkeeping. Messages describe a data-like line by
position and by the kind of value each field looks like, never by the value itself.
"""

from __future__ import annotations

from collections.abc import Sequence

from crmine.errors import SourceError
from crmine.io._infer_values import data_kind
from crmine.schema import TABLES
from crmine.settings import RESERVED_RAW_NAMES, SourceSettings

__all__ = ["check_names", "data_like", "looks_like_data", "shown_names"]

# Kinds of value that no column name has; one of them on the first line is enough to tell.
_NEVER_A_NAME = ("an e-mail", "a date", "a phone number")
_LISTED = 6  # data-like fields described in a message; the rest are counted


def data_like(names: Sequence[str]) -> list[tuple[int, str]]:
    """(1-based position, kind) of each name that reads as a value: an id, an e-mail, a number..."""
    return [(i, kind) for i, name in enumerate(names, start=1) if (kind := data_kind(name or ""))]


def looks_like_data(names: Sequence[str]) -> bool:
    """True when the names read as a record: one e-mail, date or phone number, or mostly ids and numbers."""
    kinds = data_like(names)
    if not kinds:
        return False
    named = sum(1 for n in names if (n or "").strip())
    return any(k in _NEVER_A_NAME for _, k in kinds) or 2 * len(kinds) >= named


def shown_names(names: Sequence[str]) -> str:
    """The names for a message: a data-like one is described by position and kind, not shown."""
    kinds = dict(data_like(names))
    shown = [f"column {i} ({kinds[i]})" if i in kinds else name for i, name in enumerate(names, start=1)]
    return ", ".join(shown) or "(none)"


def check_names(source: SourceSettings, names: Sequence[str], *, first_line: bool) -> None:
    """Raise one SourceError for a data-like first line (when ``first_line``), repeated or reserved names."""
    where = f"Source {source.name!r} ({source.location()})"
    if first_line and looks_like_data(names):
        raise SourceError(f"{where}: {_data_line(source, names)}")
    problems = []
    positions: dict[str, list[int]] = {}
    for i, name in enumerate(names, start=1):
        positions.setdefault(name, []).append(i)
    for name, at in positions.items():
        if len(at) > 1:
            both = "both" if len(at) == 2 else "all"
            problems.append(f"columns {_and(at)} are {both} named {name!r}, so only one of them could be "
                            "loaded; name each column once (rename the others in the file)")
    for name in RESERVED_RAW_NAMES:
        if name in positions:
            problems.append(f"column {positions[name][0]} is named {name!r}, a name crmine keeps for its own "
                            "bookkeeping; rename it in the file")
    if problems:
        raise SourceError(f"{where}: " + "; ".join(problems) + ".")


def _data_line(source: SourceSettings, names: Sequence[str]) -> str:
    kinds = data_like(names)
    parts = [f"column {i} looks like {k}" if n == 0 else f"column {i} like {k}"
             for n, (i, k) in enumerate(kinds[:_LISTED])]
    if len(kinds) > _LISTED:
        parts.append(f"{len(kinds) - _LISTED} more")
    what = "sheet's first row" if source.format == "xlsx" else "first line"
    return (f"the {what} looks like data, not a header ({', '.join(parts)}). "
            f"crmine reads the {what} as the column names: add a header line naming each of its "
            f"{len(names)} columns ({source.table} needs at least {', '.join(_needed(source))}), then load again.")


def _needed(source: SourceSettings) -> list[str]:
    canon = TABLES[source.table]
    required = [c.name for c in canon.columns if c.required and not c.synthesised and c.name not in source.derive]
    return [source.raw_name(c) for c in (required or list(canon.key))]


def _and(items: Sequence[int]) -> str:
    words = [str(i) for i in items]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]
