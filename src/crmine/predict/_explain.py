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
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import Pipeline


def importance_table(
    pipeline: Pipeline, X: pd.DataFrame, y: np.ndarray, *, seed: int, repeats: int = 5
) -> pd.DataFrame:
    """Drop in held-out ROC AUC when each original column is shuffled, mean and std over repeats.

    The ``repeats`` shuffled copies of a column are scored in one batch (a call per column).
    """
    rng = np.random.default_rng(seed)
    base = roc_auc_score(y, pipeline.predict_proba(X)[:, 1])
    n = len(X)
    mean, std = [], []
    for col in X.columns:
        copies = []
        for _ in range(repeats):
            c = X.copy()
            c[col] = X[col].to_numpy()[rng.permutation(n)]
            copies.append(c)
        p = pipeline.predict_proba(pd.concat(copies, ignore_index=True))[:, 1].reshape(repeats, n)
        drops = np.array([base - roc_auc_score(y, p[r]) for r in range(repeats)])
        mean.append(drops.mean())
        std.append(drops.std())
    out = pd.DataFrame({"feature": list(X.columns), "importance": mean, "std": std})
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
    effects = np.zeros((n, k))  # a row whose value is already the typical one loses nothing
    for start in range(0, n, chunk):
        part = X.iloc[start : start + chunk][list(features)]
        copies, where = [], []
        for j, f in enumerate(features):
            typical = reference[f]
            differs = ~_equals(part[f], typical)
            if not differs.any():
                continue
            c = part[differs].copy()
            c[f] = np.nan if _isna(typical) else typical
            copies.append(c)
            where.append((j, np.flatnonzero(differs)))
        if not copies:
            continue
        p = pipeline.predict_proba(pd.concat(copies, ignore_index=True))[:, 1]
        at = 0
        for j, rows in where:
            effects[start + rows, j] = base[start + rows] - p[at : at + len(rows)]
            at += len(rows)
    order = np.argsort(-effects, axis=1, kind="stable")[:, :top]
    out = pd.DataFrame({"probability": base}, index=X.index)
    names = np.asarray(features, dtype=object)
    for i in range(min(top, k)):
        eff = effects[np.arange(n), order[:, i]]
        keep = eff > 0
        out[f"reason_{i + 1}"] = np.where(keep, names[order[:, i]], None)
        out[f"effect_{i + 1}"] = np.where(keep, eff, np.nan)
    return out


def _equals(values: pd.Series, typical: Any) -> np.ndarray:
    """True where a value is the typical one already (both missing counts as equal)."""
    missing = values.isna().to_numpy()
    if _isna(typical):
        return missing
    try:
        same = (values.astype(object) == typical).to_numpy(dtype=bool)
    except (TypeError, ValueError):
        same = np.zeros(len(values), dtype=bool)
    return same & ~missing


def _isna(v: Any) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False
