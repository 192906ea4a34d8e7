"""Campaign effectiveness: lift against a control group, test design, uplift models and
targeting by incremental profit.

``lift_table`` measures what a test campaign gained over its control group; ``sample_size``,
``smallest_control_share`` and ``assign`` design the next test; ``UpliftModel`` learns who the
contact moves; ``uplift_targets`` picks who gets which offer (or none) by expected incremental
profit; the metric functions (``qini_coefficient``, ``uplift_at_k``, ...) judge any ranking and
the figure functions draw it. In a workspace, ``ws.campaigns`` exports uplift lists under consent
and contact limits (``UpliftList``) and reads their realised lift per decile.
"""

from crmine.campaign._card import uplift_card
from crmine.campaign._design import (
    ExperimentDesign,
    assign,
    detection_power,
    minimum_detectable_lift,
    sample_size,
    smallest_control_share,
)
from crmine.campaign._lift import lift_table
from crmine.campaign._loop import UpliftList
from crmine.campaign._metrics import (
    auuc,
    qini_coefficient,
    qini_curve,
    uplift_at_k,
    uplift_by_decile,
    uplift_curve,
)
from crmine.campaign._plots import qini_figure, realised_lift_figure, uplift_curve_figure
from crmine.campaign._targeting import UpliftTargets, uplift_targets
from crmine.campaign._uplift import UpliftModel

__all__ = [
    "ExperimentDesign",
    "UpliftList",
    "UpliftModel",
    "uplift_card",
    "UpliftTargets",
    "assign",
    "auuc",
    "detection_power",
    "lift_table",
    "minimum_detectable_lift",
    "qini_coefficient",
    "qini_curve",
    "qini_figure",
    "realised_lift_figure",
    "sample_size",
    "smallest_control_share",
    "uplift_at_k",
    "uplift_by_decile",
    "uplift_curve",
    "uplift_curve_figure",
    "uplift_targets",
]
