"""Association rules: crmine's Eclat miner vs mlxtend (fpgrowth + association_rules).

On arules' Groceries (9,835 baskets) and on synthetic baskets of growing size, print the sizes,
seconds, the ratio and whether the two rule sets agree (same rules, same support and confidence).
Then crmine alone on 10M lines x 50k SKUs, with the process's peak memory.

    python bench/bench_baskets.py            # default run, a few minutes
    python bench/bench_baskets.py --quick    # groceries and 100k lines only
"""

from __future__ import annotations

import math
import resource
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from crmine.recommend import association_rules

GROCERIES = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "groceries_long.csv"


def synthetic(n_lines: int, n_skus: int, *, seed: int = 0) -> pd.DataFrame:
    """Baskets of ~5 lines; SKU popularity falls as a power of rank; SKU 2k is bought with 2k+1
    a third of the time (planted complements, so there are rules to find)."""
    rng = np.random.default_rng(seed)
    weight = 1.0 / (np.arange(n_skus) + 20.0) ** 1.1
    n_base = int(n_lines / 1.15)
    items = rng.choice(n_skus, size=n_base, p=weight / weight.sum())
    baskets = np.sort(rng.integers(0, max(1, n_base // 4), size=n_base))
    pick = (items % 2 == 0) & (items + 1 < n_skus) & (rng.random(n_base) < 0.33)
    items = np.concatenate([items, items[pick] + 1])[:n_lines]
    baskets = np.concatenate([baskets, baskets[pick]])[:n_lines]
    return pd.DataFrame({"basket": baskets, "item": pd.Categorical.from_codes(
        items, categories=[f"sku{k:05d}" for k in range(n_skus)]).astype(str)})


def crmine_rules(lines: pd.DataFrame, basket: str, item: str, support: float, confidence: float):
    t = time.perf_counter()
    rules = association_rules(lines, basket=basket, item=item, min_support=support,
                              min_confidence=confidence, min_items=2)
    return rules, time.perf_counter() - t


def mlxtend_rules(lines: pd.DataFrame, basket: str, item: str, support: float, confidence: float):
    from mlxtend.frequent_patterns import association_rules as mlx_rules
    from mlxtend.frequent_patterns import fpgrowth
    from mlxtend.preprocessing import TransactionEncoder

    warnings.filterwarnings("ignore", category=FutureWarning)  # pandas on mlxtend's sparse frames
    t = time.perf_counter()
    pairs = lines[[basket, item]].dropna().drop_duplicates()
    lists = pairs.groupby(basket)[item].agg(list).tolist()
    enc = TransactionEncoder()
    onehot = pd.DataFrame.sparse.from_spmatrix(enc.fit(lists).transform(lists, sparse=True),
                                               columns=enc.columns_)
    found = fpgrowth(onehot, min_support=support, use_colnames=True)
    try:
        rules = mlx_rules(found, num_itemsets=len(lists), metric="confidence", min_threshold=confidence)
    except TypeError:  # mlxtend before 0.23.2
        rules = mlx_rules(found, metric="confidence", min_threshold=confidence)
    rules = rules[rules["consequents"].map(len) == 1]
    return rules, time.perf_counter() - t


def agree(ours, theirs, confidence: float) -> str:
    """Same rules with the same support and confidence? mlxtend divides supports, so a rule at
    exactly the confidence threshold can round below it there: such rules are counted apart."""
    r = ours.rules
    mine = {(a, c): (s, f, k, ak) for a, c, s, f, k, ak in zip(
        r["antecedent"], r["consequent"], r["support"], r["confidence"], r["count"], r["antecedent_count"],
        strict=True)}
    other = {(" & ".join(sorted(a)), next(iter(c))): (s, f) for a, c, s, f in
             zip(theirs["antecedents"], theirs["consequents"], theirs["support"], theirs["confidence"], strict=True)}
    only_mine = mine.keys() - other.keys()
    at_threshold = {k for k in only_mine if mine[k][2] == confidence * mine[k][3]}
    only_theirs = other.keys() - mine.keys()
    if only_mine - at_threshold or only_theirs:
        return f"NO ({len(only_mine)} only in crmine, {len(only_theirs)} only in mlxtend)"
    bad = sum(not (math.isclose(mine[k][0], s) and math.isclose(mine[k][1], f)) for k, (s, f) in other.items())
    if bad:
        return f"NO ({bad} rules differ in support or confidence)"
    return "yes" + (f" (+{len(at_threshold)} at exactly the confidence threshold, lost to mlxtend's rounding)"
                    if at_threshold else "")


def resident_mb() -> float:
    with open("/proc/self/status") as f:  # Linux
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS")) / 1024


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def compare(label: str, lines: pd.DataFrame, basket: str, item: str, support: float, confidence: float,
            has_mlxtend: bool) -> None:
    ours, t_ours = crmine_rules(lines, basket, item, support, confidence)
    row = (f"{label:<28} {len(lines):>11,} lines {ours.n_baskets:>9,} baskets {ours.n_items:>6,} items  "
           f"support {support:g} conf {confidence:g}: {len(ours):>6,} rules  crmine {t_ours:7.2f} s")
    if has_mlxtend:
        theirs, t_theirs = mlxtend_rules(lines, basket, item, support, confidence)
        row += f"  mlxtend {t_theirs:7.2f} s  ratio {t_theirs / t_ours:6.1f}x  agree: {agree(ours, theirs, confidence)}"
    print(row, flush=True)


def large() -> None:
    """10M lines x 50k SKUs, crmine alone, with the peak memory of this process."""
    lines = synthetic(10_000_000, 50_000, seed=1)
    before, held = peak_mb(), resident_mb()
    ours, t = crmine_rules(lines, "basket", "item", 0.0005, 0.2)
    print(f"{'synthetic 50,000 SKUs':<28} {len(lines):>11,} lines {ours.n_baskets:>9,} baskets "
          f"{ours.n_items:>6,} items  support 0.0005 conf 0.2: {len(ours):>6,} rules  crmine {t:7.2f} s "
          f"(crmine alone); peak memory {peak_mb():,.0f} MB (building the input: peak {before:,.0f} MB, "
          f"{held:,.0f} MB held by the frame when mining starts)", flush=True)


def main(argv: list[str]) -> int:
    if "--large" in argv:
        large()
        return 0
    quick = "--quick" in argv
    # First, in its own process: Linux carries a parent's peak memory (ru_maxrss) into its children,
    # so the large run starts before mlxtend has grown this process.
    large_run = None if quick else subprocess.run([sys.executable, __file__, "--large"],
                                                  capture_output=True, text=True)
    try:
        import mlxtend  # noqa: F401

        has_mlxtend = True
    except ImportError:
        has_mlxtend = False
        print("mlxtend not installed: crmine alone (pip install mlxtend for the comparison)")
    if GROCERIES.is_file():
        g = pd.read_csv(GROCERIES, dtype={"item": str})
        compare("groceries (arules)", g, "transaction_id", "item", 0.001, 0.5, has_mlxtend)
        compare("groceries (arules)", g, "transaction_id", "item", 0.006, 0.25, has_mlxtend)
    else:
        print(f"groceries not found at {GROCERIES}: skipped")
    sizes = [(100_000, 5_000)] if quick else [(100_000, 5_000), (1_000_000, 20_000)]
    for n_lines, n_skus in sizes:
        compare(f"synthetic {n_skus:,} SKUs", synthetic(n_lines, n_skus), "basket", "item", 0.001, 0.2,
                has_mlxtend)
    if not quick:
        print(large_run.stdout, end="", flush=True)
        if large_run.returncode:
            print(large_run.stderr, file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
