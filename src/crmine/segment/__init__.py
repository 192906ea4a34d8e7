"""Segmentation and key customers.

:class:`Segmenter`
    Clusters customers (one row each, such as :func:`crmine.features.customer_table`) with
    k-means or a Gaussian mixture, choosing the number of segments by silhouette or BIC, and
    profiles each segment by the features that set it apart.
:func:`key_customers`
    Ranks unified customers by historical profit (or CLV), draws the Pareto curve ("the top 20%
    of customers bring y% of profit") and lists the key customers; :func:`customer_profit` is
    the profit per customer as an Ibis expression.
"""

from crmine.segment._key_customers import KeyCustomers, customer_profit, key_customers, plot_pareto
from crmine.segment._plots import plot_segment_profile, plot_selection_curve
from crmine.segment._segmenter import DEFAULT_FEATURES, Segmenter

__all__ = [
    "DEFAULT_FEATURES",
    "KeyCustomers",
    "Segmenter",
    "customer_profit",
    "key_customers",
    "plot_pareto",
    "plot_segment_profile",
    "plot_selection_curve",
]
