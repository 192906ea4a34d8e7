"""``ws.models``: churn models trained on the warehouse without look-ahead, scored, and turned into
consented target lists with an audit record.

A churn model is trained on the customer table as of ``cutoff = as_of - horizon``, with the target
"no purchase in the ``horizon`` days after the cutoff"; nothing after the cutoff reaches the
features. It then scores the customer table as of ``as_of``.
"""

from __future__ import annotations

import getpass
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import ibis
import pandas as pd

from crmine._customers import resolved
from crmine.errors import WorkspaceError
from crmine.features._customer_table import customer_table, default_as_of
from crmine.predict._monitor import psi_table
from crmine.predict._search import ModelSearch
from crmine.predict._targeting import TargetList, target_list
from crmine.warehouse import Warehouse

__all__ = ["ModelsNamespace", "churn_training_frame"]

# Identifiers and dates are not features; the BTYD and recency columns describe the same past as
# the rest and stay in.
NOT_FEATURES = ("signup_date", "first_purchase", "last_purchase")
SCORES_TABLE = "churn_scores"
AUDIT_TABLE = "export_audit"


def churn_training_frame(wh: Warehouse, /, *, as_of: Any = None, horizon_days: int = 180) -> pd.DataFrame:
    """Customer-table features as of ``as_of - horizon`` and ``churned`` = no purchase in the
    ``horizon_days`` that follow, for customers who had bought by the cutoff."""
    end = pd.Timestamp(as_of).normalize() if as_of is not None else default_as_of(wh)
    cutoff = end - pd.Timedelta(days=horizon_days)
    features = customer_table(wh, as_of=cutoff)
    features = features.filter(features.orders > 0)
    tx = resolved(wh, "transactions")
    after = tx.filter(
        (tx.ts >= ibis.literal((cutoff + pd.Timedelta(days=1)).to_pydatetime(), "timestamp"))
        & (tx.ts < ibis.literal((end + pd.Timedelta(days=1)).to_pydatetime(), "timestamp"))
        & ~tx.is_return.fill_null(False)
    ).select("customer_id").distinct().mutate(_bought=ibis.literal(True))
    j = features.left_join(after, features.customer_id == after.customer_id).drop("customer_id_right")
    j = j.mutate(churned=j._bought.isnull().ifelse("yes", "no")).drop("_bought", *NOT_FEATURES)
    return wh.execute(j.order_by("customer_id"), what="churn training frame")


class ModelsNamespace:
    """Fit, score and target with the churn model of a workspace."""

    def __init__(self, warehouse: Warehouse, root: Path) -> None:
        self._wh, self._root = warehouse, root

    @property
    def _path(self) -> Path:
        return self._root / "models" / "churn.joblib"

    @property
    def _reference_path(self) -> Path:
        # A sample of the training features, kept to measure drift (PSI) when scoring.
        return self._root / "models" / "churn_reference.parquet"

    def fit(self, *, as_of: Any = None, horizon_days: int = 180, seed: int = 0,
            candidates: tuple[str, ...] = ("logistic", "gradient_boosting", "random_forest")) -> ModelSearch:
        """Train churn candidates on the past, keep the best (saved under ``models/``)."""
        frame = churn_training_frame(self._wh, as_of=as_of, horizon_days=horizon_days)
        search = ModelSearch(target="churned", positive="yes", id_column="customer_id", candidates=candidates,
                             seed=seed).fit(frame)
        self._path.parent.mkdir(parents=True, exist_ok=True)
        search.save(self._path)
        frame.sample(n=min(len(frame), 20_000), random_state=seed).to_parquet(self._reference_path, index=False)
        return search

    def load(self) -> ModelSearch:
        if not self._path.exists():
            raise WorkspaceError("No churn model in this workspace. Run `crmine model fit DIR` first.")
        return ModelSearch.load(self._path)

    def score(self, *, as_of: Any = None) -> pd.DataFrame:
        """P(churn) and the top reasons for every buying customer as of ``as_of``; stored as
        ``churn_scores``. The drift of inputs and scores against training is in ``.attrs["psi"]``."""
        search = self.load()
        table = customer_table(self._wh, as_of=as_of)
        frame = self._wh.execute(table.filter(table.orders > 0).order_by("customer_id"), what="customers to score")
        reasons = search.reasons(frame, top=3).reset_index()
        self._wh.write(SCORES_TABLE, reasons)
        if self._reference_path.exists():
            reference = pd.read_parquet(self._reference_path)
            reference["probability"] = search.predict_proba(reference).to_numpy()
            frame = frame.assign(probability=reasons.probability.to_numpy())
            columns = ["probability", *[c for c in search.features_ if c in frame.columns]]
            reasons.attrs["psi"] = psi_table(reference, frame, columns)
        return reasons

    def target(self, *, purpose: str = "marketing", channel: str = "email", margin: float = 50.0,
               contact_cost: float = 1.0, budget: float | None = None, top_n: int | None = None,
               retention_effect: float = 0.2, user: str | None = None) -> TargetList:
        """A retention list: who to contact first, by the expected profit of contacting them.

        Expected profit = P(churn) x ``retention_effect`` x ``margin`` - ``contact_cost``: the value
        saved if the contact keeps ``retention_effect`` of the would-be churners. Customers without
        consent for ``purpose`` by ``channel`` are never listed. Writes ``exports/targets-<time>.csv``
        and a row in ``export_audit`` (who, when, what, how many, how many left out for consent).
        """
        if not self._wh.has_table(SCORES_TABLE):
            raise WorkspaceError("No churn scores yet. Run `crmine model score DIR` first.")
        scores = self._wh.execute(self._wh.table(SCORES_TABLE).select("customer_id", "probability"),
                                  what="read churn scores")
        consent = self._consent(purpose, channel)
        result = target_list(scores, margin=retention_effect * margin, contact_cost=contact_cost,
                             consent=consent, budget=budget, top_n=top_n)
        stamp = datetime.now(UTC).replace(tzinfo=None)
        out = self._root / "exports" / f"targets-{stamp:%Y%m%d-%H%M%S}.csv"
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_suffix(".partial")
        result.customers.to_csv(tmp, index=False)
        tmp.replace(out)  # never a half-written export
        audit = pd.DataFrame([{
            "exported": stamp, "user": user or getpass.getuser(), "file": str(out.relative_to(self._root)),
            "what": json.dumps({"list": "churn retention", "purpose": purpose, "channel": channel,
                                "budget": budget, "top_n": top_n}),
            "rows": result.selected, "excluded_no_consent": result.excluded_no_consent,
        }])
        if self._wh.has_table(AUDIT_TABLE):
            self._wh.insert(AUDIT_TABLE, audit)
        else:
            self._wh.write(AUDIT_TABLE, audit)
        return result

    def _consent(self, purpose: str, channel: str) -> pd.DataFrame:
        c = resolved(self._wh, "consents")
        c = c.filter((c.purpose == purpose) & (c.channel == channel))
        return self._wh.execute(c.select("customer_id", "granted"), what="read consents")
