"""Designing a test: how many customers, how large a control group, and who goes where.

Sizes use the normal approximation for a two-sided test of the difference of two means at level
``alpha`` with power ``power``, the treated share ``t`` and control share ``c`` of ``N``
customers:

- a response rate (``baseline`` p0, lift ``mde`` so p1 = p0 + mde, pooled p = t p1 + c p0):
  ``N = (z_a sqrt(p (1 - p) (1/t + 1/c)) + z_b sqrt(p1 (1 - p1) / t + p0 (1 - p0) / c))^2 / mde^2``
  (Fleiss, Levin & Paik 2003, eq. 4.14, for unequal groups);
- a mean with standard deviation ``sd``: ``N = (z_a + z_b)^2 sd^2 (1/t + 1/c) / mde^2``.

A control group costs the responses it forgoes, so :func:`smallest_control_share` finds the
smallest control share of a given list that still detects ``mde``. :func:`assign` draws the groups:
seeded, exact shares within each stratum, and independent of the file's row order when an id
column is given.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, stats

from crmine.errors import SchemaError, SettingsError
from crmine.schema import require_columns

__all__ = ["ExperimentDesign", "assign", "detection_power", "minimum_detectable_lift", "sample_size",
           "smallest_control_share"]


@dataclass(frozen=True)
class ExperimentDesign:
    """The sizes of a test that detects ``mde`` with probability ``power`` at level ``alpha``."""

    n_treatment: int
    n_control: int
    n_total: int
    control_share: float
    baseline: float
    mde: float
    alpha: float
    power: float
    outcome: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _check(baseline: float, mde: float | None, alpha: float, power_: float, sd: float | None,
           control_share: float | None = None) -> None:
    problems = []
    if sd is None and not 0 < baseline < 1:
        problems.append(f"baseline must be a response rate in (0, 1); received {baseline!r} (for a mean, pass sd=)")
    if sd is not None and not (np.isfinite(sd) and sd > 0):
        problems.append(f"sd must be a positive number; received {sd!r}")
    if mde is not None:
        if not (np.isfinite(mde) and mde != 0):
            problems.append(f"mde must be a non-zero lift; received {mde!r}")
        elif sd is None and not 0 < baseline + mde < 1:
            problems.append(f"baseline + mde must stay a rate in (0, 1); received {baseline!r} + {mde!r}")
    if not 0 < alpha < 1:
        problems.append(f"alpha must be in (0, 1); received {alpha!r}")
    if not 0 < power_ < 1:
        problems.append(f"power must be in (0, 1); received {power_!r}")
    if control_share is not None and not 0 < control_share < 1:
        problems.append(f"control_share must be in (0, 1); received {control_share!r}")
    if problems:
        raise SettingsError("Test design settings are invalid: " + "; ".join(problems) + ".")


def detection_power(n_treatment: int, n_control: int, *, baseline: float, mde: float, alpha: float = 0.05,
          sd: float | None = None) -> float:
    """Probability that a test of these group sizes finds a true lift of ``mde`` (two-sided).

    Examples
    --------
    >>> round(detection_power(3000, 3000, baseline=0.10, mde=0.02), 3)
    0.697
    """
    _check(baseline, mde, alpha, 0.5, sd)
    za = stats.norm.ppf(1 - alpha / 2)
    if sd is not None:
        se = sd * math.sqrt(1 / n_treatment + 1 / n_control)
        return float(stats.norm.cdf(abs(mde) / se - za))
    p0, p1 = baseline, baseline + mde
    p = (n_treatment * p1 + n_control * p0) / (n_treatment + n_control)
    se0 = math.sqrt(p * (1 - p) * (1 / n_treatment + 1 / n_control))
    se1 = math.sqrt(p1 * (1 - p1) / n_treatment + p0 * (1 - p0) / n_control)
    return float(stats.norm.cdf((abs(mde) - za * se0) / se1))


def sample_size(*, baseline: float, mde: float, alpha: float = 0.05, power: float = 0.8,  # noqa: A002
                control_share: float = 0.5, sd: float | None = None) -> ExperimentDesign:
    """Customers needed in each group to detect a lift of ``mde`` over ``baseline``.

    Parameters
    ----------
    baseline
        The control group's expected response rate (or mean, with ``sd``).
    mde
        The minimum detectable lift, absolute (0.02 = two points of response rate).
    alpha, power
        Level of the two-sided test and the chance of detecting ``mde``.
    control_share
        Share of the test held out as control.
    sd
        Standard deviation of the outcome, for a mean (spend); None for a response rate.

    Examples
    --------
    >>> d = sample_size(baseline=0.10, mde=0.02)
    >>> d.n_treatment, d.n_control
    (3841, 3841)
    >>> sample_size(baseline=50.0, mde=5.0, sd=40.0).n_control
    1005
    """
    _check(baseline, mde, alpha, power, sd, control_share)
    t, c = 1 - control_share, control_share
    za, zb = stats.norm.ppf(1 - alpha / 2), stats.norm.ppf(power)
    if sd is not None:
        n = (za + zb) ** 2 * sd ** 2 * (1 / t + 1 / c) / mde ** 2
        kind = "mean"
    else:
        p0, p1 = baseline, baseline + mde
        p = t * p1 + c * p0
        n = (za * math.sqrt(p * (1 - p) * (1 / t + 1 / c)) + zb * math.sqrt(p1 * (1 - p1) / t + p0 * (1 - p0) / c)) ** 2
        n /= mde ** 2
        kind = "rate"
    nt, nc = math.ceil(n * t - 1e-9), math.ceil(n * c - 1e-9)
    return ExperimentDesign(nt, nc, nt + nc, control_share, baseline, mde, alpha, power, kind)


def minimum_detectable_lift(n_treatment: int, n_control: int, *, baseline: float, alpha: float = 0.05,
                            power: float = 0.8, sd: float | None = None) -> float:  # noqa: A002
    """The smallest positive lift these group sizes detect with probability ``power``.

    Examples
    --------
    >>> round(minimum_detectable_lift(3841, 3841, baseline=0.10), 4)
    0.02
    """
    _check(baseline, None, alpha, power, sd)
    if min(n_treatment, n_control) < 1:
        raise SettingsError("Both groups need at least one customer.")
    if sd is not None:
        za, zb = stats.norm.ppf(1 - alpha / 2), stats.norm.ppf(power)
        return float((za + zb) * sd * math.sqrt(1 / n_treatment + 1 / n_control))
    f = lambda m: detection_power(n_treatment, n_control, baseline=baseline, mde=m, alpha=alpha) - power  # noqa: E731
    top = (1 - baseline) * (1 - 1e-9)
    if f(top) < 0:
        raise SettingsError(f"Groups of {n_treatment} and {n_control} cannot reach power {power} at any lift "
                            f"over a baseline of {baseline}.")
    return float(optimize.brentq(f, 1e-9, top, xtol=1e-10))


def smallest_control_share(n_total: int, *, baseline: float, mde: float, alpha: float = 0.05,
                           power: float = 0.8, sd: float | None = None) -> ExperimentDesign:  # noqa: A002
    """The smallest control share of a list of ``n_total`` customers that detects ``mde``.

    Examples
    --------
    >>> d = smallest_control_share(100_000, baseline=0.10, mde=0.02)
    >>> d.n_control, d.n_treatment
    (2017, 97983)
    """
    _check(baseline, mde, alpha, power, sd)
    if not isinstance(n_total, int) or n_total < 4:
        raise SettingsError(f"n_total must be an integer >= 4; received {n_total!r}.")
    p = detection_power

    def reached(nc: int) -> bool:
        return p(n_total - nc, nc, baseline=baseline, mde=mde, alpha=alpha, sd=sd) >= power

    half = n_total // 2
    if not reached(half):
        need = sample_size(baseline=baseline, mde=mde, alpha=alpha, power=power, sd=sd)
        raise SettingsError(f"{n_total} customers cannot detect a lift of {mde} with power {power} at any "
                            f"control share; an even split needs {need.n_total} in all. Contact more customers or "
                            "accept a larger mde.")
    lo, hi = 1, half  # power grows with the control share up to about half: bisect on the count
    while lo < hi:
        mid = (lo + hi) // 2
        if reached(mid):
            hi = mid
        else:
            lo = mid + 1
    return ExperimentDesign(n_total - lo, lo, n_total, lo / n_total, baseline, mde, alpha, power,
                      "mean" if sd is not None else "rate")


def assign(frame: pd.DataFrame, /, *, control_share: float = 0.5, treatments: Sequence[str] = ("treatment",),
           control: str = "control", strata: Sequence[str] = (), id_column: str | None = None, seed: int = 0,
           column: str = "group") -> pd.DataFrame:
    """A copy of ``frame`` with ``column`` holding each customer's group, drawn at random.

    Within each stratum (a combination of the ``strata`` columns) ``round(n * control_share)``
    customers go to ``control`` and the rest are dealt in turn to ``treatments``. The same list and
    seed give the same groups; with ``id_column`` they do not depend on the row order either.

    Examples
    --------
    >>> import pandas as pd
    >>> f = pd.DataFrame({"customer_id": [f"c{i}" for i in range(10)], "region": ["N", "S"] * 5})
    >>> g = assign(f, control_share=0.2, strata=["region"], id_column="customer_id", seed=1)
    >>> g.groupby("region")["group"].value_counts().to_dict()
    {('N', 'treatment'): 4, ('N', 'control'): 1, ('S', 'treatment'): 4, ('S', 'control'): 1}
    >>> g.equals(assign(f.iloc[::-1], control_share=0.2, strata=["region"], id_column="customer_id", seed=1).iloc[::-1])
    True
    """
    if not isinstance(frame, pd.DataFrame):
        raise SchemaError(f"assign needs a pandas DataFrame; received {type(frame).__name__}.")
    strata = [strata] if isinstance(strata, str) else list(strata)
    treatments = [treatments] if isinstance(treatments, str) else list(treatments)
    problems = []
    if not 0 < control_share < 1:
        problems.append(f"control_share must be in (0, 1); received {control_share!r}")
    if not treatments or len(set(treatments)) != len(treatments) or control in treatments:
        problems.append("treatments must be distinct names, none equal to the control's")
    if column in frame.columns:
        problems.append(f"the list has a column {column!r} already; choose another name for the group column")
    if problems:
        raise SettingsError("Assignment settings are invalid: " + "; ".join(problems) + ".")
    require_columns(list(map(str, frame.columns)), [*strata, *([id_column] if id_column else [])],
                    where="The target list")
    if id_column is not None:
        ids = frame[id_column]
        if ids.isna().any() or ids.duplicated().any():
            raise SchemaError(f"Column {id_column!r} must identify each customer once: "
                              f"{int(ids.isna().sum())} empty, {int(ids.duplicated().sum())} duplicated.")
        order = np.argsort(ids.astype(str).to_numpy(), kind="stable")
    else:
        order = np.arange(len(frame))
    rng = np.random.default_rng(seed)
    groups = np.empty(len(frame), dtype=object)
    keys = (frame[strata].astype(str).agg("\x1f".join, axis=1).to_numpy()[order] if strata
            else np.zeros(len(frame), dtype=object))
    for key in sorted(set(keys)):
        rows = order[keys == key]
        rows = rows[rng.permutation(len(rows))]
        n_c = int(round(len(rows) * control_share))
        groups[rows[:n_c]] = control
        for i, r in enumerate(rows[n_c:]):
            groups[r] = treatments[i % len(treatments)]
    out = frame.copy()
    out[column] = groups
    return out
