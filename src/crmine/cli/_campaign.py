"""``crmine campaign ...`` (lift, test design, assignment) and ``crmine uplift ...`` (fit, score,
target): parse, call :mod:`crmine.campaign`, format. Plain text (no markup), or ``--json``."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Any

import typer

from crmine.cli._common import AsJson, json_value
from crmine.cli._common import ui as _ui

__all__ = ["campaign_app", "uplift_app"]

campaign_app = typer.Typer(
    help="Campaign effectiveness: lift against a control group (a CSV file or a workspace), test design, "
         "random assignment of a target list.",
    no_args_is_help=True, rich_markup_mode=None)
uplift_app = typer.Typer(
    help="Uplift models on a CSV file of a randomised test: fit (cross-validated learners), score, "
         "target by incremental profit.",
    no_args_is_help=True, rich_markup_mode=None)

Arm = Annotated[str | None, typer.Option("--arm", help="The column naming each customer's arm (flat files).")]
Control = Annotated[str | None, typer.Option("--control", help="The arm value of the control group.")]


def _records(frame) -> list[dict[str, Any]]:
    return [{k: json_value(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]


def _need(value: Any, flag: str, what: str) -> Any:
    from crmine.errors import SettingsError

    if value is None or value == [] or value == "":
        raise SettingsError(f"Say {what} with {flag}.")
    return value


def _write_csv(frame, path: Path, *, index: bool = False) -> None:
    from crmine import _atomic

    with _atomic.replacing(path) as tmp:  # a reader never sees half a file
        frame.to_csv(tmp, index=index)


# ---- campaign lift --------------------------------------------------------------------------
@campaign_app.command("lift")
def campaign_lift(
    path: Annotated[Path, typer.Argument(help="A CSV/Parquet file, one row per customer in the test; or a workspace folder.")],
    arm: Arm = None, control: Control = None,
    outcome: Annotated[list[str] | None, typer.Option("--outcome", help="An outcome column: 0/1, a count or an amount (repeatable).")] = None,
    campaign: Annotated[str | None, typer.Option("--campaign", help="Workspace: the campaign (default: every campaign).")] = None,
    margin: Annotated[float | None, typer.Option(help="Value of one unit of outcome (one response; or a margin rate on revenue). Workspace: overrides margin_per_response.")] = None,
    cost: Annotated[float | None, typer.Option(help="Cost of one contact. Workspace: overrides cost_per_contact.")] = None,
    method: Annotated[str, typer.Option(help="Interval for counts and money: bootstrap or welch.")] = "bootstrap",
    binary_ci: Annotated[str, typer.Option("--binary-ci", help="Interval for 0/1 outcomes: newcombe or wald.")] = "newcombe",
    confidence: Annotated[float, typer.Option(help="Level of the intervals.")] = 0.95,
    seed: Annotated[int, typer.Option(help="Seed of the bootstrap.")] = 0,
    as_json: AsJson = False,
) -> None:
    """Lift of each treatment arm over the control: means, absolute and relative lift, interval,
    p-value and the test used, increments, incremental profit and ROI."""
    if path.is_dir():
        import crmine

        ws = crmine.open(path)
        from crmine.campaign._namespace import CampaignsNamespace

        ns = CampaignsNamespace(ws.warehouse, ws.root)
        table = (ns.lift(campaign, margin=margin, cost=cost, confidence=confidence) if campaign
                 else ns.lift_all(confidence=confidence))
        title = f"Lift of campaign {campaign}" if campaign else "Lift of every campaign"
    else:
        from crmine.campaign import lift_table

        frame = _ui()._read_table(path)
        table = lift_table(frame, arm=_need(arm, "--arm COLUMN", f"which column of {path.name} names the arm"),
                           control=_need(control, "--control VALUE", "which arm is the control group"),
                           outcomes=_need(outcome, "--outcome COLUMN", "which outcome to compare"),
                           margin=margin, cost=cost, confidence=confidence, method=method, binary_ci=binary_ci,
                           seed=seed, source=path.name)
        title = f"Lift over control {table.attrs['control']!r} ({confidence:.0%} intervals)"
    if as_json:
        print(json.dumps({"arms": _records(table)}, indent=2))
        return
    cols = [c for c in ("campaign_id", "arm", "outcome", "n", "mean", "control_n", "control_mean", "lift",
                        "relative_lift", "ci_low", "ci_high", "p_value", "incremental", "incremental_profit", "roi")
            if c in table.columns]
    _print(table[cols], title=title)
    for t in dict.fromkeys(table["test"]):
        _ui().console.print(f"test: {t}")


def _print(frame, *, title: str) -> None:
    """A table whose small numbers keep four significant digits (lifts of a few points)."""
    _ui()._print_frame(frame, title=title, cell=_cell)


def _cell(v: Any) -> str:
    if isinstance(v, bool):
        return "yes" if v else ""
    if isinstance(v, float):
        if not math.isfinite(v):
            return ""
        if v != 0 and abs(v) < 1e-3:
            return f"{v:.2e}"
        return f"{v:,.4f}" if abs(v) < 100 else f"{v:,.0f}"
    if isinstance(v, int):
        return f"{v:,}"
    return "" if v is None else str(v)


# ---- campaign design / assign ---------------------------------------------------------------
@campaign_app.command("design")
def campaign_design(
    baseline: Annotated[float, typer.Option(help="The control group's expected response rate (or mean, with --sd).")],
    mde: Annotated[float, typer.Option(help="The minimum detectable lift, absolute (0.02 = two points).")],
    sd: Annotated[float | None, typer.Option(help="Standard deviation of the outcome, for a mean (spend).")] = None,
    alpha: Annotated[float, typer.Option(help="Level of the two-sided test.")] = 0.05,
    power: Annotated[float, typer.Option(help="Chance of detecting a true lift of --mde.")] = 0.8,
    control_share: Annotated[float, typer.Option("--control-share", help="Share held out as control (sizes mode).")] = 0.5,
    size: Annotated[int | None, typer.Option("--size", help="The target list's size: find the smallest control share that still detects --mde.")] = None,
    as_json: AsJson = False,
) -> None:
    """Customers needed per group to detect a lift (or, with --size, the smallest control share of a
    list of that size), and the lift the design can detect."""
    from crmine.campaign._design import minimum_detectable_lift, sample_size, smallest_control_share

    if size is not None:
        d = smallest_control_share(size, baseline=baseline, mde=mde, alpha=alpha, power=power, sd=sd)
    else:
        d = sample_size(baseline=baseline, mde=mde, alpha=alpha, power=power, control_share=control_share, sd=sd)
    doc = d.to_dict()
    doc["detectable_lift"] = minimum_detectable_lift(d.n_treatment, d.n_control, baseline=baseline, alpha=alpha,
                                                     power=power, sd=sd)
    if as_json:
        print(json.dumps(doc, indent=2))
        return
    _ui().console.print(
        f"{d.n_treatment:,} treated and {d.n_control:,} control customers ({d.n_total:,} in all, control share "
        f"{d.control_share:.1%}) detect a lift of {mde:g} over a baseline {d.outcome} of {baseline:g} with power "
        f"{power:g} at alpha {alpha:g} (two-sided); smallest detectable lift {doc['detectable_lift']:.4g}.")


@campaign_app.command("assign")
def campaign_assign(
    file: Annotated[Path, typer.Argument(help="The target list (CSV/Parquet), one row per customer.")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the list with its group column (CSV).")],
    id_col: Annotated[str | None, typer.Option("--id", help="Customer id column: makes the draw independent of the row order.")] = None,
    control_share: Annotated[float, typer.Option("--control-share", help="Share held out as control.")] = 0.5,
    treatment: Annotated[list[str] | None, typer.Option("--treatment", help="Name of a treatment arm (repeatable; default: treatment).")] = None,
    strata: Annotated[list[str] | None, typer.Option("--strata", help="Stratify by this column (repeatable).")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the draw: the same list and seed give the same groups.")] = 0,
    column: Annotated[str, typer.Option(help="Name of the group column written.")] = "group",
    as_json: AsJson = False,
) -> None:
    """Draw treatment and control groups at random (exact shares within each stratum) and write the list."""
    from crmine.campaign._design import assign

    frame = _ui()._read_table(file)
    listed = assign(frame, control_share=control_share, treatments=treatment or ("treatment",), strata=strata or (),
                    id_column=id_col, seed=seed, column=column)
    _write_csv(listed, out)
    counts = {str(k): int(v) for k, v in listed[column].value_counts().sort_index().items()}
    if as_json:
        print(json.dumps({"out": str(out), "groups": counts, "seed": seed}))
        return
    _ui().console.print(f"{len(listed):,} customers assigned ({', '.join(f'{k} {v:,}' for k, v in counts.items())}), "
                        f"seed {seed}; written to {out}.")


# ---- the loop in a workspace: target under consent and contact limits, realised lift ---------
def _workspace(path: Path):
    import crmine
    from crmine.errors import WorkspaceError

    if not path.is_dir():
        raise WorkspaceError(f"{path} is not a workspace folder. Create one with `crmine init {path}`.")
    return crmine.open(path)


@campaign_app.command("target")
def campaign_target(
    path: Annotated[Path, typer.Argument(help="The workspace folder.")],
    model: Annotated[Path, typer.Option("--model", help="An uplift model saved by `crmine uplift fit` on customer-table columns.")],
    margin: Annotated[float, typer.Option(help="Value of one unit of uplift: margin per response, or margin rate on spend.")],
    cost: Annotated[float, typer.Option(help="Cost of one contact.")],
    budget: Annotated[float | None, typer.Option(help="Largest total contact cost (default: everyone worth contacting).")] = None,
    purpose: Annotated[str, typer.Option(help="Consent purpose the list needs.")] = "marketing",
    channel: Annotated[str, typer.Option(help="Consent channel the list needs.")] = "email",
    max_contacts: Annotated[int | None, typer.Option("--max-contacts", help="Leave out customers contacted by this many campaigns in the period.")] = None,
    period_days: Annotated[int, typer.Option("--period-days", help="Length of the contact-limit period, in days.")] = 30,
    control_share: Annotated[float | None, typer.Option("--control-share", help="Hold out this share of the list as a control group (column group).")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the holdout draw.")] = 0,
    campaign: Annotated[str | None, typer.Option("--campaign", help="The campaign the list is for: its forecasts are kept for `campaign realised`.")] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Day of the customer table scored (default: the last transaction day).")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="A new file for the list (default: exports/uplift_targets-<time>.csv).")] = None,
    as_json: AsJson = False,
) -> None:
    """Score every customer with an uplift model and export the list with the highest expected
    incremental profit, leaving out customers without consent and those at the contact limit."""
    ws = _workspace(path)
    m = _load(model)
    scores = ws.campaigns.score(m, as_of=as_of)
    result = ws.campaigns.target(scores, value=margin, cost=cost, budget=budget, purpose=purpose, channel=channel,
                                 max_contacts=max_contacts, period_days=period_days, control_share=control_share,
                                 seed=seed, campaign=campaign, out=out)
    doc = {k: json_value(v) for k, v in result.to_dict().items()}
    if as_json:
        print(json.dumps(doc, indent=2))
        return
    t = result.targets
    compare = ("" if t.response_expected_profit is None else
               f" The same spend on the highest response forecasts ({t.response_selected:,} customers) would earn "
               f"{t.response_expected_profit:,.2f}.")
    _ui().console.print(
        f"{len(result.customers):,} of {result.candidates:,} customers listed at a cost of {t.cost:,.2f}: expected "
        f"incremental profit {t.expected_profit:,.2f}.{compare} Left out: {result.excluded_no_consent:,} without "
        f"{purpose}/{channel} consent, {result.excluded_contact_limit:,} at the contact limit. Written to {result.file}.")


@campaign_app.command("realised")
def campaign_realised(
    path: Annotated[Path, typer.Argument(help="The workspace folder.")],
    campaign: Annotated[str, typer.Option("--campaign", help="The campaign to read.")],
    scores: Annotated[Path | None, typer.Option("--scores", help="customer_id and uplift per contact (CSV/Parquet; default: the forecasts saved with the campaign's list).")] = None,
    response_type: Annotated[str | None, typer.Option("--response-type", help="The response measured, or value (default: purchase).")] = None,
    bins: Annotated[int, typer.Option(help="Number of bins of forecast uplift.")] = 10,
    confidence: Annotated[float, typer.Option(help="Level of the intervals.")] = 0.95,
    as_json: AsJson = False,
) -> None:
    """Realised lift per decile of forecast uplift: did the model's top deciles really gain more?"""
    ws = _workspace(path)
    frame = None if scores is None else _ui()._read_table(scores)
    table = ws.campaigns.realised_lift(campaign, scores=frame, response_type=response_type, bins=bins,
                                       confidence=confidence)
    if as_json:
        print(json.dumps({"campaign_id": campaign, "outcome": table.attrs["outcome"], "kind": table.attrs["kind"],
                          "scored": table.attrs["scored"], "unscored": table.attrs["unscored"],
                          "deciles": _records(table)}, indent=2))
        return
    _print(table, title=f"Realised lift of campaign {campaign} on {table.attrs['outcome']} per bin of forecast uplift "
                        f"({confidence:.0%} intervals)")
    if table.attrs["unscored"]:
        _ui().console.print(f"{table.attrs['unscored']:,} contacts without a score were left out.")


# ---- uplift fit / score / target ------------------------------------------------------------
@uplift_app.command("fit")
def uplift_fit(
    file: Annotated[Path, typer.Argument(help="A CSV/Parquet file of a randomised test, one row per customer.")],
    out: Annotated[Path, typer.Option("--out", help="Where to save the model (joblib).")],
    arm: Arm = None, control: Control = None,
    outcome: Annotated[str | None, typer.Option("--outcome", help="The outcome column: 0/1, a count or an amount.")] = None,
    treatment: Annotated[list[str] | None, typer.Option("--treatment", help="Model only this arm (repeatable); rows of other arms are left out.")] = None,
    id_col: Annotated[str | None, typer.Option("--id", help="An identifier column, kept out of the features.")] = None,
    feature: Annotated[list[str] | None, typer.Option("--feature", help="Learn from this column only (repeatable; default: all others).")] = None,
    learner: Annotated[list[str] | None, typer.Option("--learner", help="two_model, class_transformation, x_learner, dr_learner (repeatable; default all).")] = None,
    base: Annotated[list[str] | None, typer.Option("--base", help="linear, additive, gradient_boosting, random_forest (repeatable; default the first three).")] = None,
    cv: Annotated[int, typer.Option(help="Cross-validation folds.")] = 3,
    seed: Annotated[int, typer.Option(help="Seed of the folds and models.")] = 0,
    html: Annotated[Path | None, typer.Option("--html", help="Also write an offline HTML model card to this file.")] = None,
    as_json: AsJson = False,
) -> None:
    """Cross-validate uplift learners per treatment arm against a random and a response-model
    ranking (Qini, AUUC, uplift@30%), keep the best, save it (and its model card with --html)."""
    from crmine.campaign import UpliftModel

    frame = _ui()._read_table(file)
    settings: dict[str, Any] = {"cv": cv, "seed": seed}
    if learner:
        settings["learners"] = tuple(learner)
    if base:
        settings["bases"] = tuple(base)
    with _ui()._progress("uplift") as update:
        model = UpliftModel(**settings).fit(
            frame, outcome=_need(outcome, "--outcome COLUMN", f"which column of {file.name} is the outcome"),
            arm=_need(arm, "--arm COLUMN", f"which column of {file.name} names the arm"),
            control=_need(control, "--control VALUE", "which arm is the control group"),
            treatment=treatment or None, id_column=id_col, features=feature or None, source=file.name,
            progress=update)
    model.save(out)
    card = model.card(html, source=file.name) if html is not None else None
    table = model.summary().reset_index()
    if as_json:
        doc = {"model": str(out), "outcome": model.outcome_, "kind": model.kind_, "best": model.best_,
               "dropped": model.dropped_, "candidates": _records(table)}
        if card is not None:
            doc["card"] = str(card)
        print(json.dumps(doc, indent=2))
        return
    cols = ["arm", "candidate", "qini_mean", "qini_std", "auuc_mean", "uplift_at_k_mean", "best"]
    _print(table[cols].rename(columns={"uplift_at_k_mean": f"uplift_at_{model.k:.0%}_mean"}),
           title=f"Uplift on {model.outcome_} ({model.kind_}), {cv}-fold cross-validation")
    if model.dropped_:
        _ui().console.print("left out: " + "; ".join(f"{k} ({v})" for k, v in model.dropped_.items()))
    _ui().console.print(f"Best per arm: {', '.join(f'{a}: {b}' for a, b in model.best_.items())}. Saved to {out}.")
    if card is not None:
        _ui().console.print(f"Model card: {card}", highlight=False, soft_wrap=True)


def _load(model: Path):
    from crmine.campaign import UpliftModel

    if not model.is_file():
        from crmine.errors import SourceError

        raise SourceError(f"No model file at {model}. Fit one with `crmine uplift fit FILE --out {model}`.")
    return UpliftModel.load(model)


@uplift_app.command("score")
def uplift_score(
    model: Annotated[Path, typer.Argument(help="A model saved by `crmine uplift fit`.")],
    file: Annotated[Path, typer.Argument(help="The customers to score (CSV/Parquet) with the training columns.")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the scores (CSV).")],
    as_json: AsJson = False,
) -> None:
    """Predicted uplift per customer: the id, then uplift (or uplift_<arm> per arm)."""
    m = _load(model)
    frame = _ui()._read_table(file)
    scores = m.predict_uplift(frame, where=file.name)
    if scores.index.name is None:
        scores.index.name = "row"
    _write_csv(scores, out, index=True)
    if as_json:
        print(json.dumps({"out": str(out), "rows": len(scores), "columns": list(scores.columns)}))
        return
    _ui().console.print(f"{len(scores):,} customers scored ({', '.join(scores.columns)}); written to {out}.")


@uplift_app.command("target")
def uplift_target(
    model: Annotated[Path, typer.Argument(help="A model saved by `crmine uplift fit`.")],
    file: Annotated[Path, typer.Argument(help="The candidates (CSV/Parquet) with the training columns.")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the contact list (CSV).")],
    margin: Annotated[float, typer.Option(help="Value of one unit of uplift: margin per response, or margin rate on spend.")],
    cost: Annotated[float, typer.Option(help="Cost of one contact.")],
    budget: Annotated[float | None, typer.Option(help="Largest total contact cost (default: everyone worth contacting).")] = None,
    as_json: AsJson = False,
) -> None:
    """Who gets which offer (or none) by expected incremental profit = uplift x margin - cost; and
    what a list of the same cost chosen by response forecast would earn."""
    from crmine.campaign._targeting import uplift_targets

    m = _load(model)
    frame = _ui()._read_table(file)
    up = m.predict_uplift(frame, where=file.name)
    resp = m.predict_response(frame, where=file.name)
    if up.index.name is None:
        up.index.name = resp.index.name = "row"
    if len(m.arms_) == 1:  # name the offer by its arm in the list
        up.columns, resp.columns = [f"uplift_{m.arms_[0]}"], [f"response_{m.arms_[0]}"]
    result = uplift_targets(up, value=margin, cost=cost, budget=budget, response=resp)
    _write_csv(result.customers, out)
    doc = {"out": str(out), **{k: json_value(v) for k, v in result.to_dict().items()}}
    if as_json:
        print(json.dumps(doc, indent=2))
        return
    _ui().console.print(
        f"{result.selected:,} customers selected at a cost of {result.cost:,.2f}: expected incremental profit "
        f"{result.expected_profit:,.2f}. The same spend on the highest response forecasts "
        f"({result.response_selected:,} customers) would earn {result.response_expected_profit:,.2f}. "
        f"Written to {out}.")
