"""Identity resolution: pairwise precision, recall and F1 against the simulator's truth, and time.

For each size, the crmine simulator writes its two customer sources (crm csv, web jsonl) with the
true person of every record; they are loaded into an in-memory DuckDB warehouse as canonical
``customers`` and resolved. With ``--sweep`` the resolution is repeated at several thresholds.
The peer figure is the naive rule "same standardised e-mail" (what a SQL analyst writes first).

    python bench/bench_identity.py [n_customers ...] [--seed 7] [--sweep]   # default: 5000 20000
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from crmine.datasets import simulate  # noqa: E402
from crmine.identity import DEFAULT_THRESHOLD, evaluate, resolve  # noqa: E402
from crmine.identity._standardise import standardise  # noqa: E402
from crmine.warehouse import connect  # noqa: E402
from tests.identity._identity_fakes import load_simulated  # noqa: E402

SWEEP = (0.5, 0.8, 0.9, 0.95, 0.99, 0.999)


def _email_rule(wh, truth) -> dict:
    std = wh.execute(standardise(wh.table("customers")).select("unique_id", "email"))
    key = std["email"].fillna(std["unique_id"])
    lineage = std.assign(customer_id=std["unique_id"], unified_id=key)
    return evaluate(lineage, truth)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("sizes", nargs="*", type=int, default=[5000, 20000])
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--sweep", action="store_true")
    args = ap.parse_args()
    print(f"{'customers':>9} {'records':>8} {'threshold':>9} {'precision':>9} {'recall':>7} "
          f"{'F1':>6} {'seconds':>7}  method")  # fmt: skip
    for n in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            simulate(n, seed=args.seed, out_dir=tmp, bad_rows=False)
            customers, truth = load_simulated(tmp)
        wh = connect()
        wh.write("customers", customers)
        e = _email_rule(wh, truth)
        print(f"{n:>9,} {len(customers):>8,} {'-':>9} {e['precision']:>9.4f} {e['recall']:>7.4f} "
              f"{e['f1']:>6.4f} {'-':>7}  same e-mail")  # fmt: skip
        for threshold in SWEEP if args.sweep else (DEFAULT_THRESHOLD,):
            t0 = time.perf_counter()
            resolve(wh, threshold=threshold, seed=0)
            seconds = time.perf_counter() - t0
            e = evaluate(wh.execute(wh.table("customer_lineage")), truth)
            print(f"{n:>9,} {len(customers):>8,} {threshold:>9} {e['precision']:>9.4f} "
                  f"{e['recall']:>7.4f} {e['f1']:>6.4f} {seconds:>7.1f}  crmine.identity")  # fmt: skip
        wh.close()
        _incremental(customers, truth, n, seed=args.seed)


def _incremental(customers, truth, n: int, *, seed: int) -> None:
    """1% of the records arrive in a second load: incremental resolution vs a full re-resolution."""
    import numpy as np

    late = np.random.default_rng(seed).choice(len(customers), size=max(len(customers) // 100, 1), replace=False)
    wh = connect()
    wh.write("customers", customers.drop(customers.index[late]))
    resolve(wh, seed=0)
    wh.write("customers", customers)
    t0 = time.perf_counter()
    result = resolve(wh, seed=0)
    inc_s = time.perf_counter() - t0
    inc = evaluate(wh.execute(wh.table("customer_lineage")), truth)
    wh.close()
    wh = connect()
    wh.write("customers", customers)
    t0 = time.perf_counter()
    resolve(wh, seed=0, incremental=False)
    full_s = time.perf_counter() - t0
    full = evaluate(wh.execute(wh.table("customer_lineage")), truth)
    wh.close()
    print(f"{n:>9,} {len(customers):>8,} {'+1%':>9} {inc['precision']:>9.4f} {inc['recall']:>7.4f} "
          f"{inc['f1']:>6.4f} {inc_s:>7.1f}  incremental ({result.mode}, {result.compared:,} compared); "
          f"full re-resolution {full_s:.1f} s, F1 {full['f1']:.4f}: {full_s / inc_s:.1f}x faster")


if __name__ == "__main__":
    main()
