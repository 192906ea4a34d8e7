"""Scores of a probability forecast: ranking, calibration and the targeting view (lift, gains)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score

# name -> True when larger is better
METRICS: dict[str, bool] = {
    "roc_auc": True,
    "pr_auc": True,
    "log_loss": False,
    "brier": False,
    "lift_top_decile": True,
    "gains_at_20": True,
}


def _top(p: np.ndarray, share: float) -> np.ndarray:
    """Indices of the ``share`` highest scores (ties broken by position, deterministically)."""
    k = max(1, int(np.ceil(share * len(p))))
    return np.argsort(-p, kind="stable")[:k]


def lift(y: np.ndarray, p: np.ndarray, share: float = 0.1) -> float:
    """Positive rate in the top ``share`` of scores over the overall positive rate."""
    base = y.mean()
    return float(y[_top(p, share)].mean() / base) if base > 0 else float("nan")


def gains(y: np.ndarray, p: np.ndarray, share: float = 0.2) -> float:
    """Share of all positives found in the top ``share`` of scores (cumulative gains)."""
    total = y.sum()
    return float(y[_top(p, share)].sum() / total) if total > 0 else float("nan")


def score_all(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    """Every metric of :data:`METRICS` for labels ``y`` (0/1) and probabilities ``p``."""
    pc = np.clip(p, 1e-15, 1 - 1e-15)
    return {
        "roc_auc": float(roc_auc_score(y, p)),
        "pr_auc": float(average_precision_score(y, p)),
        "log_loss": float(log_loss(y, pc, labels=[0, 1])),
        "brier": float(brier_score_loss(y, p)),
        "lift_top_decile": lift(y, p, 0.1),
        "gains_at_20": gains(y, p, 0.2),
    }


def calibration_table(y: np.ndarray, p: np.ndarray, *, bins: int = 10) -> pd.DataFrame:
    """Equal-width probability bins: count, mean forecast and observed positive rate in each."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    idx = np.clip(np.digitize(p, edges[1:-1], right=False), 0, bins - 1)
    df = pd.DataFrame({"bin": idx, "y": y, "p": p})
    g = df.groupby("bin").agg(count=("y", "size"), mean_predicted=("p", "mean"), observed_rate=("y", "mean"))
    g = g.reindex(range(bins))
    g.insert(0, "upper", edges[1:])
    g.insert(0, "lower", edges[:-1])
    g["count"] = g["count"].fillna(0).astype(int)
    return g.reset_index(drop=True)


def gains_table(y: np.ndarray, p: np.ndarray, *, bins: int = 10) -> pd.DataFrame:
    """Deciles of score (highest first): positives, rate, lift and cumulative gains."""
    order = np.argsort(-p, kind="stable")
    ys = y[order]
    n = len(ys)
    decile = np.minimum((np.arange(n) * bins) // n, bins - 1) + 1
    df = pd.DataFrame({"decile": decile, "y": ys})
    g = df.groupby("decile").agg(count=("y", "size"), positives=("y", "sum"))
    g["rate"] = g["positives"] / g["count"]
    g["lift"] = g["rate"] / y.mean()
    g["cumulative_gains"] = g["positives"].cumsum() / y.sum()
    return g.reset_index()
