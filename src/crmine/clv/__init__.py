"""Customer lifetime value: RFM summaries, BTYD models, CLV and model checks."""

from crmine.clv._bgbb import BetaGeoBetaBinom
from crmine.clv._bgnbd import BetaGeo
from crmine.clv._checks import (
    calibration_vs_holdout,
    expected_cumulative_transactions,
    holdout_error,
    plot_calibration_vs_holdout,
    plot_cumulative_transactions,
)
from crmine.clv._clv import customer_lifetime_value
from crmine.clv._gammagamma import GammaGamma
from crmine.clv._mbgnbd import ModifiedBetaGeo
from crmine.clv._pareto import ParetoNBD
from crmine.clv._rfm import rfm_summary, rfm_summary_expr
from crmine.clv._sbg import ShiftedBetaGeometric

__all__ = [
    "BetaGeo",
    "BetaGeoBetaBinom",
    "GammaGamma",
    "ModifiedBetaGeo",
    "ParetoNBD",
    "ShiftedBetaGeometric",
    "calibration_vs_holdout",
    "customer_lifetime_value",
    "expected_cumulative_transactions",
    "holdout_error",
    "plot_calibration_vs_holdout",
    "plot_cumulative_transactions",
    "rfm_summary",
    "rfm_summary_expr",
]
