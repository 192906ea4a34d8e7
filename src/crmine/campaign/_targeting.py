"""Who gets which offer, or none: targeting by expected incremental profit under a budget.

The expected incremental profit of giving customer ``i`` offer ``a`` is
``uplift_ia * value_a - cost_a``: the predicted uplift (in responses, or in spend) times what one
unit of it is worth (the margin per response, or the margin rate on spend), less the contact cost.
Each customer gets the offer with the highest expected incremental profit when it is positive, else
none. Under a budget, customers are taken in order of that profit while the cost fits (a greedy
knapsack; exact when every contact costs the same).

For comparison, the same budget is spent the classic way, on the customers with the highest
response forecast (each given the offer of their best response forecast), and that list's
expected incremental profit is counted with the same uplift forecasts: what ranking by response
leaves on the table.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from crmine.errors import SchemaError, SettingsError

__all__ = ["UpliftTargets", "uplift_targets"]


@dataclass(frozen=True)
class UpliftTargets:
    """A contact list chosen by expected incremental profit, and how response targeting compares.

    Attributes
    ----------
    customers
        One row per selected customer, best first: the id, offer, uplift, expected_profit, cost,
        cumulative_cost, rank.
    selected
        Rows in ``customers``.
    expected_profit
        Sum of the selected customers' expected incremental profit.
    cost
        Total contact cost of the list.
    response_expected_profit
        Expected incremental profit of a list of the same budget chosen by response forecast
        (None when no response forecast was given).
    response_selected
        Customers on that list.
    """

    customers: pd.DataFrame
    selected: int
    expected_profit: float
    cost: float
    response_expected_profit: float | None
    response_selected: int | None

    def to_dict(self) -> dict[str, float | int | None]:
        return {"selected": self.selected, "expected_profit": self.expected_profit, "cost": self.cost,
                "response_expected_profit": self.response_expected_profit,
                "response_selected": self.response_selected}


def _per_offer(value: float | Mapping[str, float], offers: list[str], what: str) -> np.ndarray:
    if isinstance(value, Mapping):
        missing = [o for o in offers if o not in value]
        if missing:
            raise SettingsError(f"{what} lacks offer(s) {', '.join(missing)}; give one number per offer.")
        out = np.array([float(value[o]) for o in offers])
    else:
        out = np.full(len(offers), float(value))
    if not np.isfinite(out).all():
        raise SettingsError(f"{what} must be finite numbers.")
    return out


def _take(order: np.ndarray, cost: np.ndarray, budget: float | None) -> np.ndarray:
    """Rows of ``order`` kept, in order, while the cumulative cost fits the budget (greedy)."""
    if budget is None:
        return order
    kept, spent = [], 0.0
    for i in order:
        if spent + cost[i] <= budget + 1e-9:
            kept.append(i)
            spent += cost[i]
    return np.asarray(kept, dtype=int)


def uplift_targets(uplift: pd.DataFrame, /, *, value: float | Mapping[str, float],
                   cost: float | Mapping[str, float], budget: float | None = None,
                   response: pd.DataFrame | None = None) -> UpliftTargets:
    """Choose who gets which offer (or none) by expected incremental profit.

    Parameters
    ----------
    uplift
        Predicted uplift, one column per offer, indexed by customer (as
        :meth:`UpliftModel.predict_uplift` returns it: ``uplift`` or ``uplift_<offer>``).
    value
        What one unit of uplift is worth (margin per response, or margin rate on spend); one number
        or one per offer.
    cost
        Cost of one contact; one number or one per offer.
    budget
        Largest total contact cost (None: every customer with a positive expected profit).
    response
        Response forecasts with the same columns as ``uplift`` (``response`` / ``response_<offer>``,
        as :meth:`UpliftModel.predict_response` gives): the ranking to compare with.

    Examples
    --------
    >>> import pandas as pd
    >>> up = pd.DataFrame({"uplift": [0.10, 0.01, 0.05, -0.02]}, index=pd.Index(list("abcd"), name="id"))
    >>> resp = pd.DataFrame({"response": [0.2, 0.9, 0.3, 0.8]}, index=up.index)
    >>> t = uplift_targets(up, value=40.0, cost=1.0, budget=2.0, response=resp)
    >>> t.customers["id"].tolist(), round(t.expected_profit, 2), round(t.response_expected_profit, 2)
    (['a', 'c'], 4.0, -2.4)
    """
    if not isinstance(uplift, pd.DataFrame) or uplift.shape[1] == 0:
        raise SchemaError("uplift must be a DataFrame with one column of predicted uplift per offer.")
    if budget is not None and not (np.isfinite(budget) and budget >= 0):
        raise SettingsError(f"budget must be a number >= 0; received {budget!r}.")
    cols = [str(c) for c in uplift.columns]
    offers = [c[len("uplift_"):] if c.startswith("uplift_") else c for c in cols]
    vals = _per_offer(value, offers, "value")
    costs = _per_offer(cost, offers, "cost")
    if (costs < 0).any():
        raise SettingsError("cost must be >= 0.")
    u = uplift.to_numpy(float)
    if not np.isfinite(u).all():
        raise SchemaError("uplift holds missing or infinite forecasts; score every customer first.")
    profit = u * vals - costs
    best = profit.argmax(axis=1)
    rows = np.arange(len(u))
    best_profit = profit[rows, best]
    best_cost = costs[best]
    eligible = np.flatnonzero(best_profit > 0)
    order = eligible[np.argsort(-best_profit[eligible], kind="stable")]
    chosen = _take(order, best_cost, budget)
    name = uplift.index.name or "customer_id"
    out = pd.DataFrame({
        name: uplift.index.to_numpy()[chosen],
        "offer": np.asarray(offers, dtype=object)[best[chosen]],
        "uplift": u[chosen, best[chosen]],
        "expected_profit": best_profit[chosen],
        "cost": best_cost[chosen],
    })
    out["cumulative_cost"] = out["cost"].cumsum()
    out["rank"] = np.arange(1, len(out) + 1)
    spent = float(out["cost"].sum())

    r_profit = r_selected = None
    if response is not None:
        if list(map(str, response.columns)) != [c.replace("uplift", "response", 1) for c in cols] \
                or len(response) != len(uplift):
            raise SchemaError("response must have one row per customer of uplift and the matching columns "
                              "(response, or response_<offer>).")
        p = response.to_numpy(float)
        pick = p.argmax(axis=1)
        by_response = np.argsort(-p[rows, pick], kind="stable")
        # The same money, spent down the response ranking (no profit cut-off: it cannot see one).
        r_cost = costs[pick]
        r_chosen = _take(by_response, r_cost, spent if budget is None else budget)
        r_chosen = r_chosen[np.cumsum(r_cost[r_chosen]) <= spent + 1e-9]
        r_profit = float(profit[r_chosen, pick[r_chosen]].sum())
        r_selected = int(len(r_chosen))
    return UpliftTargets(out, len(out), float(out["expected_profit"].sum()), spent, r_profit, r_selected)
