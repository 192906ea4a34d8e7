"""The campaign loop in a workspace: an uplift-ranked list under consent and contact limits, and
the lift it realised per decile of the uplift it was chosen on.

Targeting (:func:`uplift_list`): from per-customer uplift forecasts, leave out

1. customers without a granted consent for the list's purpose and channel at the moment of export
   (:func:`crmine._export.consent_at`), counted as ``excluded_no_consent``;
2. customers already contacted ``max_contacts`` times or more in the ``period_days`` days up to
   that moment by any campaign, counted as ``excluded_contact_limit``. A contact is a
   ``campaign_contacts`` row of a group other than ``control`` (a control customer was held out,
   not contacted); one campaign counts once per customer; the period is whole days under the
   project's point-in-time rule (:mod:`crmine._dates`): contacts after the end of day
   ``moment - period_days`` and known by the end of the moment's day.

then choose by expected incremental profit under the budget (:func:`uplift_targets`), optionally
draw a control group from the list (:func:`crmine.campaign.assign`), and export it the governed way
(:func:`crmine._export.export_customers`: consent checked again, the audit row before the file,
the file written whole). The listed customers' forecasts are kept in the warehouse table
``uplift_list_scores`` (file, campaign, customer_id, offer, uplift), so the campaign's lift can be
read against them once its responses are in.

Realised lift (:func:`realised_lift`): the campaign's contacts (both groups) and their outcome in
the campaign window, cut into bins of the forecast uplift, highest first; in each bin the treated
mean minus the control mean, with its interval (Newcombe for responses, Welch for money).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from crmine._customers import resolved
from crmine._dates import after_day, known_at, parse_day
from crmine._export import consent_at, export_customers
from crmine.campaign._stats import GroupSummary, compare_binary, welch
from crmine.campaign._targeting import UpliftTargets, uplift_targets
from crmine.campaign._window import responses_in_window
from crmine.errors import SchemaError, SettingsError, WorkspaceError
from crmine.warehouse import Warehouse

__all__ = ["SCORES_TABLE", "UpliftList", "contact_outcomes", "contacts_in_period", "realised_lift", "saved_scores",
           "score_customers", "uplift_list", "uplift_training_frame"]

SCORES_TABLE = "uplift_list_scores"
VALUE = "value"


@dataclass(frozen=True)
class UpliftList:
    """An exported uplift-ranked contact list.

    Attributes
    ----------
    targets
        The choice by expected incremental profit (and the response-ranking comparison), made
        after the exclusions.
    customers
        The rows exported (with ``group`` when a control group was drawn).
    file
        Where the list went, relative to the workspace when inside it.
    candidates
        Customers scored.
    excluded_no_consent
        Customers left out for lack of consent at the moment of export.
    excluded_contact_limit
        Customers (with consent) left out for having reached the contact limit.
    """

    targets: UpliftTargets
    customers: pd.DataFrame
    file: str
    candidates: int
    excluded_no_consent: int
    excluded_contact_limit: int

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "candidates": self.candidates, "excluded_no_consent": self.excluded_no_consent,
                "excluded_contact_limit": self.excluded_contact_limit, "listed": len(self.customers),
                **self.targets.to_dict()}


def contacts_in_period(wh: Warehouse, /, *, at: Any, period_days: int) -> ir.Table:
    """Per unified customer, the campaigns that contacted them (group not ``control``) in the
    ``period_days`` whole days up to and including the day of ``at``: columns customer_id, contacts."""
    day = parse_day(at, "at")
    if not wh.has_table("campaign_contacts"):
        return ibis.memtable({"customer_id": [], "contacts": []},
                             schema={"customer_id": "string", "contacts": "int64"})
    c = resolved(wh, "campaign_contacts")
    c = c.filter(known_at(c.ts, day) & after_day(c.ts, day - pd.Timedelta(days=period_days))
                 & (c.group.isnull() | (c.group != "control")))
    return c.group_by("customer_id").aggregate(contacts=c.campaign_id.nunique())


def _checked_scores(scores: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """The uplift and (if any) response columns of ``scores``, indexed by customer_id."""
    if not isinstance(scores, pd.DataFrame):
        raise SchemaError(f"scores must be a DataFrame; received {type(scores).__name__}.")
    frame = scores
    if "customer_id" not in scores.columns and scores.index.name == "customer_id":
        frame = scores.reset_index()
    cols = [str(c) for c in frame.columns]
    up = [c for c in cols if c == "uplift" or c.startswith("uplift_")]
    if "customer_id" not in cols or not up:
        raise SchemaError("scores need a customer_id column and uplift (or uplift_<offer>) columns; received "
                          f"columns: {', '.join(cols)}.")
    ids = frame["customer_id"]
    if ids.isna().any() or ids.duplicated().any():
        raise SchemaError(f"scores must hold each customer once: {int(ids.isna().sum())} empty and "
                          f"{int(ids.duplicated().sum())} duplicated customer_id values.")
    frame = frame.set_index(frame["customer_id"].astype(str).rename("customer_id"))
    resp = [c.replace("uplift", "response", 1) for c in up]
    return frame[up], (frame[resp] if all(c in cols for c in resp) else None)


def uplift_list(wh: Warehouse, root: Path, scores: pd.DataFrame, /, *, value: float | Mapping[str, float],
                cost: float | Mapping[str, float], budget: float | None = None, purpose: str = "marketing",
                channel: str = "email", max_contacts: int | None = None, period_days: int = 30,
                control_share: float | None = None, seed: int = 0, campaign: str | None = None,
                user: str | None = None, out: Any = None, at: datetime | None = None) -> UpliftList:
    """Choose, exclude, export and remember an uplift-ranked list (see the module docstring)."""
    if max_contacts is not None and (isinstance(max_contacts, bool) or not isinstance(max_contacts, int)
                                     or max_contacts < 1):
        raise SettingsError(f"max_contacts must be a whole number >= 1; received {max_contacts!r}.")
    if isinstance(period_days, bool) or not isinstance(period_days, int) or period_days < 1:
        raise SettingsError(f"period_days must be a whole number of days >= 1; received {period_days!r}.")
    up, resp = _checked_scores(scores)
    stamp = datetime.now(UTC).replace(tzinfo=None) if at is None else at
    consent = consent_at(wh, purpose, channel, stamp)
    allowed = set(consent.customer_id[consent.granted].astype(str))
    keep = up.index.isin(allowed)
    no_consent = int((~keep).sum())
    limited = 0
    if max_contacts is not None:
        counts = wh.execute(contacts_in_period(wh, at=stamp, period_days=period_days), what="contacts in period")
        full = set(counts.customer_id[counts.contacts >= max_contacts].astype(str))
        at_limit = keep & up.index.isin(full)
        limited = int(at_limit.sum())
        keep &= ~at_limit
    targets = uplift_targets(up[keep], value=value, cost=cost, budget=budget,
                             response=None if resp is None else resp[keep])
    listed = targets.customers
    if control_share is not None:
        from crmine.campaign._design import assign

        listed = assign(listed, control_share=control_share, id_column="customer_id", seed=seed)
    what = {"list": "uplift", "campaign": campaign, "purpose": purpose, "channel": channel, "value": value,
            "cost": cost, "budget": budget, "max_contacts": max_contacts, "period_days": period_days,
            "control_share": control_share, "seed": seed, "excluded_contact_limit": limited,
            "expected_profit": targets.expected_profit,
            "response_expected_profit": targets.response_expected_profit}
    export = export_customers(wh, root, listed, kind="uplift_targets", what=what, user=user, out=out,
                              marketing=(purpose, channel), at=stamp, excluded=no_consent)
    kept = export.customers
    saved = pd.DataFrame({"file": pd.Series(export.file, index=kept.index, dtype="string"),
                          "exported": pd.Timestamp(stamp),
                          "campaign": pd.Series(campaign, index=kept.index, dtype="string"),
                          "customer_id": kept.customer_id.astype("string"), "offer": kept.offer.astype("string"),
                          "uplift": kept.uplift.astype(float)})
    if len(saved):
        if wh.has_table(SCORES_TABLE):
            wh.insert(SCORES_TABLE, saved)
        else:
            wh.write(SCORES_TABLE, saved)
    return UpliftList(targets, kept, export.file, len(up), export.excluded_no_consent, limited)


# ---- realised lift ------------------------------------------------------------------------------
def saved_scores(wh: Warehouse, campaign_id: str) -> pd.DataFrame:
    """customer_id and uplift of the customers listed for ``campaign_id`` (the latest export wins)."""
    if wh.has_table(SCORES_TABLE):
        t = wh.table(SCORES_TABLE)
        t = t.filter(t.campaign == campaign_id)
        frame = wh.execute(t.select("customer_id", "uplift", "exported"), what="saved uplift scores")
        if len(frame):  # the latest export of the campaign's list wins for a customer listed twice
            frame = frame.sort_values("exported").drop_duplicates("customer_id", keep="last")
            return frame[["customer_id", "uplift"]]
    raise WorkspaceError(f"No uplift scores were saved for campaign {campaign_id!r} (table {SCORES_TABLE}, "
                         "written when a list is exported with campaign=...). Pass scores= (--scores FILE): "
                         "customer_id and the uplift each contact was ranked by.")


def contact_outcomes(wh: Warehouse, campaign_id: str, response_type: str | None) -> tuple[pd.DataFrame, str, str]:
    """Per contact of the campaign: customer_id, group and the outcome; its name and kind."""
    window = responses_in_window(wh, [campaign_id])
    types = wh.execute(window.select("response_type").distinct(), what="response types")
    types = sorted(map(str, types.response_type.dropna().tolist()))
    if response_type is None:
        response_type = "purchase" if "purchase" in types or not types else (types[0] if len(types) == 1 else None)
        if response_type is None:
            raise SettingsError(f"Campaign {campaign_id!r} has several response types ({', '.join(types)}); "
                                "say which with response_type= (--response-type), or value.")
    c = resolved(wh, "campaign_contacts")
    c = c.filter((c.campaign_id == campaign_id) & c.group.isin(["treatment", "control"]))
    per = c.group_by("customer_id").aggregate(_groups=c.group.nunique(), group=c.group.min())
    per = per.filter(per._groups == 1).drop("_groups")
    if response_type == VALUE:
        r = window.group_by(_rid="customer_id").aggregate(_y=window.value.fill_null(0).sum())
        kind = "continuous"
    else:
        w = window.filter(window.response_type == response_type)
        r = w.group_by(_rid="customer_id").aggregate(_y=ibis.literal(1.0))
        kind = "binary"
    j = per.left_join(r, per.customer_id == r._rid)
    j = j.select("customer_id", "group", y=j._y.fill_null(0).cast("float64"))
    frame = wh.execute(j.order_by("customer_id"), what="campaign outcomes")
    if frame.empty or set(frame.group) != {"treatment", "control"}:
        raise WorkspaceError(f"Campaign {campaign_id!r} has no contacts in both a treatment and a control group "
                             "in campaign_contacts: there is no control to measure its lift against.")
    return frame, response_type, kind


def realised_lift(wh: Warehouse, campaign_id: str, /, *, scores: pd.DataFrame | None = None,
                  response_type: str | None = None, bins: int = 10, confidence: float = 0.95) -> pd.DataFrame:
    """The lift the campaign realised per bin of forecast uplift, highest first.

    Columns: decile, n_treatment, n_control, treatment_mean, control_mean, lift, ci_low, ci_high,
    predicted_uplift (mean of the bin). ``attrs`` hold the outcome, its kind, the contacts
    matched to a score and those without one (left out).
    """
    if not isinstance(bins, int) or isinstance(bins, bool) or bins < 2:
        raise SettingsError(f"bins must be a whole number >= 2; received {bins!r}.")
    s = saved_scores(wh, campaign_id) if scores is None else scores
    if not isinstance(s, pd.DataFrame) or not {"customer_id", "uplift"} <= set(map(str, s.columns)):
        raise SchemaError("scores need columns customer_id and uplift.")
    s = s[["customer_id", "uplift"]].assign(customer_id=s.customer_id.astype(str))
    s = s.dropna().drop_duplicates("customer_id", keep="last")
    frame, outcome, kind = contact_outcomes(wh, campaign_id, response_type)
    frame["customer_id"] = frame.customer_id.astype(str)
    j = frame.merge(s, on="customer_id", how="inner")
    unscored = len(frame) - len(j)
    if len(j) < bins:
        raise WorkspaceError(f"Only {len(j)} of campaign {campaign_id!r}'s {len(frame)} contacts have an uplift "
                             f"score; {bins} bins need at least {bins}. Pass the scores the list was ranked by.")
    order = np.argsort(-j.uplift.to_numpy(float), kind="stable")
    n = len(j)
    bin_of = np.empty(n, dtype=int)
    bin_of[order] = np.minimum((np.arange(n) * bins) // n, bins - 1) + 1
    j["decile"] = bin_of
    rows = []
    for d, g in j.groupby("decile"):
        t, c = g.y[g.group == "treatment"].to_numpy(), g.y[g.group == "control"].to_numpy()
        row = {"decile": int(d), "n_treatment": len(t), "n_control": len(c),
               "treatment_mean": float(t.mean()) if len(t) else float("nan"),
               "control_mean": float(c.mean()) if len(c) else float("nan")}
        row["lift"] = row["treatment_mean"] - row["control_mean"]
        low = high = float("nan")
        if len(t) > 1 and len(c) > 1:
            gt = GroupSummary(len(t), float(t.mean()), float(t.var(ddof=1)))
            gc = GroupSummary(len(c), float(c.mean()), float(c.var(ddof=1)))
            cmp = compare_binary(gt, gc, confidence=confidence) if kind == "binary" else welch(gt, gc, confidence=confidence)
            low, high = cmp.ci_low, cmp.ci_high
        row.update(ci_low=low, ci_high=high, predicted_uplift=float(g.uplift.mean()))
        rows.append(row)
    out = pd.DataFrame(rows)
    out.attrs.update(campaign_id=campaign_id, outcome=outcome, kind=kind, scored=len(j), unscored=unscored,
                     confidence=confidence)
    return out


# ---- the next model's data ------------------------------------------------------------------------
def uplift_training_frame(wh: Warehouse, campaign_id: str, /, *, response_type: str | None = None) -> pd.DataFrame:
    """A campaign's randomised test as training data for the next uplift model: each contact's
    customer-table features the day before the campaign started, ``group`` (treatment / control)
    and ``responded`` (0/1, or the money of ``value``) in the campaign window."""
    from crmine.features._customer_table import customer_table
    from crmine.predict._namespace import NOT_FEATURES

    camps = wh.table("campaigns")
    start = wh.execute(camps.filter(camps.campaign_id == campaign_id).start.min(), what="campaign start")
    if start is None or pd.isna(start):
        raise WorkspaceError(f"Campaign {campaign_id!r} is not in table campaigns, or has no start date.")
    outcomes, _, _ = contact_outcomes(wh, campaign_id, response_type)
    features = customer_table(wh, as_of=parse_day(start) - pd.Timedelta(days=1))
    features = wh.execute(features.drop(*[c for c in NOT_FEATURES if c in features.columns]), what="customer table")
    frame = outcomes.rename(columns={"y": "responded"}).merge(features, on="customer_id", how="inner")
    frame.insert(0, "campaign_id", campaign_id)
    return frame


def score_customers(wh: Warehouse, model: Any, /, *, as_of: Any = None) -> pd.DataFrame:
    """Every customer of the customer table as of ``as_of`` scored by an uplift model: customer_id,
    then the uplift and response forecasts (one column each per offer, named by the arm)."""
    from crmine.features._customer_table import customer_table

    frame = wh.execute(customer_table(wh, as_of=as_of), what="customer table")
    up = model.predict_uplift(frame, where="The customer table")
    resp = model.predict_response(frame, where="The customer table")
    if len(model.arms_) == 1:
        up.columns, resp.columns = [f"uplift_{model.arms_[0]}"], [f"response_{model.arms_[0]}"]
    out = pd.concat([up.reset_index(drop=True), resp.reset_index(drop=True)], axis=1)
    out.insert(0, "customer_id", frame.customer_id.astype(str).to_numpy())
    return out
