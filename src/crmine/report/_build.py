"""Gather each section of the report from the warehouse and render the page.

Every section reads tables an earlier step wrote (``load_log``, ``rfm_scores``, ``clv_scores``,
...) and is left out, not shown empty, when its table is missing or empty, or when the last
``crmine run`` skipped or failed the step behind it (see ``_run``). Only aggregates reach the
page: counts, sums, histograms and curves, never a customer's row or id.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ibis
import numpy as np
import pandas as pd

from crmine.errors import CrmineError
from crmine.report._page import Section, render_page, write_page
from crmine.report._run import hidden, left_out, run_steps
from crmine.report._uplift import uplift_section

if TYPE_CHECKING:
    from crmine.warehouse import Warehouse
    from crmine.workspace import Workspace

__all__ = ["Section", "build_report"]

# ---- formatting --------------------------------------------------------------------------------
def _money(v: float) -> str:
    return f"{v:,.0f}"


# ---- reading -------------------------------------------------------------------------------------
def _read(wh: Warehouse, expr: ibis.Expr, what: str) -> pd.DataFrame:
    return wh.execute(expr, what=f"report: {what}")


def _scalar(wh: Warehouse, expr: ibis.Expr, what: str) -> Any:
    return wh.execute(expr, what=f"report: {what}")


def _rows(wh: Warehouse, name: str) -> int:
    return int(wh.count(name)) if wh.has_table(name) else 0


def _customer_lines(wh: Warehouse) -> int:
    """Transaction lines with a customer: guest purchases alone support no per-customer view."""
    if not wh.has_table("transactions"):
        return 0
    tx = wh.table("transactions")
    return int(_scalar(wh, tx.filter(tx.customer_id.notnull()).count(), "customer lines"))


def _histogram(values: np.ndarray, *, bins: int = 40) -> tuple[np.ndarray, np.ndarray]:
    """Pre-binned counts, so the page carries bins and not one value per customer."""
    values = values[np.isfinite(values)]
    if values.size == 0:
        return np.array([]), np.array([])
    counts, edges = np.histogram(values, bins=bins)
    return counts, edges


def _bar_histogram(values: np.ndarray, *, title: str, x_title: str, bins: int = 40):
    import plotly.graph_objects as go

    counts, edges = _histogram(values, bins=bins)
    mids = (edges[:-1] + edges[1:]) / 2 if edges.size else edges
    width = float(edges[1] - edges[0]) if edges.size > 1 else None
    fig = go.Figure(go.Bar(x=mids, y=counts, width=width, marker_color="#1f77b4",
                           hovertemplate="%{x:,.2f}: %{y:,} customers<extra></extra>"))
    fig.update_layout(title=title, xaxis_title=x_title, yaxis_title="customers", bargap=0.02)
    return fig


# ---- sections ----------------------------------------------------------------------------------
def _kpis(ws: Workspace, wh: Warehouse, hide: frozenset[str]) -> Section | None:
    items: list[tuple[str, str]] = []
    if wh.has_table("customer_lineage") and _rows(wh, "customer_lineage"):
        lin = wh.table("customer_lineage")
        items.append(("unified customers", f"{int(_scalar(wh, lin.unified_id.nunique(), 'customers')):,}"))
    elif _rows(wh, "customers"):
        items.append(("customer records", f"{_rows(wh, 'customers'):,}"))
    if _rows(wh, "transactions"):
        tx = wh.table("transactions")
        items.append(("transaction lines", f"{_rows(wh, 'transactions'):,}"))
        revenue = _scalar(wh, tx.amount.sum(), "revenue")
        items.append(("revenue (net of returns)", _money(float(revenue or 0.0))))
    if "clv" not in hide and _rows(wh, "clv_scores"):
        clv = wh.table("clv_scores")
        agg = _read(wh, clv.aggregate(alive=clv.probability_alive.mean(), total=clv.clv.sum()), "clv totals")
        items.append(("active share (mean P(alive))", f"{float(agg['alive'].iloc[0]):.1%}"))
        items.append(("total 12-month CLV", _money(float(agg["total"].iloc[0]))))
    if not items:
        return None
    s = Section("kpis", "Headline KPIs",
                "The size of the customer base and its value at a glance; later sections break these down.")
    s.kpis(items)
    return s


def _quality(ws: Workspace, wh: Warehouse, hide: frozenset[str]) -> Section | None:
    import plotly.graph_objects as go

    have = [t for t in ("load_log", "quarantine", "customer_lineage") if wh.has_table(t)]
    if not have:
        return None
    s = Section("quality", "Data quality",
                "Rows read from each source against rows loaded; quarantined rows failed a check and are "
                "listed by reason, and identity resolution shows how many records became one customer.")
    if wh.has_table("load_log") and _rows(wh, "load_log"):
        log = wh.table("load_log")
        by = _read(wh, log.group_by("source").aggregate(
            loads=log.load_id.count(), read=log.read.sum(), loaded=log.loaded.sum(),
            quarantined=log.quarantined.sum()).order_by("source"), "load log")
        fig = go.Figure([go.Bar(name=c, x=by["source"], y=by[c]) for c in ("read", "loaded", "quarantined")])
        fig.update_layout(title="Rows per source", barmode="group", yaxis_title="rows")
        s.figure(fig)
        s.table(by, title="Loads per source")
    if wh.has_table("quarantine") and _rows(wh, "quarantine"):
        q = wh.table("quarantine")
        reasons = _read(wh, q.group_by(["source", "reason"]).aggregate(rows=q.count())
                        .order_by([ibis.desc("rows"), "source", "reason"]), "quarantine reasons")
        s.table(reasons, title="Quarantined rows by reason")
    if wh.has_table("customer_lineage") and _rows(wh, "customer_lineage"):
        lin = wh.table("customer_lineage")
        per = lin.group_by("unified_id").aggregate(records=lin.count())
        sizes = _read(wh, per.group_by("records").aggregate(customers=per.count()).order_by("records"),
                      "cluster sizes")
        n_records = int((sizes["records"] * sizes["customers"]).sum())
        n_unified = int(sizes["customers"].sum())
        s.kpis([("source records", f"{n_records:,}"), ("unified customers", f"{n_unified:,}"),
                ("records merged away", f"{n_records - n_unified:,}")])
        s.table(sizes.rename(columns={"records": "records per customer"}), title="Identity clusters")
    return s if s.blocks else None


def _rfm(ws: Workspace, wh: Warehouse, hide: frozenset[str]) -> Section | None:
    import plotly.graph_objects as go

    if not (wh.has_table("rfm_scores") and _rows(wh, "rfm_scores")):
        return None
    t = wh.table("rfm_scores")
    seg = _read(wh, t.group_by("segment").aggregate(customers=t.count(), spend=t.spend.sum(),
                                                      mean_spend=t.spend.mean())
                .order_by(ibis.desc("customers")), "rfm segments")
    seg["share"] = seg["customers"] / seg["customers"].sum()
    grid = _read(wh, t.group_by(["r", "f"]).aggregate(customers=t.count()), "rfm grid")
    s = Section("rfm", "RFM segments",
                "Customers scored by recency (R), frequency (F) and money (M); the heatmap counts customers "
                "in each R×F cell, with the best (recent, frequent) at the top right.")
    fig = go.Figure([
        go.Bar(name="customers", x=seg["segment"], y=seg["customers"], yaxis="y"),
        go.Bar(name="spend", x=seg["segment"], y=seg["spend"], yaxis="y2", offsetgroup=1),
    ])
    fig.update_layout(title="Segment size and spend", barmode="group",
                      yaxis={"title": "customers"},
                      yaxis2={"title": "spend", "overlaying": "y", "side": "right", "showgrid": False})
    for trace in fig.data:
        trace.offsetgroup = trace.name
    s.figure(fig)
    pivot = grid.pivot(index="r", columns="f", values="customers").sort_index().sort_index(axis=1)
    heat = go.Figure(go.Heatmap(z=pivot.to_numpy(dtype=float), x=[str(c) for c in pivot.columns],
                                y=[str(i) for i in pivot.index], colorscale="Blues",
                                hovertemplate="R %{y}, F %{x}: %{z:,} customers<extra></extra>"))
    heat.update_layout(title="Customers per R×F cell", xaxis_title="F score", yaxis_title="R score")
    s.figure(heat)
    s.table(seg[["segment", "customers", "share", "spend", "mean_spend"]], percent=("share",))
    return s


def _segments(ws: Workspace, wh: Warehouse, hide: frozenset[str]) -> Section | None:
    import plotly.graph_objects as go

    if not (wh.has_table("segment_profiles") and _rows(wh, "segment_profiles")):
        return None
    p = _read(wh, wh.table("segment_profiles").order_by("segment"), "segment profiles")
    s = Section("segments", "Behavioural segments",
                "Clusters of customers with similar behaviour; each description names the features that "
                "set the segment apart, in standard deviations from the average customer.")
    fig = go.Figure(go.Bar(x=[f"segment {v}" for v in p["segment"]], y=p["size"], marker_color="#1f77b4",
                           hovertemplate="%{x}: %{y:,} customers<extra></extra>"))
    fig.update_layout(title="Segment sizes", yaxis_title="customers")
    s.figure(fig)
    cols = [c for c in ("segment", "size", "share", "mean_spend", "description") if c in p.columns]
    s.table(p[cols], percent=("share",))
    return s


def _cohorts(ws: Workspace, wh: Warehouse, hide: frozenset[str]) -> Section | None:
    from crmine.loyalty import (
        activity_survival,
        cohort_retention,
        plot_activity_survival,
        plot_cohort_retention,
    )

    if not _customer_lines(wh):
        return None
    s = Section("retention", "Cohort retention and survival",
                "Each row of the heatmap is a cohort of first purchases and each cell the share still buying "
                "n months later; the curve is the share of customers still active after a given time.")
    table = cohort_retention(wh)
    if len(table):
        fig = plot_cohort_retention(table)
        fig.update_layout(height=max(420, 18 * len(table) + 120))
        s.figure(fig)
    surv = activity_survival(wh)
    fig = plot_activity_survival(surv)
    s.figure(fig)
    median = "not reached" if not np.isfinite(surv.median_days) else f"{surv.median_days:,.0f} days"
    s.note(f"{surv.customers:,} customers, {surv.inactive:,} inactive after {surv.inactivity_days:,} days "
           f"without a purchase; median active lifetime {median}.")
    return s


def _pareto(ws: Workspace, wh: Warehouse, hide: frozenset[str]) -> Section | None:
    from crmine.segment import key_customers, plot_pareto

    if not _customer_lines(wh):
        return None
    result = key_customers(wh)
    s = Section("pareto", "Concentration of value",
                "Customers sorted from most to least profitable: the further the curve bows above the "
                "diagonal, the more the value rests on a few customers.")
    s.figure(plot_pareto(result))
    s.note(result.headline)
    return s


def _clv(ws: Workspace, wh: Warehouse, hide: frozenset[str]) -> Section | None:
    if not (wh.has_table("clv_scores") and _rows(wh, "clv_scores")):
        return None
    t = wh.table("clv_scores")
    d = _read(wh, t.select("clv", "probability_alive"), "clv scores")
    clv = d["clv"].to_numpy(dtype=float)
    cap = float(np.nanpercentile(clv, 99)) if np.isfinite(clv).any() else np.nan
    s = Section("clv", "Customer lifetime value",
                "Expected 12-month value per customer (clipped at the 99th percentile) and the probability "
                "that each customer is still active; a tall bar near zero is the usual long tail.")
    s.figure(_bar_histogram(np.clip(clv, None, cap), title="12-month CLV (clipped at the 99th percentile)",
                            x_title="CLV"))
    s.figure(_bar_histogram(d["probability_alive"].to_numpy(dtype=float), title="P(alive)",
                            x_title="probability alive", bins=20))
    q = np.nanpercentile(clv, [50, 90, 99]) if np.isfinite(clv).any() else [np.nan] * 3
    s.table(pd.DataFrame({"customers": [len(d)], "total CLV": [float(np.nansum(clv))],
                          "median": [q[0]], "90th percentile": [q[1]], "99th percentile": [q[2]],
                          "mean P(alive)": [float(d["probability_alive"].mean())]}),
            percent=("mean P(alive)",))
    _clv_checks(wh, s)
    return s


def _clv_checks(wh: Warehouse, s: Section) -> None:
    """The model checks of ``ws.clv.check()``, when it ran: calibration vs holdout, and tracking."""
    from crmine.clv import plot_calibration_vs_holdout, plot_cumulative_transactions

    if wh.has_table("clv_check_calibration") and _rows(wh, "clv_check_calibration"):
        cal = _read(wh, wh.table("clv_check_calibration"), "clv calibration check").set_index("frequency")
        s.note("Model check: the model was refitted without the last weeks and its predictions for them are "
               "compared with what customers actually bought, by how often they had bought before.")
        s.figure(plot_calibration_vs_holdout(cal))
    if wh.has_table("clv_check_tracking") and _rows(wh, "clv_check_tracking"):
        tr = _read(wh, wh.table("clv_check_tracking").order_by("period"), "clv tracking check")
        cal_end = tr["calibration_end"].iloc[0]
        s.figure(plot_cumulative_transactions(tr.drop(columns="calibration_end").set_index("period"),
                                              calibration_end=cal_end))


def _model(ws: Workspace, wh: Warehouse, hide: frozenset[str]) -> Section | None:
    if not (wh.has_table("churn_scores") and _rows(wh, "churn_scores")):
        return None
    s = Section("churn", "Churn model card",
                "The churn score is the probability that a customer makes no purchase over the model's "
                "horizon; the gains chart shows the share of churners caught by contacting the top-scored "
                "customers first.")
    p = _read(wh, wh.table("churn_scores").select("probability"), "churn scores")["probability"]
    s.figure(_bar_histogram(p.to_numpy(dtype=float), title="Churn score distribution",
                            x_title="P(churn)", bins=20))
    path = Path(ws.root) / "models" / "churn.joblib"
    if not path.is_file():
        s.note("No saved model (models/churn.joblib): the comparison of candidates is not shown.")
        return s
    from crmine.predict import ModelSearch, calibration_figure, gains_figure, importance_figure

    try:
        search = ModelSearch.load(path)
    except CrmineError as e:
        s.note(f"The saved model could not be read: {e}")
        return s
    cols = [c for c in ("roc_auc_mean", "pr_auc_mean", "lift_top_decile_mean", "gains_at_20_mean")
            if c in search.results_.columns]
    res = search.results_[cols].reset_index()
    res["best"] = res["candidate"] == search.best_
    s.table(res, title=f"Candidates compared (cross-validated; best: {search.best_})")
    s.figure(gains_figure(search).update_layout(yaxis_title="share of churners reached"))
    s.figure(calibration_figure(search).update_layout(xaxis_title="mean predicted P(churn)",
                                                      yaxis_title="observed churn rate"))
    if len(search.permutation_importance_):
        s.figure(importance_figure(search, top=10))
    if "drivers" not in hide and _rows(wh, "churn_drivers"):
        drivers = _read(wh, wh.table("churn_drivers"), "churn drivers")
        s.figure(importance_figure(drivers, top=10).update_layout(
            title="What lies behind churn (a model without recency, frequency, spend and tenure)"))
    return s


def _targets(ws: Workspace, wh: Warehouse, hide: frozenset[str]) -> Section | None:
    if not (wh.has_table("export_audit") and _rows(wh, "export_audit")):
        return None
    a = _read(wh, wh.table("export_audit").order_by("exported"), "export audit")

    def _list(what: Any) -> str:
        try:
            doc = json.loads(what)
        except (TypeError, ValueError):
            return str(what)
        if not isinstance(doc, dict):
            return str(what)
        return ", ".join(f"{k}={v}" for k, v in doc.items() if v is not None)

    out = pd.DataFrame({
        "exported": a["exported"], "file": a["file"].map(lambda f: Path(str(f)).name),
        "list": a["what"].map(_list), "rows": a["rows"].astype("int64"),
        "excluded (no consent)": a["excluded_no_consent"].astype("int64"),
    })
    s = Section("targets", "Target lists",
                "Each exported contact list with its size and the customers left out for lack of consent; "
                "the lists themselves stay in the exports folder.")
    s.table(out)
    return s


def _campaigns(ws: Workspace, wh: Warehouse, hide: frozenset[str]) -> Section | None:
    if not (wh.has_table("campaign_lift") and _rows(wh, "campaign_lift")):
        return None
    import plotly.graph_objects as go

    lift = _read(wh, wh.table("campaign_lift").order_by(["campaign_id", "arm", "outcome"]), "campaign lift")
    s = Section("campaigns", "Campaign lift",
                "What each campaign added over its control group: the treated customers' response rate (or "
                "value per customer) against the control's, the difference with a 95% interval, and the "
                "incremental profit where the campaign's margin and contact cost are known. An interval that "
                "crosses zero means the test cannot tell the campaign from doing nothing.")
    binary = lift[lift["kind"] == "binary"]
    if len(binary):
        label = binary["campaign_id"] + " " + binary["outcome"] + ("" if binary["arm"].nunique() == 1
                                                                   else " (" + binary["arm"] + ")")
        fig = go.Figure(go.Scatter(
            x=binary["lift"], y=label, mode="markers",
            error_x={"type": "data", "symmetric": False, "array": binary["ci_high"] - binary["lift"],
                     "arrayminus": binary["lift"] - binary["ci_low"]}))
        fig.add_vline(x=0, line_dash="dash")
        fig.update_layout(title="Lift in response rate over control, with 95% intervals",
                          xaxis_title="treatment rate - control rate", yaxis={"autorange": "reversed"},
                          height=max(300, 28 * len(binary)))
        s.figure(fig)
    cols = ["campaign_id", "name", "arm", "outcome", "n", "mean", "control_n", "control_mean", "lift",
            "ci_low", "ci_high", "p_value", "incremental", "incremental_profit", "roi"]
    s.table(lift[[c for c in cols if c in lift.columns]], title="Lift per campaign, arm and outcome")
    return s


# (section id, the run step whose results it shows or None, builder), in page order. A builder
# returns None when its tables are missing or empty: no section is ever shown empty.
SECTIONS = (
    ("kpis", None, _kpis), ("quality", None, _quality), ("rfm", "rfm", _rfm),
    ("segments", "segments", _segments), ("retention", None, _cohorts), ("pareto", None, _pareto),
    ("clv", "clv", _clv), ("churn", "churn", _model), ("campaigns", "campaigns", _campaigns),
    ("uplift", "campaigns", uplift_section), ("targets", "targets", _targets),
)


def build_report(ws: Workspace, /, *, path: str | os.PathLike | None = None) -> Path:
    """Render the workspace's analysis report as one self-contained HTML file.

    Parameters
    ----------
    ws
        The workspace; only its warehouse tables, ``models/churn.joblib`` and the record of the
        last ``crmine run`` (which steps it skipped, and why) are read.
    path
        Where to write; default ``reports/report-YYYY-MM-DD.html`` in the workspace.

    Returns
    -------
    pathlib.Path
        The file written. It embeds plotly.js once and needs no network.

    Examples
    --------
    >>> import tempfile, crmine
    >>> ws = crmine.init(tempfile.mkdtemp())
    >>> out = build_report(ws)
    >>> out.name.startswith("report-"), "<section" in out.read_text(encoding="utf-8")  # nothing loaded: no card
    (True, False)
    """
    wh = ws.warehouse
    today = dt.date.today()
    target = Path(path) if path is not None else Path(ws.root) / "reports" / f"report-{today:%Y-%m-%d}.html"
    steps = run_steps(ws)
    hide = hidden(steps)
    sections, broken = [], []
    for sid, step, build in SECTIONS:
        if step in hide:
            continue
        try:
            section = build(ws, wh, hide)
        except Exception as e:  # noqa: BLE001 - one broken chart must not cost the whole report
            broken.append((sid, f"{type(e).__name__}: {str(e).splitlines()[0][:200] if str(e) else ''}"))
            continue
        if section is not None:
            sections.append(section)
    if (note := left_out(steps, broken)) is not None:
        sections.append(note)
    html = render_page(
        sections,
        title="crmine analysis report",
        subtitle=f"Workspace {Path(ws.root).name}",
        footer="Built offline by crmine from the tables in the warehouse; no customer-level rows are shown.",
    )
    return write_page(html, target)

