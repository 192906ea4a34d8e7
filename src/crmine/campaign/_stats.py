"""The tests behind a lift: differences of two means with a confidence interval and a p-value.

Binary outcomes: the two-proportion z test (pooled standard error) for the p-value, and the
Newcombe hybrid score interval (Newcombe 1998, method 10; built from two Wilson intervals) or the
Wald interval for the difference. Counts and money: Welch's t test for the p-value, with Welch's
interval or a seeded bootstrap percentile interval. Every function works from per-group summaries
(count, mean, variance) except the bootstrap, which needs the rows; so the warehouse can aggregate
and only the summaries leave it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

__all__ = ["Comparison", "GroupSummary", "bootstrap_ci", "compare_binary", "compare_means", "summarise", "welch"]

BINARY_CIS = ("newcombe", "wald")
METHODS = ("bootstrap", "welch")


@dataclass(frozen=True)
class GroupSummary:
    """Count, mean and sample variance (ddof=1) of one group's outcome."""

    n: int
    mean: float
    var: float


@dataclass(frozen=True)
class Comparison:
    """Treatment minus control: the difference, its interval, the p-value and the test used."""

    lift: float
    ci_low: float
    ci_high: float
    p_value: float
    test: str


def summarise(values: np.ndarray) -> GroupSummary:
    """The :class:`GroupSummary` of an array of numbers."""
    n = len(values)
    var = float(np.var(values, ddof=1)) if n > 1 else float("nan")
    return GroupSummary(n, float(np.mean(values)) if n else float("nan"), var)


def _z(confidence: float) -> float:
    return float(stats.norm.ppf(0.5 + confidence / 2))


def _wilson(p: float, n: int, z: float) -> tuple[float, float]:
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z / denom * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


def compare_binary(t: GroupSummary, c: GroupSummary, *, confidence: float = 0.95,
                   ci: str = "newcombe") -> Comparison:
    """Two proportions: z test with the pooled standard error; Newcombe or Wald interval.

    Examples
    --------
    Newcombe's (1998) worked example 1: 56/70 against 48/80.

    >>> r = compare_binary(GroupSummary(70, 56 / 70, 0), GroupSummary(80, 48 / 80, 0))
    >>> round(r.lift, 4), round(r.ci_low, 4), round(r.ci_high, 4)
    (0.2, 0.0524, 0.3339)
    """
    z = _z(confidence)
    p1, p0, n1, n0 = t.mean, c.mean, t.n, c.n
    diff = p1 - p0
    pooled = (p1 * n1 + p0 * n0) / (n1 + n0)
    se0 = np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n0))
    p_value = float(2 * stats.norm.sf(abs(diff) / se0)) if se0 > 0 else (1.0 if diff == 0 else 0.0)
    if ci == "newcombe":
        l1, u1 = _wilson(p1, n1, z)
        l0, u0 = _wilson(p0, n0, z)
        low = diff - np.sqrt((p1 - l1) ** 2 + (u0 - p0) ** 2)
        high = diff + np.sqrt((u1 - p1) ** 2 + (p0 - l0) ** 2)
        name = "two-proportion z test; Newcombe hybrid score interval"
    else:
        se = np.sqrt(p1 * (1 - p1) / n1 + p0 * (1 - p0) / n0)
        low, high = diff - z * se, diff + z * se
        name = "two-proportion z test; Wald interval"
    return Comparison(float(diff), float(low), float(high), p_value, name)


def welch(t: GroupSummary, c: GroupSummary, *, confidence: float = 0.95) -> Comparison:
    """Welch's t test and interval for the difference of two means of unequal variances.

    Examples
    --------
    >>> r = welch(GroupSummary(10, 5.0, 4.0), GroupSummary(12, 3.0, 9.0))
    >>> round(r.lift, 3), round(r.ci_low, 3), round(r.ci_high, 3), round(r.p_value, 4)
    (2.0, -0.243, 4.243, 0.0775)
    """
    diff = t.mean - c.mean
    a, b = t.var / t.n, c.var / c.n
    se = float(np.sqrt(a + b))
    if not se > 0:  # both groups constant: no spread to test against
        p = 1.0 if diff == 0 else 0.0
        return Comparison(float(diff), float(diff), float(diff), p, "Welch t test; Welch interval")
    df = (a + b) ** 2 / (a * a / (t.n - 1) + b * b / (c.n - 1))
    q = float(stats.t.ppf(0.5 + confidence / 2, df))
    p = float(2 * stats.t.sf(abs(diff) / se, df))
    return Comparison(float(diff), diff - q * se, diff + q * se, p, "Welch t test; Welch interval")


def _boot_means(values: np.ndarray, reps: int, rng: np.random.Generator) -> np.ndarray:
    """``reps`` bootstrap means of ``values``: multinomial counts over the distinct values (exact,
    and cheap when most customers share a few values, as spend does with its zeros)."""
    n = len(values)
    uniq, counts = np.unique(values, return_counts=True)
    out = np.empty(reps)
    chunk = max(1, min(reps, 4_000_000 // max(len(uniq), 1)))
    for i in range(0, reps, chunk):
        m = min(chunk, reps - i)
        if len(uniq) < n // 2:
            draws = rng.multinomial(n, counts / n, size=m)
            out[i : i + m] = draws @ uniq / n
        else:
            out[i : i + m] = values[rng.integers(0, n, size=(m, n))].mean(axis=1)
    return out


def bootstrap_ci(treated: np.ndarray, control: np.ndarray, *, confidence: float = 0.95,
                 reps: int = 2000, seed: int = 0) -> tuple[float, float]:
    """Percentile interval of the difference of means over ``reps`` seeded resamples of each group."""
    rng = np.random.default_rng(seed)
    d = _boot_means(np.asarray(treated, float), reps, rng) - _boot_means(np.asarray(control, float), reps, rng)
    a = (1 - confidence) / 2
    low, high = np.quantile(d, [a, 1 - a])
    return float(low), float(high)


def compare_means(treated: np.ndarray | GroupSummary, control: np.ndarray | GroupSummary, *,
                  confidence: float = 0.95, method: str = "bootstrap", reps: int = 2000,
                  seed: int = 0) -> Comparison:
    """Counts or money: Welch's p-value, with a bootstrap (rows needed) or Welch interval."""
    rows = not isinstance(treated, GroupSummary)
    t = summarise(np.asarray(treated, float)) if rows else treated
    c = summarise(np.asarray(control, float)) if rows else control
    w = welch(t, c, confidence=confidence)
    if method == "welch" or not rows:
        return w
    low, high = bootstrap_ci(treated, control, confidence=confidence, reps=reps, seed=seed)
    return Comparison(w.lift, low, high, w.p_value,
                      f"Welch t test; bootstrap percentile interval ({reps} resamples, seed {seed})")
