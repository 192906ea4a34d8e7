"""Segments, key customers and loyalty on the simulator: crmine against plain pandas / scikit-learn.

For each size, simulate a company (about 20 order lines per customer), ingest it (customers are
source records here: identity resolution is left out to keep the run short), then time:

1. ``Segmenter`` (k-means, k chosen by silhouette over 2..10; and k = 5) against scikit-learn's
   ``KMeans(5)`` on standardised features, with each one's adjusted Rand index against the
   planted segments;
2. ``key_customers`` against the same profit ranking computed with pandas;
3. ``cohort_retention`` against pandas periods;
4. ``activity_survival`` against lifelines fitted on per-customer durations computed with pandas;
5. ``loyalty_scores``.

    OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/bench_segment.py [customers ...]
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import crmine  # noqa: E402
from crmine.datasets import simulate  # noqa: E402
from crmine.features import customer_table  # noqa: E402
from crmine.loyalty import activity_survival, cohort_retention, loyalty_scores  # noqa: E402
from crmine.segment import Segmenter, key_customers  # noqa: E402


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def _row(what: str, ours: float, peer: float | None = None, note: str = "") -> None:
    ratio = f"{ours / peer:6.2f}x" if peer else "       "
    peer_s = f"{peer:8.2f} s" if peer else " " * 10
    print(f"  {what:<44} crmine {ours:7.2f} s   peer {peer_s}  {ratio}  {note}", flush=True)


def _pandas_profit(tx: pd.DataFrame, products: pd.DataFrame, margin: float = 0.3) -> pd.Series:
    t = tx.merge(products[["product_id", "unit_cost"]], on="product_id", how="left")
    units = np.where(t.is_return.eq(True), -t.quantity.abs(), t.quantity)
    cost = np.where(t.unit_cost.notna(), units * t.unit_cost, t.amount * (1 - margin))
    profit = (t.amount - cost).groupby(t.customer_id).sum()
    return profit.sort_values(ascending=False)


def _pandas_cohorts(tx: pd.DataFrame) -> pd.DataFrame:
    t = tx[~tx.is_return.eq(True)]
    p = t.ts.dt.to_period("M")
    first = p.groupby(t.customer_id).transform("min")
    age = (p.dt.year - first.dt.year) * 12 + (p.dt.month - first.dt.month)
    active = pd.DataFrame({"c": first, "age": age, "id": t.customer_id}).drop_duplicates()
    counts = active.groupby(["c", "age"]).size().unstack(fill_value=0)
    return counts.div(counts[0], axis=0)


def _pandas_survival(tx: pd.DataFrame, days: int = 180) -> float:
    from lifelines import KaplanMeierFitter

    t = tx[~tx.is_return.eq(True)]
    day = t.ts.dt.normalize()
    per = day.groupby(t.customer_id).agg(["min", "max"])
    as_of = tx.ts.max().normalize()
    kmf = KaplanMeierFitter().fit(
        (per["max"] - per["min"]).dt.days, event_observed=(as_of - per["max"]).dt.days > days
    )
    return float(kmf.median_survival_time_)


def run(n: int) -> None:
    from sklearn.cluster import KMeans
    from sklearn.metrics import adjusted_rand_score
    from sklearn.preprocessing import StandardScaler

    with tempfile.TemporaryDirectory() as root:
        sim = simulate(n, seed=0, out_dir=root)
        ws = crmine.init(root)
        ws.ingest.run()
        wh = ws.warehouse
        print(f"\n{n:,} customers, {sim.n_transactions:,} transaction lines", flush=True)
        t_ct, frame = _timed(lambda: wh.execute(customer_table(wh)))
        _row("customer table (input of the segmenter)", t_ct)
        ident = pd.read_csv(f"{root}/truth/identity.csv", dtype=str)
        persons = pd.read_csv(f"{root}/truth/persons.csv", usecols=["person_id", "segment"])
        planted = ident.merge(persons, on="person_id").set_index("source_customer_id")["segment"]

        def ari(labels: pd.Series) -> float:
            truth = planted.reindex(labels.index)
            ok = truth.notna().to_numpy()
            return adjusted_rand_score(truth[ok], labels[ok])

        t_auto, auto = _timed(lambda: Segmenter().fit(frame))
        t_k5, k5 = _timed(lambda: Segmenter(k=5).fit(frame))

        def plain() -> pd.Series:
            X = frame[k5.features_].astype(float)
            X = StandardScaler().fit_transform(X.fillna(X.median()))
            labels = KMeans(5, n_init=4, random_state=0).fit_predict(X)
            return pd.Series(labels, index=frame["customer_id"].to_numpy())

        t_plain, plain_labels = _timed(plain)
        _row(
            f"Segmenter auto k (k={auto.k_}, 9 fits + silhouette)",
            t_auto,
            None,
            f"ARI {ari(auto.labels_):.3f}",
        )
        _row(
            "Segmenter k=5 vs sklearn KMeans(5)",
            t_k5,
            t_plain,
            f"ARI {ari(k5.labels_):.3f} vs {ari(plain_labels):.3f}",
        )

        tx = wh.execute(wh.table("transactions"))
        products = wh.execute(wh.table("products"))
        t_key, key = _timed(lambda: key_customers(wh))
        t_pk, _ = _timed(lambda: _pandas_profit(tx, products))
        _row("key customers (profit ranking, Pareto)", t_key, t_pk, key.headline)
        t_coh, coh = _timed(lambda: cohort_retention(wh))
        t_pc, _ = _timed(lambda: _pandas_cohorts(tx))
        _row("cohort retention (monthly)", t_coh, t_pc, f"{len(coh)} cohorts")
        t_km, km = _timed(lambda: activity_survival(wh))
        t_pkm, median = _timed(lambda: _pandas_survival(tx))
        _row(
            "activity survival (Kaplan-Meier)",
            t_km,
            t_pkm,
            f"median {km.median_days:.0f} d (lifelines {median:.0f} d)",
        )
        t_loy, scores = _timed(lambda: loyalty_scores(wh))
        _row("loyalty scores", t_loy, None, f"{len(scores):,} customers")
        ws.close()


if __name__ == "__main__":
    sizes = [int(a) for a in sys.argv[1:]] or [20_000, 100_000]
    for size in sizes:
        run(size)
