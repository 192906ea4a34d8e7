"""Customer lifetime value from a transaction model and a spend model."""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmine.clv._base import TransactionModel
from crmine.clv._gammagamma import GammaGamma
from crmine.clv._rfm import unit_days
from crmine.errors import SettingsError

__all__ = ["customer_lifetime_value"]


def customer_lifetime_value(
    transaction_model: TransactionModel,
    spend_model: GammaGamma,
    data: pd.DataFrame,
    /,
    *,
    horizon: int = 12,
    time_unit: str = "W",
    discount_rate: float = 0.01,
    margin: float = 1.0,
    freq: str = "M",
) -> pd.Series:
    """Discounted value of each customer's expected purchases over the next ``horizon`` periods.

    CLV = margin * E[spend] * sum_{m=1..horizon} (E[X(T, T + m)] - E[X(T, T + m - 1)]) / (1+d)^m,
    with m counted in ``freq`` periods (lifetimes' discrete discounting), computed on the distinct
    (frequency, recency, T) rows and the whole horizon at once.

    Parameters
    ----------
    transaction_model
        A fitted BetaGeo, ParetoNBD, ModifiedBetaGeo or BetaGeoBetaBinom.
    spend_model
        A fitted GammaGamma.
    data
        One row per customer with frequency, recency, T and monetary.
    horizon
        Number of ``freq`` periods ahead.
    time_unit
        The unit the transaction model was fit in (D, W, M, Y).
    discount_rate
        Discount rate per ``freq`` period (0.01 a month by default).
    margin
        Share of spend that is profit.
    freq
        The discounting period (D, W, M, Y).

    Returns
    -------
    pandas.Series
        Named ``clv``, indexed like ``data``.
    """
    problems = []
    if not (isinstance(horizon, int | np.integer) and horizon >= 1):
        problems.append(f"horizon must be a whole number >= 1; received {horizon!r}")
    if not (np.isfinite(discount_rate) and discount_rate > -1):
        problems.append(f"discount_rate must be a number > -1; received {discount_rate!r}")
    if not np.isfinite(margin):
        problems.append(f"margin must be a finite number; received {margin!r}")
    if problems:
        raise SettingsError(
            f"customer_lifetime_value settings break the rules: {'; '.join(problems)}."
        )
    step = unit_days(freq, what="freq") / unit_days(time_unit)
    spend = spend_model.expected_spend(spend_history(data)).to_numpy()
    times = step * np.arange(horizon + 1, dtype=float)
    alive, grid, pair = transaction_model._expected_grid(
        times, data, "customer_lifetime_value data"
    )
    grid[:, 0] = 0.0
    discount = (1.0 + discount_rate) ** -np.arange(1, horizon + 1, dtype=float)
    per_pair = np.diff(grid, axis=1) @ discount
    return pd.Series(margin * spend * alive * per_pair[pair], index=data.index, name="clv")


def spend_history(data: pd.DataFrame) -> pd.DataFrame:
    """``data`` as Gamma-Gamma may read it: repeat purchases worth nothing (free items, zero-value
    lines in real exports) tell nothing about spend, so those customers get the population's mean
    spend, as a customer without repeat purchases does."""
    worthless = (data["frequency"] > 0) & ~(data["monetary"] > 0)
    if not worthless.any():
        return data
    return data.assign(frequency=data["frequency"].where(~worthless, 0),
                       monetary=data["monetary"].where(~worthless, 0.0))
