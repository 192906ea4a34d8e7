"""What drives the scores: permutation importance on the original columns, and per-row reasons.

Per-row reasons use *replacement by the typical value*: for each row and each feature, the feature
is set to its training median (numbers) or mode (categories), the row is scored again, and the
reason's effect is ``p(row) - p(row with the feature made typical)``. A positive effect means the
row's own value of that feature raises its score; the top reasons are the largest positive
effects. It is a one-at-a-time, model-agnostic attribution (interactions are not split out and
effects need not add up to the score), chosen because it is simple to state and to check.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.inspection import permutation_importance
from sklearn.pipeline import Pipeline


def importance_table(
    pipeline: Pipeline, X: pd.DataFrame, y: np.ndarray, *, seed: int, repeats: int = 5
) -> pd.DataFrame:
    """Drop in held-out ROC AUC when each original column is shuffled, mean and std over repeats."""
    r = permutation_importance(
        pipeline, X, y, scoring="roc_auc", n_repeats=repeats, random_state=seed, n_jobs=1
    )
    out = pd.DataFrame(
        {"feature": list(X.columns), "importance": r.importances_mean, "std": r.importances_std}
    )
    return out.sort_values("importance", ascending=False, kind="stable").reset_index(drop=True)


def reason_table(
    pipeline: Pipeline,
    X: pd.DataFrame,
    reference: Mapping[str, Any],
    features: Sequence[str],
    *,
    top: int,
    chunk: int = 2000,
) -> pd.DataFrame:
    """``probability``, then ``reason_i`` (feature name) and ``effect_i`` for i = 1..top, per row."""
    n, k = len(X), len(features)
    base = pipeline.predict_proba(X)[:, 1]
    effects = np.empty((n, k))
    for start in range(0, n, chunk):
        part = X.iloc[start : start + chunk][list(features)]
        m = len(part)
        copies = []
        for f in features:
            c = part.copy()
            c[f] = np.nan if _isna(reference[f]) else reference[f]
            copies.append(c)
        big = pd.concat(copies, ignore_index=True)
        p = pipeline.predict_proba(big)[:, 1].reshape(k, m).T
        effects[start : start + m] = base[start : start + m, None] - p
    order = np.argsort(-effects, axis=1, kind="stable")[:, :top]
    out = pd.DataFrame({"probability": base}, index=X.index)
    names = np.asarray(features, dtype=object)
    for i in range(min(top, k)):
        eff = effects[np.arange(n), order[:, i]]
        keep = eff > 0
        out[f"reason_{i + 1}"] = np.where(keep, names[order[:, i]], None)
        out[f"effect_{i + 1}"] = np.where(keep, eff, np.nan)
    return out


def _isna(v: Any) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False
