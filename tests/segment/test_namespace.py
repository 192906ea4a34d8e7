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
    # every customer carries its segment's name; the profiles and the stored rows agree
    named = stored.set_index("customer_id")
    assert named["name"].tolist() == seg.profile_["name"].reindex(named["segment"]).tolist()
    assert ns.profiles()["name"].tolist() == seg.profile_["name"].tolist()
    assert ns.selection()["k"].tolist() == [4] and ns.selection()["chosen"].all()


def test_segments_namespace_default_chooses_k_in_3_to_8_and_stores_the_curve(sim_ws):
    ns = SegmentsNamespace(sim_ws.warehouse)
    seg = ns.fit()
    assert 3 <= seg.k_ <= 8
    curve = ns.selection()
    assert curve["k"].tolist() == list(range(3, 9))
    assert curve.loc[curve["chosen"], "k"].tolist() == [seg.k_]
    assert curve["silhouette"].tolist() == pytest.approx(seg.selection_curve_["silhouette"])
    assert ns.segments()["name"].nunique() == seg.k_
    assert ns.key_customers(top_share=0.1).top_share == 0.1


def test_segments_namespace_before_fit():
    with pytest.raises(WorkspaceError, match=r"ws.segments.fit\(\)"):
        SegmentsNamespace(connect()).segments()
