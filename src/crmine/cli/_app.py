"""The ``crmine`` command: a thin layer that parses, calls the library and formats the answer."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

import crmine
from crmine._progress import Progress as ProgressCallback
from crmine.cli._common import AsJson, Dir
from crmine.cli._common import read_table as _read_table
from crmine.errors import CrmineError, WorkspaceError

app = typer.Typer(
    name="crmine",
    help="crmine: an analytical CRM engine. Start with `crmine demo`, or `crmine init DIR`.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Help texts name settings sections such as [analysis.behaviours]: never read them as markup.
    rich_markup_mode=None,
)
# Piped or logged output gets a wide page rather than Rich's 80-column default. Markup is off:
# messages carry user text (conditions, file and column names, "[sources.orders]") that Rich would
# otherwise read as styling and delete.
console = Console(width=None if sys.stdout.isatty() else 132, markup=False, highlight=False)
err = Console(stderr=True, markup=False, highlight=False)



@contextmanager
def _progress(label: str) -> Iterator[ProgressCallback]:
    """A Rich progress bar driven by (step, done, total) callbacks; silent when not a terminal."""
    with Progress(
        TextColumn(f"{label} {{task.description}}", markup=False), BarColumn(), TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(), console=err, transient=True, disable=not err.is_terminal,
    ) as bar:
        task = bar.add_task("", total=None)

        def update(step: str, done: int, total: int) -> None:
            bar.update(task, description=step, completed=done, total=total)

        yield update


def _fraction_progress(update: ProgressCallback) -> Callable[[str, float], None]:
    return lambda step, fraction: update(step, int(fraction * 100), 100)


@app.command()
def init(
    directory: Dir,
    from_: Annotated[list[Path] | None, typer.Option(
        "--from", help="An export to inspect (CSV, Parquet, JSON lines, .xlsx); repeatable. Its table, "
                       "columns, formats, delimiter and encoding are guessed into crmine.toml.")] = None,
    as_json: AsJson = False,
) -> None:
    """Create a workspace: a commented crmine.toml, an empty warehouse, and folders."""
    if not from_:
        ws = crmine.init(directory)
        console.print(f"Workspace ready at {ws.root}. Declare sources in {ws.root / 'crmine.toml'}, "
                      f"then run `crmine ingest {ws.root}`.")
        return
    from crmine.io import guess_rows, inspect_file, missing_analyses, settings_text
    from crmine.workspace import SETTINGS_FILE

    if (directory / SETTINGS_FILE).exists():
        raise WorkspaceError(
            f"{directory / SETTINGS_FILE} exists already; init --from writes a new one. Choose a new folder, "
            "or remove the file to start again.")
    guesses = [inspect_file(p) for p in from_]
    ws = crmine.init(directory, settings_text=settings_text(guesses, root=directory))
    rows, analyses = guess_rows(guesses), missing_analyses(guesses)
    if as_json:
        print(json.dumps({"settings": str(ws.root / SETTINGS_FILE), "guesses": rows,
                          "analyses": [dict(zip(("analysis", "needs", "status"), a, strict=True)) for a in analyses]},
                         indent=2, default=str))
        return
    import pandas as pd

    frame = pd.DataFrame(rows)
    frame["written"] = frame["written"].map({True: "yes", False: "commented out"})
    _print_frame(frame, title="What crmine guessed (low-confidence guesses are written commented out)")
    _print_frame(pd.DataFrame(analyses, columns=["analysis", "needs", "status"]), title="What the files support")
    console.print(f"Workspace ready at {ws.root}. Check {ws.root / SETTINGS_FILE}, then run `crmine run {ws.root}`.")


@app.command()
def simulate(
    directory: Dir,
    customers: Annotated[int, typer.Option("--customers", "-n", min=100, help="Number of people to simulate.")] = 20_000,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same files.")] = 0,
) -> None:
    """Write realistic source files with known ground truth (truth/) and a crmine.toml that maps them."""
    from crmine.datasets import simulate as run

    with _progress("simulate") as update:
        sim = run(customers, seed=seed, out_dir=directory, progress=_fraction_progress(update))
    crmine.init(directory)
    console.print(f"Simulated {sim.n_customers:,} customers and {sim.n_transactions:,} transaction lines "
                  f"into {directory / 'sources'}; ground truth in {directory / 'truth'}.")


@app.command()
def ingest(
    directory: Dir,
    source: Annotated[list[str] | None, typer.Option("--source", "-s", help="Load only this source (repeatable).")] = None,
    as_json: AsJson = False,
) -> None:
    """Load the sources declared in crmine.toml. Rows read = loaded + quarantined, for every source."""
    ws = crmine.open(directory)
    try:
        with _progress("ingest") as update:
            results = ws.ingest.run(sources=source, progress=update)
    except CrmineError as e:
        if as_json and getattr(e, "results", None):  # some sources failed: still one document for every source
            print(json.dumps([r.to_dict() for r in e.results], indent=2))
            raise typer.Exit(1) from None
        raise
    if as_json:
        print(json.dumps([r.to_dict() for r in results], indent=2))
        return
    _print_loads(results)


_KEPT_APART = {"returns": "returns", "non_product": "non-product lines (left out of product analyses)",
               "guest_lines": "guest lines (left out of per-customer analyses)"}


def _print_loads(results) -> None:
    t = Table(title="Loads", title_justify="left")
    for col in ("source", "table", "read", "loaded", "quarantined", "reasons", "seconds"):
        t.add_column(col, justify="right" if col in ("read", "loaded", "quarantined", "seconds") else "left")
    for r in results:
        reasons = "unchanged, skipped" if r.skipped else ", ".join(f"{k} {v:,}" for k, v in r.reasons.items())
        if r.kept_apart:  # loaded, but not every analysis counts them
            apart = ", ".join(f"{v:,} {_KEPT_APART[k]}" for k, v in r.kept_apart.items())
            reasons = f"{reasons}; loaded: {apart}" if reasons else f"loaded: {apart}"
        t.add_row(r.source, r.table, f"{r.read:,}", f"{r.loaded:,}", f"{r.quarantined:,}", reasons, f"{r.seconds:.1f}")
    console.print(t)


@app.command()
def identity(directory: Dir, as_json: AsJson = False) -> None:
    """Link records of the same person across sources (writes customer_lineage)."""
    ws = crmine.open(directory)
    with _progress("identity") as update:
        result = ws.identity.resolve(progress=update)
    if as_json:
        print(json.dumps(result.to_dict(), indent=2, default=str))
    else:
        console.print(_identity_line(result))


def _identity_line(result) -> str:
    d = result.to_dict()
    return (f"Identity: {d['records']:,} records -> {d['unified_customers']:,} customers "
            f"({d['merged_records']:,} records merged into {d['clusters']:,} multi-record customers)"
            + (f"; incremental: {d['compared']:,} new or changed records compared with everyone." if
               d["mode"] == "incremental" else "."))


clv_app = typer.Typer(help="Customer lifetime value: fit BTYD + Gamma-Gamma, score every customer.",
                      no_args_is_help=True)
app.add_typer(clv_app, name="clv")


@clv_app.command("fit")
def clv_fit(
    directory: Dir,
    model: Annotated[str, typer.Option(help="bgnbd (BG/NBD) or pareto (Pareto/NBD).")] = "bgnbd",
    observation_end: Annotated[str | None, typer.Option(help="Last day of calibration (default: last transaction day).")] = None,
    time_unit: Annotated[str, typer.Option(help="D, W, M or Y.")] = "W",
    as_json: AsJson = False,
) -> None:
    """Fit the purchase and spend models on the warehouse's transactions; saved under models/."""
    ws = crmine.open(directory)
    fit = ws.clv.fit(model=model, observation_end=observation_end, time_unit=time_unit)
    if as_json:
        print(json.dumps(fit.to_dict(), indent=2))
        return
    params = ", ".join(f"{k}={v:.4g}" for k, v in fit.params.items())
    spend = ", ".join(f"{k}={v:.4g}" for k, v in fit.spend_params.items())
    console.print(f"{fit.model} on {fit.customers:,} customers to {fit.observation_end}: {params} "
                  f"(log-likelihood {fit.log_likelihood:,.1f}); Gamma-Gamma on {fit.repeat_customers:,} repeat "
                  f"customers: {spend}.")


@clv_app.command("score")
def clv_score(
    directory: Dir,
    horizon: Annotated[int, typer.Option(help="Months ahead.")] = 12,
    discount_rate: Annotated[float, typer.Option(help="Discount rate per month.")] = 0.01,
    margin: Annotated[float, typer.Option(help="Share of spend that is profit.")] = 1.0,
    as_json: AsJson = False,
) -> None:
    """Score every customer (P(alive), expected purchases and spend, CLV) into table clv_scores."""
    ws = crmine.open(directory)
    scores = ws.clv.score(horizon=horizon, discount_rate=discount_rate, margin=margin)
    totals = {"customers": len(scores), "total_clv": float(scores.clv.sum()),
              "mean_probability_alive": float(scores.probability_alive.mean()),
              "expected_purchases": float(scores.expected_purchases.sum())}
    if as_json:
        print(json.dumps(totals, indent=2))
        return
    console.print(f"Scored {totals['customers']:,} customers into clv_scores: {horizon}-month CLV totals "
                  f"{totals['total_clv']:,.0f}; mean P(alive) {totals['mean_probability_alive']:.2f}; "
                  f"{totals['expected_purchases']:,.0f} purchases expected.")


customers_app = typer.Typer(help="The customer table (customer 360) as of a day.", no_args_is_help=True)
app.add_typer(customers_app, name="customers")
AsOf = Annotated[str | None, typer.Option("--as-of", help="The day to describe, YYYY-MM-DD (default: last transaction day).")]


@customers_app.command("build")
def customers_build(directory: Dir, as_of: AsOf = None, as_json: AsJson = False) -> None:
    """Build table customer_table: demographics, RFM, tenure, shares, campaigns, service, derived."""
    ws = crmine.open(directory)
    n = ws.customers.build(as_of=as_of)
    day = str(ws.customers.as_of().date())
    if as_json:
        print(json.dumps({"customers": n, "as_of": day, "columns": ws.customers.table().columns}))
    else:
        console.print(f"customer_table: {n:,} customers as of {day}, {len(ws.customers.table().columns)} columns.")


@app.command()
def query(
    directory: Dir,
    condition: Annotated[str, typer.Argument(help="e.g. \"age between 30 and 40 and income > 50000 and region in ('North','East')\"")] = "",
    list_: Annotated[bool, typer.Option("--list", help="List the qualified customers as CSV (stdout, or --out): "
                                        "customer_id and the columns the condition uses, or --columns.")] = False,
    columns: Annotated[str | None, typer.Option("--columns", help="With --list: the columns to list, e.g. spend,segment.")] = None,
    personal: Annotated[bool, typer.Option("--personal", help="With --list: allow personal contact columns "
                                           "(name, email, phone, address); the export is audited as personal.")] = False,
    out: Annotated[Path | None, typer.Option("--out", help="With --list: write the list to this new file.")] = None,
    by: Annotated[str | None, typer.Option("--by", help="Cross-tab by these columns, e.g. gender,education.")] = None,
    value: Annotated[str, typer.Option(help="The value averaged in a cross-tab.")] = "spend",
    as_json: AsJson = False,
) -> None:
    """Count (or list, or cross-tabulate) the customers who meet a condition.

    A list is an export: it is recorded in export_audit (who, when, the condition, how many) before
    it is written, and holds customer ids and the asked-for columns only."""
    ws = crmine.open(directory)
    if by:
        table = ws.customers.crosstab(condition, by=[c.strip() for c in by.split(",")], value=value)
        if as_json:
            print(table.to_json(orient="records"))
        else:
            _print_frame(table, title=f"Customers by {by}")
        return
    from crmine.errors import SettingsError

    if not list_ and (columns or personal or out):
        raise SettingsError("--columns, --personal and --out go with --list.")
    if list_:
        wanted = [c.strip() for c in columns.split(",") if c.strip()] if columns else None
        export = ws.customers.export(condition, columns=wanted, personal=personal,
                                     out=sys.stdout if out is None else out)
        if out is not None:
            console.print(f"Listed {export.rows:,} customers in {out}; recorded in export_audit.")
        return
    n = ws.customers.count(condition)
    print(json.dumps({"count": n}) if as_json else f"{n:,} customers")


@app.command()
def rfm(
    directory: Dir,
    as_of: AsOf = None,
    compare: Annotated[str | None, typer.Option(help="Also show moves between segments since this day.")] = None,
    as_json: AsJson = False,
) -> None:
    """RFM quintile scores and the named segments: size, value, recency."""
    ws = crmine.open(directory)
    result = ws.customers.rfm(as_of=as_of)
    moves = ws.customers.rfm_transitions(compare, as_of) if compare else None
    if as_json:
        out = {"as_of": result.as_of, "segments": json.loads(result.segments.to_json(orient="records"))}
        if moves is not None:
            out["transitions"] = json.loads(moves.to_json(orient="records"))
        print(json.dumps(out, indent=2))
        return
    _print_frame(result.segments, title=f"RFM segments as of {result.as_of}")
    if moves is not None:
        _print_frame(moves, title=f"Moves between segments since {compare}")


@app.command()
def behaviours(directory: Dir, as_of: AsOf = None, min_count: int = 1, as_json: AsJson = False) -> None:
    """Group customers by the reaction behaviours of [analysis.behaviours] and profile each group."""
    ws = crmine.open(directory)
    groups = ws.customers.behaviours(as_of=as_of, min_count=min_count)
    if as_json:
        print(groups.to_json(orient="records"))
    else:
        _print_frame(groups, title="Behaviour groups")


model_app = typer.Typer(
    help="Predictive models: evaluate/fit/score on a CSV file, or fit/score/target churn on a workspace.",
    no_args_is_help=True,
)
app.add_typer(model_app, name="model")
Target = Annotated[str | None, typer.Option("--target", help="The column to predict (flat files).")]
Positive = Annotated[str | None, typer.Option("--positive", help="The value of the target that counts as positive.")]
IdCol = Annotated[str | None, typer.Option("--id", help="An identifier column, kept out of the features.")]


def _search(path: Path, target: str | None, positive: str | None, id_col: str | None):
    from crmine.errors import SettingsError
    from crmine.predict import ModelSearch

    if not target:
        raise SettingsError(f"Say which column of {path.name} to predict with --target COLUMN.")
    frame = _read_table(path)
    with _progress("model") as update:
        return ModelSearch(target=target, positive=positive, id_column=id_col).fit(frame, progress=update)


def _candidates(search) -> list[dict]:
    r = search.results_
    return [{"name": name, "roc_auc": row.roc_auc_mean, "pr_auc": row.pr_auc_mean,
             "lift_top_decile": row.lift_top_decile_mean, "gains_at_20pct": row.gains_at_20_mean}
            for name, row in r.iterrows()]


def _candidate_frame(search):
    import pandas as pd

    return pd.DataFrame(_candidates(search))


@model_app.command("evaluate")
def model_evaluate(file: Annotated[Path, typer.Argument(help="A CSV or Parquet file, one row per customer.")],
                   target: Target = None, positive: Positive = None, id_col: IdCol = None,
                   html: Annotated[Path | None, typer.Option(
                       "--html", help="Also write an offline HTML model card to this file.")] = None,
                   as_json: AsJson = False) -> None:
    """Cross-validate the candidate models and a naive baseline; report AUC, lift and gains."""
    from crmine.report import build_model_card

    search = _search(file, target, positive, id_col)
    card = build_model_card(search, path=html, source=file.name) if html is not None else None
    if as_json:
        print(json.dumps({"candidates": _candidates(search), "best": search.best_}, indent=2))
    else:
        _print_frame(_candidate_frame(search), title=f"Candidates for {target} (best: {search.best_})")
        if search.dropped_:
            console.print("Columns left out: " + "; ".join(f"{c} ({why})" for c, why in search.dropped_.items()))
    if card is not None:
        # On stderr under --json, so that stdout stays the JSON document alone.
        (err if as_json else console).print(f"Model card: {card}", highlight=False, soft_wrap=True)


@model_app.command("fit")
def model_fit(path: Annotated[Path, typer.Argument(help="A CSV/Parquet file, or a workspace folder (churn).")],
              target: Target = None, positive: Positive = None, id_col: IdCol = None,
              out: Annotated[Path | None, typer.Option("--out", help="Where to save the model (files).")] = None,
              horizon: Annotated[int, typer.Option(help="Churn / cross-sell horizon in days (workspaces).")] = 180,
              kind: Annotated[str, typer.Option(help="Workspaces: churn, response or cross_sell.")] = "churn",
              campaign: Annotated[str | None, typer.Option(help="Response: the test campaign to learn from.")] = None,
              response_type: Annotated[str | None, typer.Option(
                  help="Response: count only this response type (e.g. purchase); default any.")] = None,
              category: Annotated[str | None, typer.Option(help="Cross-sell: the product category.")] = None,
              as_json: AsJson = False) -> None:
    """Fit the best model: on a file (save with --out), or on a workspace without look-ahead
    (churn; response to a test campaign; cross-sell of a category)."""
    from crmine.errors import SettingsError

    if path.is_dir():
        with _progress("model") as update:
            search = crmine.open(path).models.fit(kind=kind, campaign=campaign, response_type=response_type,
                                                  category=category, horizon_days=horizon, progress=update)
    else:
        if out is None:
            raise SettingsError("Say where to save the model with --out MODEL.joblib.")
        search = _search(path, target, positive, id_col)
        search.save(out)
    if as_json:
        print(json.dumps({"candidates": _candidates(search), "best": search.best_}, indent=2))
    else:
        _print_frame(_candidate_frame(search), title=f"Best: {search.best_}")


@model_app.command("score")
def model_score(path: Annotated[Path, typer.Argument(help="A saved model file, or a workspace folder.")],
                file: Annotated[Path | None, typer.Argument(help="The file to score (with a model file).")] = None,
                out: Annotated[Path | None, typer.Option("--out", help="Where to write the scores CSV.")] = None,
                name: Annotated[str, typer.Option(help="Workspaces: the model (churn, response_<campaign>, cross_sell_<category>).")] = "churn") -> None:
    """Score a file with a saved model (id and score), or every customer of a workspace (<name>_scores)."""
    from crmine.errors import SettingsError
    from crmine.predict import ModelSearch

    if path.is_dir():
        scores = crmine.open(path).models.score(name)
        psi = scores.attrs.get("psi")
        console.print(f"Scored {len(scores):,} customers into {name}_scores; mean probability {scores.probability.mean():.2f}.")
        if psi is not None:
            _print_frame(psi.sort_values("psi", ascending=False).head(10), title="Drift since training (PSI)")
        return
    if file is None or out is None:
        raise SettingsError("Usage: crmine model score MODEL FILE --out SCORES.csv")
    search = ModelSearch.load(path)
    scores = search.predict_proba(_read_table(file)).rename("score")
    from crmine import _atomic

    with _atomic.replacing(out) as tmp:  # a reader never sees half a file
        scores.to_frame().reset_index().to_csv(tmp, index=False)
    console.print(f"Wrote {len(scores):,} scores to {out}.")


@model_app.command("target")
def model_target(directory: Dir,
                 name: Annotated[str, typer.Option(help="The model whose scores rank the list.")] = "churn",
                 purpose: Annotated[str, typer.Option(help="Consent purpose required.")] = "marketing",
                 channel: Annotated[str, typer.Option(help="Contact channel (consent is per channel).")] = "email",
                 margin: Annotated[float | None, typer.Option(
                     help="Value of one positive outcome. Default: churn, each customer's lifetime "
                          "value (clv_scores); response, the campaign's margin_per_response.")] = None,
                 contact_cost: Annotated[float | None, typer.Option(
                     help="Cost of one contact. Default: the campaign's cost_per_contact, else 1.")] = None,
                 budget: Annotated[float | None, typer.Option(help="Total contact budget.")] = None,
                 top_n: Annotated[int | None, typer.Option("--top-n", help="At most this many customers.")] = None,
                 min_profit: Annotated[float | None, typer.Option(
                     "--min-profit", help="Smallest expected profit listed (default: above 0).")] = None,
                 as_json: AsJson = False) -> None:
    """A consented contact list ranked by expected profit, exported with an audit record."""
    result = crmine.open(directory).models.target(name, purpose=purpose, channel=channel, margin=margin,
                                                  contact_cost=contact_cost, budget=budget, top_n=top_n,
                                                  min_profit=min_profit)
    summary = {"selected": result.selected, "expected_profit": result.expected_profit,
               "excluded_no_consent": result.excluded_no_consent}
    if as_json:
        print(json.dumps(summary))
    else:
        console.print(f"{result.selected:,} customers selected, expected profit {result.expected_profit:,.0f}; "
                      f"{result.excluded_no_consent:,} left out for lack of {purpose}/{channel} consent. "
                      "Exported under exports/ and recorded in export_audit.")


@model_app.command("backtest")
def model_backtest(directory: Dir,
                   kind: Annotated[str, typer.Option(help="churn or cross_sell.")] = "churn",
                   category: Annotated[str | None, typer.Option(help="Cross-sell: the product category.")] = None,
                   horizon: Annotated[int, typer.Option(help="Horizon in days.")] = 180,
                   as_json: AsJson = False) -> None:
    """Out-of-time check: train as of one horizon ago, score the next period, compare with
    cross-validation."""
    search = crmine.open(directory).models.backtest(kind, category=category, horizon_days=horizon)
    cv, out = search.results_, search.holdout_results_
    table = [{"candidate": name, "cv_roc_auc": float(cv.loc[name, "roc_auc_mean"]),
              "out_of_time_roc_auc": float(out.loc[name, "roc_auc"]),
              "out_of_time_lift_top_decile": float(out.loc[name, "lift_top_decile"])} for name in out.index]
    if as_json:
        print(json.dumps({"best": search.best_, "candidates": table}, indent=2))
        return
    import pandas as pd

    _print_frame(pd.DataFrame(table), title=f"{kind}: cross-validated vs out-of-time (best by CV: {search.best_})")


@model_app.command("drivers")
def model_drivers(directory: Dir,
                  kind: Annotated[str, typer.Option(help="churn, response or cross_sell.")] = "churn",
                  campaign: Annotated[str | None, typer.Option(help="Response: the test campaign.")] = None,
                  category: Annotated[str | None, typer.Option(help="Cross-sell: the product category.")] = None,
                  horizon: Annotated[int, typer.Option(help="Churn / cross-sell horizon in days.")] = 180,
                  top: Annotated[int, typer.Option(help="How many drivers to show.")] = 10,
                  as_json: AsJson = False) -> None:
    """What lies behind churn (or response): the model without the purchase-history columns that
    merely restate it (recency, frequency, spend, tenure), its columns ranked by importance."""
    table = crmine.open(directory).models.drivers(kind, campaign=campaign, category=category,
                                                 horizon_days=horizon)
    a = table.attrs
    if as_json:
        print(json.dumps({"model": a["model"], "roc_auc": a["roc_auc"], "left_out": a["left_out"],
                          "drivers": table.head(top).to_dict(orient="records")}, indent=2))
        return
    _print_frame(table.head(top), title=f"Drivers of {kind} ({a['model']}, cross-validated ROC AUC "
                                        f"{a['roc_auc']:.3f} without the purchase-history columns)")


@app.command()
def report(directory: Dir,
           out: Annotated[Path | None, typer.Option("--out", help="Where to write the HTML (default: reports/).")] = None) -> None:
    """Render the self-contained HTML report from what is in the warehouse (nothing is recomputed)."""
    path = crmine.open(directory).report.build(path=out)
    console.print(f"Report: {path}")


@app.command()
def lookalike(directory: Dir,
              seed: Annotated[str | None, typer.Argument(
                  help="The seed customers, as a condition, e.g. \"spend > 2000\".")] = None,
              ids: Annotated[Path | None, typer.Option(
                  "--ids", help="Or: a CSV/Parquet file whose customer_id column lists the seed.")] = None,
              gold: Annotated[bool, typer.Option(
                  "--gold", help="Or: the gold list of key customers (top 20% by profit).")] = False,
              top_n: Annotated[int, typer.Option("--top-n")] = 1000,
              out: Annotated[Path | None, typer.Option("--out", help="Export the ranked list to this new CSV file.")] = None,
              as_json: AsJson = False) -> None:
    """Rank the customers outside a seed group by their resemblance to it (table lookalike_scores).

    The ranked list leaves the warehouse only as an export (--out FILE, or --json on stdout),
    recorded in export_audit before it is written."""
    from crmine.errors import SettingsError
    from crmine.schema import require_columns

    if sum(x is not None and x is not False for x in (seed, ids, gold)) != 1:
        raise SettingsError("Give the seed one way: a condition, --ids FILE or --gold.")
    ws = crmine.open(directory)
    if ids is not None:
        frame = _read_table(ids)
        require_columns(list(map(str, frame.columns)), ["customer_id"], where=str(ids))
        seed = frame["customer_id"].astype(str).tolist()
    elif gold:
        seed = ws.segments.key_customers().gold["customer_id"].astype(str).tolist()
    scores = ws.models.lookalike(seed, top_n=top_n)
    if as_json or out is not None:
        from crmine._export import export_customers

        how = {"seed": seed if isinstance(seed, str) else f"{len(seed)} listed customers", "top_n": top_n,
               "seed_auc": scores.attrs["seed_auc"]}
        export_customers(ws.warehouse, ws.root, scores, kind="lookalike", what=how,
                         out=sys.stdout if out is None else out, fmt="csv" if out is not None else "json")
    if not as_json:
        console.print(f"{len(scores):,} lookalikes ranked (seed separability, cross-validated AUC "
                      f"{scores.attrs['seed_auc']:.3f}); stored in lookalike_scores"
                      + (f", exported to {out} (recorded in export_audit)." if out is not None else
                         ". Export them with --out FILE or --json (recorded in export_audit)."))


@app.command()
def segments(
    directory: Dir,
    method: Annotated[str, typer.Option(help="kmeans or gmm.")] = "kmeans",
    k: Annotated[int | None, typer.Option(help="Number of segments (default: chosen by silhouette / BIC).")] = None,
    features: Annotated[str | None, typer.Option(help="Comma-separated customer-table columns to cluster on.")] = None,
    seed: int = 0,
    as_json: AsJson = False,
) -> None:
    """Cluster the customer table into segments (table customer_segments) and profile each."""
    ws = crmine.open(directory)
    seg = ws.segments.fit(method=method, k=k, seed=seed,
                          features=[f.strip() for f in features.split(",")] if features else None)
    profile = seg.profile_.reset_index()
    if as_json:
        print(json.dumps({"k": int(seg.k_), "profiles": json.loads(profile.to_json(orient="records"))}, indent=2))
        return
    cols = [c for c in ("segment", "name", "size", "share", "mean_spend", "description") if c in profile.columns]
    _print_frame(profile[cols], title=f"{seg.k_} segments ({method}); what sets each apart, in standard deviations")


@app.command("key-customers")
def key_customers(
    directory: Dir,
    by: Annotated[str, typer.Option(help="profit (historical) or clv (needs `crmine clv score`).")] = "profit",
    top_share: Annotated[float, typer.Option(help="Share of customers in the gold list.")] = 0.2,
    as_of: AsOf = None,
    as_json: AsJson = False,
) -> None:
    """Rank customers by value; the Pareto curve and the gold list."""
    ws = crmine.open(directory)
    result = ws.segments.key_customers(by=by, top_share=top_share, as_of=as_of)
    if as_json:
        print(json.dumps({"headline": result.headline, "top_value_share": result.top_value_share,
                          "gold": result.gold.customer_id.tolist()}))
        return
    console.print(result.headline)
    _print_frame(result.gold.head(15), title="The gold list (first 15)")


@app.command()
def loyalty(directory: Dir, as_of: AsOf = None, as_json: AsJson = False) -> None:
    """Cohort retention, how long customers stay active (Kaplan-Meier), loyalty scores."""
    ws = crmine.open(directory)
    cohorts = ws.loyalty.cohorts(as_of=as_of)
    survival = ws.loyalty.survival(as_of=as_of)
    scores = ws.loyalty.scores(as_of=as_of)
    summary = scores[["durability", "robustness", "stability", "loyalty"]].describe().T
    if as_json:
        print(json.dumps({"median_active_days": survival.median_days, "cohorts": len(cohorts),
                          "scores": json.loads(summary.to_json(orient="index"))}, indent=2))
        return
    console.print(f"Median active lifetime: {survival.median_days:,.0f} days (Kaplan-Meier). "
                  f"{len(cohorts)} monthly cohorts; loyalty scores stored in table loyalty_scores.")
    first = cohorts.iloc[:, : min(8, cohorts.shape[1])].head(12).reset_index()
    first[first.columns[0]] = first[first.columns[0]].astype(str).str[:7]  # the cohort month
    _print_frame(first, title="Cohort retention (share buying in month n after the first purchase)")
    _print_frame(summary.reset_index(names="score"), title="Loyalty scores")


def _print_frame(frame, *, title: str, cell: Callable[[Any], str] | None = None) -> None:
    """``frame`` as a table, numbers right-aligned; ``cell`` formats each value (default: ``_cell``)."""
    cell = cell or _cell
    t = Table(title=title, title_justify="left")
    for col in frame.columns:
        t.add_column(str(col), justify="right" if frame[col].dtype.kind in "iuf" else "left")
    for row in frame.itertuples(index=False):
        t.add_row(*[cell(v) for v in row])
    console.print(t)


def _cell(v) -> str:
    if isinstance(v, float):
        return f"{v:,.3f}" if abs(v) < 10 else f"{v:,.0f}"
    if isinstance(v, int):
        return f"{v:,}"
    return "" if v is None else str(v)


@app.command()
def status(directory: Dir, as_json: AsJson = False) -> None:
    """Row counts of every table, and every load with read / loaded / quarantined."""
    ws = crmine.open(directory)
    st = ws.status()
    if as_json:
        print(json.dumps(st, indent=2))
        return
    t = Table(title=f"Warehouse {ws.root}", title_justify="left")
    t.add_column("table")
    t.add_column("rows", justify="right")
    for name, n in st["tables"].items():
        t.add_row(name, f"{n:,}")
    console.print(t)
    if st["loads"]:
        lt = Table(title="Load log", title_justify="left")
        for col in ("source", "file", "read", "loaded", "quarantined"):
            lt.add_column(col, justify="right" if col in ("read", "loaded", "quarantined") else "left")
        for ld in st["loads"]:
            lt.add_row(ld["source"], ld["file"], f"{ld['read']:,}", f"{ld['loaded']:,}", f"{ld['quarantined']:,}")
        console.print(lt)


@app.command()
def dictionary(
    directory: Annotated[Path | None, typer.Argument(help="A workspace (optional: the model is the same).")] = None,
    table: Annotated[str | None, typer.Option("--table", "-t", help="Only this table.")] = None,
    as_json: AsJson = False,
) -> None:
    """The data dictionary: each table, column, type, rule, meaning, and which analyses use it."""
    from crmine._dictionary import dictionary as build
    from crmine.schema import table as canonical

    if directory is not None:
        crmine.open(directory)  # a wrong folder is an error even though the model is fixed
    d = build()
    if table:
        canonical(table)
        d = d[d.table == table]
    if as_json:
        print(d.to_json(orient="records", indent=2))
        return
    for name, rows in d.groupby("table", sort=False):
        t = Table(title=name, title_justify="left", show_lines=False)
        for col in ("column", "type", "key", "rule", "meaning", "used_by"):
            t.add_column(col)
        for r in rows.itertuples():
            t.add_row(r.column, r.type, "key" if r.key else "", r.rule, r.meaning, r.used_by)
        console.print(t)


@app.command("run")
def run_all(directory: Dir,
            force: Annotated[bool, typer.Option("--force", help="Run every step, even those up to date.")] = False,
            as_json: AsJson = False) -> None:
    """Run every analysis in dependency order, skipping steps whose inputs have not changed."""
    results = _run(crmine.open(directory), force=force, quiet=as_json)
    if as_json:
        from crmine.pipeline import run_document

        print(json.dumps(run_document(results), indent=2))
    if any(r.status == "failed" for r in results):
        raise typer.Exit(1)


def _run(ws, *, force: bool = False, quiet: bool = False):
    from crmine.pipeline import run

    with _progress("run") as update:
        results = run(ws, force=force, progress=update)
    if quiet:  # --json: stdout is the JSON document alone
        return results
    t = Table(title=f"crmine run {ws.root}", title_justify="left")
    for col in ("step", "status", "rows", "seconds", "detail"):
        t.add_column(col, justify="right" if col in ("rows", "seconds") else "left")
    colour = {"ok": "green", "up to date": "cyan", "failed": "red", "skipped": "yellow"}
    for r in results:
        t.add_row(r.step, Text(r.status, style=colour[r.status]), "" if r.rows is None else f"{r.rows:,}",
                  f"{r.seconds:.1f}", r.detail)
    console.print(t)
    return results


@app.command()
def demo(
    directory: Annotated[Path, typer.Option("--dir", help="Where to build the demo workspace.")] = Path("demo"),
    customers: Annotated[int, typer.Option("--customers", "-n", min=100)] = 20_000,
    seed: int = 0,
) -> None:
    """Simulate a company, then `crmine run` every analysis on it; prints where the report is."""
    from crmine.datasets import simulate as run_simulation

    started = time.perf_counter()
    with _progress("simulate") as update:
        sim = run_simulation(customers, seed=seed, out_dir=directory, progress=_fraction_progress(update))
    ws = crmine.init(directory)
    results = _run(ws)
    report = next((r.detail for r in results if r.step == "report" and r.status == "ok"), None)
    console.print(f"Demo: {sim.n_customers:,} simulated customers in {time.perf_counter() - started:.0f} s. "
                  + (f"Report: {report}" if report else "The report was not built; see the table above."))
    if any(r.status == "failed" for r in results):
        raise typer.Exit(1)


from crmine.cli._campaign import campaign_app, uplift_app  # noqa: E402 - they use this module's consoles

app.add_typer(campaign_app, name="campaign")
app.add_typer(uplift_app, name="uplift")


def main() -> None:
    """Entry point. Every failure ends in one ``error:`` line and exit 1; usage errors exit 2."""
    from crmine.cli import _failures
    from crmine.errors import EngineError

    args = sys.argv[1:]
    try:
        app(standalone_mode=False, prog_name="crmine")
    except EngineError as e:
        _fail(_failures.describe_engine_error(e, args))
    except CrmineError as e:
        _fail(str(e))
    except (typer.Exit, SystemExit) as e:
        sys.exit(getattr(e, "exit_code", getattr(e, "code", 0)) or 0)
    except _failures.ClickException as e:  # usage: typer's usage line, the problem, exit 2
        e.show()
        sys.exit(e.exit_code)
    except KeyboardInterrupt:
        err.print("interrupted; the warehouse is unchanged by the step that was running.")
        sys.exit(130)
    except Exception as e:  # noqa: BLE001 - the last line of defence: never a traceback
        _fail(_failures.describe_unexpected(e, args))


def _fail(message: str) -> None:
    err.print(Text("error: ", style="red") + Text(message), soft_wrap=True)
    sys.exit(1)


# Commands of their own modules; imported last because they use this module's consoles.
from crmine.cli._baskets import baskets_app  # noqa: E402
from crmine.cli._forecast import forecast_command  # noqa: E402
from crmine.cli._pricing import price_app  # noqa: E402
from crmine.cli._privacy import privacy_app  # noqa: E402
from crmine.cli._recommend import recommend_command  # noqa: E402
from crmine.cli._serve import keys_app, serve_command  # noqa: E402
from crmine.cli._service import service_app  # noqa: E402
from crmine.cli._text import text_app  # noqa: E402

app.add_typer(price_app, name="price")
app.add_typer(baskets_app, name="baskets")
app.command("forecast")(forecast_command)
app.command("recommend")(recommend_command)
app.add_typer(text_app, name="text")
app.add_typer(service_app, name="service")
app.add_typer(privacy_app, name="privacy")
app.command("serve")(serve_command)
app.add_typer(keys_app, name="keys")
