"""``crmine forecast FILE.csv ...``: parse, call :func:`crmine.forecast.forecast`, write the CSV
atomically, print a summary (plain text, no markup) or ``--json``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from crmine.cli._common import json_value
from crmine.cli._common import ui as _ui

__all__ = ["forecast_command"]


def forecast_command(
    file: Annotated[Path, typer.Argument(help="A CSV or Parquet file of sales rows: a time, an amount, optional keys.")],
    time: Annotated[str, typer.Option("--time", help="The time column (dates or timestamps, any common format).")],
    value: Annotated[str, typer.Option("--value", help="The amount to sum per period (sales, units).")],
    horizon: Annotated[int, typer.Option("--horizon", help="Periods to forecast (at least 1).")],
    out: Annotated[Path, typer.Option("--out", help="The forecast CSV to write: by-columns, ts, forecast, lo, hi, model.")],
    by: Annotated[list[str] | None, typer.Option("--by", help="A column naming a series, e.g. store (repeatable).")] = None,
    freq: Annotated[str, typer.Option("--freq", help="D (days), W (ISO weeks, ts = the Monday), M (months, ts = the 1st).")] = "D",
    level: Annotated[float, typer.Option("--level", help="Coverage of the interval [lo, hi].")] = 0.8,
    gaps: Annotated[str, typer.Option("--gaps", help="zero: a period without rows sold nothing; closed: it did not trade "
                                                     "(left out of fitting; a weekday closed in most weeks is forecast 0).")] = "zero",
    regressor: Annotated[list[str] | None, typer.Option("--regressor", help="A numeric column for the regression model, "
                                                        "e.g. promotion or price (repeatable); future rows have an empty value.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")] = False,
) -> None:
    """Forecast sales per series and period; each series' model (seasonal naive, ETS, ARIMA, regression)
    chosen by a rolling-origin backtest. ts is the first day of each period, as an ISO date."""
    from crmine import _atomic
    from crmine.forecast import forecast

    ui = _ui()
    frame = ui._read_table(file)
    with ui._progress("forecast") as update:
        result = forecast(frame, time=time, value=value, by=by or (), freq=freq.upper(), horizon=horizon, gaps=gaps,
                          level=level, regressors=regressor or (), progress=update)
    table = result.forecast.copy()
    table["ts"] = table["ts"].dt.strftime("%Y-%m-%d")
    with _atomic.replacing(out) as tmp:  # a reader never sees half a file
        table.to_csv(tmp, index=False)
    checks = result.backtest
    n = len(checks)
    if as_json:
        records = [{k: json_value(v) for k, v in row.items()} for row in checks.to_dict(orient="records")]
        print(json.dumps({"series": n, "horizon": result.horizon, "freq": result.freq, "out": str(out),
                          "backtest": records}, indent=2))
        return
    summary = result.summary()
    ui._print_frame(summary, title=f"{n:,} series x {result.horizon} periods ({result.freq}); models chosen by backtest MAE")
    ui.console.print(f"Wrote {len(table):,} rows to {out} ({result.level:.0%} intervals).")
