"""The naive baseline every model search reports: one column, binned, or the prior.

Rule: when a ``recency_days`` column exists it is the score (the RFM habit: the longer since the
last purchase, the more a customer differs); otherwise the numeric column whose training ROC AUC
is farthest from 0.5. The column is cut at its training deciles and each bin forecasts its training
positive rate (shrunk toward the prior with 10 pseudo-rows), so the forecast is a calibrated
probability and log loss and Brier score are fair. With no numeric column the forecast is the prior.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import rankdata
from sklearn.base import BaseEstimator, ClassifierMixin


def _auc(y: np.ndarray, x: np.ndarray) -> float:
    """ROC AUC by the Mann-Whitney rank sum (ties share their rank), without sklearn's checks:
    the baseline computes one per numeric column and fold."""
    pos = y == 1
    n1 = int(pos.sum())
    n0 = len(y) - n1
    if n1 == 0 or n0 == 0:
        return 0.5
    return float((rankdata(x)[pos].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


class BaselineClassifier(ClassifierMixin, BaseEstimator):
    """A one-column binned rate model (see the module docstring)."""

    def __init__(self, numeric: tuple[str, ...] = (), bins: int = 10) -> None:
        self.numeric = numeric
        self.bins = bins

    def fit(self, X: pd.DataFrame, y: np.ndarray) -> BaselineClassifier:
        y = np.asarray(y, dtype=float)
        self.classes_ = np.array([0, 1])
        self.prior_ = float(y.mean())
        self.column_ = None
        cols = list(self.numeric)
        if "recency_days" in cols:
            self.column_ = "recency_days"
        elif cols:
            best = -1.0
            for c in cols:
                x = self._values(X, c, fill=None)
                if np.all(x == x[0]):
                    continue
                gap = abs(_auc(y, x) - 0.5)
                if gap > best:
                    best, self.column_ = gap, c
        if self.column_ is None:
            return self
        x = self._values(X, self.column_, fill=None)
        self.fill_ = float(np.median(x))
        edges = np.unique(np.quantile(x, np.linspace(0, 1, self.bins + 1)[1:-1]))
        self.edges_ = edges
        b = np.searchsorted(edges, x, side="right")
        k = len(edges) + 1
        pos = np.bincount(b, weights=y, minlength=k)
        cnt = np.bincount(b, minlength=k)
        self.rates_ = (pos + 10 * self.prior_) / (cnt + 10)
        return self

    def _values(self, X: pd.DataFrame, c: str, fill: float | None) -> np.ndarray:
        x = pd.to_numeric(X[c], errors="coerce").astype(float).to_numpy()
        bad = ~np.isfinite(x)
        if bad.any():
            x = x.copy()
            x[bad] = np.nanmedian(x) if fill is None else fill
            x[~np.isfinite(x)] = 0.0
        return x

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        if self.column_ is None:
            p = np.full(len(X), self.prior_)
        else:
            x = self._values(X, self.column_, fill=self.fill_)
            p = self.rates_[np.searchsorted(self.edges_, x, side="right")]
        return np.column_stack([1 - p, p])

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)
