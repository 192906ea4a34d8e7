"""One customer as the API shows it: features, scores, segment, RFM segment, recommendations.

The features are the batch customer table itself (:func:`crmine.features.customer_table`, with
the workspace's derived columns), filtered to one customer and as of the last transaction day, the
default of ``crmine customers build``: a sale posted a moment ago gives the row a rebuild would.
The saved models score that row with the code batch scoring uses (``ModelSearch.predict_proba``).
Lifetime value and the clustering segment come from the last batch run (``clv_scores``,
``customer_segments``); the RFM segment ranks the fresh row among the stored customer table.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import ibis.expr.types as ir
import numpy as np
import pandas as pd

from crmine._customers import LINEAGE
from crmine._dates import last_day
from crmine.behaviour import rfm_scores
from crmine.errors import CrmineError
from crmine.features._customer_table import customer_table, slug
from crmine.serve._prepared import Prepared
from crmine.warehouse import Warehouse

__all__ = ["CustomerView", "plain"]

PERSONAL = ("name", "email", "phone", "address")
RECOMMENDATIONS = "recommendations"
_RFM_COLUMNS = ("customer_id", "recency_days", "orders", "spend")


def plain(value: Any) -> Any:
    """``value`` as JSON can hold it: NaN and NaT as null, numpy numbers as Python, times as text."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, pd.Timestamp | datetime | date):
        return value.isoformat()
    return value


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{k: plain(v) for k, v in row.items()} for row in frame.to_dict("records")]


class CustomerView:
    """Builds the customer document of the API from a warehouse and the saved models."""

    def __init__(self, wh: Warehouse, *, derived: Mapping[str, str], models: Mapping[str, Any]) -> None:
        self._wh = wh
        self._derived = dict(derived)
        self._models = dict(models)  # name -> fitted ModelSearch
        self._live: Prepared | None = None  # the customer table as of self._as_of, compiled once
        self._rfm: Prepared | None = None
        self._prepared: dict[tuple, Prepared] = {}
        self._as_of: pd.Timestamp | None = None
        self._categories: dict[str, Any] = {}
        self._tables: dict[str, bool] = {}

    def _has(self, name: str) -> bool:
        """Whether table ``name`` exists; remembered, as no other process writes the warehouse meanwhile."""
        if name not in self._tables:
            self._tables[name] = self._wh.has_table(name)
        return self._tables[name]

    @property
    def model_names(self) -> list[str]:
        return sorted(self._models)

    def unified_id(self, record_id: str) -> str:
        """The unified customer id of a source record id (itself when not resolved)."""
        if not self._has(LINEAGE):
            return record_id
        found = self._lookup(LINEAGE, "customer_id", ["unified_id"]).run(record_id)
        return str(found.unified_id.iloc[0]) if len(found) and pd.notna(found.unified_id.iloc[0]) else record_id

    def features(self, customer_id: str) -> pd.DataFrame:
        """The customer-table row of ``customer_id`` (empty when there is none)."""
        return self._table().run(customer_id)

    # Building and compiling the customer-table expression takes about a second; its SQL runs far
    # faster. It is therefore compiled once (:class:`._prepared.Prepared`) and run with the
    # customer id bound. The compiled query is the customer table of the warehouse as it is while
    # nothing but this server writes to it (DuckDB lets one process write), until a sale moves the
    # last transaction day or brings a channel, sales method or product category the share columns
    # do not have yet: :meth:`saw` then drops it and the next request compiles it again.
    def _table(self) -> Prepared:
        if self._live is None:
            self._as_of = last_day(self._wh) if self._as_of is None else self._as_of
            as_of, derived = self._as_of, self._derived

            def one(customer_id: ir.StringValue) -> ir.Table:
                table = customer_table(self._wh, as_of=as_of, derived=derived)
                return table.filter(table.customer_id == customer_id)

            self._live = Prepared(self._wh, one, ["customer_id"], what="compute customer features")
        return self._live

    def saw(self, line: Any) -> None:
        """Note a newly stored line: keep the compiled table only while it stays the batch table."""
        day = pd.Timestamp(line.ts).normalize()
        if self._live is None:  # compiled on the next request, as of the latest day seen
            if self._as_of is not None:
                self._as_of = max(day, self._as_of)
            return
        columns = set(self._live.columns)
        shares = [f"share_channel_{slug(line.channel)}" if line.channel is not None else None,
                  f"share_method_{slug(line.sales_method)}" if line.sales_method is not None else None]
        category = self._category(line.product_id)
        shares.append(f"share_cat_{slug(category)}" if category is not None else None)
        if day > self._as_of or any(c is not None and c not in columns for c in shares):
            self._live, self._as_of = None, max(day, self._as_of)

    def _category(self, product_id: str | None) -> Any:
        if product_id is None:
            return None
        if product_id not in self._categories:
            got = self._lookup("products", "product_id", ["category"]).run(product_id)
            self._categories[product_id] = plain(got.category.iloc[0]) if len(got) else None
        return self._categories[product_id]

    def _lookup(self, table: str, key: str, columns: list[str] | None) -> Prepared:
        """The rows of ``table`` whose ``key`` is a bound value (``columns``; None: all but the key)."""
        name = (table, key, tuple(columns or ()))
        if name not in self._prepared:
            def rows(value: ir.StringValue) -> ir.Table:
                t = self._wh.table(table)
                found = t.filter(t[key] == value)
                return found.select(*columns) if columns else found.drop(key)

            self._prepared[name] = Prepared(self._wh, rows, ["value"], what=f"read {table}")
        return self._prepared[name]

    def document(self, customer_id: str, *, personal: bool = False) -> dict[str, Any] | None:
        """The API's customer document, or None when the customer has no row."""
        row = self.features(customer_id)
        if row.empty:
            return None
        out: dict[str, Any] = {
            "customer_id": customer_id,
            "features": {k: v for k, v in _records(row)[0].items() if k != "customer_id"},
            "scores": self._scores(row),
            "segment": self._segment(customer_id),
            "rfm_segment": self._rfm_segment(row),
            "recommendations": self._recommendations(customer_id),
        }
        if personal:
            out["personal"] = self._personal(customer_id)
        return out

    # -- parts ---------------------------------------------------------------------------------
    def _scores(self, row: pd.DataFrame) -> dict[str, Any]:
        scores: dict[str, Any] = {}
        if int(row.orders.iloc[0]) > 0:  # batch scoring scores buying customers only
            for name, model in sorted(self._models.items()):
                try:
                    scores[name] = plain(float(model.predict_proba(row).iloc[0]))
                except CrmineError:  # a model whose columns this row lacks is left out
                    continue
        if self._has("clv_scores"):
            t = self._wh.table("clv_scores")
            wanted = [c for c in ("clv", "probability_alive", "expected_purchases") if c in t.columns]
            got = self._lookup("clv_scores", "customer_id", wanted).run(row.customer_id.iloc[0])
            if len(got):
                scores.update({k: plain(v) for k, v in got.iloc[0].items()})
        return scores

    def _segment(self, customer_id: str) -> Any:
        if not self._has("customer_segments"):
            return None
        t = self._wh.table("customer_segments")
        col = "name" if "name" in t.columns else "segment"
        got = self._lookup("customer_segments", "customer_id", [col]).run(customer_id)
        return plain(got.iloc[0, 0]) if len(got) else None

    def _rfm_segment(self, row: pd.DataFrame) -> str | None:
        """The RFM segment of the fresh row, ranked among the other customers of the stored table."""
        if int(row.orders.iloc[0]) <= 0 or not self._has("customer_table"):
            return None
        if self._rfm is None:
            def scored(customer_id, recency_days, orders, spend) -> ir.Table:
                stored = self._wh.table("customer_table").select(*_RFM_COLUMNS)
                # One row whatever the table holds: an aggregate without groups.
                fresh = stored.aggregate(_n=stored.count()).select(
                    customer_id=customer_id, recency_days=recency_days.cast(stored.recency_days.type()),
                    orders=orders.cast(stored.orders.type()), spend=spend.cast(stored.spend.type()))
                scores = rfm_scores(stored.filter(stored.customer_id != customer_id).union(fresh))
                return scores.filter(scores.customer_id == customer_id).select("segment")

            self._rfm = Prepared(self._wh, scored, list(_RFM_COLUMNS), what="RFM segment")
        got = self._rfm.run(*[plain(row[c].iloc[0]) for c in _RFM_COLUMNS])
        return str(got.segment.iloc[0]) if len(got) else None

    def _recommendations(self, customer_id: str) -> list[dict[str, Any]]:
        if not self._has(RECOMMENDATIONS):
            return []
        t = self._wh.table(RECOMMENDATIONS)
        if "customer_id" not in t.columns:
            return []
        return _records(self._lookup(RECOMMENDATIONS, "customer_id", None).run(customer_id))

    def _personal(self, customer_id: str) -> dict[str, Any]:
        c = self._wh.table("customers")
        cols = [p for p in PERSONAL if p in c.columns]
        ids = [customer_id]
        if self._has(LINEAGE):
            lin = self._wh.table(LINEAGE)
            ids += self._wh.execute(lin.filter(lin.unified_id == customer_id).customer_id, what="read lineage").tolist()
        records = c.filter(c.customer_id.isin(ids)).order_by("customer_id")
        got = self._wh.execute(records.select(*cols).limit(1), what="read personal columns")
        return _records(got)[0] if len(got) else {}
