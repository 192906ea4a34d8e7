"""ModelSearch: cross-validate a few standard classifiers on a customer table and keep the best.

Every candidate sees the same stratified, seeded K folds; the out-of-fold forecasts give ROC AUC,
PR AUC, log loss, Brier score, lift in the top decile and cumulative gains at 20% per fold (mean
and std in ``results_``) and a pooled calibration table. A naive one-column baseline (see
``_baseline``) is always scored next to the candidates, so a model has to beat something simple.
The candidate best on ``metric`` is refitted on all rows as ``model_``, a scikit-learn Pipeline
that takes the raw columns.
"""

from __future__ import annotations

import os
import time
from collections.abc import Hashable, Sequence
from pathlib import Path
from typing import Any, Self

import joblib
import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, train_test_split
from threadpoolctl import threadpool_limits

from crmine import _atomic
from crmine._progress import Progress
from crmine._version import __version__
from crmine.errors import ModelMismatchError, NotFittedError, SchemaError, SettingsError
from crmine.predict._baseline import BaselineClassifier
from crmine.predict._explain import importance_table, reason_table
from crmine.predict._metrics import METRICS, calibration_table, gains_table, score_all
from crmine.predict._prep import (
    as_binary,
    build_pipeline,
    continuous_columns,
    fingerprint,
    reference_values,
    resolve_positive,
    split_columns,
)
from crmine.schema import require_columns

_FORMAT = "crmine.predict.model_search/1"
CANDIDATES = ("logistic", "additive_logistic", "gradient_boosting", "random_forest")
# The candidates worth their time in routine runs: the forest rarely wins and costs the most.
QUICK_CANDIDATES = ("logistic", "additive_logistic", "gradient_boosting")
BASELINE = "baseline"
_STATE = (
    "positive_", "positive_rule_", "numeric_", "categorical_", "dropped_", "features_",
    "reference_", "n_rows_", "positive_rate_", "results_", "best_", "model_", "oof_",
    "calibration_", "permutation_importance_", "fingerprint_",
)


def read_saved(path: str | Path, *, rerun: str) -> Any:
    """What :meth:`ModelSearch.save` wrote to ``path``; a file that is empty, truncated or no
    joblib file raises ModelMismatchError saying so and what to ``rerun``."""
    try:
        return joblib.load(Path(path))
    except FileNotFoundError:
        raise
    except Exception as e:  # noqa: BLE001 - unpickling fails in many ways: EOFError, UnpicklingError, ...
        if Path(path).is_file() and Path(path).stat().st_size == 0:
            raise ModelMismatchError(f"{path} is empty (0 bytes). {rerun}") from e
        raise ModelMismatchError(
            f"{path} cannot be read ({type(e).__name__}): it is truncated or not a saved model. {rerun}"
        ) from e


def _estimator(name: str, seed: int) -> tuple[Any, bool]:
    """The unfitted estimator for candidate ``name`` and whether its numbers are scaled."""
    if name == "logistic":
        return LogisticRegression(C=1.0, solver="lbfgs", max_iter=2000), True
    if name == "additive_logistic":
        # Splines on the continuous columns (see build_pipeline) add a few coefficients per
        # column, so the penalty is stronger than the plain model's.
        return LogisticRegression(C=0.3, solver="lbfgs", max_iter=3000), True
    if name == "gradient_boosting":
        return (
            HistGradientBoostingClassifier(
                learning_rate=0.05, max_iter=150, max_depth=3, min_samples_leaf=50,
                l2_regularization=5.0, early_stopping=False, random_state=seed,
            ),
            False,
        )
    if name == "random_forest":
        return (
            RandomForestClassifier(
                n_estimators=300, min_samples_leaf=5, n_jobs=1, random_state=seed
            ),
            False,
        )
    raise SettingsError(f"Unknown candidate {name!r}; choose from {', '.join(CANDIDATES)}.")


class ModelSearch:
    """Cross-validated choice among standard classifiers for a two-class customer outcome.

    Parameters
    ----------
    target
        Column holding the outcome (two labels: text, bool or 0/1).
    positive
        The label to forecast. None picks "Yes", "yes", "1", True or 1 when present, else the
        minority class; ``positive_rule_`` and ``summary()`` say which rule applied.
    id_column
        Customer identifier: dropped from the features and used as the index of the forecasts.
    candidates
        Any of "logistic" (L2-regularised, linear in every column), "additive_logistic" (the same
        with a cubic spline per continuous column, so that e.g. churn can fall steeply over the
        first months of tenure and then flatten), "gradient_boosting" (histogram boosting) and
        "random_forest". The baseline is always added.
    metric
        One of roc_auc, pr_auc, log_loss, brier, lift_top_decile, gains_at_20; picks ``best_``.
    cv
        Number of stratified folds.
    seed
        Seeds the folds, the models and the explanation split.

    Examples
    --------
    Churn falls with tenure, steeply at first; contract type matters too:

    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> n = 2000
    >>> tenure = rng.exponential(24, n)
    >>> contract = rng.choice(["monthly", "yearly"], n)
    >>> logit = 1.0 - 0.9 * np.log1p(tenure) + 1.2 * (contract == "monthly")
    >>> churned = np.where(rng.random(n) < 1 / (1 + np.exp(-logit)), "yes", "no")
    >>> frame = pd.DataFrame({"tenure": tenure, "contract": contract, "churned": churned})
    >>> search = ModelSearch(target="churned", candidates=("logistic", "additive_logistic"), cv=3)
    >>> search = search.fit(frame)
    >>> search.best_
    'additive_logistic'
    >>> bool(search.results_.loc["additive_logistic", "roc_auc_mean"] > search.results_.loc["baseline", "roc_auc_mean"])
    True
    >>> search.predict_proba(frame.head(2)).round(2).tolist()  # P(churned == "yes")
    [0.19, 0.34]
    >>> list(search.permutation_importance_.feature)
    ['tenure', 'contract']
    """

    def __init__(
        self,
        *,
        target: str,
        positive: Any = None,
        id_column: str | None = None,
        candidates: Sequence[str] = CANDIDATES,
        metric: str = "roc_auc",
        cv: int = 5,
        seed: int = 0,
    ) -> None:
        self.target = target
        self.positive = positive
        self.id_column = id_column
        self.candidates = candidates
        self.metric = metric
        self.cv = cv
        self.seed = seed

    def get_params(self) -> dict[str, Any]:
        """The settings given to ``__init__``."""
        return {
            "target": self.target, "positive": self.positive, "id_column": self.id_column,
            "candidates": list(self.candidates), "metric": self.metric, "cv": self.cv,
            "seed": self.seed,
        }

    def __repr__(self) -> str:
        state = f"best={self.best_!r}" if hasattr(self, "best_") else "not fitted"
        return f"<ModelSearch target={self.target!r} {state}>"

    # ---- fitting --------------------------------------------------------------------------
    def _validate_settings(self) -> None:
        problems = []
        if not isinstance(self.target, str) or not self.target:
            problems.append("target must be a column name")
        cands = [self.candidates] if isinstance(self.candidates, str) else list(self.candidates)
        unknown = [c for c in cands if c not in CANDIDATES]
        if unknown or not cands:
            problems.append(
                f"candidates must be a non-empty selection of {', '.join(CANDIDATES)}; "
                f"unknown: {', '.join(map(str, unknown)) or '(none given)'}"
            )
        if self.metric not in METRICS:
            problems.append(f"metric must be one of {', '.join(METRICS)}; received {self.metric!r}")
        if not isinstance(self.cv, int) or isinstance(self.cv, bool) or self.cv < 2:
            problems.append(f"cv must be an integer >= 2; received {self.cv!r}")
        if not isinstance(self.seed, int) or isinstance(self.seed, bool):
            problems.append(f"seed must be an integer; received {self.seed!r}")
        if problems:
            raise SettingsError("ModelSearch settings are invalid: " + "; ".join(problems) + ".")

    def fit(self, frame: pd.DataFrame, /, *, holdout: pd.DataFrame | None = None,
            progress: Progress | None = None) -> Self:
        """Cross-validate every candidate and the baseline, then refit the best on all rows.

        With ``holdout`` (rows with the same columns, typically a later period: out-of-time
        validation), every candidate is also fitted on all of ``frame`` and scored on it; the
        metrics are in ``holdout_results_``. The best is still chosen by cross-validation.
        ``progress(step, done, total)`` is called after each fold of each candidate.

        Fitting runs single-threaded (BLAS and OpenMP limited to one thread): on small shared
        machines gradient boosting's threads otherwise cost twenty times the time. Scoring uses
        every core.
        """
        with threadpool_limits(limits=1):
            return self._fit(frame, holdout, progress or (lambda step, done, total: None))

    def _holdout_results(self, pipes: dict[str, Any], X: pd.DataFrame, y: np.ndarray,
                         holdout: pd.DataFrame) -> pd.DataFrame:
        """Each candidate fitted on all of (X, y) and scored on ``holdout``."""
        self._check_frame(holdout, "Holdout frame")
        require_columns(list(map(str, holdout.columns)), [self.target], where="Holdout frame")
        y_out = as_binary(holdout[self.target], self.positive_)
        if y_out.min() == y_out.max():
            raise SchemaError(f"Holdout frame holds one class of {self.target!r} only; it cannot be scored.")
        X_out = holdout[list(self.features_)]
        rows = []
        for name, pipe in pipes.items():
            model = self.model_ if name == self.best_ else clone(pipe).fit(X, y)
            rows.append({"candidate": name, **score_all(y_out, model.predict_proba(X_out)[:, 1])})
        return pd.DataFrame(rows).set_index("candidate")

    def _fit(self, frame: pd.DataFrame, holdout: pd.DataFrame | None,
             progress: Progress) -> Self:
        self._validate_settings()
        if not isinstance(frame, pd.DataFrame):
            raise SchemaError(f"ModelSearch.fit needs a pandas DataFrame; received {type(frame).__name__}.")
        needed = [self.target] + ([self.id_column] if self.id_column else [])
        require_columns(list(map(str, frame.columns)), needed, where="Training frame")
        positive, rule = resolve_positive(frame[self.target], self.positive, name=self.target)
        y = as_binary(frame[self.target], positive)
        exclude: list[Hashable] = [self.target] + ([self.id_column] if self.id_column else [])
        numeric, categorical, dropped = split_columns(frame, exclude=exclude)
        features = [*numeric, *categorical]
        if not features:
            raise SchemaError(
                f"Training frame has no usable feature column besides {', '.join(needed)} "
                f"(dropped: {', '.join(f'{k} ({v})' for k, v in dropped.items()) or 'none'})."
            )
        minority = int(min(y.sum(), len(y) - y.sum()))
        if minority < self.cv:
            raise SchemaError(
                f"Training frame has {minority} row(s) of its rarer class, fewer than cv={self.cv} "
                "folds. Add rows or lower cv."
            )
        X = frame[features]
        cands = [self.candidates] if isinstance(self.candidates, str) else list(self.candidates)
        splines = continuous_columns(frame, numeric)
        pipes: dict[str, Any] = {}
        for name in cands:
            est, scale = _estimator(name, self.seed)
            pipes[name] = build_pipeline(
                est, numeric, categorical, scale=scale,
                splines=splines if name == "additive_logistic" else (),
            )
        pipes[BASELINE] = BaselineClassifier(numeric=tuple(numeric))

        folds = StratifiedKFold(n_splits=self.cv, shuffle=True, random_state=self.seed)
        oof = {name: np.empty(len(y)) for name in pipes}
        per_fold: dict[str, list[dict[str, float]]] = {name: [] for name in pipes}
        seconds = dict.fromkeys(pipes, 0.0)
        total, done = self.cv * len(pipes) + 1, 0
        for fold, (train, test) in enumerate(folds.split(X, y), start=1):
            for name, pipe in pipes.items():
                t0 = time.perf_counter()
                est = clone(pipe).fit(X.iloc[train], y[train])
                p = est.predict_proba(X.iloc[test])[:, 1]
                seconds[name] += time.perf_counter() - t0
                oof[name][test] = p
                per_fold[name].append(score_all(y[test], p))
                done += 1
                progress(f"{name}, fold {fold} of {self.cv}", done, total)

        rows = []
        for name in pipes:
            df = pd.DataFrame(per_fold[name])
            row: dict[str, Any] = {"candidate": name}
            for m in METRICS:
                row[f"{m}_mean"] = float(df[m].mean())
                row[f"{m}_std"] = float(df[m].std(ddof=1))
            row["cv_seconds"] = seconds[name]
            rows.append(row)
        results = pd.DataFrame(rows).set_index("candidate")
        col = results.loc[cands, f"{self.metric}_mean"]
        best = str(col.idxmax() if METRICS[self.metric] else col.idxmin())

        self.positive_, self.positive_rule_ = positive, rule
        self.numeric_, self.categorical_, self.dropped_ = numeric, categorical, dropped
        self.features_ = {c: str(frame[c].dtype) for c in features}
        self.reference_ = reference_values(X, numeric, categorical)
        self.n_rows_ = len(frame)
        self.positive_rate_ = float(y.mean())
        self.results_ = results
        self.best_ = best
        self.oof_ = pd.DataFrame(oof, index=frame.index).assign(_y=y).rename(columns={"_y": "actual"})
        self.calibration_ = {name: calibration_table(y, oof[name]) for name in pipes}
        self.model_ = clone(pipes[best]).fit(X, y)

        # Permutation importance on a held-out 20%, with a copy of the best fitted on the other 80%.
        X_tr, X_te, y_tr, y_te = train_test_split(
            X, y, test_size=0.2, stratify=y, random_state=self.seed
        )
        held = clone(pipes[best]).fit(X_tr, y_tr)
        # Shuffled copies are scored in a few large batches, which gain from every core.
        with threadpool_limits(limits=os.cpu_count()):
            self.permutation_importance_ = importance_table(held, X_te, y_te, seed=self.seed)
        self.fingerprint_ = fingerprint(frame)
        if holdout is not None:
            self.holdout_results_ = self._holdout_results(pipes, X, y, holdout)
        progress(f"refitted {best}, explained", total, total)
        return self

    # ---- using the fitted search -------------------------------------------------------------
    def _check_fitted(self) -> None:
        if not hasattr(self, "model_"):
            raise NotFittedError(
                "This ModelSearch is not fitted yet: call .fit(frame) first, or "
                "ModelSearch.load(path) a saved one."
            )

    def _check_frame(self, frame: pd.DataFrame, where: str) -> None:
        if not isinstance(frame, pd.DataFrame):
            raise SchemaError(f"{where} needs a pandas DataFrame; received {type(frame).__name__}.")
        needed = [*self.features_] + ([self.id_column] if self.id_column else [])
        require_columns(
            list(map(str, frame.columns)), needed, where=where,
            hint="Score a frame with the columns the model was trained on (see features_).",
        )
        # A numeric feature that now holds text would be scored as missing, silently; say so.
        changed = {}
        for c in self.numeric_:
            s = frame[c]
            if not pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
                unreadable = int((pd.to_numeric(s, errors="coerce").isna() & s.notna()).sum())
                if unreadable:
                    changed[c] = unreadable
        if changed:
            detail = ", ".join(f"{c} ({n} value(s) not numbers)" for c, n in changed.items())
            raise ModelMismatchError(
                f"{where}: column(s) numeric when the model was trained now hold text: {detail}. "
                "Prepare the data as for training, or refit the model on the new layout."
            )

    def _index(self, frame: pd.DataFrame) -> pd.Index:
        return pd.Index(frame[self.id_column], name=self.id_column) if self.id_column else frame.index

    def predict_proba(self, frame: pd.DataFrame, /) -> pd.Series:
        """P(positive) per row, indexed by ``id_column`` when it was given."""
        self._check_fitted()
        self._check_frame(frame, "Frame to score")
        p = self.model_.predict_proba(frame[list(self.features_)])[:, 1]
        return pd.Series(p, index=self._index(frame), name="probability")

    def reasons(self, frame: pd.DataFrame, /, *, top: int = 3) -> pd.DataFrame:
        """The ``top`` features that raise each row's score most (see ``_explain``).

        Each feature in turn is replaced by its training median or mode; ``effect_i`` is the
        probability the row loses when its ``reason_i`` is made typical. Rows with fewer than
        ``top`` score-raising features have empty trailing reasons.
        """
        self._check_fitted()
        if not isinstance(top, int) or top < 1:
            raise SettingsError(f"top must be a positive integer; received {top!r}.")
        self._check_frame(frame, "Frame to explain")
        X = frame[list(self.features_)]
        # Unlike fitting, scoring large batches gains from every core.
        out = reason_table(self.model_, X, self.reference_, list(self.features_), top=top)
        out.index = self._index(frame)
        return out

    def summary(self) -> pd.DataFrame:
        """``results_`` with a ``best`` flag; ``attrs`` hold the target, positive label and rule."""
        self._check_fitted()
        out = self.results_.copy()
        out["best"] = out.index == self.best_
        out.attrs.update(
            target=self.target, positive=self.positive_, positive_rule=self.positive_rule_,
            rows=self.n_rows_, positive_rate=self.positive_rate_, metric=self.metric,
            features=list(self.features_), dropped=dict(self.dropped_),
        )
        return out

    def gains_table(self, candidate: str | None = None) -> pd.DataFrame:
        """Deciles of the out-of-fold scores of ``candidate`` (default the best): lift and gains."""
        self._check_fitted()
        name = candidate or self.best_
        if name not in self.oof_:
            raise SettingsError(f"No candidate {name!r}; fitted: {', '.join(self.results_.index)}.")
        y = self.oof_["actual"].to_numpy()
        return gains_table(y, self.oof_[name].to_numpy())

    # ---- persistence ----------------------------------------------------------------------
    def save(self, path: str | Path, /) -> None:
        """Write the fitted search to ``path`` (joblib) with its version, settings and fingerprint.

        The file is a pickle: load only files you made or trust.
        """
        self._check_fitted()
        doc = {
            "format": _FORMAT,
            "crmine_version": __version__,
            "settings": self.get_params(),
            "features": dict(self.features_),
            "fingerprint": self.fingerprint_,
            "state": {k: getattr(self, k) for k in (*_STATE, "holdout_results_") if hasattr(self, k)},
        }
        # The temporary file keeps the extension, from which joblib picks a compression.
        with _atomic.replacing(path) as tmp:  # a kill never leaves a partial model at ``path``
            joblib.dump(doc, tmp)

    @classmethod
    def load(cls, path: str | Path, /, *, check_version: bool = True,
             trained_on: pd.DataFrame | None = None) -> Self:
        """Read a search written by :meth:`save`.

        Raises ModelMismatchError when the file is empty, truncated or not a saved ModelSearch,
        (with ``check_version``) was written by another crmine version, or (given ``trained_on``)
        was fitted on other data than that frame: same columns, rows and values in any order.
        """
        return cls._from_saved(read_saved(path, rerun="Fit the model and save it again."), path,
                               check_version=check_version, trained_on=trained_on)

    @classmethod
    def _from_saved(cls, doc: Any, path: str | Path, /, *, check_version: bool = True,
                    trained_on: pd.DataFrame | None = None) -> Self:
        """The search in ``doc``, as :func:`read_saved` returned it from ``path``."""
        if not isinstance(doc, dict) or doc.get("format") != _FORMAT:
            raise ModelMismatchError(f"{path} is not a crmine ModelSearch file (expected format {_FORMAT!r}).")
        if check_version and doc.get("crmine_version") != __version__:
            raise ModelMismatchError(
                f"{path} was saved by crmine {doc.get('crmine_version')}, this is {__version__}. "
                "Refit the model, or pass check_version=False to load it anyway."
            )
        if trained_on is not None and doc.get("fingerprint") != fingerprint(trained_on):
            raise ModelMismatchError(
                f"{path} was not fitted on the frame given as trained_on (the training-data "
                "fingerprints differ: other columns, rows or values). Refit it on this data."
            )
        settings = dict(doc["settings"])
        settings["candidates"] = tuple(settings["candidates"])
        model = cls(**settings)
        for k, v in doc["state"].items():
            setattr(model, k, v)
        return model
