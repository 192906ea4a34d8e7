"""Inspect a file and guess how crmine should load it: ``crmine init DIR --from FILE``.

:func:`inspect_file` reads a sample of the file and guesses its format, encoding and delimiter,
the canonical table it holds, and the raw column behind each canonical column, each guess with a
confidence and a reason. :func:`settings_text` writes those guesses as a commented crmine.toml;
:func:`missing_analyses` says which analyses the files support and what they lack;
:func:`guess_rows` gives the guesses as plain rows for the CLI to print.

The work is split by job: ``_infer_sample`` reads the sample, ``_infer_values`` summarises each
column's values, ``_infer_names`` knows how exports name columns, ``_infer_tables`` scores tables
and assigns columns, ``_infer_toml`` writes the settings. Reasons and messages hold names, shares
and counts, never a value from the file.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import replace
from pathlib import Path

from crmine.io._infer_sample import SAMPLE_ROWS, Sample, read_sample
from crmine.io._infer_tables import Candidate, TableFit, canonical_columns, rank_tables
from crmine.io._infer_toml import guess_rows, missing_analyses, settings_text
from crmine.io._infer_types import (
    CONFIDENT,
    TABLE_CONFIDENT,
    ColumnGuess,
    DeriveGuess,
    FileGuess,
    FormatGuess,
)
from crmine.io._infer_values import Profile, profile
from crmine.schema import TABLES

__all__ = [
    "CONFIDENT",
    "TABLE_CONFIDENT",
    "ColumnGuess",
    "DeriveGuess",
    "FileGuess",
    "FormatGuess",
    "guess_rows",
    "inspect_file",
    "missing_analyses",
    "settings_text",
]


def inspect_file(path: str | Path, *, sample_rows: int = SAMPLE_ROWS) -> FileGuess:
    """Guess how to load the file at ``path``: its format, table and column mapping.

    Reads the first ``sample_rows`` records only (Parquet: the first batch; .xlsx: the first
    sheet with data). Raises SourceError when the file is missing, empty or unreadable.
    """
    sample = read_sample(path, rows=sample_rows)
    if sample.problem:
        return _undescribed(sample)
    profiles = {h: profile(h, sample.column(i), kind=sample.kinds.get(h)) for i, h in enumerate(sample.header)}
    fits = [f for f in rank_tables(profiles, sample.path.stem) if f.evidence > 0]
    if not fits:
        return _base(sample, None, 0.0, "no column matches a canonical column by name or content", ())
    best = fits[0]
    guess = _base(sample, best.table, best.confidence, _table_reason(best),
                  tuple((f.table, f.confidence) for f in fits[:4]))
    return _fill(guess, sample, best, profiles)


def _base(sample: Sample, table: str | None, confidence: float, reason: str,
          ranking: tuple[tuple[str, float], ...]) -> FileGuess:
    return FileGuess(
        path=sample.path, format=sample.format, raw_columns=tuple(sample.header), rows_sampled=len(sample.rows),
        table=table, confidence=confidence, reason=reason, ranking=ranking, format_reason=sample.format_reason,
        encoding=sample.encoding, encoding_reason=sample.encoding_reason,
        delimiter=sample.delimiter, delimiter_reason=sample.delimiter_reason,
        sheet=sample.sheet, sheet_reason=sample.sheet_reason, notes=tuple(sample.notes),
    )


def _undescribed(sample: Sample) -> FileGuess:
    """A file crmine cannot load as it is: say why, guess nothing (its 'names' may be values)."""
    guess = _base(sample, None, 0.0, sample.problem or "", ())
    return replace(guess, raw_columns=(), notes=(*guess.notes, sample.problem))


def _table_reason(fit: TableFit) -> str:
    strong = [c for c, cand in fit.columns.items() if cand.score >= CONFIDENT]
    text = (f"{len(strong)} column(s) fit {fit.table}: {', '.join(strong)}" if strong
            else f"no column fits {fit.table} well")
    return "; ".join([text, *fit.reasons])


def _fill(guess: FileGuess, sample: Sample, fit: TableFit, profiles: dict[str, Profile]) -> FileGuess:
    order = {c: i for i, c in enumerate(canonical_columns(fit.table))}
    columns = [_column_guess(c) for c in sorted(fit.columns.values(), key=lambda c: order[c.canonical])]
    notes = list(guess.notes)
    columns = _check_columns(fit.table, columns, profiles, notes)
    formats = _formats(fit.table, columns, profiles, notes, typed=sample.format == "parquet")
    derive: list[DeriveGuess] = []
    prefix, prefix_reason = None, ""
    if fit.table == "transactions":
        derive = _transaction_derive(columns)
        prefix, prefix_reason = _return_prefix(sample, columns)
        notes.extend(_transaction_notes(columns, profiles))
    used = {c.raw for c in columns}
    unused = tuple(h for h in sample.header if h not in used)
    return replace(guess, columns=tuple(columns), formats=tuple(formats), derive=tuple(derive),
                    return_prefix=prefix, return_reason=prefix_reason, unused=unused, notes=tuple(notes))


def _column_guess(c: Candidate) -> ColumnGuess:
    return ColumnGuess(c.canonical, c.raw, round(min(c.score, 0.99), 2), c.reason, c.alternatives)


# -- checks on the mapped columns ----------------------------------------------------------------
def _check_columns(table: str, columns: list[ColumnGuess], profiles: dict[str, Profile],
                   notes: list[str]) -> list[ColumnGuess]:
    """Lower guesses whose content argues against them, and note what a user should know."""
    out = []
    for c in columns:
        prof = profiles[c.raw]
        if c.canonical == "amount" and prof.small_numbers and prof.share("two_decimals") < 0.05:
            c = ColumnGuess(c.canonical, c.raw, round(c.confidence * 0.7, 2),
                            c.reason + "; but the values are small whole numbers, perhaps a quantity",
                            c.alternatives)
        if c.canonical.endswith("_id") and prof.share("dot_zero") >= 0.9:
            notes.append(f"{c.raw}: the ids are whole numbers written with '.0' (a spreadsheet number "
                         "format); they match only ids written the same way in other files")
        if prof.share("decimal_comma") >= 0.5:
            notes.append(f"{c.raw}: numbers use a decimal comma, which crmine does not read; "
                         "export with a decimal point")
        out.append(c)
    return out


def _formats(table: str, columns: list[ColumnGuess], profiles: dict[str, Profile], notes: list[str],
             *, typed: bool) -> list[FormatGuess]:
    """A strptime format for each timestamp column that needs one; mixed layouts are noted."""
    out = []
    for c in columns:
        if not _is_timestamp(table, c.canonical):
            continue
        ts = profiles[c.raw].timestamp
        if ts is None:
            notes.append(f"{c.raw}: the values do not read as timestamps in any layout crmine knows; "
                         f"set formats.{c.canonical} by hand")
            continue
        if ts.mixed:
            notes.append(f"{c.raw}: {ts.mixed}")
        ts = _day_order_from_siblings(c.raw, ts, profiles)
        if ts.format is not None or not typed:
            out.append(FormatGuess(c.canonical, c.raw, ts.format, ts.confidence, ts.reason, ts.alternatives))
    return out


def _day_order(fmt: str | None) -> str | None:
    return "day" if fmt and fmt.startswith("%d") else "month" if fmt and fmt.startswith("%m") else None


def _day_order_from_siblings(raw: str, ts, profiles: dict[str, Profile]):
    """An ambiguous day order settled by another date column of the same file.

    One export writes all its dates one way: when no value of this column has a field above 12,
    a sibling column (a ship date beside an order date) whose values do decide it settles it.
    """
    if ts.confidence >= CONFIDENT or ts.mixed or not ts.alternatives or _day_order(ts.format) is None:
        return ts
    for name, prof in profiles.items():
        other = prof.timestamp
        if name == raw or other is None or other.confidence < 0.9 or other.mixed:
            continue
        order = _day_order(other.format)
        if order is None:
            continue
        fmt = next((f for f in (ts.format, *ts.alternatives) if _day_order(f) == order), None)
        if fmt is not None:
            return replace(ts, format=fmt, confidence=0.8, alternatives=tuple(
                f for f in (ts.format, *ts.alternatives) if f != fmt),
                reason=f"no value decides the day order alone; column {name!r} of the same file puts the "
                       f"{order} first ({other.reason})")
    return ts


def _is_timestamp(table: str, canonical: str) -> bool:
    cols = TABLES[table].column_names
    return canonical in cols and TABLES[table].column(canonical).dtype == "timestamp"


# -- transactions: derived amount, returns, order lines ------------------------------------------
def _transaction_derive(columns: list[ColumnGuess]) -> list[DeriveGuess]:
    have = {c.canonical for c in columns if c.confident}
    if "amount" in have:
        return []
    if {"quantity", "unit_price"} <= have:
        expr = "quantity * unit_price"
        reason = "no amount column: the line value is quantity times unit price"
        if "discount" in have:
            expr += " - coalesce(discount, 0)"
            reason += ", less the discount"
        return [DeriveGuess("amount", expr, 0.8, reason)]
    if "unit_price" in have:
        return [DeriveGuess("amount", "unit_price", 0.4,
                            "no amount or quantity column: assumes each line is one unit at its price")]
    return []


_PREFIXED = re.compile(r"([A-Za-z]{1,3})\d")


def _return_prefix(sample: Sample, columns: list[ColumnGuess]) -> tuple[str | None, str]:
    """The letter prefix of order ids that mark returns: a minority prefix on negative lines."""
    by = {c.canonical: c.raw for c in columns if c.confident}
    order = by.get("order_id")
    signed = by.get("quantity") or by.get("amount")
    if order is None or signed is None:
        return None, ""
    oi, si = sample.header.index(order), sample.header.index(signed)
    prefixes: Counter[str] = Counter()
    negative: Counter[str] = Counter()
    total = 0
    for row in sample.rows:
        oid = (row[oi] or "").strip()
        if not oid:
            continue
        total += 1
        if m := _PREFIXED.match(oid):
            p = m.group(1).upper()
            prefixes[p] += 1
            negative[p] += _is_negative(row[si])
    for p, n in prefixes.most_common():
        if n / total < 0.5 and negative[p] / n >= 0.8:
            return p, (f"content: {n / total:.1%} of order ids start with {p!r}, and {negative[p] / n:.0%} "
                       f"of those lines have a negative {by.get('quantity') and 'quantity' or 'amount'}")
    return None, ""


def _is_negative(text: str | None) -> bool:
    try:
        return float((text or "").strip()) < 0
    except ValueError:
        return False


def _transaction_notes(columns: list[ColumnGuess], profiles: dict[str, Profile]) -> list[str]:
    have = {c.canonical: c for c in columns if c.confident}
    notes = []
    if "order_id" not in have:
        notes.append("no order id: each line is its own order line; orders are one customer and timestamp")
    elif "line_no" not in have:
        notes.append("no line-number column: crmine numbers the lines within each order")
    if "customer_id" in have:
        fill = profiles[have["customer_id"].raw].fill
        if fill < 0.98:
            notes.append(f"{1 - fill:.0%} of the sampled lines have no customer id; they load as guest lines")
    else:
        notes.append("no customer id: every line loads as a guest line; RFM, CLV and churn need customers")
    return notes

