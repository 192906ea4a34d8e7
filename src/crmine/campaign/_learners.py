"""Uplift meta-learners over the workbench's preprocessing and learners.

Each learner estimates ``tau(x) = E[Y | x, treated] - E[Y | x, control]`` from one treatment arm
and the control group of a randomised test, with base models built by
:func:`crmine.predict._prep.build_pipeline` (the same imputation, scaling, one-hot encoding and
splines as ModelSearch) around the workbench's estimators:

- ``two_model`` (T-learner): one outcome model per group; ``tau = mu_1(x) - mu_0(x)``.
- ``class_transformation`` (Jaskowski & Jaroszewicz 2012), 0/1 outcomes: a classifier of
  ``Z = 1`` when (treated and responded) or (control and did not), with the groups weighted to equal
  size; ``tau = 2 P(Z = 1 | x) - 1``. For counts and money, its continuous form: a regression of
  the transformed outcome ``Y (W - e) / (e (1 - e))`` (Athey & Imbens 2015), ``e`` the treated share.
- ``x_learner`` (Kunzel et al. 2019): imputed effects ``Y - mu_0(x)`` on the treated and
  ``mu_1(x) - Y`` on the control, a regression of each; ``tau = e tau_0(x) + (1 - e) tau_1(x)``.
- ``dr_learner`` (Kennedy 2023): cross-fitted ``mu_0, mu_1``; a regression of the doubly robust
  pseudo-outcome ``mu_1 - mu_0 + W (Y - mu_1) / e - (1 - W) (Y - mu_0) / (1 - e)``.
- ``response`` is not an uplift learner: the classic response model, an outcome model on the
  treated only, ranking by ``mu_1(x)``. It is scored beside the learners as the ranking to beat.

In a randomised test the propensity is the treated share ``e`` by design; it is used as known.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.ensemble import HistGradientBoostingRegressor, RandomForestRegressor
from sklearn.linear_model import Ridge
from sklearn.model_selection import KFold

from crmine.errors import SettingsError
from crmine.predict._prep import build_pipeline
from crmine.predict._search import _estimator

__all__ = ["BASES", "ENSEMBLE", "LEARNERS", "Ensemble", "make_learner"]

LEARNERS = ("two_model", "class_transformation", "x_learner", "dr_learner")
RESPONSE = "response"
# Base learners, each a workbench classifier (for 0/1 outcome models) and its regression twin
# (for money, counts and the pseudo-outcomes), with the workbench's settings.
BASES = {
    "linear": "logistic",
    "additive": "additive_logistic",
    "gradient_boosting": "gradient_boosting",
    "random_forest": "random_forest",
}


def _regressor(base: str, seed: int) -> tuple[Any, bool]:
    if base == "linear":
        return Ridge(alpha=1.0), True
    if base == "additive":
        return Ridge(alpha=3.0), True
    if base == "gradient_boosting":
        return (HistGradientBoostingRegressor(learning_rate=0.05, max_iter=150, max_depth=3, min_samples_leaf=50,
                                              l2_regularization=5.0, early_stopping=False, random_state=seed), False)
    if base == "random_forest":
        return RandomForestRegressor(n_estimators=200, min_samples_leaf=20, n_jobs=1, random_state=seed), False
    raise SettingsError(f"Unknown base learner {base!r}; choose from {', '.join(BASES)}.")


class Bases:
    """Makes the unfitted base pipelines of one base learner for a fixed set of columns."""

    def __init__(self, base: str, numeric: Sequence[str], categorical: Sequence[str],
                 splines: Sequence[str], seed: int) -> None:
        if base not in BASES:
            raise SettingsError(f"Unknown base learner {base!r}; choose from {', '.join(BASES)}.")
        self.base, self.seed = base, seed
        self._cols = (list(numeric), list(categorical), list(splines) if base == "additive" else [])

    def classifier(self):
        est, scale = _estimator(BASES[self.base], self.seed)
        num, cat, spl = self._cols
        return build_pipeline(est, num, cat, scale=scale, splines=spl)

    def regressor(self):
        est, scale = _regressor(self.base, self.seed)
        num, cat, spl = self._cols
        return build_pipeline(est, num, cat, scale=scale, splines=spl)

    def outcome_model(self, binary: bool):
        return self.classifier() if binary else self.regressor()


def _fit(pipe, X: pd.DataFrame, y: np.ndarray, weight: np.ndarray | None = None):
    pipe = clone(pipe)
    if y.min() == y.max():  # one value only (a fold without responders): predict it
        return _Constant(float(y[0]))
    if weight is None:
        return pipe.fit(X, y)
    return pipe.fit(X, y, model__sample_weight=weight)


class _Constant:
    def __init__(self, value: float) -> None:
        self.value = value

    def predict(self, X):
        return np.full(len(X), self.value)

    def predict_proba(self, X):
        return np.column_stack([np.full(len(X), 1 - self.value), np.full(len(X), self.value)])


def _mean(model, X: pd.DataFrame, binary: bool) -> np.ndarray:
    """E[Y | x] from an outcome model: P(1) for a classifier, the prediction for a regressor."""
    return model.predict_proba(X)[:, 1] if binary else np.asarray(model.predict(X), float)


class _Learner:
    name = ""

    def __init__(self, bases: Bases, binary: bool, share: float) -> None:
        self.bases, self.binary, self.share = bases, binary, share


class TwoModel(_Learner):
    name = "two_model"

    def fit(self, X, y, w):
        m = self.bases.outcome_model(self.binary)
        self.m1_, self.m0_ = _fit(m, X[w == 1], y[w == 1]), _fit(m, X[w == 0], y[w == 0])
        return self

    def effect(self, X):
        return _mean(self.m1_, X, self.binary) - _mean(self.m0_, X, self.binary)


class ClassTransformation(_Learner):
    name = "class_transformation"

    def fit(self, X, y, w):
        e = self.share
        if self.binary:
            z = (y == w).astype(int)
            weight = np.where(w == 1, 0.5 / e, 0.5 / (1 - e))  # both groups count as half
            self.m_ = _fit(self.bases.classifier(), X, z, weight)
        else:
            self.m_ = _fit(self.bases.regressor(), X, y * (w - e) / (e * (1 - e)))
        return self

    def effect(self, X):
        if self.binary:
            return 2 * self.m_.predict_proba(X)[:, 1] - 1
        return np.asarray(self.m_.predict(X), float)


class XLearner(_Learner):
    name = "x_learner"

    def fit(self, X, y, w):
        t = TwoModel(self.bases, self.binary, self.share).fit(X, y, w)
        x1, x0 = X[w == 1], X[w == 0]
        d1 = y[w == 1] - _mean(t.m0_, x1, self.binary)
        d0 = _mean(t.m1_, x0, self.binary) - y[w == 0]
        r = self.bases.regressor()
        self.tau1_, self.tau0_ = _fit(r, x1, d1), _fit(r, x0, d0)
        return self

    def effect(self, X):
        e = self.share  # the propensity, known in a randomised test
        return e * self.tau0_.predict(X) + (1 - e) * self.tau1_.predict(X)


class DRLearner(_Learner):
    name = "dr_learner"

    def fit(self, X, y, w):
        e = self.share
        mu1, mu0 = np.empty(len(y)), np.empty(len(y))
        # Cross-fitting: each row's nuisance forecasts come from models that did not see it.
        for train, test in KFold(2, shuffle=True, random_state=self.bases.seed).split(X):
            t = TwoModel(self.bases, self.binary, self.share).fit(X.iloc[train], y[train], w[train])
            mu1[test] = _mean(t.m1_, X.iloc[test], self.binary)
            mu0[test] = _mean(t.m0_, X.iloc[test], self.binary)
        phi = mu1 - mu0 + w * (y - mu1) / e - (1 - w) * (y - mu0) / (1 - e)
        self.m_ = _fit(self.bases.regressor(), X, phi)
        return self

    def effect(self, X):
        return np.asarray(self.m_.predict(X), float)


class Response(_Learner):
    name = RESPONSE

    def fit(self, X, y, w):
        self.m_ = _fit(self.bases.outcome_model(self.binary), X[w == 1], y[w == 1])
        return self

    def effect(self, X):
        return _mean(self.m_, X, self.binary)


_CLASSES = {c.name: c for c in (TwoModel, ClassTransformation, XLearner, DRLearner, Response)}


def make_learner(name: str, bases: Bases, *, binary: bool, share: float) -> _Learner:
    """The unfitted learner ``name`` (one of ``LEARNERS`` or "response")."""
    try:
        return _CLASSES[name](bases, binary, share)
    except KeyError:
        raise SettingsError(f"Unknown uplift learner {name!r}; choose from {', '.join(LEARNERS)}.") from None


ENSEMBLE = "ensemble"


class Ensemble:
    """The mean of several fitted learners' uplift forecasts (all on the outcome's scale)."""

    name = ENSEMBLE

    def __init__(self, members: Sequence[_Learner]) -> None:
        self.members = list(members)

    def effect(self, X):
        return np.mean([m.effect(X) for m in self.members], axis=0)
