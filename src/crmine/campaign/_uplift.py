"""UpliftModel: cross-validated choice among uplift learners, one model per treatment arm.

For each treatment arm, the arm's rows and the control's are cut into the same seeded folds
(stratified by group and outcome); every candidate (a learner of ``_learners`` over a base
learner) is fitted on the other folds and ranks the held-out one. The Qini coefficient, AUUC and
uplift@k of those out-of-fold rankings (mean and spread over the folds, in ``results_``) are set
against two rankings a learner must beat: a random one (seeded) and the response model's (an
outcome model of the treated alone, the ranking a response model gives). One more candidate,
``ensemble``, averages every learner's forecast. The ensemble is kept unless the learner with the
best mean Qini beats it by more than two standard errors of their paired fold differences, and the
choice is refitted on all rows of the arm and the control. (On Hillstrom's half samples the single
best-by-CV learner varies from split to split and so does its held-out uplift@30%; the average
varies less.)
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from pathlib import Path
from typing import Any, Self

import joblib
import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedKFold
from threadpoolctl import threadpool_limits

from crmine import _atomic
from crmine._progress import Progress
from crmine._version import __version__
from crmine.campaign._learners import (
    BASES,
    ENSEMBLE,
    LEARNERS,
    RESPONSE,
    Bases,
    Ensemble,
    make_learner,
)
from crmine.campaign._lift import check_design, outcome_kind
from crmine.campaign._metrics import auuc, qini_coefficient, uplift_at_k, uplift_by_decile
from crmine.errors import ModelMismatchError, NotFittedError, SchemaError, SettingsError
from crmine.predict._prep import continuous_columns, fingerprint, split_columns
from crmine.predict._search import read_saved
from crmine.schema import require_columns

__all__ = ["RANDOM", "UpliftModel"]

_FORMAT = "crmine.campaign.uplift_model/1"
RANDOM = "random"
# A column non-zero on this many rows, all of them inside (or all around) the outcome's non-zero
# rows, is taken for a sibling outcome measured after the contact (see _sibling_outcomes).
_SIBLING_MIN_ROWS = 20


def _sibling_outcomes(frame: pd.DataFrame, outcome: np.ndarray, columns: Sequence[str]) -> dict[str, str]:
    """Numeric columns whose non-zero rows nest with the outcome's: spend is non-zero only where a
    visit happened, a visit wherever spend is. A customer attribute recorded before the contact
    does not line up with the response like that; an outcome recorded with it does, and would
    leak the answer into the features."""
    hit = outcome != 0
    out = {}
    for c in columns:
        s = frame[c]
        if not (pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype)):
            continue
        x = pd.to_numeric(s, errors="coerce").fillna(0).to_numpy(float) != 0
        if x.all() or x.sum() < _SIBLING_MIN_ROWS or not hit.any() or hit.all():
            continue
        if not (x & ~hit).any() or not (hit & ~x).any():
            out[c] = ("non-zero only where the outcome is (or wherever it is): an outcome recorded with it, "
                      "not an attribute known before the contact; pass features= (--feature) to keep it")
    return out


class UpliftModel:
    """Who a contact moves: cross-validated uplift learners, the best kept per treatment arm.

    Parameters
    ----------
    learners
        Any of "two_model", "class_transformation", "x_learner", "dr_learner" (see
        ``crmine.campaign._learners``).
    bases
        Base learners each learner is tried with: "linear" (logistic / ridge regression),
        "additive" (the same with splines), "gradient_boosting", "random_forest".
    cv
        Number of folds.
    k
        Share of customers for ``uplift_at_k`` in ``results_``.
    seed
        Seeds the folds, the models and the random ranking.

    Examples
    --------
    The offer works for the young only; the old buy as often either way:

    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> n = 4000
    >>> age = rng.uniform(20, 70, n)
    >>> arm = rng.choice(["mail", "none"], n)
    >>> p = 0.1 + 0.2 * ((arm == "mail") & (age < 40))
    >>> frame = pd.DataFrame({"age": age, "arm": arm, "bought": (rng.random(n) < p).astype(int)})
    >>> model = UpliftModel(learners=("two_model", "class_transformation"), bases=("linear",), cv=3)
    >>> model = model.fit(frame, outcome="bought", arm="arm", control="none")
    >>> list(model.best_)  # one chosen learner per treatment arm
    ['mail']
    >>> s = model.predict_uplift(pd.DataFrame({"age": [25.0, 65.0]}))
    >>> bool(s.uplift.iloc[0] > 0.1 > s.uplift.iloc[1])
    True
    """

    def __init__(self, *, learners: Sequence[str] = LEARNERS,
                 bases: Sequence[str] = ("linear", "additive", "gradient_boosting"), cv: int = 3, k: float = 0.3,
                 seed: int = 0) -> None:
        self.learners = learners
        self.bases = bases
        self.cv = cv
        self.k = k
        self.seed = seed

    def get_params(self) -> dict[str, Any]:
        """The settings given to ``__init__``."""
        return {"learners": list(self.learners), "bases": list(self.bases), "cv": self.cv, "k": self.k,
                "seed": self.seed}

    def __repr__(self) -> str:
        state = f"best={self.best_!r}" if hasattr(self, "best_") else "not fitted"
        return f"<UpliftModel {state}>"

    def _validate_settings(self) -> None:
        problems = []
        learners = [self.learners] if isinstance(self.learners, str) else list(self.learners)
        bases = [self.bases] if isinstance(self.bases, str) else list(self.bases)
        if not learners or any(x not in LEARNERS for x in learners):
            problems.append(f"learners must be a non-empty selection of {', '.join(LEARNERS)}")
        if not bases or any(b not in BASES for b in bases):
            problems.append(f"bases must be a non-empty selection of {', '.join(BASES)}")
        if not isinstance(self.cv, int) or isinstance(self.cv, bool) or self.cv < 2:
            problems.append(f"cv must be an integer >= 2; received {self.cv!r}")
        if not isinstance(self.k, float | int) or not 0 < self.k <= 1:
            problems.append(f"k must be a share in (0, 1]; received {self.k!r}")
        if not isinstance(self.seed, int) or isinstance(self.seed, bool):
            problems.append(f"seed must be an integer; received {self.seed!r}")
        if problems:
            raise SettingsError("UpliftModel settings are invalid: " + "; ".join(problems) + ".")

    # ---- fitting --------------------------------------------------------------------------
    def fit(self, frame: pd.DataFrame, /, *, outcome: str, arm: str, control: Any,
            treatment: Any | Sequence[Any] | None = None, id_column: str | None = None,
            features: Sequence[str] | None = None, source: str = "Training frame",
            progress: Progress | None = None) -> Self:
        """Cross-validate every candidate for each treatment arm, then refit the best on all rows.

        Parameters
        ----------
        frame
            One row per customer of a randomised test.
        outcome
            The numeric outcome: 0/1 response, a count or an amount.
        arm, control
            The arm column and its control value.
        treatment
            The treatment arm(s) to model (default every arm but the control); rows of other arms
            are left out.
        id_column
            Customer identifier: not a feature; indexes the forecasts.
        features
            Columns to learn from (default: every other column, less columns that line up with the
            outcome like an outcome recorded with it; ``dropped_`` says which and why).
        source
            How errors name the data (a file name).
        progress
            Called as ``progress(step, done, total)`` after each fold of each candidate.

        Fitting runs single-threaded (BLAS and OpenMP limited to one thread).
        """
        with threadpool_limits(limits=1):
            return self._fit(frame, outcome, arm, control, treatment, id_column, features, source,
                             progress or (lambda step, done, total: None))

    def _columns(self, frame, y, outcome, arm, id_column, features, source):
        exclude: list[Hashable] = [outcome, arm] + ([id_column] if id_column else [])
        if features is not None:
            if isinstance(features, str):
                features = [features]
            require_columns(list(map(str, frame.columns)), list(features), where=source)
            clash = [c for c in features if c in exclude]
            if clash:
                raise SettingsError(f"features must not include the outcome, arm or id column ({', '.join(clash)}).")
            kept = frame[list(features)]
            numeric, categorical, dropped = split_columns(kept, exclude=[])
        else:
            numeric, categorical, dropped = split_columns(frame, exclude=exclude)
            siblings = _sibling_outcomes(frame, y, numeric)
            numeric = [c for c in numeric if c not in siblings]
            dropped.update(siblings)
        if not numeric and not categorical:
            raise SchemaError(f"{source} has no usable feature column besides {outcome} and {arm} "
                              f"(dropped: {', '.join(f'{k} ({v})' for k, v in dropped.items()) or 'none'}).")
        return numeric, categorical, dropped

    def _fit(self, frame, outcome, arm, control, treatment, id_column, features, source, progress) -> Self:
        self._validate_settings()
        if id_column is not None:
            require_columns(list(map(str, frame.columns)), [id_column], where=source)
        labels, control_text, values = check_design(frame, arm=arm, control=control, outcomes=[outcome],
                                                    source=source)
        present = sorted((a for a in labels.unique() if a != control_text), key=str)
        if treatment is None:
            arms = present
        else:
            from crmine.campaign._lift import label_text

            wanted = [treatment] if isinstance(treatment, str) or not isinstance(treatment, Sequence) else treatment
            arms = [label_text(t) for t in wanted]
            absent = [a for a in arms if a not in present]
            if absent:
                raise SchemaError(f"{source}: treatment value(s) {', '.join(map(repr, absent))} do not occur in arm "
                                  f"column {arm!r}; its treatment values are {', '.join(map(repr, present[:20]))}.")
        keep = labels.isin([*arms, control_text]).to_numpy()
        frame, labels, y = frame[keep], labels[keep], values[outcome][keep]
        kind = outcome_kind(y)
        numeric, categorical, dropped = self._columns(frame, y, outcome, arm, id_column, features, source)
        X = frame[[*numeric, *categorical]]
        splines = continuous_columns(frame, numeric)
        learners = [self.learners] if isinstance(self.learners, str) else list(self.learners)
        bases_names = [self.bases] if isinstance(self.bases, str) else list(self.bases)
        bases = {b: Bases(b, numeric, categorical, splines, self.seed) for b in bases_names}
        binary = kind == "binary"
        cands = [(f"{lrn}/{b}", lrn, b) for lrn in learners for b in bases_names]
        cands += [(f"{RESPONSE}/{b}", RESPONSE, b) for b in bases_names]

        results, best, models, responses, shares, oof = [], {}, {}, {}, {}, {}
        total, done = len(arms) * (self.cv * len(cands) + 1), 0
        for a in arms:
            rows = (labels == a).to_numpy() | (labels == control_text).to_numpy()
            Xa, ya = X[rows], y[rows]
            wa = (labels[rows] == a).to_numpy().astype(int)
            n_t, n_c = int(wa.sum()), int(len(wa) - wa.sum())
            if min(n_t, n_c) < 2 * self.cv:
                raise SchemaError(f"{source}: arm {a!r} has {n_t} and the control {n_c} row(s); each needs at least "
                                  f"{2 * self.cv} for {self.cv}-fold cross-validation.")
            share = n_t / len(wa)
            strata = wa * 2 + (ya > 0)
            folds = StratifiedKFold(n_splits=self.cv, shuffle=True, random_state=self.seed)
            scores = {name: np.empty(len(ya)) for name, _, _ in cands}
            per_fold: dict[str, list[dict[str, float]]] = {name: [] for name, _, _ in cands}
            per_fold[RANDOM] = []
            scores[ENSEMBLE], per_fold[ENSEMBLE] = np.empty(len(ya)), []
            rng = np.random.default_rng(self.seed)
            random_scores = rng.random(len(ya))
            for f, (train, test) in enumerate(folds.split(Xa, strata), start=1):
                for name, lrn, b in cands:
                    model = make_learner(lrn, bases[b], binary=binary, share=share)
                    model.fit(Xa.iloc[train], ya[train], wa[train])
                    s = model.effect(Xa.iloc[test])
                    scores[name][test] = s
                    per_fold[name].append(self._metrics(ya[test], wa[test], s))
                    done += 1
                    progress(f"{a}: {name}, fold {f} of {self.cv}", done, total)
                members = [scores[name][test] for name, lrn, _ in cands if lrn != RESPONSE]
                scores[ENSEMBLE][test] = np.mean(members, axis=0)
                per_fold[ENSEMBLE].append(self._metrics(ya[test], wa[test], scores[ENSEMBLE][test]))
                per_fold[RANDOM].append(self._metrics(ya[test], wa[test], random_scores[test]))
            for name in [*per_fold]:
                df = pd.DataFrame(per_fold[name])
                learner = RESPONSE if name.startswith(RESPONSE) else (RANDOM if name == RANDOM else "uplift")
                row = {"arm": a, "candidate": name, "kind": learner}
                for m in df.columns:
                    row[f"{m}_mean"] = float(df[m].mean())
                    row[f"{m}_std"] = float(df[m].std(ddof=1))
                results.append(row)
            arm_results = pd.DataFrame([r for r in results if r["arm"] == a]).set_index("candidate")
            name = self._choose(arm_results, per_fold)
            best[a] = name
            if name == ENSEMBLE:
                models[a] = Ensemble([make_learner(lrn, bases[b], binary=binary, share=share).fit(Xa, ya, wa)
                                      for _, lrn, b in cands if lrn != RESPONSE])
            else:
                _, lrn, b = next(c for c in cands if c[0] == name)
                models[a] = make_learner(lrn, bases[b], binary=binary, share=share).fit(Xa, ya, wa)
            resp = arm_results[arm_results.kind == RESPONSE]["qini_mean"].idxmax()
            responses[a] = make_learner(RESPONSE, bases[resp.split("/", 1)[1]], binary=binary,
                                        share=share).fit(Xa, ya, wa)
            shares[a] = share
            oof[a] = pd.DataFrame({"outcome": ya, "treated": wa, "uplift": scores[name],
                                   "response": scores[resp], RANDOM: random_scores})
            done += 1
            progress(f"{a}: refitted {name}", done, total)

        self.outcome_, self.arm_column_, self.control_ = outcome, arm, control_text
        self.id_column_, self.kind_, self.arms_ = id_column, kind, arms
        self.numeric_, self.categorical_, self.dropped_ = numeric, categorical, dropped
        self.features_ = {c: str(frame[c].dtype) for c in X.columns}
        self.results_ = pd.DataFrame(results).set_index(["arm", "candidate"])
        self.best_, self.models_, self.response_models_ = best, models, responses
        self.treated_share_, self.oof_ = shares, oof
        self.n_rows_ = int(len(frame))
        self.fingerprint_ = fingerprint(frame)
        return self

    @staticmethod
    def _choose(arm_results: pd.DataFrame, per_fold: dict[str, list[dict[str, float]]]) -> str:
        """The ensemble, unless one learner's Qini beats it by more than two standard errors of
        their paired fold differences: when the folds cannot tell them apart clearly, the steadier
        average wins."""
        single = arm_results[arm_results.kind == "uplift"]
        single = single.drop(index=ENSEMBLE, errors="ignore")
        name = str(single["qini_mean"].idxmax())
        if len(single) == 1:  # one learner: the ensemble is that learner
            return name
        diff = np.array([f["qini"] for f in per_fold[name]]) - np.array([f["qini"] for f in per_fold[ENSEMBLE]])
        return name if diff.mean() > 2 * diff.std(ddof=1) / np.sqrt(len(diff)) else ENSEMBLE

    def _metrics(self, y, w, s) -> dict[str, float]:
        return {"qini": qini_coefficient(y, w, s), "auuc": auuc(y, w, s), "uplift_at_k": uplift_at_k(y, w, s, self.k)}

    # ---- using the fitted model -------------------------------------------------------------
    def _check_fitted(self) -> None:
        if not hasattr(self, "models_"):
            raise NotFittedError("This UpliftModel is not fitted yet: call .fit(frame, outcome=..., arm=..., "
                                 "control=...) first, or UpliftModel.load(path) a saved one.")

    def _frame(self, frame: pd.DataFrame, where: str) -> pd.DataFrame:
        if not isinstance(frame, pd.DataFrame):
            raise SchemaError(f"{where} needs a pandas DataFrame; received {type(frame).__name__}.")
        needed = [*self.features_]
        require_columns(list(map(str, frame.columns)), needed, where=where,
                        hint="Score a file with the columns the model was trained on.")
        changed = {c: int((pd.to_numeric(frame[c], errors="coerce").isna() & frame[c].notna()).sum())
                   for c in self.numeric_ if not pd.api.types.is_numeric_dtype(frame[c].dtype)}
        changed = {c: n for c, n in changed.items() if n}
        if changed:
            detail = ", ".join(f"{c} ({n} value(s) not numbers)" for c, n in changed.items())
            raise ModelMismatchError(f"{where}: column(s) numeric when the model was trained now hold text: "
                                     f"{detail}. Prepare the data as for training.")
        return frame[list(self.features_)]

    def _index(self, frame: pd.DataFrame) -> pd.Index:
        if self.id_column_ and self.id_column_ in frame.columns:
            return pd.Index(frame[self.id_column_], name=self.id_column_)
        return frame.index

    def _columns_for(self, prefix: str) -> dict[str, str]:
        if len(self.arms_) == 1:
            return {self.arms_[0]: prefix}
        return {a: f"{prefix}_{a}" for a in self.arms_}

    def predict_uplift(self, frame: pd.DataFrame, /, *, where: str = "Frame to score") -> pd.DataFrame:
        """Predicted uplift per row: column ``uplift``, or ``uplift_<arm>`` per arm when several;
        indexed by the id column when the model has one and the frame holds it."""
        self._check_fitted()
        X = self._frame(frame, where)
        with threadpool_limits(limits=1):
            cols = {col: self.models_[a].effect(X) for a, col in self._columns_for("uplift").items()}
        return pd.DataFrame(cols, index=self._index(frame))

    def predict_response(self, frame: pd.DataFrame, /, *, where: str = "Frame to score") -> pd.DataFrame:
        """The response model's forecast for a treated customer (P(outcome) or its mean), per arm:
        what targeting by response would rank on."""
        self._check_fitted()
        X = self._frame(frame, where)
        with threadpool_limits(limits=1):
            cols = {col: self.response_models_[a].effect(X) for a, col in self._columns_for("response").items()}
        return pd.DataFrame(cols, index=self._index(frame))

    def summary(self) -> pd.DataFrame:
        """``results_`` with a ``best`` flag; ``attrs`` hold the outcome, its kind, arms and columns."""
        self._check_fitted()
        out = self.results_.copy()
        out["best"] = [self.best_.get(a) == c for a, c in out.index]
        out.attrs.update(outcome=self.outcome_, kind=self.kind_, arm_column=self.arm_column_, control=self.control_,
                         arms=list(self.arms_), rows=self.n_rows_, features=list(self.features_),
                         dropped=dict(self.dropped_), k=self.k)
        return out

    def decile_table(self, arm: str | None = None, *, ranking: str = "uplift") -> pd.DataFrame:
        """Out-of-fold uplift by decile of ``ranking`` (uplift, response or random) for ``arm``:
        did the top deciles really gain more?"""
        self._check_fitted()
        o = self.oof_[self._arm(arm)]
        return uplift_by_decile(o.outcome, o.treated, o[ranking])

    def card(self, path: str | Path, /, *, source: str | None = None) -> Path:
        """Write the model card (one offline HTML page of aggregates) to ``path``; see
        :func:`crmine.campaign._card.uplift_card`."""
        from crmine.campaign._card import uplift_card

        return uplift_card(self, path, source=source)

    def _arm(self, arm: str | None) -> str:
        if arm is None:
            return self.arms_[0]
        if arm not in self.oof_:
            raise SettingsError(f"No arm {arm!r} in this model; its arms: {', '.join(self.arms_)}.")
        return arm

    # ---- persistence ----------------------------------------------------------------------
    def save(self, path: str | Path, /) -> None:
        """Write the fitted model to ``path`` (joblib, atomically) with its version and fingerprint.

        The file is a pickle: load only files you made or trust.
        """
        self._check_fitted()
        state = {k: v for k, v in vars(self).items() if k.endswith("_")}
        doc = {"format": _FORMAT, "crmine_version": __version__, "settings": self.get_params(),
               "features": dict(self.features_), "fingerprint": self.fingerprint_, "state": state}
        with _atomic.replacing(path) as tmp:
            joblib.dump(doc, tmp)

    @classmethod
    def load(cls, path: str | Path, /, *, check_version: bool = True) -> Self:
        """Read a model written by :meth:`save`; ModelMismatchError when the file is damaged, not an
        uplift model, or (with ``check_version``) written by another crmine version."""
        doc = read_saved(path, rerun="Fit the uplift model and save it again.")
        if not isinstance(doc, dict) or doc.get("format") != _FORMAT:
            raise ModelMismatchError(f"{path} is not a crmine uplift model (expected format {_FORMAT!r}). "
                                     "Fit one with `crmine uplift fit`.")
        if check_version and doc.get("crmine_version") != __version__:
            raise ModelMismatchError(f"{path} was saved by crmine {doc.get('crmine_version')}, this is "
                                     f"{__version__}. Refit the model, or pass check_version=False.")
        model = cls(**doc["settings"])
        for k, v in doc["state"].items():
            setattr(model, k, v)
        return model
