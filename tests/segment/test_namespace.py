"""ws.segments wiring, on the shared simulated workspace."""

from __future__ import annotations

import pytest

from crmine.errors import WorkspaceError
from crmine.segment._namespace import SegmentsNamespace
from crmine.warehouse import connect


def test_segments_namespace_stores_segments_and_profiles(sim_ws):
    ns = SegmentsNamespace(sim_ws.warehouse)
    seg = ns.fit(k=4)
    stored = ns.segments()
    assert len(stored) == len(seg.labels_) and stored.customer_id.is_unique
    assert sorted(stored.segment.unique()) == [0, 1, 2, 3]
    assert ns.profiles()["size"].tolist() == seg.profile_["size"].tolist()
    assert ns.key_customers(top_share=0.1).top_share == 0.1


def test_segments_namespace_before_fit():
    with pytest.raises(WorkspaceError, match=r"ws.segments.fit\(\)"):
        SegmentsNamespace(connect()).segments()
