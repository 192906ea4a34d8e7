"""Topics of a set of texts: non-negative matrix factorisation (NMF) of their TF-IDF matrix.

Each topic is a weighting of words (its top words make it readable); each text is a mix of topics
(its shares) and has a main topic. Deterministic: the texts are put in the order of a hash of their
content before fitting, so the same texts in any row order give the same topics, words and shares;
the seed only matters through NMF's initialisation. Topics are numbered from 1, the largest first.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from crmine.errors import SettingsError
from crmine.text._base import as_texts

__all__ = ["DEFAULT_TOPICS", "Topics", "topics"]

DEFAULT_TOPICS = 8  # capped by the data: at most one topic per 5 distinct texts and per 2 words kept
TOP_WORDS = 10


@dataclass(frozen=True)
class Topics:
    """The topics found in a set of texts.

    Attributes
    ----------
    words
        One row per topic: ``topic`` (1..k), ``size`` (texts whose main topic it is), ``words`` (its
        top words, most weighty first, as a list; at most ``top_words``, each weighing at least 1% of the first) and ``label`` (the first three, joined).
    shares
        One row per text, one column ``topic_<k>`` per topic: the text's share of each topic (summing
        to 1; all 0 for a text with none of the words kept).
    main
        Per text, its main topic (1..k), or 0 for a text with none of the words kept (or empty).
    """

    words: pd.DataFrame
    shares: pd.DataFrame
    main: np.ndarray

    @property
    def n_topics(self) -> int:
        return len(self.words)


def topics(texts: Iterable[Any], /, *, n_topics: int | None = None, seed: int = 0,
           top_words: int = TOP_WORDS) -> Topics:
    """Find topics in ``texts`` with NMF on TF-IDF (English stop words dropped).

    Parameters
    ----------
    texts
        Texts (list, array or Series); missing and blank ones get no topic (main topic 0).
    n_topics
        Number of topics. None: ``DEFAULT_TOPICS`` (8), capped at one per 5 distinct texts and one per
        2 words of the vocabulary, and at least 1.
    seed
        Seed of NMF's initialisation.
    top_words
        How many words describe each topic.

    Returns
    -------
    Topics

    Examples
    --------
    >>> t = topics(["late parcel delivery", "parcel delivery late again", "refund for my return",
    ...             "return and refund please"], n_topics=2)
    >>> t.main.tolist()
    [1, 1, 2, 2]
    >>> t.words["label"].tolist()
    ['delivery, late, parcel', 'refund, return']
    """
    from sklearn.decomposition import NMF
    from sklearn.feature_extraction.text import TfidfVectorizer

    if n_topics is not None and (not isinstance(n_topics, int | np.integer) or n_topics < 1):
        raise SettingsError(f"n_topics must be a whole number of at least 1; received {n_topics!r}.")
    values, empty = as_texts(texts)
    n = values.shape[0]
    rows = np.flatnonzero(~empty)
    order = np.array(sorted(rows, key=lambda i: _digest(values[i])), dtype=int)
    if order.size == 0:
        return _none(n)
    n_docs = order.size
    vectorizer = TfidfVectorizer(stop_words="english", sublinear_tf=True, min_df=2 if n_docs >= 50 else 1,
                                 max_df=0.95 if n_docs >= 50 else 1.0, max_features=20_000)
    try:
        X = vectorizer.fit_transform(values[order])
    except ValueError:  # no word left (only stop words, numbers or punctuation)
        return _none(n)
    vocab = vectorizer.get_feature_names_out()
    distinct = len(set(values[order]))
    k = n_topics if n_topics is not None else max(1, min(DEFAULT_TOPICS, distinct // 5, len(vocab) // 2))
    k = int(min(k, X.shape[0], X.shape[1]))
    model = NMF(n_components=k, init="nndsvda", random_state=seed, max_iter=400, tol=1e-4)
    W = model.fit_transform(X)
    H = model.components_

    total = W.sum(axis=1, keepdims=True)
    share = np.divide(W, total, out=np.zeros_like(W), where=total > 0)
    main = np.where(total[:, 0] > 0, share.argmax(axis=1), -1)
    size = np.bincount(main[main >= 0], minlength=k)
    # number the topics by size, the largest first; a tie by their top words (never by chance)
    # a top word weighs at least 1% of the topic's heaviest: words that only leak in are not shown
    tops = [tuple(vocab[j] for j in np.argsort(-H[t], kind="stable")[:top_words] if H[t, j] > 0.01 * H[t].max())
            for t in range(k)]
    rank = sorted(range(k), key=lambda t: (-size[t], tops[t]))
    renumber = np.empty(k, dtype=int)
    renumber[rank] = np.arange(1, k + 1)

    shares = np.zeros((n, k))
    shares[order] = share[:, rank]
    main_all = np.zeros(n, dtype=int)
    main_all[order] = np.where(main >= 0, renumber[np.maximum(main, 0)], 0)
    words = pd.DataFrame({
        "topic": np.arange(1, k + 1),
        "size": [int(size[t]) for t in rank],
        "words": [list(tops[t]) for t in rank],
        "label": [", ".join(tops[t][:3]) for t in rank],
    })
    return Topics(words=words, shares=pd.DataFrame(shares, columns=[f"topic_{t}" for t in range(1, k + 1)]),
                  main=main_all)


def _digest(text: str) -> tuple[bytes, str]:
    """Sort key that ignores where a text sat in the input: a hash of its content (then the text)."""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest(), text


def _none(n: int) -> Topics:
    words = pd.DataFrame({"topic": pd.Series([], dtype=int), "size": pd.Series([], dtype=int),
                          "words": pd.Series([], dtype=object), "label": pd.Series([], dtype=object)})
    return Topics(words=words, shares=pd.DataFrame(index=range(n)), main=np.zeros(n, dtype=int))
