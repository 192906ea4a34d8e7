"""``ws.campaigns``: the lift of each campaign in the warehouse against its control group, and the
loop around it (uplift lists under consent and contact limits, their realised lift per decile, the
next model's training data; :mod:`crmine.campaign._loop`).

A campaign's test is its ``campaign_contacts`` (group ``treatment`` or ``control``); its outcomes
come from ``campaign_responses``. A response counts when its ``ts`` falls within the campaign's
window, from ``start`` to the end of its ``end`` day (the last day a response counts); a missing
start or end leaves that side open, and a response without a time does not count. Each response
type becomes a 0/1 outcome (did the customer give one in the window?) and ``value`` the money the
customer's responses in the window brought. Customers are seen through identity resolution, and a
customer found in both groups of one campaign (two records, one in each) is left out and counted
in ``attrs["customers_in_both_groups"]``.

Everything is aggregated in the warehouse to per-group counts, means and variances, so the
intervals are Welch's for money (the bootstrap needs the rows; export them for it) and Newcombe's
for responses. The campaign's ``margin_per_response`` and ``cost_per_contact`` give the
incremental profit and ROI of the response it is earned on (``response_type``; by default
``purchase`` when the campaign has such responses, else its only response type).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import ibis
import pandas as pd

from crmine._customers import resolved
from crmine.campaign import _loop
from crmine.campaign._lift import LIFT_COLUMNS, lift_from_summaries
from crmine.campaign._window import responses_in_window
from crmine.errors import SettingsError, WorkspaceError
from crmine.warehouse import Warehouse

__all__ = ["CampaignsNamespace", "VALUE"]

VALUE = "value"
DEFAULT_RESPONSE = "purchase"


class CampaignsNamespace:
    """The warehouse's campaigns: ``lift(campaign_id)``, ``lift_all()``; the loop's ``training_frame``,
    ``score``, ``target`` (uplift lists under consent and contact limits) and ``realised_lift``."""

    def __init__(self, warehouse: Warehouse, root: Path | None = None) -> None:
        self._wh, self._root = warehouse, root

    # ---- expressions (built here, executed by the warehouse) ---------------------------------
    def _contacts(self, ids: list[str] | None) -> ibis.Table:
        c = resolved(self._wh, "campaign_contacts")
        if ids is not None:
            c = c.filter(c.campaign_id.isin(ids))
        per = c.group_by(["campaign_id", "customer_id"]).aggregate(
            _groups=c.group.nunique(), group=c.group.min())
        return per

    def _summaries(self, ids: list[str] | None) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Per campaign, group and outcome: n, mean, var; and the contacts in both groups."""
        contacts = self._contacts(ids)
        both = self._wh.execute(
            contacts.filter(contacts._groups > 1).group_by("campaign_id").aggregate(n=ibis._.count()),
            what="campaign contacts in both groups")
        contacts = contacts.filter(contacts._groups == 1).drop("_groups")
        window = responses_in_window(self._wh, ids)
        types = self._wh.execute(window.select("campaign_id", "response_type").distinct(),
                                 what="campaign response types")
        type_names = sorted(types.response_type.dropna().astype(str).unique())
        per_customer = window.group_by(["campaign_id", "customer_id"]).aggregate(
            _value=window.value.fill_null(0).sum(),
            **{f"_r{i}": (window.response_type == t).any() for i, t in enumerate(type_names)})
        j = contacts.left_join(per_customer, [contacts.campaign_id == per_customer.campaign_id,
                                              contacts.customer_id == per_customer.customer_id])
        outcomes = {t: j[f"_r{i}"].fill_null(False).cast("float64") for i, t in enumerate(type_names)}
        outcomes[VALUE] = j._value.fill_null(0).cast("float64")
        t = j.select(campaign_id=j.campaign_id, group=j.group, **outcomes)
        aggs = {"n": t.count()}
        for i, name in enumerate(outcomes):
            aggs[f"s{i}"] = t[name].sum()
            aggs[f"q{i}"] = (t[name] * t[name]).sum()
        g = self._wh.execute(t.group_by(["campaign_id", "group"]).aggregate(**aggs).order_by(["campaign_id", "group"]),
                             what="campaign lift summaries")
        present = set(zip(types.campaign_id.astype(str), types.response_type.astype(str), strict=True))
        rows = []
        for r in g.itertuples(index=False):
            n = int(r.n)
            for i, name in enumerate(outcomes):
                if name != VALUE and (str(r.campaign_id), name) not in present:
                    continue  # a response type this campaign never had
                s, q = float(getattr(r, f"s{i}") or 0.0), float(getattr(r, f"q{i}") or 0.0)
                mean = s / n
                var = (q - n * mean * mean) / (n - 1) if n > 1 else float("nan")
                rows.append({"campaign_id": str(r.campaign_id), "arm": str(r.group), "outcome": name,
                             "kind": "continuous" if name == VALUE else "binary", "n": n, "mean": mean,
                             "var": max(var, 0.0) if n > 1 else var})
        return pd.DataFrame(rows, columns=["campaign_id", "arm", "outcome", "kind", "n", "mean", "var"]), both

    def _campaigns(self, ids: list[str] | None) -> pd.DataFrame:
        c = self._wh.table("campaigns")
        if ids is not None:
            c = c.filter(c.campaign_id.isin(ids))
        return self._wh.execute(c.select("campaign_id", "name", "start", "end", "cost_per_contact",
                                         "margin_per_response").order_by("campaign_id"), what="campaigns")

    # ---- the lift ---------------------------------------------------------------------------
    def _lift(self, ids: list[str] | None, response_type: str | None, margin: float | None,
              cost: float | None, confidence: float) -> pd.DataFrame:
        camps = self._campaigns(ids)
        summaries, both = self._summaries(ids)
        parts = []
        for c in camps.itertuples(index=False):
            s = summaries[summaries.campaign_id == str(c.campaign_id)]
            if s.empty or not {"treatment", "control"} <= set(s.arm):
                continue
            kinds = set(s.outcome) - {VALUE}
            earned = response_type or (DEFAULT_RESPONSE if DEFAULT_RESPONSE in kinds else
                                       (next(iter(kinds)) if len(kinds) == 1 else None))
            m = margin if margin is not None else (None if pd.isna(c.margin_per_response) else float(c.margin_per_response))
            k = cost if cost is not None else (None if pd.isna(c.cost_per_contact) else float(c.cost_per_contact))
            table = lift_from_summaries(s, control="control", margin={earned: m} if earned and m is not None else None,
                                        cost=k, confidence=confidence)
            table.insert(0, "campaign_id", str(c.campaign_id))
            table.insert(1, "name", c.name)
            parts.append(table)
        out = pd.DataFrame(columns=["campaign_id", "name", *LIFT_COLUMNS]) if not parts else pd.concat(parts, ignore_index=True)
        out.attrs["customers_in_both_groups"] = {str(r.campaign_id): int(r.n) for r in both.itertuples()}
        out.attrs["confidence"] = confidence
        return out

    def lift(self, campaign_id: str, /, *, response_type: str | None = None, margin: float | None = None,
             cost: float | None = None, confidence: float = 0.95) -> pd.DataFrame:
        """The lift table of one campaign: one row per outcome (each response type, and ``value``).

        ``margin`` and ``cost`` override the campaign's ``margin_per_response`` and
        ``cost_per_contact``; ``response_type`` names the response they are earned on.
        """
        if not isinstance(campaign_id, str) or not campaign_id:
            raise SettingsError("campaign_id must be a campaign identifier (text).")
        known = self._campaigns([campaign_id])
        if known.empty:
            ids = self._wh.execute(self._wh.table("campaigns").campaign_id.name("id"), what="campaigns")
            listed = sorted(map(str, ids.tolist()))
            raise WorkspaceError(f"Campaign {campaign_id!r} is not in table campaigns. Campaigns: "
                                 f"{', '.join(listed[:20]) or '(none)'}{' ...' if len(listed) > 20 else ''}.")
        out = self._lift([campaign_id], response_type, margin, cost, confidence)
        if out.empty:
            raise WorkspaceError(f"Campaign {campaign_id!r} has no contacts in both a treatment and a control group "
                                 "in campaign_contacts: there is no control to measure its lift against.")
        return out

    def lift_all(self, *, response_type: str | None = None, confidence: float = 0.95) -> pd.DataFrame:
        """The lift tables of every campaign with a treatment and a control group, one frame."""
        return self._lift(None, response_type, None, None, confidence)

    # ---- the loop (crmine.campaign._loop) -----------------------------------------------------
    def training_frame(self, campaign_id: str, /, *, response_type: str | None = None) -> pd.DataFrame:
        """The campaign's test as uplift training data: features the day before it started, group
        and responded (see :func:`crmine.campaign._loop.uplift_training_frame`)."""
        return _loop.uplift_training_frame(self._wh, campaign_id, response_type=response_type)

    def score(self, model: Any, /, *, as_of: Any = None) -> pd.DataFrame:
        """Every customer's uplift and response forecasts from a fitted ``UpliftModel``."""
        return _loop.score_customers(self._wh, model, as_of=as_of)

    def target(self, scores: pd.DataFrame, /, *, value: float | Mapping[str, float],
               cost: float | Mapping[str, float], budget: float | None = None, purpose: str = "marketing",
               channel: str = "email", max_contacts: int | None = None, period_days: int = 30,
               control_share: float | None = None, seed: int = 0, campaign: str | None = None,
               user: str | None = None, out: Any = None, at: datetime | None = None) -> _loop.UpliftList:
        """Export the list with the highest expected incremental profit (uplift x ``value`` -
        ``cost``) within ``budget``.

        Left out: customers without a granted consent for ``purpose`` by ``channel`` at the moment
        of export (``at``, default now) and, with ``max_contacts``, customers contacted by that many
        campaigns in the last ``period_days`` days. ``control_share`` draws a holdout from the list
        (column ``group``, seeded). The export is audited (``export_audit``, kind
        ``uplift_targets``), and the listed forecasts are kept under ``campaign`` for
        :meth:`realised_lift`. The result compares the list's expected incremental profit with the
        same spend by response forecast when ``scores`` hold response columns.
        """
        if self._root is None:
            raise WorkspaceError("Exporting a list needs the workspace folder; open it with crmine.open(path).")
        return _loop.uplift_list(self._wh, self._root, scores, value=value, cost=cost, budget=budget,
                                 purpose=purpose, channel=channel, max_contacts=max_contacts,
                                 period_days=period_days, control_share=control_share, seed=seed,
                                 campaign=campaign, user=user, out=out, at=at)

    def realised_lift(self, campaign_id: str, /, *, scores: pd.DataFrame | None = None,
                      response_type: str | None = None, bins: int = 10, confidence: float = 0.95) -> pd.DataFrame:
        """Did the top deciles of forecast uplift really gain more? The campaign's lift per decile
        of the uplift its contacts were ranked by (the scores saved with its list, or ``scores``)."""
        return _loop.realised_lift(self._wh, campaign_id, scores=scores, response_type=response_type,
                                   bins=bins, confidence=confidence)
