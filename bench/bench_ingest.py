"""Ingest throughput and peak memory: crmine (typed, validated, quarantined) against plain pandas.

The peer is what an analyst writes by hand: ``pandas.read_csv`` then ``DataFrame.to_sql`` into an
embedded database (SQLite), with no validation at all. Each run happens in a fresh child process so
that its peak resident memory can be read from the operating system.

    python bench/bench_ingest.py [rows ...]      # default: 1,000,000 and 10,000,000
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

CUSTOMERS = 200_000


def write_files(folder: Path, rows: int, seed: int = 0) -> None:
    """A customers file and a transactions file of ``rows`` lines, written in chunks."""
    rng = np.random.default_rng(seed)
    src = folder / "sources"
    src.mkdir(parents=True, exist_ok=True)
    ids = np.array([f"C{i:07d}" for i in range(CUSTOMERS)])
    pacsv.write_csv(pa.table({"customer_id": ids, "income": rng.gamma(4, 12000, CUSTOMERS).round(0)}),
                    src / "customers.csv")
    start = np.datetime64("2023-01-01T00:00:00")
    with pacsv.CSVWriter(src / "transactions.csv", pa.schema([
        ("order_id", pa.string()), ("line_no", pa.int64()), ("customer_id", pa.string()), ("ts", pa.string()),
        ("quantity", pa.int64()), ("unit_price", pa.float64()), ("amount", pa.float64()), ("channel", pa.string()),
    ])) as w:
        chunk = 1_000_000
        for lo in range(0, rows, chunk):
            n = min(chunk, rows - lo)
            qty = rng.integers(1, 4, n)
            price = rng.gamma(2, 15, n).round(2)
            secs = rng.integers(0, 3 * 365 * 86400, n)
            ts = (start + secs.astype("timedelta64[s]")).astype(str)
            w.write_table(pa.table({
                "order_id": np.char.add("O", np.arange(lo, lo + n).astype(str)),
                "line_no": np.ones(n, dtype=np.int64),
                "customer_id": ids[rng.integers(0, CUSTOMERS, n)],
                "ts": np.char.replace(ts, "T", " "),
                "quantity": qty, "unit_price": price, "amount": (qty * price).round(2),
                "channel": rng.choice(np.array(["store", "web", "catalog", "phone"]), n),
            }))
    (folder / "crmine.toml").write_text(textwrap.dedent("""
        [sources.customers]
        table = "customers"
        path = "sources/customers.csv"
        [sources.transactions]
        table = "transactions"
        path = "sources/transactions.csv"
    """))


_CRMINE = """
import crmine, json, resource, sys, time
t = time.perf_counter()
ws = crmine.init(sys.argv[1])
r = ws.ingest.run()
print(json.dumps({"seconds": time.perf_counter() - t, "loaded": sum(x.loaded for x in r),
                  "quarantined": sum(x.quarantined for x in r),
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

_PANDAS = """
import pandas as pd, sqlite3, json, resource, sys, time
t = time.perf_counter()
con = sqlite3.connect(sys.argv[1] + "/pandas.sqlite")
n = 0
for name in ("customers", "transactions"):
    df = pd.read_csv(sys.argv[1] + f"/sources/{name}.csv", parse_dates=["ts"] if name == "transactions" else None)
    df.to_sql(name, con, if_exists="replace", index=False, chunksize=100_000)
    n += len(df)
con.commit()
print(json.dumps({"seconds": time.perf_counter() - t, "loaded": n, "quarantined": 0,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _run_child(code: str, folder: Path) -> dict:
    """Run ``code`` in a fresh interpreter; it prints its time and its own peak RSS (MiB) as JSON."""
    proc = subprocess.run([sys.executable, "-c", code, str(folder)], capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run(sizes=(1_000_000, 10_000_000)) -> list[dict]:
    results = []
    for rows in sizes:
        with tempfile.TemporaryDirectory(prefix="crmine-bench-") as tmp:
            folder = Path(tmp)
            t = time.perf_counter()
            write_files(folder, rows)
            gen = time.perf_counter() - t
            ours = _run_child(_CRMINE, folder)
            peer = _run_child(_PANDAS, folder)
            results.append({
                "rows": rows, "generate_s": round(gen, 1),
                "crmine_s": round(ours["seconds"], 2), "crmine_rows_per_s": int(rows / ours["seconds"]),
                "crmine_peak_mb": round(ours["peak_mb"]), "crmine_loaded": ours["loaded"],
                "pandas_s": round(peer["seconds"], 2), "pandas_peak_mb": round(peer["peak_mb"]),
                "speedup_vs_pandas": round(peer["seconds"] / ours["seconds"], 2),
            })
    return results


def main(argv: list[str]) -> None:
    sizes = tuple(int(a.replace("_", "")) for a in argv) or (1_000_000, 10_000_000)
    print(f"{'rows':>12} {'crmine s':>9} {'rows/s':>10} {'peak MB':>8} {'pandas+to_sql s':>16} {'peak MB':>8} {'speed-up':>9}")
    for r in run(sizes):
        print(f"{r['rows']:>12,} {r['crmine_s']:>9.1f} {r['crmine_rows_per_s']:>10,} {r['crmine_peak_mb']:>8,} "
              f"{r['pandas_s']:>16.1f} {r['pandas_peak_mb']:>8,} {r['speedup_vs_pandas']:>8.1f}x")


if __name__ == "__main__":
    main(sys.argv[1:])
