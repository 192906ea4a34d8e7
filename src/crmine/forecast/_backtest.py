"""Rolling-origin evaluation: which candidate forecasts one series best.

The last ``origins`` windows of ``h`` periods are held out in turn (``h`` is the requested horizon,
capped at a quarter of the history); each candidate is fitted on what came before a window and
forecasts it. A model is judged by its mean absolute error (MAE) over every held-out period;
seasonal naive is kept unless a model's MAE is strictly lower. A candidate that fails to fit at
any origin is out. The first origin's estimates may be reused at later ones (ARIMA filters with
them instead of fitting again, as statsforecast's cross-validation does with ``refit=False``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from crmine.forecast._models import MODELS, Prediction

__all__ = ["Backtest", "backtest"]

_FAILURES = (ValueError, ArithmeticError, np.linalg.LinAlgError, IndexError)


@dataclass
class Backtest:
    """The verdict on one series: the chosen model, every candidate's MAE, and the chosen one's errors."""

    model: str
    mae: dict[str, float]
    origins: int
    horizon: int
    errors: np.ndarray = field(default_factory=lambda: np.empty(0))  # actual - forecast of the chosen model
    params: dict = field(default_factory=dict)  # each model's estimates at the first origin
    scale: float = float("nan")  # in-sample MAE of one-season-ahead naive forecasts (the MASE scale)


def _windows(n: int, h: int, season: int, origins: int) -> tuple[int, list[int]]:
    h = max(1, min(h, n // 4))
    least = max(4, min(2 * season, n // 2))
    starts = [n - i * h for i in range(origins, 0, -1)]
    return h, [s for s in starts if s >= least]


def run_model(name: str, y: np.ndarray, h: int, season: int, level: float, x: np.ndarray | None,
              future_x: np.ndarray | None, params=None) -> Prediction:
    return MODELS[name](y, h, season, level, x=x, future_x=future_x, params=params)


def backtest(y: np.ndarray, *, h: int, season: int, level: float, x: np.ndarray | None,
             models: Sequence[str], origins: int) -> Backtest:
    n = len(y)
    hb, starts = _windows(n, h, season, origins)
    lag = season if n > 2 * season else 1
    scale = float(np.mean(np.abs(y[lag:] - y[:-lag]))) if n > lag else float("nan")
    if not starts:
        return Backtest("snaive", {}, 0, hb, scale=scale)
    errors: dict[str, list[np.ndarray]] = {m: [] for m in models}
    first: dict = {}
    for m in models:
        params = None
        for s in starts:
            xs, fx = (None, None) if x is None else (x[:s], x[s:s + hb])
            try:
                p = run_model(m, y[:s], hb, season, level, xs, fx, params)
            except _FAILURES:
                errors[m] = []
                break
            if not np.all(np.isfinite(p.mean)):
                errors[m] = []
                break
            if params is None:
                params = first[m] = p.params
            errors[m].append(y[s:s + hb] - np.maximum(p.mean, 0.0))
    mae = {m: float(np.mean(np.abs(np.concatenate(e)))) for m, e in errors.items() if len(e) == len(starts)}
    best = "snaive" if "snaive" in mae else min(mae, key=mae.get, default="snaive")
    for m in models:  # the order of ``models`` breaks ties
        if m in mae and mae[m] < mae.get(best, np.inf) - 1e-12:
            best = m
    chosen = np.concatenate(errors[best]) if best in mae else np.empty(0)
    return Backtest(best, mae, len(starts), hb, errors=chosen, params=first, scale=scale)
