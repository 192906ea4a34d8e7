"""Shifted-beta-geometric (sBG) churn model for contractual settings: Fader & Hardie (2007), "How to
Project Customer Retention", Journal of Interactive Marketing 21(1) (FH07 below).

At each renewal a customer churns with probability theta, constant for them, theta ~ Beta(alpha,
beta) across customers; heterogeneity makes the aggregate retention rate rise over time.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.special import betaln

from crmine.clv._base import BaseModel
from crmine.errors import SchemaError

__all__ = ["ShiftedBetaGeometric"]

_HINT = (
    "Give the customers of one cohort still active at periods 0, 1, 2, ... (the first number is the "
    "cohort's size), e.g. ShiftedBetaGeometric().fit([1000, 631, 468, 382, 326])."
)


class ShiftedBetaGeometric(BaseModel):
    """The sBG model of contractual churn (parameters alpha, beta).

    ``fit`` takes the number of customers of a cohort still active at the start and after each
    period: a sequence, a Series, or a DataFrame with a ``survivors`` column.

    Examples
    --------
    >>> from crmine.clv import ShiftedBetaGeometric
    >>> regular = [1000, 631, 468, 382, 326, 289, 262, 241]  # FH07, "regular" customers
    >>> m = ShiftedBetaGeometric().fit(regular)
    >>> {k: round(v, 3) for k, v in m.params_.items()}
    {'alpha': 0.704, 'beta': 1.182}
    >>> m.survival([1, 2]).round(3).tolist()
    [0.627, 0.474]
    """

    _param_names = ("alpha", "beta")

    def _stats(self, data: Any, where: str) -> dict[str, np.ndarray]:
        if hasattr(data, "columns"):
            if "survivors" not in data.columns:
                raise SchemaError(
                    f"{where} lacks column(s) survivors. Existing columns: "
                    f"{', '.join(map(str, data.columns)) or '(none)'}. {_HINT}"
                )
            data = data["survivors"]
        try:
            n = np.asarray(data, dtype=float).ravel()
        except (TypeError, ValueError):
            raise SchemaError(f"{where} must be numbers. {_HINT}") from None
        problems = []
        if len(n) < 2:
            problems.append(f"it holds {len(n)} value(s), at least 2 are needed")
        nan = int(np.sum(~np.isfinite(n)))
        if nan:
            problems.append(f"{nan} missing or infinite value(s)")
        neg = int(np.sum(n < 0))
        if neg:
            problems.append(f"{neg} negative value(s)")
        up = int(np.sum(np.diff(n) > 0))
        if up:
            problems.append(f"survivors rise {up} time(s) (they must never increase)")
        if len(n) and np.isfinite(n[0]) and n[0] <= 0:
            problems.append("the cohort size (first value) must be > 0")
        if problems:
            raise SchemaError(f"{where} breaks the rules: {'; '.join(problems)}. {_HINT}")
        T = len(n) - 1
        t = np.arange(1, T + 1, dtype=float)
        lost = n[:-1] - n[1:]
        # rows: churned in period t (kind 0) for t = 1..T, then still active after T (kind 1)
        return {
            "t": np.append(t, T),
            "kind": np.append(np.zeros(T), 1.0),
            "w": np.append(lost, n[-1]),
        }

    def _loglik_rows(self, theta, stats):
        # FH07, the sBG log-likelihood: LL = sum_t n_t ln P(T=t) + (n_0 - sum_t n_t) ln S(T), with
        # P(T=t) = B(alpha+1, beta+t-1)/B(alpha, beta) and S(t) = B(alpha, beta+t)/B(alpha, beta)
        a, b = theta
        t = stats["t"]
        churn = betaln(a + 1, b + t - 1) - betaln(a, b)
        alive = betaln(a, b + t) - betaln(a, b)
        return np.where(stats["kind"] == 0, churn, alive)

    def _t(self, t: Any) -> tuple[np.ndarray, bool]:
        arr = np.asarray(t, dtype=float)
        bad = int(np.sum(~np.isfinite(arr) | (arr < 0)))
        if bad:
            raise SchemaError(
                f"{self._name}: periods must be finite and >= 0; {bad} value(s) are not."
            )
        return arr, arr.ndim == 0

    def survival(self, t: float | np.ndarray, /) -> float | np.ndarray:
        """Share of a cohort still active after ``t`` periods, S(t) = B(alpha, beta+t)/B(alpha, beta) (FH07)."""
        a, b = self._check_fitted()
        arr, scalar = self._t(t)
        out = np.exp(betaln(a, b + arr) - betaln(a, b))
        return float(out) if scalar else out

    def churn_probability(self, t: float | np.ndarray, /) -> float | np.ndarray:
        """Probability that a new customer churns in period ``t`` (t >= 1), P(T=t) = B(alpha+1, beta+t-1)/B(alpha, beta) (FH07)."""
        a, b = self._check_fitted()
        arr, scalar = self._t(t)
        with np.errstate(all="ignore"):
            out = np.where(arr >= 1, np.exp(betaln(a + 1, b + arr - 1) - betaln(a, b)), 0.0)
        return float(out) if scalar else out

    def retention_rate(self, t: float | np.ndarray, /) -> float | np.ndarray:
        """Share of the customers active at t-1 who renew at t (t >= 1), r(t) = (beta+t-1)/(alpha+beta+t-1) (FH07)."""
        a, b = self._check_fitted()
        arr, scalar = self._t(t)
        with np.errstate(all="ignore"):
            out = np.where(arr >= 1, (b + arr - 1) / (a + b + arr - 1), np.nan)
        return float(out) if scalar else out

    def expected_survivors(
        self, t: float | np.ndarray, /, *, cohort_size: float
    ) -> float | np.ndarray:
        """Expected customers of a cohort of ``cohort_size`` still active after ``t`` periods."""
        return cohort_size * self.survival(t)

    def survival_table(self, periods: int, /, *, cohort_size: float = 1.0) -> pd.DataFrame:
        """Survival and retention for periods 0..``periods``, as a DataFrame."""
        t = np.arange(periods + 1, dtype=float)
        return pd.DataFrame(
            {
                "survival": self.survival(t),
                "retention_rate": self.retention_rate(t),
                "expected_survivors": cohort_size * self.survival(t),
            },
            index=pd.Index(t.astype(int), name="period"),
        )
