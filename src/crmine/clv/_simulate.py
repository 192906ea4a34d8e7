"""Vectorised simulators of the BTYD models, for recovery tests and benchmarks.

Each draws customer-level latent traits from the model's mixing distributions and returns the
summary a fit takes, so that a fit can be checked against the parameters that made the data.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

__all__ = [
    "simulate_beta_geo",
    "simulate_beta_geo_beta_binom",
    "simulate_gamma_gamma",
    "simulate_pareto_nbd",
    "simulate_shifted_beta_geometric",
]


def _observation(
    rng: np.random.Generator, n: int, T: float | tuple[float, float], resolution: float | None
):
    """Times observed: a constant T, or uniform between two bounds; rounded to ``resolution``."""
    t = rng.uniform(T[0], T[1], n) if isinstance(T, tuple) else np.full(n, float(T))
    return _round(t, resolution)


def _round(t: np.ndarray, resolution: float | None) -> np.ndarray:
    if resolution is None:
        return t
    return np.floor(t / resolution + 1e-9) * resolution


def _summary(x, t_x, T, resolution):
    # purchase times to the nearest grid point (mean-zero error, as flooring both the first and the
    # last purchase time to days is in real data), never past T
    if resolution is not None:
        t_x = np.round(t_x / resolution) * resolution
    t_x = np.minimum(t_x, T)
    return pd.DataFrame(
        {"frequency": x.astype("int64"), "recency": np.where(x > 0, t_x, 0.0), "T": T}
    )


def simulate_beta_geo(
    n_customers: int,
    /,
    *,
    params: Mapping[str, float],
    T: float | tuple[float, float] = 39.0,
    resolution: float | None = 1 / 7,
    modified: bool = False,
    seed: int = 0,
) -> pd.DataFrame:
    """Summaries (frequency, recency, T) drawn from BG/NBD (or MBG/NBD with ``modified``).

    ``T`` is one length or (low, high) for uniform lengths; ``resolution`` rounds times down (1/7:
    to days when time is in weeks), so that many customers share a row, as in real data.
    """
    rng = np.random.default_rng(seed)
    r, alpha, a, b = (params[k] for k in ("r", "alpha", "a", "b"))
    T = _observation(rng, n_customers, T, resolution)
    lam = rng.gamma(r, 1.0 / alpha, n_customers)
    p = rng.beta(a, b, n_customers)
    n_events = rng.poisson(lam * T)
    # BG/NBD: drop out after the j-th repeat purchase, j ~ Geometric(p) on 1, 2, ...
    # MBG/NBD: also at time 0, so the number of repeat purchases possible is Geometric(p) - 1.
    geo = rng.geometric(p)
    limit = geo - 1 if modified else geo
    x = np.minimum(n_events, limit)
    # the x-th of n uniform event times on (0, T] is T * Beta(x, n - x + 1)
    t_x = np.zeros(n_customers)
    pos = x > 0
    t_x[pos] = T[pos] * rng.beta(x[pos], n_events[pos] - x[pos] + 1)
    return _summary(x, t_x, T, resolution)


def simulate_pareto_nbd(
    n_customers: int,
    /,
    *,
    params: Mapping[str, float],
    T: float | tuple[float, float] = 39.0,
    resolution: float | None = 1 / 7,
    seed: int = 0,
) -> pd.DataFrame:
    """Summaries (frequency, recency, T) drawn from Pareto/NBD."""
    rng = np.random.default_rng(seed)
    r, alpha, s, beta = (params[k] for k in ("r", "alpha", "s", "beta"))
    T = _observation(rng, n_customers, T, resolution)
    lam = rng.gamma(r, 1.0 / alpha, n_customers)
    mu = rng.gamma(s, 1.0 / beta, n_customers)
    active = np.minimum(rng.exponential(1.0 / mu), T)
    x = rng.poisson(lam * active)
    t_x = np.zeros(n_customers)
    pos = x > 0
    t_x[pos] = active[pos] * rng.beta(x[pos], 1.0)  # the last of x uniform times on (0, active]
    return _summary(x, t_x, T, resolution)


def simulate_beta_geo_beta_binom(
    n_customers: int, /, *, params: Mapping[str, float], periods: int = 6, seed: int = 0
) -> pd.DataFrame:
    """Summaries (frequency, recency, periods, weights) drawn from BG/BB, one row per history."""
    rng = np.random.default_rng(seed)
    al, be, ga, de = (params[k] for k in ("alpha", "beta", "gamma", "delta"))
    p = rng.beta(al, be, n_customers)
    theta = rng.beta(ga, de, n_customers)
    alive = np.ones(n_customers, dtype=bool)
    x = np.zeros(n_customers, dtype=np.int64)
    t_x = np.zeros(n_customers, dtype=np.int64)
    for t in range(1, periods + 1):
        alive &= rng.random(n_customers) >= theta  # dropout at the start of each period
        buy = alive & (rng.random(n_customers) < p)
        x += buy
        t_x = np.where(buy, t, t_x)
    df = pd.DataFrame({"frequency": x, "recency": t_x, "periods": periods})
    return df.groupby(["frequency", "recency", "periods"]).size().rename("weights").reset_index()


def simulate_gamma_gamma(
    frequency: np.ndarray, /, *, params: Mapping[str, float], seed: int = 0
) -> np.ndarray:
    """Mean repeat-transaction values for customers with the given frequencies (0 where 0)."""
    rng = np.random.default_rng(seed)
    p, q, g = (params[k] for k in ("p", "q", "gamma"))
    x = np.asarray(frequency, dtype=float)
    nu = rng.gamma(q, 1.0 / g, len(x))
    # the mean of x Gamma(p, nu) values is Gamma(p x, x nu)
    out = np.zeros(len(x))
    pos = x > 0
    out[pos] = rng.gamma(p * x[pos], 1.0 / (nu[pos] * x[pos]))
    return out


def simulate_shifted_beta_geometric(
    n_customers: int, /, *, params: Mapping[str, float], periods: int = 12, seed: int = 0
) -> np.ndarray:
    """Customers of one cohort still active at periods 0..``periods``, drawn from sBG."""
    rng = np.random.default_rng(seed)
    theta = rng.beta(params["alpha"], params["beta"], n_customers)
    lifetime = rng.geometric(theta)  # churns in period 1, 2, ...
    return np.array([(lifetime > t).sum() for t in range(periods + 1)], dtype=float)
