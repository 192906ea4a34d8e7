"""``crmine baskets ...``: market-basket association rules from a file of basket lines.

Parse, call :mod:`crmine.recommend`, format. Plain text (no markup), or ``--json``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from crmine.cli._common import AsJson, read_table
from crmine.cli._common import ui as _ui

__all__ = ["baskets_app"]

baskets_app = typer.Typer(
    help="Market baskets: association rules X => {y} (support, confidence, lift) from a file of "
         "basket lines, as R arules' apriori finds them.",
    no_args_is_help=True, rich_markup_mode=None)



def _read_lines(path: Path, basket: str, item: str):
    """The two columns of ``path``, both read as text; a missing column names the existing ones."""
    import pandas as pd

    from crmine.errors import SchemaError, SourceError

    if not path.is_file():
        raise SourceError(f"No file at {path}. Give a CSV (or Parquet) file with one row per basket line.")
    parquet = path.suffix.lower() == ".parquet"
    try:
        if parquet:
            import pyarrow.parquet as pq

            header = list(pq.read_schema(path).names)
        else:
            header = list(pd.read_csv(path, nrows=0).columns)
    except (OSError, ValueError) as e:
        raise SourceError(f"Cannot read {path}: {type(e).__name__}. Give a CSV or Parquet file.") from None
    missing = [c for c in (basket, item) if c not in header]
    if missing:
        raise SchemaError(f"Column {', '.join(repr(c) for c in missing)} not found in {path.name}. "
                          f"Existing columns: {', '.join(map(str, header)) or '(none)'}. "
                          f"Name them with --basket COLUMN and --item COLUMN.")
    cols = list(dict.fromkeys((basket, item)))
    # Text as read: "NA" is an item name, only an empty field is blank.
    return read_table(path, columns=cols, dtype=dict.fromkeys(cols, str), keep_default_na=False, na_values=[""])


def _write_csv(frame, path: Path) -> None:
    from crmine import _atomic

    with _atomic.replacing(path) as tmp:  # a reader never sees half a file
        frame.to_csv(tmp, index=False)


@baskets_app.command("rules")
def baskets_rules(
    file: Annotated[Path, typer.Argument(help="A CSV (or Parquet) file, one row per basket line.")],
    basket: Annotated[str, typer.Option("--basket", help="The column naming each line's basket (order, receipt).")],
    item: Annotated[str, typer.Option("--item", help="The column naming the item.")],
    min_support: Annotated[float, typer.Option("--min-support", help="Smallest share of baskets holding the whole rule, in (0, 1].")],
    min_confidence: Annotated[float, typer.Option("--min-confidence", help="Smallest share of baskets with the left side that also hold the right side.")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the rules (CSV, one row per rule).")],
    min_items: Annotated[int, typer.Option("--min-items", help="Fewest items in a rule, both sides (arules minlen; 1 allows {} => {y}).")] = 1,
    max_items: Annotated[int, typer.Option("--max-items", help="Most items in a rule, both sides (arules maxlen).")] = 10,
    top: Annotated[int, typer.Option("--top", help="Rules to show (and to list in the JSON).")] = 10,
    as_json: AsJson = False,
) -> None:
    """Mine the rules X => {y} and write them, strongest lift first: antecedent, consequent,
    support, confidence, lift, leverage, conviction and the counts behind them."""
    from crmine.recommend import association_rules

    lines = _read_lines(file, basket, item)
    rules = association_rules(lines, basket=basket, item=item, min_support=min_support,
                              min_confidence=min_confidence, min_items=min_items, max_items=max_items)
    _write_csv(rules.rules, out)
    if as_json:
        doc = rules.to_dict(top=max(top, 0))
        doc = {k: doc[k] for k in ("baskets", "items", "rules")} | {"out": str(out), "lines": len(lines)} \
            | {k: v for k, v in doc.items() if k not in ("baskets", "items", "rules")}
        print(json.dumps(doc, indent=2))
        return
    ui = _ui()
    skipped = f" ({rules.skipped_rows:,} lines with a blank basket or item skipped)" if rules.skipped_rows else ""
    ui.console.print(f"{rules.n_baskets:,} baskets, {rules.n_items:,} items{skipped}: {rules.n_itemsets:,} "
                     f"frequent itemsets and {len(rules):,} rules at support >= {min_support:g} and "
                     f"confidence >= {min_confidence:g}, {min_items}-{max_items} items. Written to {out}.")
    if len(rules) and top > 0:
        cols = ["antecedent", "consequent", "support", "confidence", "lift", "count"]
        ui._print_frame(rules.rules[cols].head(top), title=f"Top {min(top, len(rules))} rules by lift",
                        cell=_cell)


def _cell(v) -> str:
    if hasattr(v, "item"):  # numpy scalars
        v = v.item()
    if isinstance(v, float):
        return f"{v:.4f}" if abs(v) < 100 else f"{v:,.1f}"
    if isinstance(v, int):
        return f"{v:,}"
    return "{}" if v == "" else str(v)
