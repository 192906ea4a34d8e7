"""The public surface of crmine.loyalty, pinned."""

from __future__ import annotations

import crmine.loyalty


def test_loyalty_surface():
    assert sorted(crmine.loyalty.__all__) == [
        "ActivitySurvival",
        "activity_survival",
        "cohort_retention",
        "cohort_retention_expr",
        "loyalty_scores",
        "plot_activity_survival",
        "plot_cohort_retention",
    ]
    for name in crmine.loyalty.__all__:
        assert hasattr(crmine.loyalty, name)
