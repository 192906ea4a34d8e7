"""``ws.customers``: the customer table of a workspace, questions over it, RFM and behaviours."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import ibis.expr.types as ir
import pandas as pd

from crmine._dates import as_of_day
from crmine.behaviour import (
    behaviour_counts,
    behaviour_groups,
    group_profiles,
    rfm_scores,
    rfm_segment_summary,
    rfm_transitions,
)
from crmine.errors import SettingsError, WorkspaceError
from crmine.features._customer_table import customer_table
from crmine.features._query import crosstab, select_customers
from crmine.warehouse import Warehouse

__all__ = ["CustomersNamespace", "RfmResult"]

TABLE = "customer_table"
INFO = "customer_table_info"


@dataclass(frozen=True)
class RfmResult:
    """RFM scores per customer and the size and value of each named segment."""

    as_of: str
    scores: pd.DataFrame
    segments: pd.DataFrame


class CustomersNamespace:
    """Build the customer table; count, list and cross-tabulate customers; RFM; behaviours."""

    def __init__(self, warehouse: Warehouse, analysis: Mapping[str, Any], root: Path | None = None) -> None:
        self._wh = warehouse
        self._analysis = analysis
        self._root = Path(".") if root is None else Path(root)  # where exports/ lives

    # -- the table ------------------------------------------------------------------------------
    def build(self, *, as_of: Any = None) -> int:
        """Compute the customer table as of a day (default: the last transaction day) and store it.

        The table and its recorded as-of day change together: in one transaction on DuckDB. On an
        engine without transactions the old day is dropped first, so a build that dies half-way
        leaves a table without a day, which :meth:`as_of` reports, never one with another day's.
        """
        day = self._as_of(as_of)
        table = customer_table(self._wh, as_of=day, derived=self._derived())
        info = pd.DataFrame({"as_of": [day], "built": [datetime.now(UTC).replace(tzinfo=None)]})
        with self._wh.transaction():
            self._wh.drop(INFO)
            self._wh.write(TABLE, table)
            self._wh.write(INFO, info)
        return self._wh.count(TABLE)

    def table(self) -> ir.Table:
        """The stored customer table (an Ibis expression)."""
        if not self._wh.has_table(TABLE):
            raise WorkspaceError("The customer table has not been built. Run `crmine customers build DIR` first.")
        return self._wh.table(TABLE)

    def as_of(self) -> pd.Timestamp:
        """The day the stored customer table describes; WorkspaceError when none is recorded."""
        self.table()
        day = None
        if self._wh.has_table(INFO):
            day = self._wh.execute(self._wh.table(INFO).as_of.max(), what="read customer_table_info")
        if day is None or pd.isna(day):
            raise WorkspaceError(
                f"The customer table has no recorded as-of day ({INFO} is missing or empty: its last build "
                "did not finish). Run `crmine customers build DIR` again."
            )
        return pd.Timestamp(day)

    # -- questions ------------------------------------------------------------------------------
    def count(self, condition: str | None = None, /) -> int:
        """How many customers meet ``condition`` (the filter language; see `crmine query --help`)."""
        return self._wh.count(select_customers(self.table(), condition))

    def list(self, condition: str | None = None, /, *, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """The customers who meet ``condition``, ordered by customer_id."""
        t = select_customers(self.table(), condition)
        t = t.select(*(columns or t.columns))
        return self._wh.execute(t.order_by("customer_id"), what="list customers")

    def export(self, condition: str | None = None, /, *, columns: Sequence[str] | None = None,
               personal: bool = False, out: Any = None, user: str | None = None) -> Any:
        """Export the customers who meet ``condition`` as an analysis list, the governed way.

        The list holds customer_id and ``columns`` only (default: the columns the condition uses);
        personal contact columns (name, email, phone, address) need ``personal=True``. An audit row
        in ``export_audit`` records who, when, what and how many before the file appears; the file
        (``out``; default a new one under ``exports/``; or a text stream) is written atomically and
        never replaces another. Returns the :class:`crmine._export.Export`.
        """
        from crmine._export import customer_list, export_customers

        frame = customer_list(self._wh, self.table(), condition, columns=columns, personal=personal)
        what = {"condition": condition or "", "columns": [c for c in frame.columns if c != "customer_id"],
                "as_of": str(self.as_of().date())}
        return export_customers(self._wh, self._root, frame, kind="query", what=what, user=user,
                                out=out, personal=personal)

    def crosstab(self, condition: str | None, /, *, by: Sequence[str], value: str = "spend") -> pd.DataFrame:
        """Counts and mean ``value`` for each combination of ``by``, among those meeting ``condition``."""
        return self._wh.execute(crosstab(select_customers(self.table(), condition), by, value=value), what="cross-tab")

    # -- behaviour ------------------------------------------------------------------------------
    def rfm(self, *, as_of: Any = None) -> RfmResult:
        """RFM scores and named segments; stored as table ``rfm_scores`` when as of the built table."""
        table, day = self._table_as_of(as_of)
        scores = rfm_scores(table)
        if as_of is None:
            self._wh.write("rfm_scores", scores)
            scores = self._wh.table("rfm_scores")
        return RfmResult(
            str(day.date()),
            self._wh.execute(scores.order_by("customer_id"), what="RFM scores"),
            self._wh.execute(rfm_segment_summary(scores), what="RFM segments"),
        )

    def rfm_transitions(self, before: Any, after: Any = None) -> pd.DataFrame:
        """Customers moving between RFM segments from one day to another (default: to the latest)."""
        b, _ = self._table_as_of(before)
        a, _ = self._table_as_of(after)
        return self._wh.execute(rfm_transitions(rfm_scores(b), rfm_scores(a)), what="RFM transitions")

    def behaviours(self, *, as_of: Any = None, min_count: int = 1) -> pd.DataFrame:
        """Profiles of the behaviour groups defined by ``[analysis.behaviours]``; stored as
        ``behaviour_groups`` (one row per customer with counts and pattern)."""
        table, day = self._table_as_of(as_of)
        defined = dict(self._analysis.get("behaviours", {}))
        counts = behaviour_counts(self._wh, defined, as_of=day)
        grouped = behaviour_groups(counts, table, list(defined), min_count=min_count)
        self._wh.write("behaviour_groups", grouped)
        return self._wh.execute(group_profiles(self._wh.table("behaviour_groups")), what="behaviour groups")

    # -- helpers --------------------------------------------------------------------------------
    def _derived(self) -> dict[str, str]:
        derived = self._analysis.get("derived", {})
        if not isinstance(derived, Mapping) or not all(isinstance(v, str) for v in derived.values()):
            raise SettingsError('analysis.derived: must be a table of name = "expression" pairs.')
        return dict(derived)

    def _as_of(self, as_of: Any) -> pd.Timestamp:
        return as_of_day(self._wh, as_of)

    def _table_as_of(self, as_of: Any) -> tuple[ir.Table, pd.Timestamp]:
        """The stored table when ``as_of`` is None, else the table computed as of that day."""
        if as_of is None:
            return self.table(), self.as_of()
        day = self._as_of(as_of)
        return customer_table(self._wh, as_of=day, derived=self._derived()), day
