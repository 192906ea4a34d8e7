"""The candidate models. Each takes a history ``y`` (open periods only), a horizon and a season
length, and returns a :class:`Prediction`: the mean and, where the model has them, the bounds of
its prediction interval at ``level``.

- ``snaive``: the last season repeated (the last value, when the history is shorter than two seasons).
- ``ets``: additive-error exponential smoothing with a damped additive trend, and an additive season
  when the history holds two seasons (statsmodels ETSModel; heuristic start values keep it fast).
- ``arima``: an ARMA with a constant on the seasonally differenced series (first differences when
  the history is short), its order chosen by AIC from a small grid (statsmodels SARIMAX), integrated
  back here so that the interval grows with the horizon as the full ARIMA's does.
- ``regression``: least squares on a trend, the season (dummies, or Fourier terms for long seasons)
  and the regressors, with AR(1) errors: the one that takes promotion and price.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.stats import norm

__all__ = ["MODELS", "Prediction"]


@dataclass
class Prediction:
    mean: np.ndarray
    lo: np.ndarray | None = None
    hi: np.ndarray | None = None
    params: Any = None  # what a later origin of the backtest may reuse instead of fitting again


def snaive(y: np.ndarray, h: int, season: int, level: float, **_: Any) -> Prediction:
    """The last season repeated; the normal interval widens with each season ahead."""
    n = len(y)
    if n >= 2 * season:
        mean = np.array([y[n - season + (j % season)] for j in range(h)])
        resid = y[season:] - y[:-season]
        steps = np.arange(h) // season + 1
    else:
        mean = np.full(h, y[-1], dtype=float)
        resid = np.diff(y)
        steps = np.arange(1, h + 1)
    sd = float(np.sqrt(np.mean(resid**2))) if len(resid) else 0.0
    half = norm.ppf(0.5 + level / 2) * sd * np.sqrt(steps)
    return Prediction(mean, mean - half, mean + half)


def ets(y: np.ndarray, h: int, season: int, level: float, params: Any = None, **_: Any) -> Prediction:
    """ETS(A, Ad, A) (or ETS(A, Ad, N) on short histories). ``params`` from the backtest's first
    origin are reused as they are at its later origins; the final fit starts the optimiser there."""
    import pandas as pd
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    seasonal = season > 1 and len(y) >= 2 * season + 2
    init = "heuristic" if len(y) >= 10 + 2 * season * seasonal else "estimated"
    spec = (seasonal, init)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = ETSModel(pd.Series(y, dtype=float), error="add", trend="add", damped_trend=True,
                         seasonal="add" if seasonal else None, seasonal_periods=season if seasonal else None,
                         initialization_method=init)
        reuse = params is not None and params[0] == spec and init == "heuristic"
        if reuse and params[2] == "filter":
            fit = model.smooth(params[1])
        else:
            fit = model.fit(disp=False, maxiter=200, **({"start_params": params[1]} if reuse else {}))
        frame = fit.get_prediction(start=len(y), end=len(y) + h - 1).summary_frame(alpha=1 - level)
    return Prediction(frame["mean"].to_numpy(), frame["pi_lower"].to_numpy(), frame["pi_upper"].to_numpy(),
                      params=(spec, np.asarray(fit.params), "filter"))


_ARMA_GRID = ((1, 0), (0, 1))
_ARIMA_WINDOW = 200  # the last 200 periods are plenty for an ARMA on differences


def _css(z: np.ndarray, p: int, q: int, lag: int) -> np.ndarray:
    """Conditional-sum-of-squares estimates of ``z = c + phi z[-1] + e + theta e[-1] + Theta e[-lag]
    + theta Theta e[-lag-1]``, in SARIMAX's order (intercept, ar or ma, seasonal ma)."""
    from scipy.optimize import least_squares
    from scipy.signal import lfilter

    seasonal = lag > 1

    def residuals(v: np.ndarray) -> np.ndarray:
        c, rest = v[0], v[1:]
        phi = rest[0] if p else 0.0
        theta = rest[p] if q else 0.0
        big = rest[-1] if seasonal else 0.0
        x = z[1:] - phi * z[:-1] - c if p else z - c
        ma = np.zeros(lag + 2 if seasonal else 2)
        ma[0], ma[1] = 1.0, theta
        if seasonal:
            ma[lag] += big
            ma[lag + 1] += theta * big
        return lfilter([1.0], ma, x)

    k = p + q + seasonal
    start = np.r_[np.mean(z) * (1 - 0.1 * p), np.full(k, 0.1)]
    if seasonal:
        start[-1] = -0.5
    bound = np.r_[np.inf, np.full(k, 0.98)]
    return least_squares(residuals, start, bounds=(-bound, bound), method="trf", max_nfev=200).x


def arima(y: np.ndarray, h: int, season: int, level: float, params: Any = None, **_: Any) -> Prediction:
    """ARMA(1, 0) or ARMA(0, 1) with a constant on ``(1 - B^s) y`` (or ``(1 - B) y``), with a
    seasonal MA(1) for seasons up to 12: ARIMA(p,0,q)(0,1,1)s. Each order is estimated by
    conditional sum of squares, and statsmodels' SARIMAX filters it exactly: its likelihood (AIC)
    chooses the order, and it forecasts. ``params`` from the backtest's first origin are reused
    as they are at its later origins (as ``refit=False`` does); the final fit estimates again,
    with the order the backtest used."""
    from statsmodels.tsa.arima_process import arma2ma
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    y = y[-_ARIMA_WINDOW:]
    lag = season if season > 1 and len(y) >= 2 * season + 10 else 1
    z = y[lag:] - y[:-lag]
    seasonal_ma = (0, 0, 1, lag) if 1 < lag <= 12 and len(z) >= 3 * lag else (0, 0, 0, 0)
    spec = (lag, seasonal_ma)
    reuse = params is not None and params[0] == spec
    orders = [params[1]] if reuse else list(_ARMA_GRID)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res, order = None, None
        for pq in orders:
            coef = params[2] if reuse and params[3] == "filter" else _css(z, *pq, seasonal_ma[3] or 1)
            model = SARIMAX(z, order=(pq[0], 0, pq[1]), seasonal_order=seasonal_ma, trend="c",
                            concentrate_scale=True)
            cand = model.filter(coef, cov_type="none")
            if np.isfinite(cand.llf) and (res is None or cand.aic < res.aic - 1e-9):
                res, order = cand, pq
        if res is None:
            raise ValueError("no ARMA order could be fitted")
        zhat = np.asarray(res.forecast(h), dtype=float)
        sigma2 = float(res.scale)
    # Integrate: y[T+j] = y[T+j-lag] + z[T+j]; the psi weights of the whole ARIMA give the variance.
    ext = np.concatenate([y.astype(float), np.zeros(h)])
    n = len(y)
    for j in range(h):
        ext[n + j] = ext[n + j - lag] + zhat[j]
    # statsmodels' polynomials run in increasing lag order: products are convolutions.
    ar = np.convolve(res.polynomial_ar, res.polynomial_seasonal_ar)
    ma = np.convolve(res.polynomial_ma, res.polynomial_seasonal_ma)
    delta = np.zeros(lag + 1)
    delta[0], delta[lag] = 1.0, -1.0
    psi = arma2ma(np.convolve(ar, delta), ma, lags=h)
    sd = np.sqrt(sigma2 * np.cumsum(psi**2))
    half = norm.ppf(0.5 + level / 2) * sd
    mean = ext[n:]
    return Prediction(mean, mean - half, mean + half,
                      params=(spec, order, np.asarray(res.params), "filter"))


def _design(t: np.ndarray, season: int, x: np.ndarray | None, n_fit: int) -> np.ndarray:
    """Columns: intercept, trend (scaled to the fit window), season, regressors."""
    cols = [np.ones(len(t)), t / max(n_fit, 1)]
    if season > 1 and n_fit >= 2 * season:
        if season <= 12:
            phase = t % season
            cols += [(phase == k).astype(float) for k in range(1, season)]
        else:
            for k in range(1, 4):
                cols += [np.sin(2 * np.pi * k * t / season), np.cos(2 * np.pi * k * t / season)]
    if x is not None and x.size:
        cols += list(np.asarray(x, dtype=float).T)
    return np.column_stack(cols)


def regression(y: np.ndarray, h: int, season: int, level: float, x: np.ndarray | None = None,
               future_x: np.ndarray | None = None, **_: Any) -> Prediction:
    """Trend + season + regressors by least squares, then AR(1) on the residuals (two steps)."""
    n = len(y)
    t = np.arange(n + h, dtype=float)
    xa = None if x is None else np.vstack([x, future_x])
    design = _design(t, season, xa, n)
    X, Xf = design[:n], design[n:]
    beta, *_rest = np.linalg.lstsq(X, y, rcond=None)
    e = y - X @ beta
    phi = 0.0
    if n > 3 and np.dot(e[:-1], e[:-1]) > 0:
        phi = float(np.clip(np.dot(e[1:], e[:-1]) / np.dot(e[:-1], e[:-1]), -0.95, 0.95))
    a = e[1:] - phi * e[:-1]
    dof = max(len(a) - X.shape[1] - 1, 1)
    sigma2 = float(np.dot(a, a) / dof)
    steps = np.arange(1, h + 1)
    mean = Xf @ beta + e[-1] * phi**steps
    var = sigma2 * np.cumsum(phi ** (2 * (steps - 1)))
    half = norm.ppf(0.5 + level / 2) * np.sqrt(var)
    return Prediction(mean, mean - half, mean + half)


# The order is the order of preference on ties; seasonal naive first: it is kept unless beaten.
MODELS: dict[str, Callable[..., Prediction]] = {
    "snaive": snaive,
    "ets": ets,
    "arima": arima,
    "regression": regression,
}
