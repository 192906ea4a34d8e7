"""Predictive models of customer outcomes (churn, response), their explanations and targeting.

``ModelSearch`` cross-validates standard classifiers against a naive baseline and keeps the best;
``gains_figure``, ``calibration_figure`` and ``importance_figure`` chart a fitted search;
``target_list`` turns scores into a consented, profit-ranked contact list; the PSI functions watch
for drift between the training and the scoring population.
"""

from crmine.predict._monitor import population_stability_index, psi_table
from crmine.predict._plots import calibration_figure, gains_figure, importance_figure
from crmine.predict._search import ModelSearch
from crmine.predict._targeting import TargetList, target_list

__all__ = [
    "ModelSearch",
    "TargetList",
    "calibration_figure",
    "gains_figure",
    "importance_figure",
    "population_stability_index",
    "psi_table",
    "target_list",
]
