"""Next-best offer: crmine's recommender on 1M purchase lines, 100k users, 10k items (synthetic).

Users prefer two of 200 categories and repeat three favourite items (half of their purchases);
the rest are other items of their categories (popular ones more often) or any item. Prints the
seconds of ``recommend`` (read times, learn, rank top 10 for every user), the process's peak
memory, and hit rate / precision / recall / coverage at 10 on a time split against the
popularity and buy-again baselines.

    python bench/bench_recommend.py            # 1M lines, about a minute
    python bench/bench_recommend.py --quick    # 100k lines
"""

from __future__ import annotations

import resource
import sys
import time

import numpy as np
import pandas as pd

from crmine.recommend import evaluate, recommend


def synthetic(n_users: int, n_items: int, *, lines_per_user: float = 10.0, n_cats: int = 200,
              seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    per_cat = n_items // n_cats
    within = 1.0 / (np.arange(per_cat) + 2.0)
    within /= within.sum()
    cats = rng.integers(0, n_cats, size=(n_users, 2))
    fav = cats[np.arange(n_users)[:, None], rng.integers(0, 2, size=(n_users, 3))] * per_cat \
        + rng.choice(per_cat, size=(n_users, 3), p=within)
    n = rng.poisson(lines_per_user - 1, size=n_users) + 1
    u = np.repeat(np.arange(n_users), n)
    m = len(u)
    kind = rng.random(m)
    in_cat = cats[u, rng.integers(0, 2, size=m)] * per_cat + rng.choice(per_cat, size=m, p=within)
    item = np.where(kind < 0.5, fav[u, rng.integers(0, 3, size=m)],
                    np.where(kind < 0.9, in_cat, rng.integers(0, n_items, size=m)))
    ts = pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.uniform(0, 365, size=m), unit="D")
    return pd.DataFrame({"customer": pd.Categorical.from_codes(u, [f"C{i:06d}" for i in range(n_users)]),
                         "sku": pd.Categorical.from_codes(item, [f"P{i:05d}" for i in range(n_items)]),
                         "ts": ts})


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    quick = "--quick" in sys.argv
    n_users, n_items = (10_000, 1_000) if quick else (100_000, 10_000)
    frame = synthetic(n_users, n_items)
    base = peak_mb()
    print(f"   {len(frame):,} lines, {frame['customer'].nunique():,} users, {frame['sku'].nunique():,} items "
          f"(data in memory: peak {base:,.0f} MB)")
    t = time.perf_counter()
    recs = recommend(frame, user="customer", item="sku", time="ts", k=10)
    took = time.perf_counter() - t
    print(f"   recommend (learn + top 10 for every user): {took:.1f} s, {len(recs):,} rows, "
          f"peak memory {peak_mb():,.0f} MB")
    t = time.perf_counter()
    table = evaluate(frame, user="customer", item="sku", time="ts", split="2025-10-31", k=10)
    print(f"   evaluate (split 2025-10-31, three models): {time.perf_counter() - t:.1f} s")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    rows = table.set_index("model")["hit_rate"]
    print(f"   hit rate@10: crmine {rows['crmine']:.4f} = {rows['crmine'] / rows['buy_again']:.3f}x buy-again, "
          f"{rows['crmine'] / rows['popularity']:.1f}x popularity")
    return 0


if __name__ == "__main__":
    sys.exit(main())
