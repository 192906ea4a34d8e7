"""Write the guesses as a commented crmine.toml, list the analyses they allow, and flatten them to rows.

Every value written has a comment saying why. A guess below the confidence threshold is written
commented out, with its alternatives, so that nothing is guessed silently and nothing doubtful
loads before a person has looked at it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

from crmine.io._infer_names import match_name
from crmine.io._infer_types import ColumnGuess, FileGuess, FormatGuess
from crmine.schema import TABLES
from crmine.settings import IdentitySettings

__all__ = ["customer_attributes", "guess_rows", "missing_analyses", "settings_text", "source_names"]

_PLAIN_SUFFIX = {".csv": "csv", ".parquet": "parquet", ".jsonl": "jsonl", ".xlsx": "xlsx"}
_CUSTOMER_ATTRIBUTES = ("name", "email", "phone", "address", "city", "region", "postcode", "country",
                        "birth_date", "gender", "income")


# -- crmine.toml ---------------------------------------------------------------------------------
def settings_text(guesses: Sequence[FileGuess], *, root: str | Path) -> str:
    """A commented crmine.toml loading every file guessed, with each guess and its reason.

    Paths are written relative to ``root`` (the workspace folder) when the file lies inside it,
    otherwise absolute.
    """
    names = source_names(guesses)
    parts = [_preamble(guesses), _workspace(guesses, Path(root))]
    parts += [_source(g, name, Path(root)) for g, name in zip(guesses, names, strict=True)]
    parts.append(_identity())
    return "\n".join(parts).rstrip("\n") + "\n"


def source_names(guesses: Sequence[FileGuess]) -> list[str]:
    """A distinct TOML bare key per file, from its name: 'Online Retail.xlsx' -> 'online_retail'."""
    names: list[str] = []
    for g in guesses:
        base = re.sub(r"[^a-z0-9]+", "_", g.path.stem.lower()).strip("_") or "source"
        name, n = base, 1
        while name in names:
            n += 1
            name = f"{base}_{n}"
        names.append(name)
    return names


def _preamble(guesses: Sequence[FileGuess]) -> str:
    return (
        f"# crmine workspace settings, written by `crmine init --from` from {len(guesses)} file(s).\n"
        "# Each guess below says why it was made. Lines marked 'low confidence' are commented out:\n"
        "# check them, then remove the '#'. Paths are relative to this folder.\n"
        "# Reference: `crmine dictionary DIR` lists every canonical table and column.\n"
    )


def _workspace(guesses: Sequence[FileGuess], root: Path) -> str:
    tables = {g.table for g in guesses if g.confident}
    masters = [t for t in ("customers", "products") if t not in tables]
    lines = [
        "[workspace]",
        "# \"duckdb\" (embedded, the default) or \"spark\" (pip install 'crmine[spark]', needs Java 17).",
        'engine = "duckdb"',
        "# Customers and products that transactions name but no master table lists:",
        '#   "infer" (the default) creates them from the transactions when no source loads that master;',
        '#   "strict" quarantines such lines as unknown_reference.',
    ]
    if masters and "transactions" in tables:
        lines.append(f"# No {' or '.join(masters)} master among these files, so \"infer\" creates them.")
    lines.append('# references = "infer"')
    if any(not g.path.resolve().is_relative_to(root.resolve()) for g in guesses):
        lines += ["# Some files lie outside this folder; crmine reads them because of this line.",
                  "outside_paths = true"]
    lines.append("")
    return "\n".join(lines)


def _identity() -> str:
    d = IdentitySettings()
    return "\n".join([
        "[identity]",
        "# Records of the same person across sources are linked when their match probability is at least this.",
        f"enabled = {str(d.enabled).lower()}",
        f"threshold = {d.threshold}",
        f"seed = {d.seed}",
        "",
        "# Analysis settings, e.g.:",
        "# [analysis.derived]                  # extra customer-table columns, by expression",
        '# high_value = "spend > 1000 and orders >= 5"',
    ])


def _source(g: FileGuess, name: str, root: Path) -> str:
    title = f"# -- {_clean(g.path.name)} " + "-" * max(3, 96 - len(g.path.name))
    if g.table is None:
        return "\n".join([title, *_unclassified(g, name, root), ""])
    body = _source_body(g, name, root)
    if g.confident:
        return "\n".join([title, *body, ""])
    alternatives = ", ".join(f"{t} ({c:.2f})" for t, c in g.ranking)
    head = [title,
            f"# Not sure which table this file holds (best: {alternatives or 'none'}).",
            "# The section is commented out: set `table`, check the columns, then remove the '#'s."]
    return "\n".join([*head, *[line if line.startswith("#") or not line else f"# {line}" for line in body], ""])


def _unclassified(g: FileGuess, name: str, root: Path) -> list[str]:
    """A file no table fits: why, and a commented skeleton to complete by hand."""
    lines = [f"# Not loaded: {_clean(g.reason)}."]
    lines += [f"# note: {_clean(n)}" for n in g.notes if n != g.reason]
    if not g.raw_columns:  # unreadable as it is: nothing to map yet
        return lines
    lines += ["# To load it, choose its table and map its columns (`crmine dictionary DIR` lists them):",
              f"# [sources.{name}]",
              "# " + _line("table", "", "one of " + ", ".join(TABLES)),
              "# " + _line("path", _path(g.path, root), ""),
              f"# [sources.{name}.columns]",
              f"# columns in the file: {_names(g.raw_columns)}"]
    return lines


def _source_body(g: FileGuess, name: str, root: Path) -> list[str]:
    lines = [f"[sources.{name}]", _line("table", g.table, _table_comment(g)), _line("path", _path(g.path, root), "")]
    if _PLAIN_SUFFIX.get(g.path.suffix.lower()) != g.format:
        lines.append(_line("format", g.format, g.format_reason))
    if g.sheet is not None:
        lines.append(_line("sheet", g.sheet, g.sheet_reason))
    if g.format == "csv" and g.delimiter != ",":
        lines.append(_line("delimiter", g.delimiter, g.delimiter_reason))
    if g.format in ("csv", "jsonl"):
        if g.encoding != "utf-8":
            lines.append(_line("encoding", g.encoding, g.encoding_reason))
        elif "byte-order mark" in g.encoding_reason:
            lines.append(f"# encoding: {_clean(g.encoding_reason)}")
    if g.return_prefix:
        lines.append(_line("return_prefix", g.return_prefix, g.return_reason))
    lines += [f"# note: {_clean(n)}" for n in g.notes]
    attributes = customer_attributes(g)
    if attributes:
        lines.append(f"# note: the lines also describe customers ({_names(attributes)}); a second source on "
                     'this path with table = "customers" would load them (repeats are quarantined as duplicate_key)')
    lines += ["", f"[sources.{name}.columns]"]
    lines += [_column_line(c) for c in g.columns]
    if g.unused:
        lines.append(f"# not used: {_names(g.unused)}")
    lines += _formats_lines(g, name)
    lines += _derive_lines(g, name)
    return lines


def _table_comment(g: FileGuess) -> str:
    runner = g.runner_up
    nxt = f"; next best {runner[0]} ({runner[1]:.2f})" if runner else ""
    return f"confidence {g.confidence:.2f}{nxt}: {g.reason}"


def _column_line(c: ColumnGuess) -> str:
    also = f"; also {_names(c.alternatives)}" if c.alternatives else ""
    if c.confident:
        return _line(c.canonical, c.raw, f"{c.reason}{also}")
    return "# " + _line(c.canonical, c.raw, f"low confidence ({c.confidence:.2f}): {c.reason}{also}")


def _formats_lines(g: FileGuess, name: str) -> list[str]:
    if not g.formats:
        return []
    lines = ["", f"[sources.{name}.formats]"]
    mapped = {c.canonical for c in g.columns if c.confident}
    for f in g.formats:
        lines.append(_format_line(f, f.canonical in mapped))
    return lines


def _format_line(f: FormatGuess, mapped: bool) -> str:
    if f.format is None:
        return f"# {f.canonical}: no format needed ({_clean(f.reason)})"
    # The reason names the other formats the values fit, so they are not repeated here.
    if f.confident and mapped:
        return _line(f.canonical, f.format, f.reason)
    why = f"low confidence ({f.confidence:.2f})" if not f.confident else "its column mapping is commented out"
    return "# " + _line(f.canonical, f.format, f"{why}: {f.reason}")


def _derive_lines(g: FileGuess, name: str) -> list[str]:
    if not g.derive:
        return []
    lines = ["", f"[sources.{name}.derive]"]
    for d in g.derive:
        line = _line(d.canonical, d.expression, d.reason if d.confident else
                     f"low confidence ({d.confidence:.2f}): {d.reason}")
        lines.append(line if d.confident else f"# {line}")
    return lines


def customer_attributes(guess: FileGuess) -> list[str]:
    """Unused raw columns of a transactions file that describe the customer (city, name, ...)."""
    if guess.table != "transactions":
        return []
    return [raw for raw in guess.unused
            if any((m := match_name(raw, "customers", c)) and m.score >= 0.75 for c in _CUSTOMER_ATTRIBUTES)]


def _path(path: Path, root: Path) -> str:
    full, base = path.resolve(), root.resolve()
    if full.is_relative_to(base):
        return Path(os.path.relpath(full, base)).as_posix()
    return full.as_posix()


def _line(key: str, value: str, comment: str) -> str:
    text = f"{key} = {toml_string(value)}"
    return f"{text}  # {_clean(comment)}" if comment else text


def _names(raws: Sequence[str]) -> str:
    return ", ".join(repr(r) for r in raws)


def _clean(text: str) -> str:
    """Comment text on one line (a raw name could hold a line break)."""
    return re.sub(r"[\x00-\x1f\x7f]+", " ", text).strip()


def toml_string(value: str) -> str:
    """``value`` as a TOML basic string.

    Examples
    --------
    >>> toml_string('Ship "Date"\\\\x')
    '"Ship \\\\"Date\\\\"\\\\\\\\x"'
    """
    out = []
    for ch in value:
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


# -- what the files allow ------------------------------------------------------------------------
_DEMOGRAPHICS = ("birth_date", "gender", "income", "region", "city", "country", "postcode", "occupation", "education")
_CONTACT = ("name", "email", "phone", "address", "postcode")
# (analysis, [(table, columns all needed, columns of which one is needed)])
_ANALYSES: tuple[tuple[str, tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...]], ...] = (
    ("RFM, CLV and churn", (("transactions", ("customer_id", "ts", "amount"), ()),)),
    ("Demographic queries and segments", (("customers", ("customer_id",), _DEMOGRAPHICS),)),
    ("Identity resolution", (("customers", ("customer_id",), _CONTACT),)),
    ("Product and basket analyses", (("transactions", ("ts", "product_id"), ()),)),
    ("Category analyses", (("transactions", ("product_id",), ()), ("products", ("product_id", "category"), ()))),
    ("Pricing", (("transactions", ("product_id", "quantity", "unit_price"), ()),)),
    ("Promotion analyses", (("transactions", ("promotion_id",), ()), ("promotions", ("promotion_id",), ()))),
    ("Response models and campaign lift", (("campaigns", ("campaign_id",), ()),
                                           ("campaign_contacts", ("campaign_id", "customer_id", "group"), ()),
                                           ("campaign_responses", ("campaign_id", "customer_id", "response_type"), ()))),
    ("Consented target lists", (("consents", ("customer_id", "purpose", "channel", "granted"), ()),)),
    ("Service analyses", (("interactions", ("customer_id", "ts"), ()),)),
    ("Text analyses", (("feedback", ("text",), ()),)),
)


def missing_analyses(guesses: Sequence[FileGuess]) -> list[tuple[str, str, str]]:
    """For each analysis: its name, what it needs, and 'ready' or what is missing or doubtful.

    Only confident guesses count as loaded; a need met by a low-confidence guess is 'to check'.
    """
    sure: dict[str, set[str]] = {}
    doubtful: dict[str, set[str]] = {}
    for g in guesses:
        if g.table is None:
            continue
        target = sure if g.confident else doubtful
        target.setdefault(g.table, set()).update(g.mapped())
        doubtful.setdefault(g.table, set()).update(c.canonical for c in g.columns)
    return [(name, _needs_text(needs), _status(needs, sure, doubtful)) for name, needs in _ANALYSES]


def _needs_text(needs) -> str:
    parts = []
    for table, all_of, one_of in needs:
        cols = list(all_of) + ([" or ".join(one_of[:3]) + (" ..." if len(one_of) > 3 else "")] if one_of else [])
        parts.append(f"{table} ({', '.join(cols)})")
    return "; ".join(parts)


def _status(needs, sure: dict[str, set[str]], doubtful: dict[str, set[str]]) -> str:
    missing, check = [], []
    for table, all_of, one_of in needs:
        have, maybe = sure.get(table, set()), doubtful.get(table, set())
        if table not in sure and table not in doubtful:
            missing.append(f"{'an' if table[0] in 'aeiou' else 'a'} {table} file")
            continue
        for col in all_of:
            if col not in have:
                (check if col in maybe else missing).append(f"{table}.{col}")
        if one_of and not set(one_of) & have:
            (check if set(one_of) & maybe else missing).append(f"{table}.{' or '.join(one_of[:3])}")
    if missing:
        return "missing: " + ", ".join(missing)
    if check:
        return "to check: " + ", ".join(check) + " (low-confidence guesses)"
    return "ready"


# -- rows for the CLI ----------------------------------------------------------------------------
def guess_rows(guesses: Sequence[FileGuess]) -> list[dict]:
    """Every guess as a plain row: file, table, confidence, column, raw, reason, written.

    ``written`` is False where crmine.toml holds the guess commented out. The first row of a file
    is the table guess itself (column ``"(table)"``).
    """
    rows: list[dict] = []
    for g in guesses:
        def row(column: str, raw: str, confidence: float | None, reason: str, written: bool, g=g) -> None:
            rows.append({"file": g.path.name, "table": g.table or "", "confidence": confidence,
                         "column": column, "raw": raw, "reason": reason, "written": written})

        row("(table)", "", g.confidence, g.reason, g.confident)
        for c in g.columns:
            row(c.canonical, c.raw, c.confidence, c.reason, g.confident and c.confident)
        for f in g.formats:
            row(f"formats.{f.canonical}", f.format or "(ISO 8601)", f.confidence, f.reason,
                g.confident and f.confident and f.format is not None)
        for d in g.derive:
            row(f"derive.{d.canonical}", d.expression, d.confidence, d.reason, g.confident and d.confident)
        if g.return_prefix:
            row("return_prefix", g.return_prefix, None, g.return_reason, g.confident)
        for raw in g.unused:
            row("", raw, None, "not used", False)
    return rows
