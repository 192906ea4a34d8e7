"""Recommendations from baskets: market-basket association rules.

``association_rules`` mines the rules X => {y} that R arules' ``apriori`` finds (support,
confidence, lift, leverage, conviction and the counts behind them) with a compact Eclat miner over
integer-coded baskets; the returned ``Rules`` filters itself (``with_consequent``,
``containing``) and answers "what goes with this basket" (``recommend``).

``recommend`` (the function) is the next-best offer from purchase histories: for every customer,
the k items that blend buying again, items bought by similar customers, and recent popularity;
``evaluate`` measures it on a time split against the popularity and buy-again baselines.
"""

from crmine.recommend._evaluate import EVALUATION_COLUMNS, evaluate
from crmine.recommend._recommender import DEFAULT_WEIGHTS, RECOMMENDATION_COLUMNS, recommend
from crmine.recommend._rules import RULE_COLUMNS, Rules, association_rules

__all__ = [
    "DEFAULT_WEIGHTS",
    "EVALUATION_COLUMNS",
    "RECOMMENDATION_COLUMNS",
    "RULE_COLUMNS",
    "Rules",
    "association_rules",
    "evaluate",
    "recommend",
]
