"""Qini and uplift curves, their coefficients and uplift@k on worked examples."""

from __future__ import annotations

import numpy as np
import pytest

from crmine.campaign import (
    auuc,
    qini_coefficient,
    qini_curve,
    uplift_at_k,
    uplift_by_decile,
    uplift_curve,
)

Y = np.array([1, 0, 1, 0, 0, 1, 0, 0])
W = np.array([1, 1, 1, 1, 0, 0, 0, 0])
S = np.arange(8, 0, -1)


def test_qini_curve_by_hand():
    x, q = qini_curve(Y, W, S)
    assert x.tolist() == [0, 1, 2, 3, 4, 5, 6, 7, 8]
    assert q == pytest.approx([0, 1, 1, 2, 2, 2, 0, 2 - 4 / 3, 1])


def test_uplift_curve_by_hand():
    x, u = uplift_curve(Y, W, S)
    assert u[-1] == pytest.approx((2 / 4 - 1 / 4) * 8)
    assert u[6] == pytest.approx(0.0) and u[7] == pytest.approx((0.5 - 1 / 3) * 7)


def test_tied_scores_enter_together():
    x, q = qini_curve(Y, W, [1, 1, 1, 1, 0, 0, 0, 0])
    assert x.tolist() == [0, 4, 8] and q.tolist() == [0, 2, 1]


def test_uplift_at_k_takes_the_top_share_of_all_rows():
    assert uplift_at_k(Y, W, S, k=0.75) == pytest.approx(0.5 - 0.5)
    assert np.isnan(uplift_at_k(Y, W, S, k=0.5))  # no control customer among the top half
    assert uplift_at_k(Y, W, [8, 4, 7, 3, 6, 2, 5, 1], k=0.5) == pytest.approx(1.0 - 0.0)


def test_coefficients_are_one_for_the_perfect_ranking_and_near_zero_for_random():
    rng = np.random.default_rng(0)
    n = 20_000
    w = rng.integers(0, 2, n)
    tau = rng.uniform(-0.1, 0.3, n)
    y = (rng.random(n) < 0.2 + w * tau).astype(float)
    assert qini_coefficient(Y, W, np.where(W == 1, Y, -Y)) == pytest.approx(1.0)
    assert auuc(Y, W, np.where(W == 1, Y, -Y)) == pytest.approx(1.0)
    assert abs(qini_coefficient(y, w, rng.random(n))) < 0.03
    assert qini_coefficient(y, w, tau) > 0.1 > abs(qini_coefficient(y, w, -tau)) - 0.5
    assert qini_coefficient(y, w, tau) > 0 > qini_coefficient(y, w, -tau)
    assert auuc(y, w, tau) > 0 > auuc(y, w, -tau)


def test_uplift_by_decile_recovers_a_planted_gradient():
    rng = np.random.default_rng(1)
    n = 50_000
    w = rng.integers(0, 2, n)
    tau = rng.uniform(0, 0.2, n)
    y = (rng.random(n) < 0.1 + w * tau).astype(float)
    t = uplift_by_decile(y, w, tau)
    assert t.decile.tolist() == list(range(1, 11))
    assert (t.n_treatment + t.n_control).sum() == n
    assert t.uplift.iloc[0] == pytest.approx(0.19, abs=0.02) and t.uplift.iloc[-1] == pytest.approx(0.01, abs=0.02)
    assert np.corrcoef(t.uplift, t.predicted_uplift)[0, 1] > 0.95
