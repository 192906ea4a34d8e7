"""The REST API on loopback: POST latency (p50 / p99) of till lines for one client, and GET throughput.

A simulated shop (``--customers``, default 2,000) is loaded, its customer table, RFM scores and a
churn model built; ``crmine serve`` then runs in its own process and one httpx client posts sales
for random customers, on the last transaction day (so the compiled customer table stays valid),
one at a time, then reads customers for ``--seconds``. Goal (issue 15): p99 <= 50 ms for one client.

    python bench/bench_serve.py                   # 2,000 customers, 300 posts, 10 s of reads
    python bench/bench_serve.py --customers 20000 --posts 1000
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

import crmine
from crmine.datasets import simulate
from crmine.serve import create_key


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _prepare(root: Path, customers: int) -> tuple[list[str], str, dict[str, str]]:
    started = time.perf_counter()
    simulate(customers, seed=0, out_dir=root)
    with crmine.init(root) as ws:
        ws.ingest.run()
        ws.customers.build()
        ws.customers.rfm()
        ws.models.fit(candidates=("logistic",))
        t = ws.table("customer_table")
        ids = ws.warehouse.execute(t.filter(t.orders > 0).customer_id).tolist()
        day = str(ws.customers.as_of().date())
        keys = {role: create_key(ws.warehouse, role=role) for role in ("till", "analyst")}
    print(f"shop: {customers:,} customers, {len(ids):,} buyers, last day {day}; prepared in "
          f"{time.perf_counter() - started:.0f} s")
    return ids, day, keys


def _serve(root: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "crmine", "serve", str(root), "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "OPENBLAS_NUM_THREADS": "1"})
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if httpx.get(f"{base}/v1/health", timeout=1).status_code == 200:
                return proc, base
        except httpx.TransportError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("the server did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--posts", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "shop"
        ids, day, keys = _prepare(root, args.customers)
        proc, base = _serve(root)
        try:
            with httpx.Client(base_url=base, timeout=30) as http:
                till = {"Authorization": f"Bearer {keys['till']}"}
                analyst = {"Authorization": f"Bearer {keys['analyst']}"}
                # Warm-up: the first request compiles the customer table once.
                http.get(f"/v1/customers/{ids[0]}", headers=analyst).raise_for_status()
                latencies = []
                for i in range(args.posts):
                    line = {"order_id": f"BENCH{i}", "line_no": 1, "customer_id": str(rng.choice(ids)),
                            "ts": f"{day}T12:00:00", "amount": float(rng.integers(5, 200)), "channel": "store"}
                    t0 = time.perf_counter()
                    r = http.post("/v1/events/transactions", json=line, headers=till)
                    latencies.append((time.perf_counter() - t0) * 1000)
                    if r.status_code != 201:
                        raise SystemExit(f"POST answered {r.status_code}: {r.text[:200]}")
                p50, p99 = np.percentile(latencies, [50, 99])
                print(f"POST /v1/events/transactions, one client, {args.posts} lines: p50 {p50:.1f} ms, "
                      f"p99 {p99:.1f} ms, max {max(latencies):.1f} ms (goal p99 <= 50 ms)")
                n, t0 = 0, time.perf_counter()
                while time.perf_counter() - t0 < args.seconds:
                    http.get(f"/v1/customers/{rng.choice(ids)}", headers=analyst).raise_for_status()
                    n += 1
                elapsed = time.perf_counter() - t0
                print(f"GET /v1/customers/{{id}}, one client: {n / elapsed:.1f} requests/s "
                      f"({1000 * elapsed / n:.1f} ms each) over {elapsed:.0f} s")
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)


if __name__ == "__main__":
    main()
