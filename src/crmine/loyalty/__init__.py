"""Loyalty: cohort retention, how long customers stay active, and loyalty scores per customer.

Every analysis uses purchases only (lines with ``is_return`` true are left out) on or before the
``as_of`` day, by default the day of the last transaction; later events are ignored.

:func:`cohort_retention`
    A customer's cohort is the period (month, quarter or week) of their first purchase; the
    retention at age ``a`` is the share of the cohort buying in the period ``a`` periods later.
:func:`activity_survival`
    Kaplan-Meier estimate of the *active lifetime* ``L``: days from the first to the last
    purchase; a customer silent for more than ``inactivity_days`` before ``as_of`` has become
    inactive (an event), the others are censored at their current lifetime.
:func:`loyalty_scores`
    Four scores in [0, 1] per customer, higher meaning more loyal, built from:

    - ``active_days``: days from the first to the last purchase; ``tenure_days``: days from the
      first purchase to ``as_of``;
    - ``p_active``, the Kaplan-Meier probability of still being active: with ``S`` the survival
      function of ``L`` (:func:`activity_survival` on the same customers, same
      ``inactivity_days``) and knowing ``L >= active_days``,
      ``p_active = P(L > tenure_days | L >= active_days) = S(tenure_days) / S(active_days - 1)``
      (``S(-1) = 1``; beyond the longest observed lifetime ``S`` keeps its last value).

    **durability** = ``(min(active_days, full_tenure_days) / full_tenure_days + p_active) / 2``:
    a long record of buying and a good chance that it goes on.

    **robustness** (breadth) = the mean of ``(categories - 1) / (all_categories - 1)`` and
    ``(channels - 1) / (all_channels - 1)``, where ``categories`` counts the distinct product
    categories the customer bought and ``all_categories`` those bought by anyone (likewise for
    sales channels). One category through one channel scores 0; everything everywhere scores 1.
    A term is left out when its column is absent or has a single value; without either term,
    robustness is NaN.

    **stability** (regularity) = the mean of ``1 / (1 + cv_time)`` and ``1 / (1 + cv_value)``,
    where ``cv_time`` is the coefficient of variation (population standard deviation / mean) of
    the days between consecutive purchase days and ``cv_value`` that of the order values (sum of
    ``amount`` per ``order_id``, or per purchase day without ``order_id``). Perfectly regular
    buying scores 1. A term needs at least two gaps (three purchase days), or two orders with a
    positive mean; without them it is 0: a customer must show a pattern to count as regular.

    **loyalty** = the mean of durability, robustness and stability (of the other two when
    robustness is NaN).
"""

from crmine.loyalty._cohorts import cohort_retention, cohort_retention_expr, plot_cohort_retention
from crmine.loyalty._scores import loyalty_scores
from crmine.loyalty._survival import ActivitySurvival, activity_survival, plot_activity_survival

__all__ = [
    "ActivitySurvival",
    "activity_survival",
    "cohort_retention",
    "cohort_retention_expr",
    "loyalty_scores",
    "plot_activity_survival",
    "plot_cohort_retention",
]
