"""The tests behind a lift against published examples and scipy."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from crmine.campaign._stats import (
    GroupSummary,
    bootstrap_ci,
    compare_binary,
    compare_means,
    summarise,
    welch,
)


def test_newcombe_interval_matches_newcombe_1998_examples():
    # Newcombe (1998), Statistics in Medicine 17:873-890, Table II, method 10.
    cases = [((56, 70), (48, 80), (0.0524, 0.3339)), ((9, 10), (3, 10), (0.1705, 0.8090)),
             ((6, 7), (2, 7), (0.0582, 0.8062)), ((5, 56), (0, 29), (-0.0381, 0.1926)),
             ((0, 10), (0, 20), (-0.1611, 0.2775))]
    for (x1, n1), (x0, n0), (low, high) in cases:
        r = compare_binary(GroupSummary(n1, x1 / n1, 0), GroupSummary(n0, x0 / n0, 0))
        assert (round(r.ci_low, 4), round(r.ci_high, 4)) == (low, high)
        assert "Newcombe" in r.test


def test_z_test_p_value_equals_the_uncorrected_chi_square_test():
    t, c = GroupSummary(500, 60 / 500, 0), GroupSummary(480, 36 / 480, 0)
    table = np.array([[60, 440], [36, 444]])
    expected = stats.chi2_contingency(table, correction=False)[1]
    assert compare_binary(t, c).p_value == pytest.approx(expected, rel=1e-9)


def test_wald_interval_is_the_difference_plus_minus_z_standard_errors():
    r = compare_binary(GroupSummary(400, 0.25, 0), GroupSummary(400, 0.20, 0), ci="wald")
    se = np.sqrt(0.25 * 0.75 / 400 + 0.2 * 0.8 / 400)
    assert (r.ci_low, r.ci_high) == pytest.approx((0.05 - 1.959964 * se, 0.05 + 1.959964 * se), rel=1e-6)
    assert "Wald" in r.test


def test_welch_matches_scipy():
    rng = np.random.default_rng(3)
    a, b = rng.gamma(2, 3, 40), rng.gamma(2, 2, 65)
    r = welch(summarise(a), summarise(b))
    ref = stats.ttest_ind(a, b, equal_var=False)
    assert r.p_value == pytest.approx(ref.pvalue, rel=1e-9)
    ci = ref.confidence_interval(0.95)
    assert (r.ci_low, r.ci_high) == pytest.approx((ci.low, ci.high), rel=1e-9)


def test_bootstrap_interval_is_seeded_and_covers_like_welch_on_large_samples():
    rng = np.random.default_rng(1)
    t = np.where(rng.random(20_000) < 0.02, rng.gamma(2, 50, 20_000), 0.0)
    c = np.where(rng.random(20_000) < 0.015, rng.gamma(2, 50, 20_000), 0.0)
    assert bootstrap_ci(t, c, seed=5) == bootstrap_ci(t, c, seed=5)
    assert bootstrap_ci(t, c, seed=5) != bootstrap_ci(t, c, seed=6)
    b = compare_means(t, c, method="bootstrap", seed=5)
    w = compare_means(t, c, method="welch")
    assert b.lift == w.lift and b.p_value == w.p_value
    width = w.ci_high - w.ci_low
    assert abs(b.ci_low - w.ci_low) < 0.05 * width and abs(b.ci_high - w.ci_high) < 0.05 * width
    assert "bootstrap" in b.test and "Welch" in b.test


def test_bootstrap_interval_covers_the_true_difference_about_95_percent_of_the_time():
    rng = np.random.default_rng(7)
    hits = 0
    for i in range(200):
        t = rng.exponential(2.0, 300)  # true difference of means: 0.5
        c = rng.exponential(1.5, 300)
        low, high = bootstrap_ci(t, c, reps=500, seed=i)
        hits += low <= 0.5 <= high
    assert 0.90 <= hits / 200 <= 0.99
