"""How well a ranking finds the customers the contact moves: Qini and uplift curves, their
normalised areas, uplift@k and uplift by decile.

Customers are ranked by predicted uplift, highest first; tied scores enter together. After the top
``t`` customers, with ``N_T(t)``, ``N_C(t)`` treated and control customers among them and
``Y_T(t)``, ``Y_C(t)`` the sums of their outcomes:

- Qini curve (Radcliffe 2007): ``Q(t) = Y_T(t) - Y_C(t) * N_T(t) / N_C(t)``, the incremental
  outcome among the treated in the top ``t``;
- uplift curve: ``U(t) = (Y_T(t) / N_T(t) - Y_C(t) / N_C(t)) * t``.

A curve's *coefficient* is its area above the straight line from the origin to its end point (the
random ranking), as a share of the same area for the perfect ranking; the perfect ranking puts
treated customers with the largest outcomes first and control customers with the largest outcomes
last (for 0/1 outcomes: treated responders, then non-responders, then control responders). So 0 is
random, 1 perfect, and the coefficient is defined for money as for responses. ``uplift_at_k``
follows scikit-uplift's "overall" strategy: the top ``k`` share of all rows, then the mean outcome
of the treated among them minus that of the control.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["auuc", "qini_coefficient", "qini_curve", "uplift_at_k", "uplift_by_decile", "uplift_curve"]


def _arrays(y, treatment, score) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    y = np.asarray(y, float)
    w = np.asarray(treatment).astype(int)
    s = np.asarray(score, float)
    if not len(y) == len(w) == len(s):
        raise ValueError(f"y, treatment and score differ in length ({len(y)}, {len(w)}, {len(s)}).")
    return y, w, s


def _cumulative(y, w, s):
    """Cumulative counts and sums at each distinct score, highest first, from the origin."""
    order = np.argsort(-s, kind="stable")
    y, w, s = y[order], w[order], s[order]
    ends = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1]  # last row of each run of equal scores
    n_t = np.cumsum(w)[ends].astype(float)
    y_t = np.cumsum(y * w)[ends]
    y_c = np.cumsum(y * (1 - w))[ends]
    n = (ends + 1).astype(float)
    n_c = n - n_t
    zero = np.zeros(1)
    return (np.r_[zero, n], np.r_[zero, n_t], np.r_[zero, n_c], np.r_[zero, y_t], np.r_[zero, y_c])


def _ratio(a, b):
    return np.divide(a, b, out=np.zeros_like(a), where=b > 0)


def qini_curve(y, treatment, score) -> tuple[np.ndarray, np.ndarray]:
    """Customers targeted and the Qini value ``Q(t)`` at each distinct score (from (0, 0))."""
    n, n_t, n_c, y_t, y_c = _cumulative(*_arrays(y, treatment, score))
    return n, y_t - y_c * _ratio(n_t, n_c)


def uplift_curve(y, treatment, score) -> tuple[np.ndarray, np.ndarray]:
    """Customers targeted and ``U(t)`` at each distinct score (from (0, 0))."""
    n, n_t, n_c, y_t, y_c = _cumulative(*_arrays(y, treatment, score))
    return n, (_ratio(y_t, n_t) - _ratio(y_c, n_c)) * n


def _gain(curve, y, w, s) -> float:
    """Area between the curve of ``s`` and the random line, over the same for the perfect ranking."""
    def area_above_random(score):
        x, q = curve(y, w, score)
        return np.trapezoid(q, x) - x[-1] * q[-1] / 2

    perfect = area_above_random(np.where(w == 1, y, -y))
    return float(area_above_random(s) / perfect) if perfect != 0 else float("nan")


def qini_coefficient(y, treatment, score) -> float:
    """Normalised area between the Qini curve and random: 0 random, 1 perfect.

    Examples
    --------
    >>> y = [1, 0, 1, 0, 0, 1, 0, 0]
    >>> w = [1, 1, 1, 1, 0, 0, 0, 0]
    >>> qini_coefficient(y, w, [4, 3, 2, 1, 0, -1, -2, -3]) > 0 > qini_coefficient(y, w, [-4, -3, -2, -1, 0, 1, 2, 3])
    True
    >>> qini_coefficient(y, w, [1, 0, 1, 0, 0, -1, 0, 0])  # the perfect ranking
    1.0
    """
    y, w, s = _arrays(y, treatment, score)
    return _gain(qini_curve, y, w, s)


def auuc(y, treatment, score) -> float:
    """Normalised area between the uplift curve and random (as :func:`qini_coefficient`)."""
    y, w, s = _arrays(y, treatment, score)
    return _gain(uplift_curve, y, w, s)


def uplift_at_k(y, treatment, score, k: float = 0.3) -> float:
    """Mean outcome of the treated minus that of the control among the top ``k`` of all rows.

    Examples
    --------
    >>> uplift_at_k([1, 0, 0, 0, 1, 0], [1, 0, 1, 0, 1, 0], [6, 5, 4, 3, 2, 1], k=0.5)
    0.5
    """
    y, w, s = _arrays(y, treatment, score)
    top = np.argsort(-s, kind="stable")[: int(len(s) * k)]
    yt, yc = y[top][w[top] == 1], y[top][w[top] == 0]
    if not len(yt) or not len(yc):
        return float("nan")
    return float(yt.mean() - yc.mean())


def uplift_by_decile(y, treatment, score, *, bins: int = 10) -> pd.DataFrame:
    """Bins of predicted uplift, highest first: counts, the outcome means of each group, the
    realised uplift and the mean predicted uplift."""
    y, w, s = _arrays(y, treatment, score)
    order = np.argsort(-s, kind="stable")
    n = len(s)
    decile = np.empty(n, dtype=int)
    decile[order] = np.minimum((np.arange(n) * bins) // max(n, 1), bins - 1) + 1
    df = pd.DataFrame({"decile": decile, "y": y, "w": w, "s": s})
    rows = []
    for d, g in df.groupby("decile"):
        t, c = g[g.w == 1], g[g.w == 0]
        mt = float(t.y.mean()) if len(t) else float("nan")
        mc = float(c.y.mean()) if len(c) else float("nan")
        rows.append({"decile": int(d), "n_treatment": len(t), "n_control": len(c), "treatment_mean": mt,
                     "control_mean": mc, "uplift": mt - mc, "predicted_uplift": float(g.s.mean())})
    return pd.DataFrame(rows)
