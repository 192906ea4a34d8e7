"""Pricing analytics on scanner data.

``ChoiceModel`` is the multinomial (conditional) logit of brand choice: alternative-specific
constants and generic coefficients for price, feature and display, fitted by maximum likelihood on
one row per purchase occasion, with own- and cross-price share elasticities.
"""

from crmine.pricing._choice import ChoiceModel, choice_alternatives

__all__ = ["ChoiceModel", "choice_alternatives"]
