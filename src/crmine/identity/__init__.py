"""Identity resolution: link the customer records of one person across source systems.

``resolve(wh)`` reads ``customers``, standardises names, e-mails, phones, postcodes, addresses and
dates of birth, scores candidate record pairs with a Splink (Fellegi-Sunter) model, links pairs
above a match probability and writes ``customer_lineage``: one row per record with the stable
``unified_id`` of the person it belongs to. ``evaluate`` measures pairwise precision and recall
against known truth.
"""

from crmine.identity._evaluate import evaluate
from crmine.identity._resolve import DEFAULT_THRESHOLD, LINEAGE_TABLE, IdentityResult, resolve

__all__ = ["DEFAULT_THRESHOLD", "LINEAGE_TABLE", "IdentityResult", "evaluate", "resolve"]
