"""Offline evaluation of the next-best offer on a time split, against two baselines.

Everything is learned from the events known as of ``split``; the truth is the set of distinct items
each user bought after its end. Only users active both before and after the split are scored.

- ``popularity``: the k items with the most purchase lines before the split, the same for all.
- ``buy_again``: the user's own items, most often bought first, then most recent, then by name;
  filled with the popular items when the user has fewer than k.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from crmine._dates import end_of_day, parse_day
from crmine.errors import SchemaError, SettingsError
from crmine.recommend._events import Events, cut, prepare
from crmine.recommend._recommender import (
    check_options,
    fill_popular,
    group_rank,
    rank_top,
    top_items,
)

__all__ = ["EVALUATION_COLUMNS", "evaluate"]

_OPTIONS = frozenset({"exclude_recent_days", "half_life_days", "popularity_half_life_days", "neighbours", "weights"})
EVALUATION_COLUMNS = ("model", "hit_rate", "precision", "recall", "coverage", "users", "k")


def evaluate(frame: pd.DataFrame, /, *, user: str, item: str, time: str, split: Any, k: int = 10,
             **options: Any) -> pd.DataFrame:
    """Hit rate, precision, recall at ``k`` and catalogue coverage of crmine and the two baselines.

    Parameters
    ----------
    frame
        One row per purchase line.
    user, item, time
        The columns naming the customer, the item and the time of purchase.
    split
        The last day learned from; the days after it are the evaluation period.
    k
        Items recommended per user.
    **options
        Passed to :func:`crmine.recommend.recommend` (half-lives, neighbours, weights,
        exclude_recent_days).

    Returns
    -------
    pandas.DataFrame
        One row per model (crmine, buy_again, popularity): hit_rate (share of users with at least
        one recommended item bought), precision (hits / k), recall (hits / items bought), coverage
        (share of the catalogue recommended to someone), users scored, k.
    """
    unknown = sorted(set(options) - _OPTIONS)
    if unknown:
        raise SettingsError(f"evaluate: unknown option(s) {', '.join(unknown)}; the options are "
                            f"{', '.join(sorted(_OPTIONS))}.")
    params = check_options(k=k, **{"exclude_recent_days": None, "half_life_days": 90.0,
                             "popularity_half_life_days": 30.0, "neighbours": 50, "weights": None, **options})
    rows = prepare(frame, user=user, item=item, time=time)
    day = parse_day(split, "split")
    train = cut(rows, day, what="split")
    later = rows[rows["ts"] >= end_of_day(day)]
    truth = _truth(train, later)
    if len(truth) == 0:
        raise SchemaError(f"No user active before the split {day.date()} buys an item known by then after it; "
                          "choose an earlier split.")
    models = {
        "crmine": top_items(train, **params)[:2],
        "buy_again": buy_again_baseline(train, params["k"]),
        "popularity": popularity_baseline(train, params["k"]),
    }
    table = [{"model": name, **_scores(train, u, i, truth, params["k"])} for name, (u, i) in models.items()]
    return pd.DataFrame(table, columns=list(EVALUATION_COLUMNS))


def _truth(train: Events, later: pd.DataFrame) -> np.ndarray:
    """Sorted distinct keys user * n_items + item bought after the split, by users and items known before."""
    u = pd.Index(train.users).get_indexer(later["user"].to_numpy(dtype=object))
    i = pd.Index(train.items).get_indexer(later["item"].to_numpy(dtype=object))
    ok = (u >= 0) & (i >= 0)
    return np.unique(u[ok].astype(np.int64) * train.n_items + i[ok])


def _scores(train: Events, u: np.ndarray, i: np.ndarray, truth: np.ndarray, k: int) -> dict[str, Any]:
    n = train.n_items
    truth_users, bought = np.unique(truth // n, return_counts=True)
    scored = np.isin(u, truth_users)
    u, i = u[scored], i[scored]
    hit = np.isin(u * n + i, truth)
    hits = np.bincount(np.searchsorted(truth_users, u), weights=hit, minlength=len(truth_users))
    return {"hit_rate": float(np.mean(hits > 0)), "precision": float(np.mean(hits / k)),
            "recall": float(np.mean(hits / bought)), "coverage": float(len(np.unique(i)) / n),
            "users": len(truth_users), "k": k}


def popularity_baseline(train: Events, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Every user gets the k items with the most purchase lines (ties by name)."""
    count = np.bincount(train.item, minlength=train.n_items)
    order = np.lexsort((np.arange(train.n_items), -count))
    return fill_popular(train.n_users, train.n_items, order, k=k)


def buy_again_baseline(train: Events, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Each user's own items by count, then last purchase, then name; popular items fill the rest."""
    key = train.user * train.n_items + train.item
    first = np.r_[True, key[1:] != key[:-1]]  # events are sorted by (user, item, time)
    starts = np.flatnonzero(first)
    counts = np.diff(np.r_[starts, len(key)])
    last_ts = train.ts[np.r_[starts[1:], len(key)] - 1]
    u, i = train.user[starts], train.item[starts]
    # rank_top sorts by a single score: counts first, recency as a fraction below one purchase
    span = max(1, int(train.end - train.ts.min()))
    score = counts + (last_ts - train.ts.min()) / (span + 1.0)
    u, i, _, _ = rank_top(u, i, score, k)
    count = np.bincount(train.item, minlength=train.n_items)
    order = np.lexsort((np.arange(train.n_items), -count))
    fu, fi = fill_popular(train.n_users, train.n_items, order, u * train.n_items + i, k=k)
    have = np.bincount(u, minlength=train.n_users)
    need = k - have[fu]
    take = group_rank(fu) < need
    return np.r_[u, fu[take]], np.r_[i, fi[take]]
