"""Frequent itemsets by Eclat over a sparse basket x item matrix, counting a class at a time.

Eclat (Zaki 2000) grows itemsets depth-first: the itemsets sharing a prefix form a class, and the
class's baskets (the prefix's tid-list) are all that is needed to count its extensions. Here a
class is a block of the basket x item incidence matrix: rows = the baskets that hold the prefix,
columns = the items that extend it. One product ``block.T @ block`` counts every pair of the
class's items at once (the supports of prefix + {a, b}), so Python loops over classes, never over
candidate itemsets. Large blocks stay sparse (scipy); small ones, deep in the search, are dense
float32 and go through BLAS. Only items that are frequent on their own enter the matrix, ordered
by rising support so that early prefixes have short tid-lists.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

__all__ = ["FrequentItemsets", "frequent_itemsets"]

_DENSE_CELLS = 4_000_000  # a block this small (rows x items) is counted dense


@dataclass(frozen=True, eq=False)
class FrequentItemsets:
    """Frequent itemsets by size: ``by_size[k] = (codes (m, k) sorted per row, counts (m,))``."""

    by_size: dict[int, tuple[np.ndarray, np.ndarray]]
    n_baskets: int

    def __len__(self) -> int:
        return sum(len(c) for _, c in self.by_size.values())


def frequent_itemsets(basket_codes: np.ndarray, item_codes: np.ndarray, *, n_baskets: int,
                      n_items: int, min_count: int, max_size: int) -> FrequentItemsets:
    """Every itemset held by at least ``min_count`` baskets, with at most ``max_size`` items.

    ``basket_codes`` and ``item_codes`` are distinct (basket, item) pairs.
    """
    counts = np.bincount(item_codes, minlength=n_items)
    frequent = np.flatnonzero(counts >= min_count)
    frequent = frequent[np.argsort(counts[frequent], kind="stable")]  # rising support
    out: dict[int, list[tuple[np.ndarray, np.ndarray]]] = {}
    if len(frequent) and max_size >= 1:
        out[1] = [(frequent[:, None], counts[frequent])]
    if len(frequent) >= 2 and max_size >= 2:
        local = np.full(n_items, -1, dtype=np.int64)
        local[frequent] = np.arange(len(frequent))
        keep = local[item_codes] >= 0
        rows, cols = basket_codes[keep], local[item_codes[keep]]
        x = sp.csr_matrix((np.ones(len(rows), dtype=np.int32), (rows, cols)),
                          shape=(n_baskets, len(frequent)))
        _grow((), x, np.arange(len(frequent)), min_count=min_count, max_size=max_size, out=out)
    by_size = {}
    for k, parts in sorted(out.items()):
        local_sets = np.concatenate([p[0] for p in parts])
        codes = local_sets if k == 1 else frequent[local_sets]
        by_size[k] = (np.sort(codes, axis=1), np.concatenate([p[1] for p in parts]).astype(np.int64))
    return FrequentItemsets(by_size=by_size, n_baskets=n_baskets)


def _pairs(block, min_count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(i, j, count) for the column pairs i < j of ``block`` held together by >= min_count rows."""
    if sp.issparse(block):
        c = sp.triu(block.T @ block, k=1).tocoo()
        hit = c.data >= min_count
        i, j, n = c.row[hit], c.col[hit], c.data[hit]
        order = np.lexsort((j, i))
        return i[order].astype(np.int64), j[order].astype(np.int64), np.rint(n[order]).astype(np.int64)
    c = block.T @ block
    i, j = np.nonzero(np.triu(c >= min_count - 0.5, k=1))
    return i, j, np.rint(c[i, j]).astype(np.int64)


def _dense(block) -> np.ndarray:
    dtype = np.float32 if block.shape[0] < 2**24 else np.float64  # counts stay exact
    return block.toarray().astype(dtype, copy=False)


def _grow(prefix: tuple[int, ...], block, members: np.ndarray, *, min_count: int, max_size: int,
          out: dict) -> None:
    """Record prefix + {a, b} for the frequent pairs of ``members`` and recurse into each a.

    ``block`` has the baskets holding ``prefix`` as rows and ``members`` as columns; the itemsets
    prefix + {m} are recorded already.
    """
    size = len(prefix) + 2
    i, j, n = _pairs(block, min_count)
    if not len(n):
        return
    sets = np.empty((len(n), size), dtype=np.int64)
    sets[:, : len(prefix)] = prefix
    sets[:, -2], sets[:, -1] = members[i], members[j]
    out.setdefault(size, []).append((sets, n))
    if size >= max_size:
        return
    starts = np.flatnonzero(np.r_[True, i[1:] != i[:-1]])
    ends = np.r_[starts[1:], len(i)]
    by_column = block.tocsc() if sp.issparse(block) else None
    for s, e in zip(starts, ends, strict=True):
        if e - s < 2:
            continue
        a, js = i[s], j[s:e]
        if by_column is not None:
            rows = by_column.indices[by_column.indptr[a]: by_column.indptr[a + 1]]
            child = block[rows][:, js]
            if child.shape[0] * child.shape[1] <= _DENSE_CELLS:
                child = _dense(child)
        else:
            rows = np.flatnonzero(block[:, a])
            child = block[np.ix_(rows, js)]
        _grow((*prefix, int(members[a])), child, members[js], min_count=min_count,
              max_size=max_size, out=out)
