"""The public surface of crmine.predict, pinned."""

import crmine.predict


def test_predict_surface():
    assert sorted(crmine.predict.__all__) == [
        "ModelSearch", "TargetList", "calibration_figure", "gains_figure", "importance_figure",
        "population_stability_index", "psi_table", "target_list",
    ]
    for name in crmine.predict.__all__:
        assert hasattr(crmine.predict, name)
