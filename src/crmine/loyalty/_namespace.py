"""``ws.loyalty``: cohorts, activity survival and loyalty scores on a workspace's warehouse."""

from __future__ import annotations

from typing import Any

import pandas as pd

from crmine.loyalty._cohorts import cohort_retention
from crmine.loyalty._scores import loyalty_scores
from crmine.loyalty._survival import ActivitySurvival, activity_survival
from crmine.warehouse import Warehouse

__all__ = ["SCORES_TABLE", "LoyaltyNamespace"]

SCORES_TABLE = "loyalty_scores"


class LoyaltyNamespace:
    """Cohort retention, how long customers stay active, and loyalty scores (table
    ``loyalty_scores``)."""

    def __init__(self, warehouse: Warehouse) -> None:
        self._wh = warehouse

    def cohorts(self, *, as_of: Any = None, freq: str = "M") -> pd.DataFrame:
        """:func:`crmine.loyalty.cohort_retention` on this warehouse."""
        return cohort_retention(self._wh, as_of=as_of, freq=freq)

    def survival(self, *, as_of: Any = None, inactivity_days: int = 180) -> ActivitySurvival:
        """:func:`crmine.loyalty.activity_survival` on this warehouse."""
        return activity_survival(self._wh, as_of=as_of, inactivity_days=inactivity_days)

    def scores(
        self, *, as_of: Any = None, inactivity_days: int = 180, full_tenure_days: int = 730
    ) -> pd.DataFrame:
        """:func:`crmine.loyalty.loyalty_scores` on this warehouse, stored as ``loyalty_scores``."""
        out = loyalty_scores(
            self._wh,
            as_of=as_of,
            inactivity_days=inactivity_days,
            full_tenure_days=full_tenure_days,
        )
        self._wh.write(SCORES_TABLE, out)
        return out
