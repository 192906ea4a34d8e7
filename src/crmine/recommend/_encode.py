"""Baskets as integer codes: one row per distinct (basket, item) pair, items numbered by name.

The miner never sees names. Items are numbered in sorted order of their names, so an itemset
whose codes are sorted lists its items by name as well; baskets are numbered as met.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from crmine.errors import SchemaError

__all__ = ["EncodedBaskets", "encode_baskets"]


@dataclass(frozen=True, eq=False)
class EncodedBaskets:
    """Distinct (basket, item) pairs as codes, sorted by basket then item."""

    basket_codes: np.ndarray  # int64, one per pair
    item_codes: np.ndarray  # int64, one per pair
    items: np.ndarray  # the item names, indexed by code (sorted)
    n_baskets: int
    skipped_rows: int  # rows with a blank basket or item


def _factorize(values: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Codes (-1 for missing), the distinct values, and which of them are blank (only whitespace)."""
    codes, uniques = pd.factorize(values, sort=False)
    uniques = np.asarray(uniques, dtype=object)
    blank = np.fromiter((isinstance(u, str) and not u.strip() for u in uniques), dtype=bool,
                        count=len(uniques))
    return codes, uniques, blank


def encode_baskets(baskets: pd.DataFrame, *, basket: str, item: str) -> EncodedBaskets:
    """Validate the two columns, skip blank rows, and encode the distinct pairs.

    Parameters
    ----------
    baskets
        One row per basket line (duplicated lines are counted once).
    basket
        The column naming each line's basket (an order, a receipt, a visit).
    item
        The column naming the item (a product, a category).
    """
    if not isinstance(baskets, pd.DataFrame):
        raise SchemaError(f"Baskets must be a pandas DataFrame with one row per basket line; "
                          f"received {type(baskets).__name__}.")
    missing = [c for c in (basket, item) if c not in baskets.columns]
    if missing:
        names = ", ".join(f"'{c}'" for c in missing)
        have = ", ".join(map(str, baskets.columns)) or "(none)"
        raise SchemaError(f"Column {names} not found in the baskets. Existing columns: {have}. "
                          f"Name the basket column with basket= (--basket) and the item column "
                          f"with item= (--item).")
    if basket == item:
        raise SchemaError(f"The basket and item columns are both '{basket}'; name two different columns.")
    b_codes, _, b_blank = _factorize(baskets[basket])
    i_codes, i_values, i_blank = _factorize(baskets[item])
    keep = (b_codes >= 0) & (i_codes >= 0)
    keep &= ~b_blank[np.where(keep, b_codes, 0)] & ~i_blank[np.where(keep, i_codes, 0)]
    skipped = int(len(keep) - keep.sum())
    if skipped == len(keep):
        raise SchemaError(f"No baskets to mine: all {len(baskets):,} rows have a blank '{basket}' or "
                          f"'{item}'.")
    # Items are named as text and numbered by name: 7 and "7" are one item.
    text = np.array([str(v) for v in i_values], dtype=object)
    used = np.zeros(len(i_values), dtype=bool)
    used[i_codes[keep]] = True  # an item seen only on skipped rows is not in the catalogue
    names, by_name = np.unique(text[used], return_inverse=True)
    code_of = np.full(len(i_values), -1, dtype=np.int64)
    code_of[used] = by_name
    n_items = len(names)
    key = np.sort(b_codes[keep].astype(np.int64) * n_items + code_of[i_codes[keep]])
    key = key[np.r_[True, key[1:] != key[:-1]]]  # distinct pairs (np.unique hashes: 10x slower)
    raw_basket = key // n_items
    basket_codes = np.cumsum(np.r_[True, raw_basket[1:] != raw_basket[:-1]]) - 1  # 0..n-1, sorted
    return EncodedBaskets(basket_codes=basket_codes, item_codes=key % n_items, items=names,
                          n_baskets=int(basket_codes[-1]) + 1, skipped_rows=skipped)
