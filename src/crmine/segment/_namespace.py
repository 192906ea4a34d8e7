"""``ws.segments``: segmentation and key customers on a workspace's warehouse."""

from __future__ import annotations

from typing import Any

import pandas as pd

from crmine.errors import WorkspaceError
from crmine.features import customer_table
from crmine.segment._key_customers import KeyCustomers, key_customers
from crmine.segment._segmenter import DEFAULT_K_RANGE, Segmenter
from crmine.warehouse import Warehouse

__all__ = ["PROFILES_TABLE", "SEGMENTS_TABLE", "SELECTION_TABLE", "SegmentsNamespace"]

SEGMENTS_TABLE = "customer_segments"
PROFILES_TABLE = "segment_profiles"
SELECTION_TABLE = "segment_selection"
CUSTOMER_TABLE = "customer_table"


class SegmentsNamespace:
    """Cluster the customer table into named segments (table ``customer_segments``); key customers."""

    def __init__(self, warehouse: Warehouse) -> None:
        self._wh = warehouse

    def fit(
        self,
        *,
        method: str = "kmeans",
        k: int | None = None,
        k_range: tuple[int, int] = DEFAULT_K_RANGE,
        features: list[str] | None = None,
        seed: int = 0,
        as_of: Any = None,
    ) -> Segmenter:
        """Segment the customers and store ``customer_segments`` (customer_id, segment, name),
        ``segment_profiles`` and ``segment_selection`` (the criterion for every k tried).

        The options are those of :class:`Segmenter`.

        Without ``as_of`` the stored customer table is used (built by ``ws.customers.build()``),
        or computed as of the last transaction day when it has not been built.
        """
        if as_of is None and self._wh.has_table(CUSTOMER_TABLE):
            table = self._wh.table(CUSTOMER_TABLE)
        else:
            table = customer_table(self._wh, as_of=as_of)
        frame = self._wh.execute(table, what="read the customer table")
        seg = Segmenter(method=method, k=k, k_range=k_range, features=features, seed=seed).fit(
            frame
        )
        labels = seg.labels_.rename_axis("customer_id").reset_index()
        labels["name"] = seg.profile_["name"].reindex(labels["segment"]).to_numpy()
        self._wh.write(
            SEGMENTS_TABLE, labels.astype({"customer_id": str, "segment": "int64", "name": str})
        )
        self._wh.write(PROFILES_TABLE, seg.profile_.reset_index())
        self._wh.write(SELECTION_TABLE, seg.selection_curve_)
        return seg

    def segments(self) -> pd.DataFrame:
        """The stored segment of every customer."""
        return self._read(SEGMENTS_TABLE)

    def profiles(self) -> pd.DataFrame:
        """The stored profile of every segment (name, size, share, value, what sets it apart)."""
        return self._read(PROFILES_TABLE).set_index("segment")

    def selection(self) -> pd.DataFrame:
        """The stored selection curve: the criterion for every k tried, and the one chosen."""
        return self._read(SELECTION_TABLE)

    def key_customers(self, **options: Any) -> KeyCustomers:
        """:func:`crmine.segment.key_customers` on this warehouse (same options)."""
        return key_customers(self._wh, **options)

    def _read(self, name: str) -> pd.DataFrame:
        if not self._wh.has_table(name):
            raise WorkspaceError("No segments yet. Run ws.segments.fit() first.")
        return self._wh.execute(
            self._wh.table(name).order_by(self._wh.table(name).columns[0]), what=f"read {name}"
        )
