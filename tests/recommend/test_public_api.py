"""The public surface of crmine.recommend, pinned."""

from __future__ import annotations

import crmine.recommend


def test_recommend_surface():
    assert sorted(crmine.recommend.__all__) == [
        "DEFAULT_WEIGHTS", "EVALUATION_COLUMNS", "RECOMMENDATION_COLUMNS", "RULE_COLUMNS", "Rules",
        "association_rules", "evaluate", "recommend",
    ]
    for name in crmine.recommend.__all__:
        assert hasattr(crmine.recommend, name)


def test_cli_entry_point_exists():
    from crmine.cli._app import app
    from crmine.cli._baskets import baskets_app

    assert {c.name for c in baskets_app.registered_commands} == {"rules"}
    assert "baskets" in {g.name for g in app.registered_groups}
