"""The report's uplift section: per campaign whose list was chosen by forecast uplift
(``uplift_list_scores``) and whose contacts and responses are loaded, the realised lift per decile
of that forecast and the Qini curve of the ranking on the campaign's outcomes. Aggregates only."""

from __future__ import annotations

from typing import TYPE_CHECKING

from crmine.report._page import Section

if TYPE_CHECKING:
    from crmine.warehouse import Warehouse
    from crmine.workspace import Workspace

__all__ = ["uplift_section"]

_MAX_CAMPAIGNS = 10


def uplift_section(ws: Workspace, wh: Warehouse, hide: frozenset[str]) -> Section | None:
    from crmine.campaign._loop import SCORES_TABLE, contact_outcomes, realised_lift, saved_scores
    from crmine.campaign._plots import qini_figure, realised_lift_figure
    from crmine.errors import CrmineError

    if not wh.has_table(SCORES_TABLE) or not wh.has_table("campaign_contacts"):
        return None
    t = wh.table(SCORES_TABLE)
    names = wh.execute(t.filter(t.campaign.notnull()).select("campaign").distinct().order_by("campaign"),
                       what="campaigns with uplift lists")
    s = Section("uplift", "Uplift lists: did the top deciles gain more?",
                "For each campaign whose list was ranked by forecast uplift: the treated customers' response "
                "rate minus the control's within each decile of the forecast (1 = highest), with 95% intervals, "
                "and the Qini curve of that ranking on the campaign's responses. A ranking that works has its "
                "gains in the first deciles and its curve above the random line.")
    shown = 0
    for cid in names.campaign.astype(str).tolist()[:_MAX_CAMPAIGNS]:
        try:
            scores = saved_scores(wh, cid)
            outcomes, outcome, _ = contact_outcomes(wh, cid, None)
        except CrmineError:
            continue  # the campaign has not run (no contacts in both groups) yet
        j = outcomes.assign(customer_id=outcomes.customer_id.astype(str)).merge(
            scores.assign(customer_id=scores.customer_id.astype(str)), on="customer_id")
        if j.group.nunique() < 2 or len(j) < 4:
            continue
        table = realised_lift(wh, cid, scores=scores, bins=min(10, len(j) // 2))
        s.figure(realised_lift_figure(table, title=f"{cid}: realised lift in {outcome} per decile of forecast uplift"))
        s.figure(qini_figure(j.y.to_numpy(float), (j.group == "treatment").to_numpy(int),
                             {"forecast uplift": j.uplift.to_numpy(float)}, title=f"{cid}: Qini curve"))
        s.table(table.round(4), title=f"{cid}: realised lift per decile ({len(j):,} contacts scored)")
        shown += 1
    return s if shown else None
