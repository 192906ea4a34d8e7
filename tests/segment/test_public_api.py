"""The public surface of crmine.segment, pinned."""

from __future__ import annotations

import crmine.segment


def test_segment_surface():
    assert sorted(crmine.segment.__all__) == [
        "DEFAULT_FEATURES",
        "KeyCustomers",
        "Segmenter",
        "customer_profit",
        "key_customers",
        "plot_pareto",
        "plot_segment_profile",
        "plot_selection_curve",
    ]
    for name in crmine.segment.__all__:
        assert hasattr(crmine.segment, name)
