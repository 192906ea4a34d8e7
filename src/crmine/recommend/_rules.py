"""Association rules X => {y} from frequent itemsets, with arules' apriori semantics.

For a frequent itemset S and each y in S the rule is (S - {y}) => {y}; a rule's length is |S|,
as in arules (``minlen``/``maxlen`` count the items of the whole rule). With ``min_items=1`` the
rules {} => {y} appear, as in arules, whenever support(y) >= min_confidence. Thresholds are
inclusive: support count >= min_support * n (within 1e-9) and confidence >= min_confidence.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from crmine.errors import SettingsError
from crmine.recommend._eclat import FrequentItemsets, frequent_itemsets
from crmine.recommend._encode import encode_baskets

__all__ = ["RULE_COLUMNS", "Rules", "association_rules"]

RULE_COLUMNS = ("antecedent", "consequent", "support", "confidence", "lift", "leverage",
                "conviction", "count", "antecedent_count", "consequent_count")
SEPARATOR = " & "
_EPS = 1e-9


@dataclass(frozen=True, eq=False)
class Rules:
    """Association rules mined from ``n_baskets`` baskets holding ``n_items`` distinct items.

    ``rules`` has one row per rule (columns :data:`RULE_COLUMNS`), sorted by lift, then support
    (both falling), then antecedent and consequent. ``antecedents`` holds each row's left-hand
    side as a set of item names, in the frame's order.
    """

    n_baskets: int
    n_items: int
    rules: pd.DataFrame
    antecedents: tuple[frozenset[str], ...] = field(repr=False)
    n_itemsets: int = 0
    skipped_rows: int = 0
    min_support: float = 0.0
    min_confidence: float = 0.0
    min_items: int = 1
    max_items: int = 10

    def __len__(self) -> int:
        return len(self.rules)

    def _subset(self, keep: np.ndarray) -> Rules:
        keep = np.asarray(keep, dtype=bool)
        ante = tuple(a for a, k in zip(self.antecedents, keep, strict=True) if k)
        frame = self.rules[keep].reset_index(drop=True)
        return replace(self, rules=frame, antecedents=ante)

    def with_consequent(self, items: str | Iterable[str]) -> Rules:
        """The rules whose right-hand side is ``items`` (one item, or any of several)."""
        wanted = {items} if isinstance(items, str) else set(items)
        return self._subset(self.rules["consequent"].isin(wanted).to_numpy())

    def containing(self, items: str | Iterable[str]) -> Rules:
        """The rules that hold at least one of ``items``, on either side."""
        wanted = {items} if isinstance(items, str) else set(items)
        keep = [bool(a & wanted) or c in wanted
                for a, c in zip(self.antecedents, self.rules["consequent"], strict=True)]
        return self._subset(np.array(keep, dtype=bool))

    def recommend(self, basket: Iterable[str], /, *, top: int | None = None) -> pd.DataFrame:
        """What goes with this basket: the rules whose antecedent is within ``basket`` and whose
        consequent is not in it, by confidence, then lift (both falling); ``top`` keeps the first.

        Examples
        --------
        >>> import pandas as pd
        >>> lines = pd.DataFrame({"order": [1, 1, 2, 2, 3], "sku": ["tea", "milk", "tea", "milk", "tea"]})
        >>> rules = association_rules(lines, basket="order", item="sku", min_support=0.5,
        ...                           min_confidence=0.5, min_items=2)
        >>> rules.recommend(["tea"])[["antecedent", "consequent", "confidence"]]
          antecedent consequent  confidence
        0        tea       milk    0.666667
        """
        have = frozenset(basket)
        cons = self.rules["consequent"].to_numpy()
        keep = np.array([a <= have and c not in have for a, c in zip(self.antecedents, cons, strict=True)],
                        dtype=bool)
        hits = self.rules[keep] if len(keep) else self.rules.iloc[:0]
        hits = hits.sort_values(["confidence", "lift", "support", "antecedent", "consequent"],
                                ascending=[False, False, False, True, True], kind="mergesort")
        hits = hits.reset_index(drop=True)
        return hits if top is None else hits.head(top)

    def summary(self) -> pd.DataFrame:
        """Rules by length (items in the rule, |X| + 1): count and the range of their lift."""
        length = pd.Series([len(a) + 1 for a in self.antecedents], dtype="int64", name="length")
        frame = self.rules.assign(length=length.to_numpy())
        return (frame.groupby("length")
                .agg(rules=("lift", "size"), lift_min=("lift", "min"), lift_max=("lift", "max"))
                .reset_index())

    def to_dict(self, *, top: int = 5) -> dict:
        """Counts, thresholds and the first ``top`` rules, JSON-ready."""
        first = self.rules.head(top).to_dict(orient="records")
        clean = [{k: (v.item() if hasattr(v, "item") else v) for k, v in r.items()} for r in first]
        for r in clean:
            for k, v in r.items():
                if isinstance(v, float) and not math.isfinite(v):
                    r[k] = None if math.isnan(v) else "inf"
        return {"baskets": self.n_baskets, "items": self.n_items, "rules": len(self.rules),
                "itemsets": self.n_itemsets, "skipped_rows": self.skipped_rows,
                "min_support": self.min_support, "min_confidence": self.min_confidence,
                "min_items": self.min_items, "max_items": self.max_items, "top": clean}


def _check(min_support, min_confidence, min_items, max_items) -> None:
    problems = []
    if not _is_number(min_support) or not 0 < min_support <= 1:
        problems.append(f"min_support must be a share of baskets in (0, 1]; received {min_support!r} "
                        f"(0.01 keeps itemsets in at least 1% of the baskets)")
    if not _is_number(min_confidence) or not 0 <= min_confidence <= 1:
        problems.append(f"min_confidence must be in [0, 1]; received {min_confidence!r} "
                        f"(0.5 keeps rules right at least half the time)")
    for name, v in (("min_items", min_items), ("max_items", max_items)):
        if not isinstance(v, int | np.integer) or isinstance(v, bool) or v < 1:
            problems.append(f"{name} must be a whole number >= 1 (items in a rule, both sides); "
                            f"received {v!r}")
    if not problems and max_items < min_items:
        problems.append(f"max_items ({max_items}) is below min_items ({min_items}); raise max_items")
    if problems:
        raise SettingsError("Association rules: " + "; ".join(problems) + ".")


def _is_number(v) -> bool:
    return isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool) \
        and math.isfinite(float(v))


def association_rules(baskets: pd.DataFrame, /, *, basket: str, item: str, min_support: float,
                      min_confidence: float, min_items: int = 1, max_items: int = 10) -> Rules:
    """Association rules X => {y} among the baskets, as R arules' ``apriori`` finds them.

    Parameters
    ----------
    baskets
        One row per basket line; an item repeated in a basket counts once; rows with a blank
        basket or item are skipped (counted in ``skipped_rows``).
    basket
        The column naming the basket (order, receipt, visit).
    item
        The column naming the item.
    min_support
        Smallest share of baskets holding the whole rule, in (0, 1].
    min_confidence
        Smallest share of the baskets holding X that also hold y, in [0, 1].
    min_items
        Fewest items in a rule, both sides (arules ``minlen``); 1 allows {} => {y}.
    max_items
        Most items in a rule, both sides (arules ``maxlen``).

    Examples
    --------
    >>> import pandas as pd
    >>> lines = pd.DataFrame({"order": [1, 1, 2, 2, 3, 3, 4],
    ...                       "sku": ["bread", "butter", "bread", "butter", "bread", "jam", "jam"]})
    >>> r = association_rules(lines, basket="order", item="sku", min_support=0.5, min_confidence=0.6)
    >>> r.n_baskets, r.n_items, len(r)
    (4, 3, 3)
    >>> r.rules[["antecedent", "consequent", "count", "confidence", "lift"]]
      antecedent consequent  count  confidence      lift
    0      bread     butter      2    0.666667  1.333333
    1     butter      bread      2    1.000000  1.333333
    2                 bread      3    0.750000  1.000000
    """
    _check(min_support, min_confidence, min_items, max_items)
    enc = encode_baskets(baskets, basket=basket, item=item)
    n = enc.n_baskets
    min_count = max(1, math.ceil(min_support * n - _EPS))
    found = frequent_itemsets(enc.basket_codes, enc.item_codes, n_baskets=n, n_items=len(enc.items),
                              min_count=min_count, max_size=int(max_items))
    frame, ante = _rules_of(found, enc.items, min_confidence=float(min_confidence),
                            min_items=int(min_items))
    return Rules(n_baskets=n, n_items=len(enc.items), rules=frame, antecedents=ante,
                 n_itemsets=len(found), skipped_rows=enc.skipped_rows, min_support=float(min_support),
                 min_confidence=float(min_confidence), min_items=int(min_items),
                 max_items=int(max_items))


def _keys(sets: np.ndarray) -> np.ndarray:
    """One comparable scalar per row of an integer matrix (its bytes), for sorted look-ups."""
    rows = np.ascontiguousarray(sets, dtype=np.int64)
    return rows.view(np.dtype((np.void, 8 * max(rows.shape[1], 1)))).ravel()


def _rules_of(found: FrequentItemsets, names: np.ndarray, *, min_confidence: float,
              min_items: int) -> tuple[pd.DataFrame, tuple[frozenset[str], ...]]:
    n = found.n_baskets
    lookup = {}  # size -> (sorted row keys, counts in that order)
    for size, (sets, counts) in found.by_size.items():
        keys = _keys(sets)
        order = np.argsort(keys, kind="stable")
        lookup[size] = (keys[order], counts[order])
    single = np.zeros(len(names), dtype=np.int64)
    if 1 in found.by_size:
        single[found.by_size[1][0][:, 0]] = found.by_size[1][1]
    parts = []  # (antecedent codes (m, k-1), consequent codes, counts, antecedent counts)
    for size, (sets, counts) in found.by_size.items():
        if size < min_items:
            continue
        for pos in range(size):
            x = np.delete(sets, pos, axis=1)
            if size == 1:
                ax = np.full(len(counts), n, dtype=np.int64)
            else:  # every subset of a frequent itemset is frequent: the look-up always hits
                keys, sub_counts = lookup[size - 1]
                ax = sub_counts[np.searchsorted(keys, _keys(x))]
            ok = counts >= min_confidence * ax - _EPS * ax  # inclusive, on the counts
            parts.append((x[ok], sets[ok, pos], counts[ok], ax[ok]))
    ante_codes = [row for p in parts for row in p[0].tolist()]
    cons = np.concatenate([p[1] for p in parts]) if parts else np.zeros(0, dtype=np.int64)
    cnt = np.concatenate([p[2] for p in parts]) if parts else np.zeros(0, dtype=np.int64)
    a_cnt = np.concatenate([p[3] for p in parts]) if parts else np.zeros(0, dtype=np.int64)
    cnt_a = np.asarray(cnt, dtype=np.int64)
    ante_a = np.asarray(a_cnt, dtype=np.int64)
    cons_a = single[cons]
    support = cnt_a / n
    confidence = cnt_a / np.maximum(ante_a, 1)
    cons_support = cons_a / n
    lift = (cnt_a * n) / np.maximum(ante_a * cons_a, 1)  # conf / supp(y), from counts: ties stay ties
    leverage = support - (ante_a / n) * cons_support
    with np.errstate(divide="ignore", invalid="ignore"):
        conviction = np.where(cnt_a == ante_a, np.inf, (1 - cons_support) / (1 - confidence))
    labels = [SEPARATOR.join(names[list(x)]) for x in ante_codes]
    frame = pd.DataFrame({
        "antecedent": pd.Series(labels, dtype=object),
        "consequent": pd.Series(names[cons], dtype=object),
        "support": support, "confidence": confidence, "lift": lift, "leverage": leverage,
        "conviction": conviction, "count": cnt_a, "antecedent_count": ante_a,
        "consequent_count": cons_a,
    })
    order = np.lexsort((frame["consequent"].to_numpy(dtype=str), frame["antecedent"].to_numpy(dtype=str),
                        -cnt_a, -lift)) if len(frame) else np.arange(0)
    frame = frame.iloc[order].reset_index(drop=True)
    ante = tuple(frozenset(names[list(ante_codes[k])].tolist()) for k in order)
    return frame, ante
