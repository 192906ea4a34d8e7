"""The public surface of crmine.campaign, pinned."""

from __future__ import annotations

import crmine.campaign


def test_campaign_surface():
    assert sorted(crmine.campaign.__all__) == sorted([
        "ExperimentDesign", "UpliftList", "UpliftModel", "UpliftTargets", "assign", "auuc", "detection_power", "lift_table",
        "minimum_detectable_lift", "qini_coefficient", "qini_curve", "qini_figure",
        "realised_lift_figure", "sample_size", "smallest_control_share",
        "uplift_at_k", "uplift_by_decile", "uplift_card", "uplift_curve", "uplift_curve_figure", "uplift_targets"])
    for name in crmine.campaign.__all__:
        assert hasattr(crmine.campaign, name)


def test_namespace_and_cli_entry_points_exist():
    from crmine.campaign._namespace import CampaignsNamespace
    from crmine.cli._campaign import campaign_app, uplift_app

    for method in ("lift", "lift_all", "training_frame", "score", "target", "realised_lift"):
        assert callable(getattr(CampaignsNamespace, method))
    names = {c.name for c in campaign_app.registered_commands}
    assert names == {"lift", "design", "assign", "target", "realised"}
    assert {c.name for c in uplift_app.registered_commands} == {"fit", "score", "target"}
