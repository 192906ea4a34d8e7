"""Uplift: crmine's meta-learners vs causalml's on 1M synthetic customers x 30 features.

A randomised test (half treated) with a planted per-customer uplift: every learner is fitted on
800k rows and scores 200k held out; we print fit seconds, scoring throughput, the held-out Qini
coefficient and the Spearman correlation with the planted uplift. Both libraries get the same base
learner (scikit-learn's HistGradientBoosting with the workbench's settings) and one thread each.
Then the whole ``UpliftModel`` search (every learner, 3 folds, ensemble) on 100k rows, as
``crmine uplift fit`` runs it.

causalml is a benchmark peer only: ``pip install causalml`` (it brings xgboost, shap, numba,
statsmodels, seaborn, ...). Without it, crmine's figures are printed alone.

Usage: ``python bench/bench_uplift.py [--rows 1000000]``
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from scipy import stats  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from crmine.campaign import UpliftModel, qini_coefficient  # noqa: E402
from crmine.campaign._learners import Bases, make_learner  # noqa: E402

N_NUMERIC, N_CATEGORICAL = 26, 4


def synthetic(n: int, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """Features, treatment, 0/1 outcome and true uplift."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, N_NUMERIC)).astype(np.float64)
    cats = rng.integers(0, 5, size=(n, N_CATEGORICAL))
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(N_NUMERIC)])
    for j in range(N_CATEGORICAL):
        frame[f"c{j}"] = np.asarray(["a", "b", "c", "d", "e"], dtype=object)[cats[:, j]]
    w = rng.integers(0, 2, n)
    base = -2.0 + 0.5 * X[:, 0] - 0.4 * X[:, 1] + 0.3 * (cats[:, 0] == 2)
    tau_logit = 0.6 * (X[:, 2] > 0) - 0.3 * (X[:, 3] > 1) + 0.4 * (cats[:, 1] == 1) + 0.2 * X[:, 4]
    p0 = 1 / (1 + np.exp(-base))
    p1 = 1 / (1 + np.exp(-(base + tau_logit)))
    y = (rng.random(n) < np.where(w == 1, p1, p0)).astype(int)
    return frame, w, y, p1 - p0


def crmine_learners(Xtr, wtr, ytr, Xte, wte, yte, tau_te) -> list[dict]:
    numeric = [c for c in Xtr.columns if c.startswith("x")]
    categorical = [c for c in Xtr.columns if c.startswith("c")]
    bases = Bases("gradient_boosting", numeric, categorical, [], 0)
    rows = []
    for name in ("two_model", "class_transformation", "x_learner", "dr_learner"):
        learner = make_learner(name, bases, binary=True, share=float(wtr.mean()))
        t = time.perf_counter()
        with threadpool_limits(limits=1):
            learner.fit(Xtr, ytr, wtr)
        fit_s = time.perf_counter() - t
        t = time.perf_counter()
        with threadpool_limits(limits=1):
            s = learner.effect(Xte)
        score_s = time.perf_counter() - t
        rows.append({"library": "crmine", "learner": name, "fit_s": fit_s, "rows_per_s": len(Xte) / score_s,
                     "qini": qini_coefficient(yte, wte, s), "spearman": stats.spearmanr(s, tau_te).statistic})
        print(f"   crmine   {name:22s} fit {fit_s:7.1f} s   score {len(Xte) / score_s:>11,.0f} rows/s   "
              f"Qini {rows[-1]['qini']:.4f}   Spearman {rows[-1]['spearman']:.3f}", flush=True)
    return rows


def causalml_learners(Xtr, wtr, ytr, Xte, wte, yte, tau_te) -> list[dict]:
    try:
        from causalml.inference.meta import BaseDRLearner, BaseTClassifier, BaseXClassifier
    except ImportError:
        print("   causalml is not installed (pip install causalml): no peer figures.", flush=True)
        return []
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    def clf():
        return HistGradientBoostingClassifier(learning_rate=0.05, max_iter=150, max_depth=3, min_samples_leaf=50,
                                              l2_regularization=5.0, early_stopping=False, random_state=0)

    def reg():
        return HistGradientBoostingRegressor(learning_rate=0.05, max_iter=150, max_depth=3, min_samples_leaf=50,
                                             l2_regularization=5.0, early_stopping=False, random_state=0)

    # causalml takes a numeric matrix: one-hot the categories once, outside the timing.
    Mtr = pd.get_dummies(Xtr, dtype=float).to_numpy()
    Mte = pd.get_dummies(Xte, dtype=float).to_numpy()
    e_tr, e_te = np.full(len(Mtr), wtr.mean()), np.full(len(Mte), wtr.mean())
    learners = {
        "T (BaseTClassifier)": lambda: BaseTClassifier(learner=clf()),
        "X (BaseXClassifier)": lambda: BaseXClassifier(outcome_learner=clf(), effect_learner=reg()),
        "DR (BaseDRLearner)": lambda: BaseDRLearner(learner=reg()),
    }
    rows = []
    for name, make in learners.items():
        model = make()
        kw = {} if name.startswith("T") else {"p": e_tr}
        t = time.perf_counter()
        with threadpool_limits(limits=1):
            model.fit(Mtr, treatment=wtr, y=ytr, **kw)
        fit_s = time.perf_counter() - t
        t = time.perf_counter()
        with threadpool_limits(limits=1):
            s = np.ravel(model.predict(Mte, **({} if name.startswith("T") else {"p": e_te})))
        score_s = time.perf_counter() - t
        rows.append({"library": "causalml", "learner": name, "fit_s": fit_s, "rows_per_s": len(Mte) / score_s,
                     "qini": qini_coefficient(yte, wte, s), "spearman": stats.spearmanr(s, tau_te).statistic})
        print(f"   causalml {name:22s} fit {fit_s:7.1f} s   score {len(Mte) / score_s:>11,.0f} rows/s   "
              f"Qini {rows[-1]['qini']:.4f}   Spearman {rows[-1]['spearman']:.3f}", flush=True)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--search-rows", type=int, default=100_000)
    args = ap.parse_args()
    frame, w, y, tau = synthetic(args.rows)
    cut = int(0.8 * args.rows)
    print(f"   {args.rows:,} customers x {frame.shape[1]} features ({N_NUMERIC} numeric, {N_CATEGORICAL} categorical); "
          f"fit on {cut:,}, score {args.rows - cut:,}; planted average uplift {tau.mean():.4f}", flush=True)
    parts = (frame.iloc[:cut], w[:cut], y[:cut], frame.iloc[cut:], w[cut:], y[cut:], tau[cut:])
    ours = crmine_learners(*parts)
    peers = causalml_learners(*parts)
    pairs = [("two_model", "T (BaseTClassifier)"), ("x_learner", "X (BaseXClassifier)"),
             ("dr_learner", "DR (BaseDRLearner)")]
    for a, b in pairs:
        o = next((r for r in ours if r["learner"] == a), None)
        p = next((r for r in peers if r["learner"] == b), None)
        if o and p:
            print(f"   {a:12s} vs causalml {b:20s}: fit {p['fit_s'] / o['fit_s']:.2f}x as fast, scoring "
                  f"{o['rows_per_s'] / p['rows_per_s']:.2f}x, Qini {o['qini']:.4f} vs {p['qini']:.4f}", flush=True)

    n = args.search_rows
    sub = frame.iloc[:n].assign(arm=np.where(w[:n] == 1, "mail", "none"), bought=y[:n])
    t = time.perf_counter()
    model = UpliftModel(seed=0).fit(sub, outcome="bought", arm="arm", control="none")
    fit_s = time.perf_counter() - t
    t = time.perf_counter()
    s = model.predict_uplift(frame.iloc[cut:]).uplift.to_numpy()
    score_s = time.perf_counter() - t
    print(f"   UpliftModel search on {n:,} rows (4 learners x 3 bases, 3 folds, ensemble): {fit_s:.0f} s, chose "
          f"{model.best_['mail']}; scores {len(s) / score_s:,.0f} rows/s; held-out Qini "
          f"{qini_coefficient(y[cut:], w[cut:], s):.4f}, Spearman {stats.spearmanr(s, tau[cut:]).statistic:.3f}",
          flush=True)


if __name__ == "__main__":
    main()
