"""``ws.clv``: lifetime value fitted on, and written back to, a workspace's warehouse."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import ibis
import pandas as pd

from crmine import _atomic
from crmine._customers import resolved
from crmine._dates import last_day
from crmine.clv._base import TransactionModel, read_json
from crmine.clv._bgnbd import BetaGeo
from crmine.clv._clv import customer_lifetime_value, spend_history
from crmine.clv._gammagamma import GammaGamma
from crmine.clv._pareto import ParetoNBD
from crmine.clv._rfm import rfm_summary_expr
from crmine.errors import ModelMismatchError, SettingsError, WorkspaceError
from crmine.warehouse import Warehouse

__all__ = ["ClvNamespace", "ClvFit"]

MODELS = {"bgnbd": BetaGeo, "pareto": ParetoNBD}
SCORES_TABLE = "clv_scores"
# The files of one fit; the meta file is written last and records the digests of the other two,
# so a fit killed half-way is seen as such instead of mixing two fits.
PURCHASES_FILE, SPEND_FILE, META_FILE = "clv_purchases.json", "clv_spend.json", "clv_meta.json"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


@dataclass(frozen=True)
class ClvFit:
    """What ``ws.clv.fit`` learned."""

    model: str
    observation_end: str
    time_unit: str
    customers: int
    repeat_customers: int
    params: dict[str, float]
    spend_params: dict[str, float]
    log_likelihood: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class ClvNamespace:
    """Fit BTYD + Gamma-Gamma on the warehouse's transactions and score every customer.

    Customers are the unified customers of identity resolution when ``customer_lineage`` exists.
    """

    def __init__(self, warehouse: Warehouse, models_dir: Path) -> None:
        self._wh, self._dir = warehouse, models_dir

    def summary(self, *, observation_end: Any = None, time_unit: str = "W") -> pd.DataFrame:
        """Frequency, recency, T and monetary per customer, computed in the warehouse."""
        tx = self._transactions()
        end = observation_end or last_day(self._wh, tx)
        return self._summary(tx, end, time_unit)

    def fit(self, *, model: str = "bgnbd", observation_end: Any = None, time_unit: str = "W") -> ClvFit:
        """Fit the purchase model and the spend model; save both under ``models/``."""
        if model not in MODELS:
            raise SettingsError(f"Unknown CLV model {model!r}; choose one of {', '.join(MODELS)}.")
        tx = self._transactions()
        end = str(pd.Timestamp(observation_end or last_day(self._wh, tx)).date())
        data = self._summary(tx, end, time_unit)
        purchases = MODELS[model]().fit(data)
        repeat = data[(data.frequency > 0) & (data.monetary > 0)]
        spend = GammaGamma().fit(repeat)
        purchases.save(self._dir / PURCHASES_FILE)
        spend.save(self._dir / SPEND_FILE)
        meta = {"model": model, "observation_end": end, "time_unit": time_unit,
                "files": {f: _digest(self._dir / f) for f in (PURCHASES_FILE, SPEND_FILE)}}
        _atomic.write_text(self._dir / META_FILE, json.dumps(meta, indent=2))
        return ClvFit(model, end, time_unit, len(data), len(repeat), dict(purchases.params_),
                      dict(spend.params_), float(purchases.log_likelihood_))

    def check(self, *, holdout_weeks: int = 26, model: str = "bgnbd") -> pd.DataFrame:
        """Fit on all but the last ``holdout_weeks`` and compare with what happened in them.

        Stores ``clv_check_calibration`` (mean actual vs predicted holdout purchases by calibration
        frequency) and ``clv_check_tracking`` (actual vs expected cumulative repeat purchases per
        week), and returns the per-customer holdout error against a naive baseline (each customer's
        calibration rate) as a one-row summary.
        """
        from crmine.clv._checks import (
            calibration_vs_holdout,
            expected_cumulative_transactions,
            holdout_error,
        )

        tx = self._transactions()
        end = last_day(self._wh, tx)
        cal_end = end - pd.Timedelta(weeks=holdout_weeks)
        data = self._summary(tx, str(cal_end.date()), "W", holdout_end=str(end.date()))
        fitted = MODELS[model]().fit(data)
        calibration = calibration_vs_holdout(fitted, data).reset_index()
        calibration["frequency"] = calibration["frequency"].astype(str)
        self._wh.write("clv_check_calibration", calibration)
        daily = self._wh.execute(tx.select("customer_id", "ts"), what="transactions for tracking")
        tracking = expected_cumulative_transactions(fitted, daily, end=end).reset_index()
        tracking["calibration_end"] = cal_end
        self._wh.write("clv_check_tracking", tracking)
        error = holdout_error(fitted, data)
        return error

    def score(self, *, horizon: int = 12, discount_rate: float = 0.01, margin: float = 1.0) -> pd.DataFrame:
        """Score every customer with the saved models and write table ``clv_scores``.

        Columns: customer_id, frequency, recency, T, monetary, probability_alive,
        expected_purchases (over ``horizon`` months), expected_spend, clv.
        """
        purchases, spend, meta = self._saved()
        tx = self._transactions()
        data = self._summary(tx, meta["observation_end"], meta["time_unit"])
        months_in_unit = {"D": 30.4375, "W": 30.4375 / 7, "M": 1.0, "Y": 1 / 12}[meta["time_unit"]]
        out = data[["customer_id", "frequency", "recency", "T", "monetary"]].copy()
        out["probability_alive"] = purchases.probability_alive(data).to_numpy()
        out["expected_purchases"] = purchases.expected_purchases(horizon * months_in_unit, data).to_numpy()
        out["expected_spend"] = spend.expected_spend(spend_history(data)).to_numpy()
        out["clv"] = customer_lifetime_value(
            purchases, spend, data, horizon=horizon, time_unit=meta["time_unit"],
            discount_rate=discount_rate, margin=margin,
        ).to_numpy()
        self._wh.write(SCORES_TABLE, out)
        return out

    def load(self) -> tuple[TransactionModel, GammaGamma]:
        """The saved purchase and spend models of the last ``fit``.

        Raises WorkspaceError when none was saved, and ModelMismatchError when a file is empty,
        truncated, or belongs to another fit than the others (a fit that was interrupted).
        """
        purchases, spend, _ = self._saved()
        return purchases, spend

    def _saved(self) -> tuple[TransactionModel, GammaGamma, dict[str, Any]]:
        meta_path = self._dir / META_FILE
        if not meta_path.exists():
            raise WorkspaceError("No fitted CLV model in this workspace. Run `crmine clv fit DIR` first.")
        rerun = f"Run `crmine clv fit {self._dir.parent}` (or `crmine run {self._dir.parent}`) to write it again."
        meta = read_json(meta_path, rerun=rerun)
        if not isinstance(meta, dict) or meta.get("model") not in MODELS:
            raise ModelMismatchError(f"{meta_path} does not describe a CLV fit. {rerun}")
        for name, digest in (meta.get("files") or {}).items():
            path = self._dir / name
            if not path.exists() or _digest(path) != digest:
                raise ModelMismatchError(
                    f"{path} does not match the fit recorded in {META_FILE} (changed, or a fit was "
                    f"interrupted). {rerun}")
        for name in (PURCHASES_FILE, SPEND_FILE):
            if not (self._dir / name).exists():
                raise ModelMismatchError(f"{self._dir / name} is missing. {rerun}")
            read_json(self._dir / name, rerun=rerun)  # an unreadable file says so here, with the fix
        purchases = MODELS[meta["model"]].load(self._dir / PURCHASES_FILE)
        spend = GammaGamma.load(self._dir / SPEND_FILE)
        return purchases, spend, meta

    def scores(self) -> pd.DataFrame:
        return self._wh.execute(self._wh.table(SCORES_TABLE), what=f"read {SCORES_TABLE}")

    def _summary(self, tx: ibis.Table, end: Any, time_unit: str, *, holdout_end: Any = None) -> pd.DataFrame:
        expr = rfm_summary_expr(tx, observation_end=end, time_unit=time_unit, holdout_end=holdout_end)
        return self._wh.execute(expr, what="rfm summary")

    def _transactions(self) -> ibis.Table:
        tx = resolved(self._wh, "transactions")
        # Returns are not purchases; they lower value but are not repeat-purchase events.
        return tx.filter(tx.is_return.fill_null(False) == False)  # noqa: E712 - an Ibis expression
