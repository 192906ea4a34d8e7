"""Time ModelSearch on the IBM telco churn table and print AUCs, lift and gains per candidate.

Run: OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/bench_predict.py
"""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd

from crmine.predict import ModelSearch

DATA = Path("/work/shared/data/wa_churn.csv")


def main() -> None:
    frame = pd.read_csv(DATA)
    t0 = time.perf_counter()
    search = ModelSearch(target="churn", seed=42).fit(frame)
    fit_s = time.perf_counter() - t0
    cols = ["roc_auc_mean", "roc_auc_std", "pr_auc_mean", "log_loss_mean", "brier_mean",
            "lift_top_decile_mean", "gains_at_20_mean", "cv_seconds"]
    print(f"telco churn, {len(frame)} rows, 5-fold CV seed 42: fit {fit_s:.1f} s, best {search.best_}")
    print(search.results_[cols].round(4).to_string())
    print("published: logistic 0.845; tuned gradient boosting 0.85-0.87")
    t0 = time.perf_counter()
    search.predict_proba(frame)
    print(f"score {len(frame)} rows: {time.perf_counter() - t0:.3f} s")
    t0 = time.perf_counter()
    search.reasons(frame, top=3)
    print(f"reasons for {len(frame)} rows: {time.perf_counter() - t0:.2f} s")


if __name__ == "__main__":
    main()
