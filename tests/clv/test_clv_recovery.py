"""Simulate from known parameters, fit, and recover them; check predictions against simulation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmine.clv import (
    BetaGeo,
    BetaGeoBetaBinom,
    GammaGamma,
    ModifiedBetaGeo,
    ParetoNBD,
    ShiftedBetaGeometric,
)
from crmine.clv._simulate import (
    simulate_beta_geo,
    simulate_beta_geo_beta_binom,
    simulate_gamma_gamma,
    simulate_pareto_nbd,
    simulate_shifted_beta_geometric,
)

BG_TRUTH = {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5}  # near the CDNOW estimates
PNBD_TRUTH = {"r": 0.5, "alpha": 10.0, "s": 0.8, "beta": 12.0}
BGBB_TRUTH = {"alpha": 1.2, "beta": 0.75, "gamma": 0.66, "delta": 2.8}


def _assert_recovered(params, truth, rel):
    for k, v in truth.items():
        assert params[k] == pytest.approx(v, rel=rel[k] if isinstance(rel, dict) else rel), k


@pytest.fixture(scope="module")
def bg_million():
    # one million customers, first purchases spread over a quarter, times to the day (in weeks)
    return simulate_beta_geo(1_000_000, params=BG_TRUTH, T=(26.0, 39.0), seed=1)


def test_bgnbd_recovers_parameters_on_a_million_customers(bg_million):
    m = BetaGeo().fit(bg_million)
    _assert_recovered(m.params_, BG_TRUTH, 0.02)
    assert m.n_customers_ == 1_000_000
    assert m.n_unique_rows_ < 150_000  # fit on the distinct (x, t_x, T) rows
    # the truth lies inside the 95% intervals, up to the day-rounding of the simulated times
    s = m.summary
    assert (
        (s["lower 95% bound"] * 0.99 < pd.Series(BG_TRUTH))
        & (pd.Series(BG_TRUTH) < s["upper 95% bound"] * 1.01)
    ).all()


def test_gamma_gamma_recovers_parameters(bg_million):
    truth = {"p": 6.0, "q": 4.0, "gamma": 15.0}
    data = bg_million.assign(
        monetary=simulate_gamma_gamma(bg_million["frequency"], params=truth, seed=2)
    )
    m = GammaGamma().fit(data)
    _assert_recovered(m.params_, truth, 0.05)


def test_modified_bgnbd_recovers_parameters():
    data = simulate_beta_geo(1_000_000, params=BG_TRUTH, T=(26.0, 39.0), modified=True, seed=3)
    _assert_recovered(ModifiedBetaGeo().fit(data).params_, BG_TRUTH, 0.04)


def test_pareto_nbd_recovers_parameters():
    data = simulate_pareto_nbd(300_000, params=PNBD_TRUTH, T=78.0, seed=4)
    m = ParetoNBD().fit(data)
    _assert_recovered(m.params_, PNBD_TRUTH, {"r": 0.03, "alpha": 0.03, "s": 0.06, "beta": 0.08})


def test_bgbb_recovers_parameters():
    data = simulate_beta_geo_beta_binom(200_000, params=BGBB_TRUTH, periods=6, seed=5)
    _assert_recovered(BetaGeoBetaBinom().fit(data).params_, BGBB_TRUTH, 0.04)


def test_sbg_recovers_parameters():
    truth = {"alpha": 0.7, "beta": 1.2}
    survivors = simulate_shifted_beta_geometric(100_000, params=truth, periods=12, seed=6)
    m = ShiftedBetaGeometric().fit(survivors)
    _assert_recovered(m.params_, truth, 0.04)
    np.testing.assert_allclose(
        m.expected_survivors(np.arange(13), cohort_size=100_000), survivors, rtol=0.01
    )


LIGHT_TAILS = {"r": 1.0, "alpha": 5.0, "a": 2.5, "b": 4.0}  # so that a sample mean settles fast


@pytest.mark.parametrize(
    ("model", "simulate"),
    [
        (
            BetaGeo.from_params(LIGHT_TAILS),
            lambda: simulate_beta_geo(400_000, params=LIGHT_TAILS, T=30.0, resolution=None, seed=7),
        ),
        (
            ModifiedBetaGeo.from_params(LIGHT_TAILS),
            lambda: simulate_beta_geo(
                400_000, params=LIGHT_TAILS, T=30.0, resolution=None, modified=True, seed=8
            ),
        ),
        (
            ParetoNBD.from_params(PNBD_TRUTH),
            lambda: simulate_pareto_nbd(
                400_000, params=PNBD_TRUTH, T=30.0, resolution=None, seed=9
            ),
        ),
    ],
    ids=["BetaGeo", "ModifiedBetaGeo", "ParetoNBD"],
)
def test_expected_purchases_new_customer_matches_simulation(model, simulate):
    x = simulate()["frequency"].to_numpy()
    se = x.std() / np.sqrt(len(x))
    assert abs(x.mean() - model.expected_purchases_new_customer(30.0)) < 4 * se


def test_bgbb_expected_purchases_new_customer_matches_simulation():
    data = simulate_beta_geo_beta_binom(400_000, params=BGBB_TRUTH, periods=6, seed=10)
    mean = np.average(data["frequency"], weights=data["weights"])
    assert BetaGeoBetaBinom.from_params(BGBB_TRUTH).expected_purchases_new_customer(
        6
    ) == pytest.approx(mean, rel=0.01)


@pytest.mark.parametrize(
    ("model", "columns"),
    [
        (BetaGeo.from_params(BG_TRUTH), ("frequency", "recency", "T")),
        (ModifiedBetaGeo.from_params(BG_TRUTH), ("frequency", "recency", "T")),
        (ParetoNBD.from_params(PNBD_TRUTH), ("frequency", "recency", "T")),
        (BetaGeoBetaBinom.from_params(BGBB_TRUTH), ("frequency", "recency", "periods")),
    ],
    ids=["BetaGeo", "ModifiedBetaGeo", "ParetoNBD", "BetaGeoBetaBinom"],
)
def test_conditional_expectation_of_a_new_customer_is_the_unconditional_one(model, columns):
    new = pd.DataFrame(dict.fromkeys(columns, [0, 0, 0]))
    t = np.array([1.0, 5.0, 20.0])
    np.testing.assert_allclose(
        model.expected_purchases(t, new), model.expected_purchases_new_customer(t), rtol=1e-10
    )
