"""The models reproduce the published CDNOW, donations and retention results.

Sources: Fader, Hardie & Lee (2005, Marketing Science) for BG/NBD and Pareto/NBD; Fader, Hardie &
Lee (2005, JMR) and Fader & Hardie (2013) for Gamma-Gamma; Fader, Hardie & Shang (2010) for BG/BB;
Fader & Hardie (2007) for sBG. Figures as in ../shared/data/README.md.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.integrate import quad
from scipy.special import betaln

from crmine.clv import (
    BetaGeo,
    BetaGeoBetaBinom,
    ParetoNBD,
    ShiftedBetaGeometric,
    expected_cumulative_transactions,
)
from crmine.datasets import load_donations

PUBLISHED_BGNBD = {"r": 0.2425945, "alpha": 4.4136019, "a": 0.7929199, "b": 2.4258881}


def _rounded(params, digits):
    return {k: round(v, digits) for k, v in params.items()}


def test_cdnow_summary_matches_papers(cdnow_rfm):
    assert len(cdnow_rfm) == 2357
    assert cdnow_rfm["frequency"].sum() == 2457  # repeat purchase days in weeks 1-39
    assert (cdnow_rfm["frequency"] > 0).sum() == 946  # the Gamma-Gamma sample
    assert cdnow_rfm["frequency_holdout"].sum() == 1882  # repeat transactions in weeks 40-78
    assert (cdnow_rfm["duration_holdout"] == 39.0).all()
    # the example customer of FHL (2005): x = 2, t_x = 30.43, T = 38.86
    row = cdnow_rfm.set_index("customer_id").loc["4"]
    assert (row["frequency"], round(row["recency"], 2), round(row["T"], 2)) == (2, 30.43, 38.86)


def test_bgnbd_cdnow_parameters_and_log_likelihood(bgnbd):
    assert _rounded(bgnbd.params_, 3) == {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    assert round(bgnbd.log_likelihood_, 1) == -9582.4
    assert bgnbd.log_likelihood_ == pytest.approx(-9582.429, abs=5e-4)
    # the full-precision published values, to the flat direction of (a, b)
    for k, v in PUBLISHED_BGNBD.items():
        assert bgnbd.params_[k] == pytest.approx(v, rel=2e-5)


def test_bgnbd_standard_errors_are_reported(bgnbd):
    summary = bgnbd.summary
    assert list(summary.index) == ["r", "alpha", "a", "b"]
    assert list(summary.columns) == ["coef", "se(coef)", "lower 95% bound", "upper 95% bound"]
    se = summary["se(coef)"]
    assert se.gt(0).all()
    # r is sharply identified on CDNOW, b much less so (lifetimes reports 0.0126 and 0.705)
    assert se["r"] == pytest.approx(0.0126, rel=0.02)
    assert se["b"] == pytest.approx(0.705, rel=0.02)
    assert (summary["lower 95% bound"] < summary["coef"]).all()


def test_pareto_nbd_cdnow_parameters_and_log_likelihood(cdnow_rfm):
    m = ParetoNBD().fit(cdnow_rfm)
    assert _rounded(m.params_, 3) == {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}
    assert round(m.log_likelihood_, 1) == -9595.0


def test_gamma_gamma_cdnow_parameters_and_log_likelihood(gamma_gamma):
    # reproduced with monetary = mean of the per-day totals of the repeat purchases (946 customers)
    assert _rounded(gamma_gamma.params_, 2) == {"p": 6.25, "q": 3.74, "gamma": 15.44}
    assert round(gamma_gamma.log_likelihood_, 4) == -4055.9177
    assert gamma_gamma.n_customers_ == 946


def test_bgbb_donations_parameters_and_log_likelihood():
    donations = load_donations()
    assert donations["weights"].sum() == 11104
    m = BetaGeoBetaBinom().fit(donations)
    assert _rounded(m.params_, 3) == {"alpha": 1.204, "beta": 0.750, "gamma": 0.657, "delta": 2.783}
    assert round(m.log_likelihood_, 2) == -33225.58


def test_bgnbd_conditional_expectation_published_example(bgnbd):
    data = pd.DataFrame({"frequency": [2], "recency": [30.43], "T": [38.86]})
    assert round(bgnbd.expected_purchases(39, data).iloc[0], 3) == 1.226


def test_bgnbd_unconditional_expectation_published_row():
    m = BetaGeo.from_params(PUBLISHED_BGNBD)
    t = np.array([0.1429, 1, 3, 31.8571, 32])
    np.testing.assert_array_equal(
        np.round(m.expected_purchases_new_customer(t), 4), [0.0078, 0.0532, 0.1506, 1.0405, 1.0437]
    )
    # At t = 78 the published table says 1.8576; eq. (9) gives 1.85796, and so does a direct
    # numerical integration of E[(1/p)(1 - (alpha/(alpha + p t))^r)] over p ~ Beta(a, b):
    r, alpha, a, b = PUBLISHED_BGNBD.values()

    def integrand(p):
        density = np.exp((a - 1) * np.log(p) + (b - 1) * np.log1p(-p) - betaln(a, b))
        return (1 / p) * (1 - (alpha / (alpha + p * 78)) ** r) * density

    direct = quad(integrand, 0, 1, limit=200)[0]
    assert m.expected_purchases_new_customer(78) == pytest.approx(direct, rel=1e-9)
    assert m.expected_purchases_new_customer(78) == pytest.approx(1.8576, abs=5e-4)


def test_bgnbd_cumulative_repeat_transactions_weeks_20_to_25(bgnbd, cdnow):
    table = expected_cumulative_transactions(
        BetaGeo.from_params(PUBLISHED_BGNBD), cdnow, start="1997-01-01", end="1998-06-30"
    )
    assert len(table) == 78
    weeks = table.loc[20:25]
    assert weeks["actual"].tolist() == [1359, 1414, 1484, 1517, 1573, 1672]
    np.testing.assert_allclose(
        weeks["expected"], [1312.458, 1387.346, 1460.392, 1531.713, 1601.418, 1669.6], atol=1e-3
    )
    # with the parameters fitted here, within a hundredth of a transaction
    fitted = expected_cumulative_transactions(bgnbd, cdnow, start="1997-01-01", end="1998-06-30")
    np.testing.assert_allclose(fitted.loc[20:25, "expected"], weeks["expected"], atol=0.01)
    # the holdout: 4339 - 2457 = 1882 repeat transactions in weeks 40-78
    assert table.loc[78, "actual"] - table.loc[39, "actual"] == 1882


@pytest.mark.parametrize(
    ("survivors", "expected"),
    [
        ([1000, 869, 743, 653, 593, 551, 517, 491], {"alpha": 0.668, "beta": 3.806}),  # high end
        ([1000, 631, 468, 382, 326, 289, 262, 241], {"alpha": 0.704, "beta": 1.182}),  # regular
    ],
)
def test_sbg_fader_hardie_2007_segments(survivors, expected):
    m = ShiftedBetaGeometric().fit(survivors)
    assert _rounded(m.params_, 3) == expected
