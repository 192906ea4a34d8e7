"""Text: crmine.text.sentiment against a plain vaderSentiment loop, and topic fitting, on 100k texts.

Two corpora of synthetic customer feedback built from the simulator's phrase lists (seeded):
"repetitive" (opener + body + closer, ~2,000 distinct texts, as CRM feedback repeats itself) and
"distinct" (the same phrases with an order number, so every text differs). Printed: sizes, seconds,
texts/s, the ratio of the loop's time to crmine's (above 1: crmine is faster), a check that both give
the same scores, and the seconds to fit topics (TF-IDF + NMF, the default 8 topics) on each corpus.

    python bench/bench_text.py [--texts 100000]
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def corpus(n: int, *, distinct: bool, seed: int = 0) -> list[str]:
    from crmine.datasets._simulate_lexicon import FEEDBACK

    rng = np.random.default_rng(seed)
    cats = ("womenswear", "menswear", "kidswear", "homeware", "beauty", "electronics")
    level, i_op, i_body, i_cl = rng.integers(0, 5, n), rng.integers(0, 4, n), rng.integers(0, 4, n), rng.integers(0, 4, n)
    cat, order = rng.integers(0, len(cats), n), rng.integers(100_000, 999_999, n)
    out = []
    for j in range(n):
        op, bodies, cl = FEEDBACK[int(level[j])]
        body = bodies[i_body[j]].replace("{cat}", cats[cat[j]])
        head = f"Order {order[j]}{j}: " if distinct else ""
        out.append(f"{head}{op[i_op[j]]} {body[0].upper()}{body[1:]}. {cl[i_cl[j]]}")
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--texts", type=int, default=100_000)
    n = ap.parse_args().texts

    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    from crmine.text import sentiment, topics

    sentiment(["warm up: load the lexicon"])
    analyzer = SentimentIntensityAnalyzer()
    for name, distinct in (("repetitive", False), ("distinct", True)):
        texts = corpus(n, distinct=distinct)
        print(f"{name}: {n:,} texts, {len(set(texts)):,} distinct, mean {np.mean([len(t) for t in texts]):.0f} characters")
        t = time.perf_counter()
        ours = sentiment(texts)
        t_ours = time.perf_counter() - t
        t = time.perf_counter()
        loop = np.array([analyzer.polarity_scores(x)["compound"] for x in texts])
        t_loop = time.perf_counter() - t
        same = np.array_equal(ours, loop)
        print(f"  sentiment  crmine {t_ours:6.2f} s ({n / t_ours:>9,.0f} texts/s)   vaderSentiment loop {t_loop:6.2f} s "
              f"({n / t_loop:>9,.0f} texts/s)   ratio {t_loop / t_ours:5.1f}x   same scores: {same}")
        t = time.perf_counter()
        found = topics(texts, seed=0)
        t_top = time.perf_counter() - t
        print(f"  topics     {found.n_topics} topics fitted in {t_top:6.2f} s; largest: {found.words['label'][0]} "
              f"({found.words['size'][0]:,} texts)")


if __name__ == "__main__":
    main()
