"""``crmine service ...`` (agents, teams, kpis): parse, call :mod:`crmine.service`, format.
Plain text (no markup), or ``--json``."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Any

import typer

from crmine.cli._common import AsJson, Dir, json_value
from crmine.cli._common import ui as _ui

__all__ = ["service_app"]

service_app = typer.Typer(
    help="Service contacts: KPIs by channel, type, team and period, and the effect of each agent on "
         "customer satisfaction and resolution.",
    no_args_is_help=True, rich_markup_mode=None)

AsOf = Annotated[str | None, typer.Option("--as-of", help="Only contacts known at the end of this day.")]


def _records(frame) -> list[dict[str, Any]]:
    return [{k: json_value(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]


def _cell(v: Any) -> str:
    if isinstance(v, float):
        return "" if not math.isfinite(v) else (f"{v:,.3f}" if abs(v) < 100 else f"{v:,.0f}")
    if isinstance(v, int):
        return f"{v:,}"
    return "" if v is None else str(v)


def _service(path: Path):
    import crmine

    return crmine.open(path).service


@service_app.command("agents")
def service_agents(
    path: Dir,
    top: Annotated[int, typer.Option(help="Rows shown at each end of the table (text output).")] = 5,
    confidence: Annotated[float, typer.Option(help="Level of the intervals.")] = 0.95,
    as_of: AsOf = None,
    as_json: AsJson = False,
) -> None:
    """Each agent's effect on satisfaction (higher is better), adjusted for contact type, channel and
    the customer's history, shrunk towards 0 when based on few contacts; also on resolution."""
    table = _service(path).agents(as_of=as_of, confidence=confidence)
    if as_json:
        out = {"method": table.attrs.get("method"), "outcome": table.attrs.get("outcome"),
               "contacts": table.attrs.get("contacts"), "confidence": confidence, "agents": _records(table)}
        print(json.dumps(out, indent=2))
        return
    cols = [c for c in ("agent_id", "team", "contacts", "effect", "ci_low", "ci_high", "raw_effect",
                        "resolution_effect") if c in table.columns]
    ui = _ui()
    shown = table[cols]
    title = f"Agent effect on satisfaction ({confidence:.0%} intervals), {len(table)} agents"
    if len(table) > 2 * top:
        ui._print_frame(shown.head(top), title=f"{title}: top {top}", cell=_cell)
        ui._print_frame(shown.tail(top), title=f"Bottom {top}", cell=_cell)
    else:
        ui._print_frame(shown, title=title, cell=_cell)
    ui.console.print(f"method: {table.attrs.get('method')}; {table.attrs.get('contacts', 0):,} rated contacts; "
                     "effect in satisfaction points against the average agent.")


@service_app.command("teams")
def service_teams(path: Dir, as_of: AsOf = None, as_json: AsJson = False) -> None:
    """Each team's effect on satisfaction: the mean of its agents' effects."""
    table = _service(path).teams(as_of=as_of)
    if as_json:
        print(json.dumps({"teams": _records(table)}, indent=2))
        return
    _ui()._print_frame(table, title="Team effect on satisfaction (95% intervals)", cell=_cell)


@service_app.command("kpis")
def service_kpis(
    path: Dir,
    by: Annotated[str, typer.Option(help="Comma list of: channel, type, team, agent_id, segment, value_decile.")] = "channel",
    period: Annotated[str | None, typer.Option(help="day, week, month, quarter or year.")] = None,
    repeat_days: Annotated[int, typer.Option("--repeat-days", help="A contact within this many days of the previous one is a repeat.")] = 7,
    as_of: AsOf = None,
    as_json: AsJson = False,
) -> None:
    """Contacts, resolution rate, first-contact resolution, repeat rate, duration and satisfaction."""
    table = _service(path).kpis(by=by, period=period, repeat_days=repeat_days, as_of=as_of)
    if as_json:
        print(json.dumps({"by": [b for b in by.split(",") if b], "period": period, "repeat_days": repeat_days,
                          "kpis": _records(table)}, indent=2))
        return
    _ui()._print_frame(table, title=f"Service KPIs by {by}" + (f" and {period}" if period else ""), cell=_cell)
