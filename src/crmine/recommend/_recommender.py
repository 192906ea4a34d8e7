"""Next-best offer: for every customer, the k items most worth offering now.

The score of item i for user u blends three signals, each scaled to [0, 1]::

    score = w_buy * again(u, i) + w_similar * similar(u, i) + w_popular * popular(i)

- ``again``: the user's own purchases of i, each weighted by ``0.5 ** (age / half_life_days)``
  (recency) and summed (frequency), saturated as ``x / (1 + x)``.
- ``similar``: items bought by the same customers as the user's items. Item-item cosine on the
  sparse user x item matrix (``co(i, j) / sqrt(n_i n_j)``), each item keeping its ``neighbours``
  most similar items; the user's ``again`` profile times that matrix, divided by the user's best.
- ``popular``: buyers of i, each weighted by the age of the purchase with
  ``popularity_half_life_days``, divided by the most popular item's. The same for every user, it
  ranks what the other two leave open, and it is all a customer without history would get.

Only events known as of ``until`` are used. There is no randomness; ties are broken by item name.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

from crmine.errors import SchemaError, SettingsError
from crmine.recommend._events import Events, as_text, cut, prepare

__all__ = ["DEFAULT_WEIGHTS", "RECOMMENDATION_COLUMNS", "recommend"]

RECOMMENDATION_COLUMNS = ("user", "item", "rank", "score")
# Chosen on time splits of simulated retail purchases (see docs/recommend.md): buying again leads,
# similar items come next, popularity fills the rest.
DEFAULT_WEIGHTS: Mapping[str, float] = MappingProxyType({"buy_again": 1.0, "similar": 0.25, "popular": 0.1})


def recommend(frame: pd.DataFrame, /, *, user: str, item: str, time: str, until: Any = None, k: int = 10,
              exclude_recent_days: float | None = None, exclude: pd.DataFrame | None = None,
              half_life_days: float = 90.0, popularity_half_life_days: float = 30.0, neighbours: int = 50,
              weights: Mapping[str, float] | None = None) -> pd.DataFrame:
    """The top ``k`` items for every user active up to ``until``, best first.

    Parameters
    ----------
    frame
        One row per purchase line.
    user, item, time
        The columns naming the customer, the item and the time of purchase (any common format).
    until
        The as-of day (default: the last day in the data). Events after its end are never used.
    k
        Items per user (fewer when the catalogue, less the exclusions, is smaller).
    exclude_recent_days
        Leave out items the user bought within this many days before the end of ``until``
        (default None: customers mostly buy again, so nothing is left out).
    exclude
        (user, item) pairs never to offer, in columns named as ``user`` and ``item``
        (returned items, items out of range for a customer).
    half_life_days
        Half-life of a purchase in the buy-again and similar-items signals.
    popularity_half_life_days
        Half-life of a purchase in the popularity signal.
    neighbours
        Similar items kept per item.
    weights
        The blend: keys ``buy_again``, ``similar``, ``popular`` (missing keys take DEFAULT_WEIGHTS).

    Returns
    -------
    pandas.DataFrame
        Columns user, item, rank (1..k), score; users (as text) in name order, then by rank.
        ``attrs`` holds until (the as-of day), users, items (the catalogue known then) and k.

    Examples
    --------
    >>> import pandas as pd
    >>> buys = pd.DataFrame({"customer": ["a", "a", "b", "b", "c"],
    ...                      "product": ["tea", "milk", "tea", "milk", "tea"],
    ...                      "day": ["2025-01-02", "2025-01-03", "2025-01-02", "2025-01-05", "2025-01-06"]})
    >>> recommend(buys, user="customer", item="product", time="day", k=2)[["user", "item", "rank"]]
      user  item  rank
    0    a   tea     1
    1    a  milk     2
    2    b   tea     1
    3    b  milk     2
    4    c   tea     1
    5    c  milk     2
    """
    params = check_options(k=k, exclude_recent_days=exclude_recent_days, half_life_days=half_life_days,
                     popularity_half_life_days=popularity_half_life_days, neighbours=neighbours, weights=weights)
    rows = prepare(frame, user=user, item=item, time=time)
    events = cut(rows, until)
    pairs = None if exclude is None else _exclude_pairs(exclude, user=user, item=item)
    u, i, rank, score = top_items(events, excluded=pairs, **params)
    out = pd.DataFrame({"user": events.users[u], "item": events.items[i], "rank": rank, "score": score})
    out.attrs.update(until=events.until, users=events.n_users, items=events.n_items, k=params["k"])
    return out


def check_options(*, k: Any, exclude_recent_days: Any, half_life_days: Any, popularity_half_life_days: Any,
            neighbours: Any, weights: Mapping[str, float] | None) -> dict[str, Any]:
    """The options checked all at once; one SettingsError lists every problem."""
    problems = []
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        problems.append(f"k must be a whole number of at least 1 (received {k!r})")
    for name, value in (("half_life_days", half_life_days), ("popularity_half_life_days", popularity_half_life_days)):
        if not isinstance(value, (int, float, np.number)) or not np.isfinite(value) or value <= 0:
            problems.append(f"{name} must be a positive number of days (received {value!r})")
    if exclude_recent_days is not None and (not isinstance(exclude_recent_days, (int, float, np.number))
                                            or not np.isfinite(exclude_recent_days) or exclude_recent_days < 0):
        problems.append(f"exclude_recent_days must be None or a number of days >= 0 (received {exclude_recent_days!r})")
    if isinstance(neighbours, bool) or not isinstance(neighbours, (int, np.integer)) or neighbours < 1:
        problems.append(f"neighbours must be a whole number of at least 1 (received {neighbours!r})")
    blend = dict(DEFAULT_WEIGHTS)
    unknown = sorted(set(weights or {}) - set(blend))
    if unknown:
        problems.append(f"weights has unknown key(s) {', '.join(map(repr, unknown))}; the keys are "
                        f"{', '.join(DEFAULT_WEIGHTS)}")
    else:
        blend.update(weights or {})
        if any(not isinstance(w, (int, float, np.number)) or not np.isfinite(w) or w < 0 for w in blend.values()):
            problems.append("every weight must be a number >= 0")
        elif sum(blend.values()) <= 0:
            problems.append("at least one weight must be above 0")
    if problems:
        raise SettingsError("Next-best offer: " + "; ".join(problems) + ".")
    return {"k": int(k), "exclude_recent_days": exclude_recent_days, "half_life_days": float(half_life_days),
            "popularity_half_life_days": float(popularity_half_life_days), "neighbours": int(neighbours),
            "weights": blend}


def _exclude_pairs(exclude: Any, *, user: str, item: str) -> pd.DataFrame:
    if not isinstance(exclude, pd.DataFrame):
        raise SchemaError(f"exclude must be a DataFrame of (user, item) pairs; received {type(exclude).__name__}.")
    missing = [c for c in (user, item) if c not in exclude.columns]
    if missing:
        have = ", ".join(map(str, exclude.columns)) or "(none)"
        raise SchemaError(f"Column(s) {', '.join(map(repr, missing))} not found in exclude. Existing columns: {have}. "
                          "Name its columns as the purchases' user and item columns.")
    return pd.DataFrame({"user": as_text(exclude[user]), "item": as_text(exclude[item])}).dropna()


# ---- scoring ---------------------------------------------------------------------------------------
def _codes_of(names: pd.Series, catalogue: np.ndarray) -> np.ndarray:
    """Codes of ``names`` in a sorted ``catalogue``; -1 where absent."""
    names = names.to_numpy(dtype=object).astype(str)
    cat = catalogue.astype(str)
    pos = np.searchsorted(cat, names)
    pos = np.minimum(pos, len(cat) - 1)
    return np.where(cat[pos] == names, pos, -1)


def excluded_keys(events: Events, *, exclude_recent_days: float | None,
                  excluded: pd.DataFrame | None) -> np.ndarray:
    """Sorted distinct keys ``user * n_items + item`` never to offer."""
    keys = [np.empty(0, dtype=np.int64)]
    if exclude_recent_days is not None:
        recent = events.age_days() <= exclude_recent_days
        keys.append(events.user[recent] * events.n_items + events.item[recent])
    if excluded is not None and len(excluded):
        u = _codes_of(excluded["user"], events.users)
        i = _codes_of(excluded["item"], events.items)
        ok = (u >= 0) & (i >= 0)
        keys.append(u[ok] * events.n_items + i[ok])
    return np.unique(np.concatenate(keys))


def decayed_matrix(events: Events, half_life_days: float) -> sparse.csr_matrix:
    """User x item: each purchase weighted by 0.5 ** (age / half-life), summed (recency and frequency)."""
    w = 0.5 ** (events.age_days() / half_life_days)
    m = sparse.csr_matrix((w, (events.user, events.item)), shape=(events.n_users, events.n_items))
    m.sum_duplicates()
    return m


def popularity(events: Events, half_life_days: float) -> np.ndarray:
    """Per item: the sum over purchase lines of 0.5 ** (age / half-life), scaled so the top item is 1."""
    w = 0.5 ** (events.age_days() / half_life_days)
    pop = np.bincount(events.item, weights=w, minlength=events.n_items)
    return pop / pop.max() if pop.max() > 0 else pop


def item_similarity(bought: sparse.csr_matrix, neighbours: int) -> sparse.csr_matrix:
    """Item x item cosine of the binary user x item matrix, each row keeping its top ``neighbours``
    (ties by item code), the diagonal left out."""
    x = bought.copy()
    x.data = np.ones_like(x.data)
    n = np.asarray(x.sum(axis=0)).ravel()
    scale = sparse.diags(1.0 / np.sqrt(np.maximum(n, 1.0)))
    xn = (x @ scale).tocsc()
    s = (xn.T @ xn).tocoo()
    off = s.row != s.col
    row, col, val = s.row[off], s.col[off], s.data[off]
    order = np.lexsort((col, -val, row))
    row, col, val = row[order], col[order], val[order]
    keep = group_rank(row) < neighbours
    return sparse.csr_matrix((val[keep], (row[keep], col[keep])), shape=s.shape)


def group_rank(group: np.ndarray) -> np.ndarray:
    """0, 1, 2, ... within each run of equal values of a sorted ``group``."""
    if len(group) == 0:
        return np.empty(0, dtype=np.int64)
    start = np.r_[True, group[1:] != group[:-1]]
    idx = np.arange(len(group))
    return idx - np.maximum.accumulate(np.where(start, idx, 0))


def _row_max_scaled(m: sparse.csr_matrix) -> sparse.csr_matrix:
    m = m.tocsr()
    m.eliminate_zeros()
    best = m.max(axis=1).toarray().ravel()
    inv = np.divide(1.0, best, out=np.zeros_like(best), where=best > 0)
    return sparse.diags(inv) @ m


def top_items(events: Events, *, k: int, weights: Mapping[str, float], half_life_days: float,
              popularity_half_life_days: float, neighbours: int, exclude_recent_days: float | None = None,
              excluded: pd.DataFrame | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(user code, item code, rank, score) of the top ``k`` items per user, by user then rank.

    Users are scored in chunks, so memory follows the chunk's candidates, not all users'. Within a
    chunk, the user's own and similar items are ranked first; only the best ``k`` of them can make
    the list, so popular items then fill each list to ``k``, skipping those and the excluded ones.
    """
    n_items = events.n_items
    decayed = decayed_matrix(events, half_life_days)
    again = decayed.copy()
    again.data = again.data / (1.0 + again.data)
    similarity = item_similarity(decayed, neighbours) if weights["similar"] > 0 else None
    pop = weights["popular"] * popularity(events, popularity_half_life_days)
    blocked = excluded_keys(events, exclude_recent_days=exclude_recent_days, excluded=excluded)
    scale = 2.0**40 / max(sum(weights.values()), 1e-12)  # scores as integers: ties are exact
    parts = []
    for start in range(0, events.n_users, _CHUNK):
        rows = again[start:start + _CHUNK]
        blend = weights["buy_again"] * rows
        if similarity is not None:
            blend = blend + weights["similar"] * _row_max_scaled(rows @ similarity)
        blend = blend.tocsr()
        blend.sum_duplicates()
        blend.sort_indices()
        blend = blend.tocoo()
        u, i = blend.row.astype(np.int64) + start, blend.col.astype(np.int64)
        score = blend.data + pop[i]
        keep = ~_isin_sorted(u * n_items + i, blocked)
        parts.append(_row_top(u[keep], i[keep], score[keep], k, scale))
    u, i, score = (np.concatenate(x) for x in zip(*parts, strict=True)) if parts else (np.empty(0),) * 3
    order = np.lexsort((np.arange(n_items), -pop))
    fu, fi = fill_popular(events.n_users, n_items, order, u * n_items + i, blocked, k=k)
    return rank_top(np.r_[u, fu], np.r_[i, fi], np.r_[score, pop[fi]], k)


_CHUNK = 20_000  # users scored at once (below 2**21, for _row_top's key)


def _row_top(u: np.ndarray, i: np.ndarray, score: np.ndarray, k: int, scale: float
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The best ``k`` per user of one chunk's candidates, sorted by (user, item) on entry: one
    stable sort of (user, score as an integer), which keeps the item order within ties."""
    if len(u) == 0:
        return u, i, score
    q = np.clip(np.rint(score * scale), 0, _TOP).astype(np.int64)
    key = ((u - u[0]) << 42) | (_TOP - q)
    order = np.argsort(key, kind="stable")
    u, i, score = u[order], i[order], score[order]
    keep = group_rank(u) < k
    return u[keep], i[keep], score[keep]


_TOP = 2**41 - 1


def _isin_sorted(keys: np.ndarray, sorted_keys: np.ndarray) -> np.ndarray:
    if len(sorted_keys) == 0 or len(keys) == 0:
        return np.zeros(len(keys), dtype=bool)
    pos = np.minimum(np.searchsorted(sorted_keys, keys), len(sorted_keys) - 1)
    return sorted_keys[pos] == keys


def fill_popular(n_users: int, n_items: int, order: np.ndarray, *blocked_keys: np.ndarray,
                 k: int) -> tuple[np.ndarray, np.ndarray]:
    """For every user, the first ``k`` items of ``order`` (items, best first) not blocked for them."""
    rank_of = np.empty(n_items, dtype=np.int64)
    rank_of[order] = np.arange(n_items)
    keys = np.unique(np.concatenate(blocked_keys)) if blocked_keys else np.empty(0, dtype=np.int64)
    keys = keys.astype(np.int64)
    bu, brank = keys // n_items, rank_of[keys % n_items]
    srt = np.lexsort((brank, bu))
    bu, brank = bu[srt], brank[srt]
    # Walking the order, the j-th blocked item (0-based) is met before the k-th open one when its
    # rank minus j is below k; rank - j never falls, so those items are a prefix of each user's list.
    j = group_rank(bu)
    skipped = np.bincount(bu, weights=(brank - j < k), minlength=n_users).astype(np.int64)
    length = np.minimum(k + skipped, n_items)
    users = np.repeat(np.arange(n_users, dtype=np.int64), length)
    ranks = np.arange(len(users)) - np.repeat(np.cumsum(length) - length, length)
    items = order[ranks]
    open_ = ~_isin_sorted(users * n_items + items, keys)
    return users[open_], items[open_]


def rank_top(u: np.ndarray, i: np.ndarray, score: np.ndarray, k: int
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per user, the ``k`` best (highest score, then lowest item code), ranked 1..k."""
    score = np.round(score, 12)  # sums taken in different orders tie exactly
    order = np.lexsort((i, -score, u))
    u, i, score = u[order], i[order], score[order]
    rank = group_rank(u) + 1
    keep = rank <= k
    return u[keep], i[keep], rank[keep], score[keep]
