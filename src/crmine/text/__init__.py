"""Text analysis of what customers write: sentiment (VADER), topics (NMF on TF-IDF) and per-customer features."""

from crmine.text._features import customer_text_features
from crmine.text._sentiment import NEUTRAL_BAND, polarity, sentiment
from crmine.text._topics import DEFAULT_TOPICS, Topics, topics

__all__ = ["DEFAULT_TOPICS", "NEUTRAL_BAND", "Topics", "customer_text_features", "polarity", "sentiment", "topics"]
