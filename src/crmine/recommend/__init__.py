"""Recommendations from baskets: market-basket association rules.

``association_rules`` mines the rules X => {y} that R arules' ``apriori`` finds (support,
confidence, lift, leverage, conviction and the counts behind them) with a compact Eclat miner over
integer-coded baskets; the returned ``Rules`` filters itself (``with_consequent``,
``containing``) and answers "what goes with this basket" (``recommend``).
"""

from crmine.recommend._rules import RULE_COLUMNS, Rules, association_rules

__all__ = ["RULE_COLUMNS", "Rules", "association_rules"]
