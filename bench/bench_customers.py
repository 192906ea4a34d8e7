"""Customer-table build and query latency: crmine on DuckDB against pandas computing the same features.

1. Build time and peak memory of the customer table from 1M and 10M transaction lines (200,000
   customers), against pandas computing the same purchase features (orders, spend, first/last
   purchase, recency, inter-purchase mean and CV, channel shares, recent/previous spend) from
   the same data, each in a fresh process.
2. Latency of a three-condition count over 1,000,000 customers, against pandas boolean masks.

    python bench/bench_customers.py [rows ...]
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from bench_ingest import write_files  # noqa: E402

_CRMINE = """
import crmine, json, resource, sys, time
ws = crmine.init(sys.argv[1])
ws.ingest.run()
t = time.perf_counter()
n = ws.customers.build()
print(json.dumps({"seconds": time.perf_counter() - t, "customers": n,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

_PANDAS = """
import json, resource, sys, time
import numpy as np, pandas as pd
tx = pd.read_csv(sys.argv[1] + "/sources/transactions.csv", parse_dates=["ts"])
t = time.perf_counter()
as_of = tx.ts.max().normalize()
g = tx.groupby("customer_id")
out = pd.DataFrame({"orders": g.order_id.nunique(), "spend": g.amount.sum(),
                    "first_purchase": g.ts.min(), "last_purchase": g.ts.max()})
out["recency_days"] = (as_of - out.last_purchase.dt.normalize()).dt.days
days = tx.assign(day=tx.ts.dt.normalize())[["customer_id", "day"]].drop_duplicates().sort_values(["customer_id", "day"])
days["gap"] = days.groupby("customer_id").day.diff().dt.days
gg = days.groupby("customer_id").gap
out["ipt_mean_days"] = gg.mean()
out["ipt_cv"] = gg.std(ddof=0) / out.ipt_mean_days
shares = tx.pivot_table(index="customer_id", columns="channel", values="amount", aggfunc="sum", fill_value=0)
out = out.join(shares.div(out.spend, axis=0).add_prefix("share_channel_"))
recent = tx.ts >= as_of - pd.Timedelta(days=89)
previous = (tx.ts >= as_of - pd.Timedelta(days=179)) & ~recent
out["spend_recent"] = tx[recent].groupby("customer_id").amount.sum().reindex(out.index, fill_value=0)
out["spend_previous"] = tx[previous].groupby("customer_id").amount.sum().reindex(out.index, fill_value=0)
print(json.dumps({"seconds": time.perf_counter() - t, "customers": len(out),
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _child(code: str, folder: Path) -> dict:
    proc = subprocess.run([sys.executable, "-c", code, str(folder)], capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def build(sizes=(1_000_000, 10_000_000)) -> list[dict]:
    rows = []
    for n in sizes:
        with tempfile.TemporaryDirectory(prefix="crmine-bench-") as tmp:
            folder = Path(tmp)
            write_files(folder, n)
            ours, peer = _child(_CRMINE, folder), _child(_PANDAS, folder)
            rows.append({"lines": n, "customers": ours["customers"], "crmine_s": ours["seconds"],
                         "crmine_peak_mb": ours["peak_mb"], "pandas_s": peer["seconds"],
                         "pandas_peak_mb": peer["peak_mb"], "speedup": peer["seconds"] / ours["seconds"]})
    return rows


def query_latency(n: int = 1_000_000, repeats: int = 5) -> dict:
    import crmine
    from crmine.features import select_customers

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({
        "customer_id": np.char.add("C", np.arange(n).astype(str)),
        "age": rng.integers(18, 90, n), "income": rng.gamma(4, 12000, n).round(0),
        "region": rng.choice(np.array(["North", "South", "East", "West"]), n),
        "frequency": rng.poisson(3, n),
    })
    condition = "age between 30 and 40 and income > 50000 and region in ('North', 'East')"
    with tempfile.TemporaryDirectory(prefix="crmine-bench-") as tmp:
        ws = crmine.init(tmp)
        ws.warehouse.write("customer_table", frame)
        table = ws.warehouse.table("customer_table")
        ws.warehouse.count(select_customers(table, condition))  # warm
        t = time.perf_counter()
        for _ in range(repeats):
            ours = ws.warehouse.count(select_customers(table, condition))
        crmine_s = (time.perf_counter() - t) / repeats
        ws.close()
    t = time.perf_counter()
    for _ in range(repeats):
        peer = int((frame.age.between(30, 40) & (frame.income > 50000) & frame.region.isin(["North", "East"])).sum())
    pandas_s = (time.perf_counter() - t) / repeats
    assert ours == peer, (ours, peer)
    return {"customers": n, "count": ours, "crmine_ms": crmine_s * 1000, "pandas_ms": pandas_s * 1000}


def main(argv: list[str]) -> None:
    sizes = tuple(int(a.replace("_", "")) for a in argv) or (1_000_000, 10_000_000)
    print(f"{'lines':>12} {'customers':>10} {'crmine s':>9} {'peak MB':>8} {'pandas s':>9} {'peak MB':>8} {'speed-up':>9}")
    for r in build(sizes):
        print(f"{r['lines']:>12,} {r['customers']:>10,} {r['crmine_s']:>9.2f} {r['crmine_peak_mb']:>8,.0f} "
              f"{r['pandas_s']:>9.2f} {r['pandas_peak_mb']:>8,.0f} {r['speedup']:>8.1f}x")
    q = query_latency()
    print(f"query over {q['customers']:,} customers ({q['count']:,} qualify): crmine {q['crmine_ms']:.1f} ms, "
          f"pandas masks {q['pandas_ms']:.1f} ms")


if __name__ == "__main__":
    main(sys.argv[1:])
