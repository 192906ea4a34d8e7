"""``crmine recommend FILE.csv ...``: parse, call :func:`crmine.recommend.recommend` (and
:func:`crmine.recommend.evaluate` with ``--evaluate``), write the CSV atomically, print a summary
(plain text, no markup) or ``--json``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from crmine.cli._common import json_value, read_table
from crmine.cli._common import ui as _ui

__all__ = ["recommend_command"]


def recommend_command(
    file: Annotated[Path, typer.Argument(help="A CSV or Parquet file of purchase lines: a user, an item, a time.")],
    user: Annotated[str, typer.Option("--user", help="The column naming the customer.")],
    item: Annotated[str, typer.Option("--item", help="The column naming the item (a product, a category).")],
    time: Annotated[str, typer.Option("--time", help="The time of purchase (dates or timestamps, any common format).")],
    out: Annotated[Path | None, typer.Option("--out", help="The CSV to write: user, item, rank, score.")] = None,
    until: Annotated[str | None, typer.Option("--until", help="The as-of day (default: the last day in the file); "
                                              "later purchases are never used.")] = None,
    k: Annotated[int, typer.Option("--k", help="Items per user (at least 1).")] = 10,
    exclude_recent_days: Annotated[float | None, typer.Option(
        "--exclude-recent-days", help="Leave out items the user bought within this many days (default: none).")] = None,
    evaluate_on: Annotated[str | None, typer.Option(
        "--evaluate", help="Learn up to this day, score the days after it: hit rate, precision, recall and "
                           "coverage at k, against the popularity and buy-again baselines.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")] = False,
) -> None:
    """Next-best offer: for every customer active up to --until, the k items most worth offering
    (buying again, items bought by similar customers, recent popularity)."""
    from crmine import _atomic
    from crmine.errors import SettingsError
    from crmine.recommend import evaluate, recommend

    ui = _ui()
    if out is None and evaluate_on is None:
        raise SettingsError("Say where to write the recommendations with --out RECS.csv (or evaluate with --evaluate DAY).")
    frame = read_table(file, dtype=str, keep_default_na=False)  # ids as written: '007' is not 7
    summary: dict[str, Any] = {}
    if out is not None:
        recs = recommend(frame, user=user, item=item, time=time, until=until, k=k,
                         exclude_recent_days=exclude_recent_days)
        with _atomic.replacing(out) as tmp:  # a reader never sees half a file
            recs.to_csv(tmp, index=False, float_format="%.6g")
        summary.update(users=int(recs.attrs["users"]), items=int(recs.attrs["items"]), k=k,
                       until=recs.attrs["until"].strftime("%Y-%m-%d"), out=str(out), rows=len(recs))
    table = None
    if evaluate_on is not None:
        table = evaluate(frame, user=user, item=item, time=time, split=evaluate_on, k=k,
                         exclude_recent_days=exclude_recent_days)
        summary["evaluation"] = [{c: json_value(v) for c, v in row.items()} for row in table.to_dict(orient="records")]
        summary["split"] = str(evaluate_on)
    if as_json:
        print(json.dumps(summary, indent=2))
        return
    if out is not None:
        ui.console.print(f"Wrote {summary['rows']:,} rows to {out}: up to {k} items for each of {summary['users']:,} "
                         f"users, from {summary['items']:,} items known as of {summary['until']}.")
    if table is not None:
        shown = table.copy()
        for c in ("hit_rate", "precision", "recall", "coverage"):
            shown[c] = shown[c].map(lambda v: f"{v:.4f}")
        ui._print_frame(shown, title=f"Evaluation at k={k}: learned up to {evaluate_on}, scored on the days after")
