"""``ws.models``: churn models trained on the warehouse without look-ahead, scored, and turned into
consented target lists with an audit record.

A churn model is trained on the customer table as of ``cutoff = as_of - horizon``, with the target
"no purchase in the ``horizon`` days after the cutoff"; nothing after the cutoff reaches the
features. It then scores the customer table as of ``as_of``.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import ibis
import pandas as pd

from crmine import _atomic
from crmine._customers import resolved
from crmine._dates import as_of_day, parse_day
from crmine._export import AUDIT_TABLE, consent_at, export_customers  # noqa: F401 - AUDIT_TABLE was defined here
from crmine._progress import Progress
from crmine.errors import ModelMismatchError, SettingsError, WorkspaceError
from crmine.features._customer_table import customer_table, slug
from crmine.predict._monitor import psi_table
from crmine.predict._search import CANDIDATES, QUICK_CANDIDATES, ModelSearch, read_saved
from crmine.predict._targeting import TargetList, target_list
from crmine.warehouse import Warehouse

__all__ = ["ModelsNamespace", "churn_training_frame", "cross_sell_training_frame", "response_training_frame"]

# Identifiers and dates are not features; the BTYD and recency columns describe the same past as
# the rest and stay in.
NOT_FEATURES = ("signup_date", "first_purchase", "last_purchase")
# Customer-table columns that record the purchase rhythm itself (when, how often, how much) or
# grow with it (contacts follow activity). They predict churn best because they are its first
# symptoms; a drivers analysis leaves them out so that what remains ranks the causes behind it.
HISTORY_COLUMNS = (
    "tenure_days", "recency_days", "orders", "spend", "frequency", "recency", "T", "ipt_mean_days",
    "ipt_cv", "spend_recent", "spend_previous", "spend_trend", "campaign_contacts",
    "campaign_responses", "service_contacts",
)


def _purchases_after(tx: ibis.Table, cutoff: pd.Timestamp, end: pd.Timestamp) -> ibis.Table:
    """Purchase lines (not returns) after the ``cutoff`` day, up to and including the ``end`` day."""
    def day_after(day: pd.Timestamp) -> ibis.Value:
        return ibis.literal((day + pd.Timedelta(days=1)).to_pydatetime(), "timestamp")

    return tx.filter((tx.ts >= day_after(cutoff)) & (tx.ts < day_after(end)) & ~tx.is_return.fill_null(False))


def churn_training_frame(wh: Warehouse, /, *, as_of: Any = None, horizon_days: int = 180) -> pd.DataFrame:
    """Customer-table features as of ``as_of - horizon`` and ``churned`` = no purchase in the
    ``horizon_days`` that follow, for customers who had bought by the cutoff."""
    end = as_of_day(wh, as_of)
    cutoff = end - pd.Timedelta(days=horizon_days)
    features = customer_table(wh, as_of=cutoff)
    features = features.filter(features.orders > 0)
    after = _purchases_after(resolved(wh, "transactions"), cutoff, end)
    after = after.select("customer_id").distinct().mutate(_bought=ibis.literal(True))
    j = features.left_join(after, features.customer_id == after.customer_id).drop("customer_id_right")
    j = j.mutate(churned=j._bought.isnull().ifelse("yes", "no")).drop("_bought", *NOT_FEATURES)
    return wh.execute(j.order_by("customer_id"), what="churn training frame")


def response_training_frame(wh: Warehouse, /, *, campaign: str, response_type: str | None = None) -> pd.DataFrame:
    """The test mailing of seed 002: customers contacted by ``campaign`` (treatment group), their
    features the day before it started, and ``responded`` (yes/no): a response in the campaign's
    window (:func:`crmine.campaign._window.responses_in_window`)."""
    camps = wh.table("campaigns")
    start = wh.execute(camps.filter(camps.campaign_id == campaign).start.min(), what="campaign start")
    if start is None or pd.isna(start):
        known = wh.execute(camps.campaign_id, what="campaigns").tolist()
        raise WorkspaceError(f"Campaign {campaign!r} not found (or has no start date). Campaigns: {', '.join(known[:20])}.")
    day_before = parse_day(start) - pd.Timedelta(days=1)
    features = customer_table(wh, as_of=day_before)
    contacts = resolved(wh, "campaign_contacts")
    treated = contacts.filter((contacts.campaign_id == campaign) & (contacts.group == "treatment"))
    treated = treated.select(_cid="customer_id").distinct()
    from crmine.campaign._window import responses_in_window  # crmine.campaign imports this package

    # The responses campaign lift counts: inside the campaign's window, so the label a model learns
    # is the outcome the campaign is judged on (a response months later is not one to this offer).
    responses = responses_in_window(wh, [campaign])
    if response_type is not None:
        responses = responses.filter(responses.response_type == response_type)
    answered = responses.select(_rid="customer_id").distinct()
    j = features.inner_join(treated, features.customer_id == treated._cid)
    j = j.left_join(answered, j.customer_id == answered._rid)
    j = j.mutate(responded=j._rid.notnull().ifelse("yes", "no")).drop("_cid", "_rid", *NOT_FEATURES)
    frame = wh.execute(j.order_by("customer_id"), what="response training frame")
    if frame.empty:
        raise WorkspaceError(f"Campaign {campaign!r} has no treatment-group contacts to learn from.")
    return frame


def cross_sell_training_frame(wh: Warehouse, /, *, category: str, as_of: Any = None,
                              horizon_days: int = 180) -> pd.DataFrame:
    """Buyers as of ``as_of - horizon`` and ``bought`` = bought ``category`` in the horizon after."""
    end = as_of_day(wh, as_of)
    cutoff = end - pd.Timedelta(days=horizon_days)
    features = customer_table(wh, as_of=cutoff)
    features = features.filter(features.orders > 0)
    tx = resolved(wh, "transactions")
    p = wh.table("products").select(_pid="product_id", _category="category")
    tx = tx.inner_join(p, tx.product_id == p._pid)
    after = _purchases_after(tx, cutoff, end)
    after = after.filter(after._category == category).select(_bid="customer_id").distinct()
    j = features.left_join(after, features.customer_id == after._bid)
    j = j.mutate(bought=j._bid.notnull().ifelse("yes", "no")).drop("_bid", *NOT_FEATURES)
    return wh.execute(j.order_by("customer_id"), what="cross-sell training frame")


class ModelsNamespace:
    """Fit, score and target with the churn model of a workspace."""

    def __init__(self, warehouse: Warehouse, root: Path) -> None:
        self._wh, self._root = warehouse, root

    def _path(self, name: str) -> Path:
        return self._root / "models" / f"{name}.joblib"

    def _reference_path(self, name: str) -> Path:
        # A sample of the training features, kept to measure drift (PSI) when scoring.
        return self._root / "models" / f"{name}_reference.parquet"

    def fit(self, *, kind: str = "churn", campaign: str | None = None, response_type: str | None = None,
            category: str | None = None, as_of: Any = None, horizon_days: int = 180, seed: int = 0,
            candidates: tuple[str, ...] = CANDIDATES, progress: Progress | None = None) -> ModelSearch:
        """Train candidates for ``kind`` (churn, response to ``campaign``, cross-sell of ``category``)
        on the past only, keep the best, and save it under ``models/``."""
        name, frame, target = self._training(kind, campaign, response_type, category, as_of, horizon_days)
        search = ModelSearch(target=target, positive="yes", id_column="customer_id", candidates=candidates,
                             seed=seed).fit(frame, progress=progress)
        # Each file is written whole or not at all; the model comes last, so that a run killed
        # before it leaves the old model (and the churn step to run again).
        with _atomic.replacing(self._reference_path(name)) as tmp:
            frame.sample(n=min(len(frame), 20_000), random_state=seed).to_parquet(tmp, index=False)
        # What the model was trained for: targeting reads the campaign's economics from it.
        about = {"kind": kind, "campaign": campaign, "response_type": response_type, "category": category,
                 "as_of": None if as_of is None else str(as_of), "horizon_days": horizon_days,
                 "target": target, "rows": len(frame), "best": search.best_}
        _atomic.write_text(self._about_path(name), json.dumps(about, indent=2))
        search.save(self._path(name))
        return search

    def _about_path(self, name: str) -> Path:
        return self._root / "models" / f"{name}.json"

    def _about(self, name: str) -> dict[str, Any]:
        path = self._about_path(name)
        if not path.exists():
            return {"kind": "churn" if name == "churn" else None}
        try:
            about = json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as e:
            raise ModelMismatchError(f"{path} cannot be read ({type(e).__name__}): it is empty or truncated. "
                                     f"{self._refit(name)}") from e
        if not isinstance(about, dict):
            raise ModelMismatchError(f"{path} holds no model description. {self._refit(name)}")
        return about

    def _refit(self, name: str) -> str:
        """What to run to write the files of model ``name`` again."""
        if name == "churn":
            return f"Run `crmine model fit {self._root}` (or `crmine run {self._root}`) to write it again."
        kind = "response --campaign CAMPAIGN" if name.startswith("response_") else "cross_sell --category CATEGORY"
        return f"Run `crmine model fit {self._root} --kind {kind}` to write it again."

    def backtest(self, kind: str = "churn", *, category: str | None = None, as_of: Any = None,
                 horizon_days: int = 180, seed: int = 0, candidates: tuple[str, ...] = CANDIDATES) -> ModelSearch:
        """Out-of-time validation: would a model trained one horizon ago have held up since?

        Trains as :meth:`fit` would have ``horizon_days`` before ``as_of`` (features as of
        ``as_of - 2 x horizon``, outcome in the horizon after), then scores the customers as of
        ``as_of - horizon`` and compares with what they did in the last horizon. The returned
        search has the cross-validated ``results_`` and the out-of-time ``holdout_results_``;
        nothing is saved. Response models learn from one campaign and have no later period.
        """
        if kind not in ("churn", "cross_sell"):
            raise SettingsError(f"A backtest compares two periods: kind must be churn or cross_sell, not {kind!r}.")
        end = as_of_day(self._wh, as_of)
        earlier = end - pd.Timedelta(days=horizon_days)
        _, past, target = self._training(kind, None, None, category, earlier, horizon_days)
        _, recent, _ = self._training(kind, None, None, category, end, horizon_days)
        return ModelSearch(target=target, positive="yes", id_column="customer_id", candidates=candidates,
                           seed=seed).fit(past, holdout=recent)

    def drivers(self, kind: str = "churn", *, campaign: str | None = None, response_type: str | None = None,
                category: str | None = None, as_of: Any = None, horizon_days: int = 180,
                seed: int = 0) -> pd.DataFrame:
        """What lies behind the outcome, as opposed to what forecasts it best.

        Trains the same candidates on the same rows as :meth:`fit`, without ``HISTORY_COLUMNS``
        (recency, frequency, spend, tenure and activity-driven contact counts), and ranks the
        remaining columns (demographics, service experience, product and channel mix, rates) by
        permutation importance. Stored as ``<name>_drivers``; ``attrs`` hold the cross-validated
        ROC AUC of this model and the columns left out. Nothing is saved under ``models/``: use
        :meth:`fit` for the model that scores customers.
        """
        name, frame, target = self._training(kind, campaign, response_type, category, as_of, horizon_days)
        left_out = [c for c in HISTORY_COLUMNS if c in frame.columns]
        search = ModelSearch(target=target, positive="yes", id_column="customer_id",
                             candidates=QUICK_CANDIDATES, seed=seed).fit(frame.drop(columns=left_out))
        table = search.permutation_importance_.reset_index(drop=True)
        table.insert(0, "rank", range(1, len(table) + 1))
        self._wh.write(f"{name}_drivers", table)
        table.attrs.update(model=search.best_, roc_auc=float(search.results_.loc[search.best_, "roc_auc_mean"]),
                           left_out=left_out, rows=len(frame))
        return table

    def _training(self, kind, campaign, response_type, category, as_of, horizon_days):
        if kind == "churn":
            return "churn", churn_training_frame(self._wh, as_of=as_of, horizon_days=horizon_days), "churned"
        if kind == "response":
            if not campaign:
                raise SettingsError("A response model needs the campaign whose results it learns from: campaign=...")
            frame = response_training_frame(self._wh, campaign=campaign, response_type=response_type)
            return f"response_{slug(campaign)}", frame, "responded"
        if kind == "cross_sell":
            if not category:
                raise SettingsError("A cross-sell model needs the product category to sell: category=...")
            frame = cross_sell_training_frame(self._wh, category=category, as_of=as_of, horizon_days=horizon_days)
            return f"cross_sell_{slug(category)}", frame, "bought"
        raise SettingsError(f"Unknown model kind {kind!r}; choose churn, response or cross_sell.")

    def load(self, name: str = "churn") -> ModelSearch:
        """The saved model ``name``; ModelMismatchError when its file is empty, truncated or stale."""
        path = self._path(name)
        if not path.exists():
            raise WorkspaceError(f"No {name} model in this workspace. Run `crmine model fit DIR` first.")
        return ModelSearch._from_saved(read_saved(path, rerun=self._refit(name)), path)

    def _reference(self, name: str) -> pd.DataFrame | None:
        path = self._reference_path(name)
        if not path.exists():
            return None
        try:
            return pd.read_parquet(path)
        except Exception as e:  # noqa: BLE001 - Arrow reports a damaged file in several ways
            raise ModelMismatchError(f"{path} cannot be read ({type(e).__name__}): it is empty or truncated. "
                                     f"{self._refit(name)}") from e

    def score(self, name: str = "churn", *, as_of: Any = None, chunk_size: int = 100_000) -> pd.DataFrame:
        """P(outcome) and the top reasons for every buying customer as of ``as_of``, in chunks;
        stored as ``<name>_scores``. Drift of inputs and scores against training: ``.attrs["psi"]``."""
        search = self.load(name)
        reference = self._reference(name)  # a damaged file fails here, before any work
        table = customer_table(self._wh, as_of=as_of)
        frame = self._wh.execute(table.filter(table.orders > 0).order_by("customer_id"), what="customers to score")
        parts = [search.reasons(frame.iloc[i : i + chunk_size], top=3).reset_index()
                 for i in range(0, max(len(frame), 1), chunk_size)]
        reasons = pd.concat(parts, ignore_index=True)
        self._wh.write(f"{name}_scores", reasons)
        if reference is not None:
            reference["probability"] = search.predict_proba(reference).to_numpy()
            frame = frame.assign(probability=reasons.probability.to_numpy())
            columns = ["probability", *[c for c in search.features_ if c in frame.columns]]
            reasons.attrs["psi"] = psi_table(reference, frame, columns)
        return reasons

    def target(self, name: str = "churn", *, purpose: str = "marketing", channel: str = "email",
               margin: float | None = None, contact_cost: float | None = None, budget: float | None = None,
               top_n: int | None = None, min_profit: float | None = None, retention_effect: float = 0.2,
               user: str | None = None) -> TargetList:
        """Who to contact first, by the expected profit of contacting them.

        Expected profit = P x value - ``contact_cost``, where the value of a contact is:

        - churn: ``retention_effect`` x the customer's lifetime value from ``clv_scores`` (what a
          contact saves if it keeps ``retention_effect`` of would-be churners), or x ``margin``;
        - response: the campaign's ``margin_per_response``, or ``margin``;
        - cross-sell: ``margin`` (required).

        ``contact_cost`` defaults to the campaign's ``cost_per_contact`` for response models and to
        1.0 otherwise. Customers without consent for ``purpose`` by ``channel`` at the moment of
        export (the latest consent record at or before now; see :func:`crmine._export.consent_at`)
        are never listed. Goes through :func:`crmine._export.export_customers`: records a row in
        ``export_audit`` (who, when, which file, what, how many, how many left out for consent),
        then writes ``exports/targets-<date>-<time>-<microseconds>.csv``: every list gets its own
        file, named in the result's ``file``.
        """
        table = f"{name}_scores"
        if not self._wh.has_table(table):
            raise WorkspaceError(f"No {name} scores yet. Run `crmine model score DIR --name {name}` first.")
        scores = self._wh.execute(self._wh.table(table).select("customer_id", "probability"),
                                  what=f"read {table}")
        value, cost, source = self._economics(name, margin, contact_cost)
        if name == "churn":
            value = value * retention_effect
        # The list uses the consent state at the moment of export: a withdrawal dated before now
        # keeps a customer off it, a grant dated later does not count yet.
        stamp = datetime.now(UTC).replace(tzinfo=None)
        consent = consent_at(self._wh, purpose, channel, stamp)
        result = target_list(scores, margin=value, contact_cost=cost, consent=consent, budget=budget,
                             top_n=top_n, min_profit=min_profit)
        what = {"list": name, "purpose": purpose, "channel": channel, "value": source, "contact_cost": cost,
                "budget": budget, "top_n": top_n}
        # The governed path checks consent again, records the audit row, then writes the file under
        # a name no other list has (never overwriting one, even if another process chose the same name).
        export = export_customers(self._wh, self._root, result.customers, kind="targets", what=what, user=user,
                                  marketing=(purpose, channel), at=stamp, excluded=result.excluded_no_consent)
        return dataclasses.replace(result, file=self._root / export.file)

    def _economics(self, name: str, margin: float | None,
                   contact_cost: float | None) -> tuple[float | pd.Series, float, str]:
        """The value of a positive outcome, the cost of a contact, and where the value came from."""
        about = self._about(name)
        cost = 1.0 if contact_cost is None else float(contact_cost)
        if about.get("kind") == "response" and about.get("campaign"):
            camps = self._wh.table("campaigns")
            row = self._wh.execute(camps.filter(camps.campaign_id == about["campaign"])
                                   .select("margin_per_response", "cost_per_contact").limit(1), what="campaign")
            if contact_cost is None and len(row) and pd.notna(row.cost_per_contact.iloc[0]):
                cost = float(row.cost_per_contact.iloc[0])
            if margin is None:
                if not len(row) or pd.isna(row.margin_per_response.iloc[0]):
                    raise SettingsError(f"Campaign {about['campaign']!r} has no margin_per_response; pass "
                                        "margin= (--margin) with the value of one response.")
                return float(row.margin_per_response.iloc[0]), cost, f"campaign {about['campaign']} margin_per_response"
        if margin is not None:
            return float(margin), cost, f"margin {float(margin):g}"
        if about.get("kind") == "churn":
            if not self._wh.has_table("clv_scores"):
                raise SettingsError("The value of keeping a customer comes from lifetime values: run "
                                    "`crmine clv fit DIR` and `crmine clv score DIR`, or pass margin= (--margin).")
            clv = self._wh.execute(self._wh.table("clv_scores").select("customer_id", "clv"), what="read clv_scores")
            return clv.set_index("customer_id")["clv"], cost, "clv_scores.clv"
        raise SettingsError(f"Pass margin= (--margin): the value of one positive outcome for {name}.")

    def lookalike(self, seed: str | list[str], /, *, top_n: int = 1000, seed_value: int = 0) -> pd.DataFrame:
        """Rank customers outside ``seed`` by how much they resemble it.

        ``seed`` is a condition on the customer table (e.g. ``"spend > 2000 and orders >= 10"``) or a
        list of customer ids (e.g. the gold list). A propensity model (seed vs the rest, regularised
        logistic regression and gradient boosting, the better kept) scores everyone; the best-scored
        non-members come first. Stored as ``lookalike_scores``.
        """
        from crmine._expression import referenced_columns
        from crmine.features import select_customers

        table = self._customers()
        defining: set[str] = set()
        if isinstance(seed, str):
            members = self._wh.execute(select_customers(table, seed).customer_id, what="seed customers")
            # The columns that define the seed would separate it trivially; resemblance is judged
            # on everything else. The identifier is never a feature, so a seed may name it.
            defining = referenced_columns(seed, table) - {"customer_id"}
        else:
            members = pd.Series(list(seed))
        frame = self._wh.execute(table.order_by("customer_id"), what="customer table")
        frame = frame.drop(columns=[c for c in (*NOT_FEATURES, *defining) if c in frame.columns])
        frame["in_seed"] = frame.customer_id.isin(set(members)).map({True: "yes", False: "no"})
        if not 10 <= (frame.in_seed == "yes").sum() < len(frame):
            raise SettingsError(f"The seed holds {int((frame.in_seed == 'yes').sum())} customers; a lookalike "
                                "model needs at least 10 and fewer than all.")
        search = ModelSearch(target="in_seed", positive="yes", id_column="customer_id",
                             candidates=("logistic", "gradient_boosting"), seed=seed_value).fit(frame)
        scores = search.predict_proba(frame.drop(columns=["in_seed"])).rename("similarity").reset_index()
        scores = scores[~scores.customer_id.isin(set(members))].sort_values("similarity", ascending=False)
        scores = scores.head(top_n).reset_index(drop=True)
        scores.insert(0, "rank", range(1, len(scores) + 1))
        self._wh.write("lookalike_scores", scores)
        scores.attrs["seed_auc"] = float(search.results_.loc[search.best_, "roc_auc_mean"])
        return scores

    def _customers(self) -> ibis.Table:
        if self._wh.has_table("customer_table"):
            return self._wh.table("customer_table")
        return customer_table(self._wh)
