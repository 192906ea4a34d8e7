"""Who to contact: rank customers by expected profit, never listing one without consent.

Expected profit of contacting a customer is ``probability * margin - contact_cost``. When a consent
table is given, a customer is eligible only if they have at least one consent row and every one of
their rows has ``granted`` true (a missing or false ``granted`` counts as refused). Pass the state
of consent for the campaign's purpose and channel at the moment of export, one row per customer
(:func:`crmine._export.consent_at`), not the raw history: a withdrawal is a later row. Without a
consent table every customer is eligible, which is for simulations and tests, not for real contacts.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from crmine.errors import SchemaError, SettingsError
from crmine.schema import require_columns


@dataclass(frozen=True)
class TargetList:
    """A contact list and the counts behind it.

    Attributes
    ----------
    customers
        One row per selected customer, best first: customer_id, probability, margin,
        expected_profit, cumulative_cost, rank.
    excluded_no_consent
        Scored customers left out because consent was refused or absent.
    selected
        Rows in ``customers``.
    expected_profit
        Sum of the selected customers' expected profit.
    file
        The exported file, once the list has been exported (``ws.models.target``); else None.
    """

    customers: pd.DataFrame
    excluded_no_consent: int
    selected: int
    expected_profit: float
    file: Path | None = None


def target_list(
    scores: pd.DataFrame,
    /,
    *,
    margin: float | pd.Series,
    contact_cost: float,
    consent: pd.DataFrame | None,
    budget: float | None = None,
    top_n: int | None = None,
    min_profit: float | None = None,
) -> TargetList:
    """Rank consented customers by ``probability * margin - contact_cost`` and cut the list.

    Parameters
    ----------
    scores
        Columns customer_id and probability, one row per customer.
    margin
        Margin earned if the customer responds: one number, or a Series indexed by customer_id
        (customers it lacks are left out).
    contact_cost
        Cost of one contact.
    consent
        Columns customer_id and granted, or None to skip the consent rule (tests only).
    budget
        Largest total contact cost; customers are taken in rank order while the cost fits.
    top_n
        Largest number of customers.
    min_profit
        Smallest expected profit kept; None keeps customers whose expected profit is positive.

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"customer_id": ["a", "b", "c"], "probability": [0.5, 0.2, 0.9]})
    >>> c = pd.DataFrame({"customer_id": ["a", "b", "c"], "granted": [True, True, False]})
    >>> t = target_list(s, margin=100.0, contact_cost=10.0, consent=c)
    >>> list(t.customers["customer_id"]), t.excluded_no_consent, t.expected_profit
    (['a', 'b'], 1, 50.0)
    """
    if not isinstance(scores, pd.DataFrame):
        raise SchemaError(f"scores must be a pandas DataFrame; received {type(scores).__name__}.")
    require_columns(list(map(str, scores.columns)), ["customer_id", "probability"], where="scores")
    problems = []
    if not np.isfinite(contact_cost) or contact_cost < 0:
        problems.append("contact_cost must be a finite number >= 0")
    if budget is not None and not budget >= 0:
        problems.append("budget must be >= 0")
    if top_n is not None and (not isinstance(top_n, int) or top_n < 0):
        problems.append("top_n must be an integer >= 0")
    if problems:
        raise SettingsError("target_list settings are invalid: " + "; ".join(problems) + ".")
    p = pd.to_numeric(scores["probability"], errors="coerce")
    bad = int((p.isna() | (p < 0) | (p > 1)).sum())
    dup = int(scores["customer_id"].duplicated().sum())
    if bad or dup:
        raise SchemaError(
            f"scores breaks the rules: {bad} probability value(s) missing or outside [0, 1]; "
            f"{dup} duplicated customer_id(s). Pass one probability in [0, 1] per customer."
        )
    df = pd.DataFrame({"customer_id": scores["customer_id"].to_numpy(), "probability": p.to_numpy(float)})

    excluded = 0
    if consent is not None:
        require_columns(list(map(str, consent.columns)), ["customer_id", "granted"], where="consent")
        ok = consent["granted"].map(lambda v: v is True or (isinstance(v, (bool, np.bool_)) and bool(v)))
        per_customer = ok.groupby(consent["customer_id"].to_numpy()).all()
        allowed = set(per_customer.index[per_customer.to_numpy(dtype=bool)])
        keep = df["customer_id"].isin(allowed).to_numpy(dtype=bool)
        excluded = int((~keep).sum())
        df = df[keep]

    if isinstance(margin, pd.Series):
        df["margin"] = df["customer_id"].map(margin).astype(float).to_numpy()
        df = df[np.isfinite(df["margin"])]
    else:
        df["margin"] = float(margin)
    df["expected_profit"] = df["probability"] * df["margin"] - float(contact_cost)
    df = df.sort_values(["expected_profit", "probability"], ascending=False, kind="stable")
    floor = min_profit
    df = df[df["expected_profit"] > 0] if floor is None else df[df["expected_profit"] >= floor]
    if top_n is not None:
        df = df.head(top_n)
    df["cumulative_cost"] = float(contact_cost) * np.arange(1, len(df) + 1)
    if budget is not None:
        df = df[df["cumulative_cost"] <= budget]
    df = df.reset_index(drop=True)
    df["rank"] = np.arange(1, len(df) + 1)
    return TargetList(
        customers=df,
        excluded_no_consent=excluded,
        selected=len(df),
        expected_profit=float(df["expected_profit"].sum()),
    )
