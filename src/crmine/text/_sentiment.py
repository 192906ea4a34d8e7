"""Sentiment of short texts: VADER's compound score (Hutto & Gilbert 2014), one number in [-1, 1].

VADER is kept as it is: no variant measured here beat it clearly on data it was not tuned on (see
docs/text.md). Identical texts are scored once, which is what makes crmine faster than a loop over
``polarity_scores`` on CRM feedback, where the same short phrases come back again and again.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from crmine.text._base import as_texts

__all__ = ["NEUTRAL_BAND", "polarity", "sentiment"]

NEUTRAL_BAND = 0.05  # VADER's own rule: positive above +0.05, negative below -0.05, neutral between


@lru_cache(maxsize=1)
def _analyzer():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()  # loads the lexicon once per process (~0.1 s)


def sentiment(texts: Iterable[Any], /) -> np.ndarray:
    """The sentiment of each text, from -1 (most negative) to +1 (most positive).

    Parameters
    ----------
    texts
        Texts (a list, array or Series). Missing values and blank texts score 0.

    Returns
    -------
    numpy.ndarray
        One float per text, in [-1, 1]: VADER's compound score.

    Examples
    --------
    >>> s = sentiment(["Great service, thank you!", "The parcel arrived.", "Awful. Never again.", None])
    >>> [float(round(v, 2)) for v in s]
    [0.78, 0.0, -0.46, 0.0]
    """
    values, empty = as_texts(texts)
    out = np.zeros(values.shape[0], dtype=float)
    if (~empty).any():
        codes, uniques = pd.factorize(values[~empty])  # score each distinct text once
        score = _analyzer().polarity_scores
        out[~empty] = np.fromiter((score(t)["compound"] for t in uniques), dtype=float, count=len(uniques))[codes]
    return out


def polarity(scores: Iterable[float], /, *, band: float = NEUTRAL_BAND) -> np.ndarray:
    """-1, 0 or +1 per score: negative below ``-band``, positive above ``band``, neutral between.

    Examples
    --------
    >>> polarity([0.8, 0.05, -0.06]).tolist()
    [1, 0, -1]
    """
    s = np.asarray(scores, dtype=float)
    return np.where(s > band, 1, np.where(s < -band, -1, 0))
