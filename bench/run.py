"""`make bench`: every benchmark, each printing its figures and its ratios against the peers.

Each benchmark runs as its own process so that one's memory does not colour another's figures.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent
BENCHES = [
    ("Ingest: crmine vs pandas read_csv + to_sql (1M and 10M transaction lines)", ["bench_ingest.py"]),
    ("Lifetime value: crmine vs lifetimes (and pymc-marketing when installed), 100k and 1M customers", ["bench_clv.py"]),
    ("Customer table build (1M and 10M lines) and a 3-condition query over 1M customers, vs pandas", ["bench_customers.py"]),
    ("Segmentation: crmine Segmenter on the customer table", ["bench_segment.py"]),
    ("Predictive models: 100k x 50 synthetic and IBM telco churn", ["bench_predict.py"]),
    ("Identity resolution on the simulator's planted duplicates", ["bench_identity.py"]),
    ("Uplift: crmine meta-learners vs causalml's (when installed), 1M customers x 30 features", ["bench_uplift.py"]),
    ("Association rules: crmine Eclat vs mlxtend fpgrowth (when installed); 10M lines x 50k SKUs", ["bench_baskets.py"]),
    ("Sales forecasts: crmine on 1,000 daily series vs a plain statsmodels ExponentialSmoothing loop", ["bench_forecast.py"]),
    ("Serving: POST latency p50/p99 and GET throughput of crmine serve on loopback", ["bench_serve.py"]),
    ("Next-best offer: crmine vs popularity and buy-again baselines; 1M lines, 100k users, 10k items", ["bench_recommend.py"]),
    ("Text: crmine sentiment vs a plain vaderSentiment loop, and topic fitting, on 100k texts", ["bench_text.py"]),
]


def main() -> int:
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    failed = 0
    for title, args in BENCHES:
        script = HERE / args[0]
        if not script.exists():
            continue
        print(f"\n== {title}", flush=True)
        t = time.perf_counter()
        rc = subprocess.run([sys.executable, str(script), *args[1:]], env=env).returncode
        print(f"   ({time.perf_counter() - t:.0f} s)", flush=True)
        failed += rc != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
