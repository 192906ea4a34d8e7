"""Behaviour shared by the models: validation, errors, persistence, gradients, stability."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy.integrate import quad
from scipy.special import gammaln

import crmine.clv as clv
from crmine.clv import (
    BetaGeo,
    BetaGeoBetaBinom,
    GammaGamma,
    ModifiedBetaGeo,
    ParetoNBD,
    ShiftedBetaGeometric,
)
from crmine.clv._base import _num_grad
from crmine.errors import (
    ConvergenceError,
    ModelMismatchError,
    NotFittedError,
    SchemaError,
    SettingsError,
)

RFM_MODELS = [BetaGeo, ParetoNBD, ModifiedBetaGeo]


def test_public_surface_is_pinned():
    assert sorted(clv.__all__) == [
        "BetaGeo",
        "BetaGeoBetaBinom",
        "GammaGamma",
        "ModifiedBetaGeo",
        "ParetoNBD",
        "ShiftedBetaGeometric",
        "calibration_vs_holdout",
        "customer_lifetime_value",
        "expected_cumulative_transactions",
        "holdout_error",
        "plot_calibration_vs_holdout",
        "plot_cumulative_transactions",
        "rfm_summary",
        "rfm_summary_expr",
    ]


def test_cdnow_loader_types(cdnow):
    assert list(cdnow.columns) == ["customer_id", "ts", "quantity", "amount"]
    assert pd.api.types.is_string_dtype(cdnow["customer_id"])
    assert pd.api.types.is_datetime64_any_dtype(cdnow["ts"])
    assert (len(cdnow), cdnow["customer_id"].nunique()) == (6919, 2357)


# -- not fitted, settings -----------------------------------------------------------------------
@pytest.mark.parametrize("model", [*RFM_MODELS, BetaGeoBetaBinom])
def test_prediction_before_fit_raises(model, cdnow_rfm):
    with pytest.raises(NotFittedError, match=f"This {model.__name__} is not fitted yet"):
        model().probability_alive(cdnow_rfm)
    with pytest.raises(NotFittedError):
        model().expected_purchases_new_customer(1.0)
    with pytest.raises(NotFittedError):
        _ = model().summary


def test_spend_and_churn_models_before_fit_raise(cdnow_rfm):
    with pytest.raises(NotFittedError, match="GammaGamma is not fitted"):
        GammaGamma().expected_spend(cdnow_rfm)
    with pytest.raises(NotFittedError, match="ShiftedBetaGeometric is not fitted"):
        ShiftedBetaGeometric().survival(3)


def test_init_only_stores_settings():
    m = BetaGeo(penalizer=-1.0, initial_params={"zz": 1.0})  # validated in fit, not here
    assert m.get_params() == {"penalizer": -1.0, "max_iter": 2000, "initial_params": {"zz": 1.0}}
    assert repr(m) == "<BetaGeo not fitted>"


def test_bad_settings_are_listed_at_fit(cdnow_rfm):
    m = BetaGeo(penalizer=-1.0, initial_params={"zz": 1.0, "r": -2.0})
    with pytest.raises(
        SettingsError, match=r"penalizer must be .* >= 0.*unknown name\(s\) zz.*> 0: r"
    ):
        m.fit(cdnow_rfm)


def test_from_params_checks_names():
    with pytest.raises(SettingsError, match="missing: b, unknown: c"):
        BetaGeo.from_params({"r": 1, "alpha": 1, "a": 1, "c": 1})


# -- schema errors: every problem counted, no value shown --------------------------------------------
def test_missing_columns_are_named_together():
    with pytest.raises(
        SchemaError, match=r"BetaGeo.fit data lacks column\(s\) recency, T\. .*rfm_summary"
    ):
        BetaGeo().fit(pd.DataFrame({"frequency": [1, 2]}))


def test_bad_values_are_counted_not_shown():
    data = pd.DataFrame(
        {
            "frequency": [1, -3, 2.5, 0, 1],
            "recency": [1.0, 1.0, np.nan, 2.0, 9.0],
            "T": [5.0, 5.0, 5.0, 5.0, 5.0],
        }
    )
    with pytest.raises(SchemaError) as e:
        BetaGeo().fit(data)
    msg = str(e.value)
    assert "'frequency' has 1 negative value(s)" in msg
    assert "'frequency' has 1 non-integer value(s)" in msg
    assert "'recency' has 1 missing or infinite value(s)" in msg
    assert "-3" not in msg and "2.5" not in msg


def test_recency_rules():
    data = pd.DataFrame({"frequency": [1, 0], "recency": [9.0, 2.0], "T": [5.0, 5.0]})
    with pytest.raises(
        SchemaError, match=r"1 row\(s\) have recency greater than T; 1 row\(s\) have frequency 0"
    ):
        ParetoNBD().fit(data)


def test_empty_and_non_frame_inputs():
    with pytest.raises(SchemaError, match="has no rows"):
        BetaGeo().fit(pd.DataFrame({"frequency": [], "recency": [], "T": []}))
    with pytest.raises(SchemaError, match="must be a pandas DataFrame; received dict"):
        BetaGeo().fit({"frequency": [1]})


def test_bgbb_rules():
    data = pd.DataFrame({"frequency": [3, 1], "recency": [2, 7], "periods": [6, 6]})
    with pytest.raises(
        SchemaError,
        match=r"recency greater than periods; 1 row\(s\) have frequency greater than recency",
    ):
        BetaGeoBetaBinom().fit(data)


def test_gamma_gamma_needs_positive_spend():
    data = pd.DataFrame({"frequency": [1, 2, 0], "monetary": [0.0, 5.0, 0.0]})
    with pytest.raises(SchemaError, match=r"1 row\(s\) with frequency > 0 have monetary <= 0"):
        GammaGamma().fit(data)
    with pytest.raises(SchemaError, match="no customer with frequency > 0"):
        GammaGamma().fit(pd.DataFrame({"frequency": [0], "monetary": [0.0]}))


def test_sbg_rules():
    with pytest.raises(SchemaError, match=r"survivors rise 1 time\(s\)"):
        ShiftedBetaGeometric().fit([100, 80, 90])
    with pytest.raises(SchemaError, match="lacks column"):
        ShiftedBetaGeometric().fit(pd.DataFrame({"alive": [100, 80]}))


def test_unidentified_fit_raises_convergence_error_with_a_runnable_hint():
    no_repeat = pd.DataFrame(
        {"frequency": [0, 0, 0], "recency": [0.0] * 3, "T": [10.0, 20.0, 30.0]}
    )
    with pytest.raises(
        ConvergenceError,
        match=r"no proper maximum.*penalizer.*\n    crmine\.clv\.BetaGeo\(penalizer=0\.001, initial_params=\{'r': 1",
    ):
        BetaGeo().fit(no_repeat)


# -- fitting --------------------------------------------------------------------------------------
def test_fit_returns_self_and_weights_equal_repeated_rows(cdnow_rfm):
    small = cdnow_rfm[["frequency", "recency", "T"]]
    weighted = small.value_counts().rename("weights").reset_index()
    m1, m2 = BetaGeo(), BetaGeo()
    assert m1.fit(small) is m1
    m2.fit(weighted)
    for k in m1.params_:
        assert m1.params_[k] == pytest.approx(m2.params_[k], rel=1e-7)
    assert m1.log_likelihood_ == pytest.approx(m2.log_likelihood_, rel=1e-12)
    assert m1.data_fingerprint_ == m2.data_fingerprint_


@pytest.mark.parametrize("model", [BetaGeo, ModifiedBetaGeo, GammaGamma])
def test_analytic_gradient_matches_finite_differences(model, cdnow_rfm):
    m = model()
    stats = m._stats(cdnow_rfm, "x")
    theta = (
        np.array([0.4, 6.0, 1.3, 2.0]) if model is not GammaGamma else np.array([5.0, 3.0, 12.0])
    )
    ll, grad = m._loglik_and_grad(theta, stats)
    assert ll == pytest.approx(m._loglik_rows(theta, stats) @ stats["w"], rel=1e-12)
    lp = np.log(theta)
    numeric = _num_grad(lambda v: m._loglik_rows(np.exp(v), stats) @ stats["w"], lp) / theta
    np.testing.assert_allclose(grad, numeric, rtol=1e-5)


def test_penalizer_shrinks_parameters(cdnow_rfm, bgnbd):
    m = BetaGeo(penalizer=0.01).fit(cdnow_rfm)
    assert sum(v**2 for v in m.params_.values()) < sum(v**2 for v in bgnbd.params_.values())
    assert m.log_likelihood_ < bgnbd.log_likelihood_


def test_initial_params_are_used(cdnow_rfm, bgnbd):
    m = BetaGeo(initial_params={"r": 0.3, "alpha": 5.0, "a": 0.5, "b": 3.0}).fit(cdnow_rfm)
    assert m.log_likelihood_ == pytest.approx(bgnbd.log_likelihood_, abs=1e-6)


# -- numerical stability --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "params",
    [
        {"r": 0.55, "alpha": 10.5, "s": 0.6, "beta": 11.7},  # alpha < beta
        {"r": 0.55, "alpha": 30.0, "s": 0.6, "beta": 11.7},  # alpha >= beta
    ],
)
def test_pareto_likelihood_is_exact_for_frequencies_in_the_thousands(params):
    m = ParetoNBD.from_params(params)
    r, alpha, s, beta = params.values()
    rows = pd.DataFrame(
        {
            "frequency": [0, 2, 50, 2000, 5000],
            "recency": [0.0, 30.43, 30.0, 38.5, 20.0],
            "T": [39.0, 38.86, 39.0, 39.0, 39.0],
        }
    )
    ll = m._loglik_rows(np.array(list(params.values())), m._stats(rows, "x"))
    stats = m._stats(rows, "x")
    for x, tx, T, got in zip(stats["x"], stats["t_x"], stats["T"], ll, strict=True):
        # direct: ln of Gamma(r+x) a^r b^s / Gamma(r) [alive + s * integral_tx^T (a+u)^-(r+x) (b+u)^-(s+1) du]
        ref = -(r + x) * np.log(alpha + tx) - (s + 1) * np.log(beta + tx)

        def integrand(u, x=x, ref=ref):
            return np.exp(-(r + x) * np.log(alpha + u) - (s + 1) * np.log(beta + u) - ref)

        integral = quad(integrand, tx, T, epsrel=1e-12, limit=500)[0]
        alive = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
        direct = (
            gammaln(r + x)
            - gammaln(r)
            + r * np.log(alpha)
            + s * np.log(beta)
            + np.logaddexp(alive, np.log(s * integral) + ref)
        )
        assert got == pytest.approx(direct, rel=1e-10)
    p = m.probability_alive(rows)
    assert p.between(0, 1).all() and np.isfinite(m.expected_purchases(10.0, rows)).all()


def test_bgnbd_predictions_finite_for_heavy_buyers(bgnbd):
    # 3000 purchases in 39 weeks: active to the end, or silent for 34 weeks (surely gone)
    rows = pd.DataFrame(
        {"frequency": [3000, 3000, 0], "recency": [39.0, 5.0, 0.0], "T": [39.0, 39.0, 39.0]}
    )
    e = bgnbd.expected_purchases(52.0, rows)
    assert np.isfinite(e).all() and e.iloc[0] > 1000 and e.iloc[1] < 1e-6


# -- predictions -------------------------------------------------------------------------------------
def test_predictions_keep_the_index_and_accept_per_row_horizons(bgnbd, cdnow_rfm):
    data = cdnow_rfm.set_index("customer_id").iloc[:5]
    e = bgnbd.expected_purchases([1.0, 2.0, 3.0, 4.0, 5.0], data)
    assert e.name == "expected_purchases" and list(e.index) == list(data.index)
    assert e.iloc[2] == pytest.approx(bgnbd.expected_purchases(3.0, data).iloc[2])
    with pytest.raises(SchemaError, match="received 2 value"):
        bgnbd.expected_purchases([1.0, 2.0], data)
    with pytest.raises(SchemaError, match="t must be finite and >= 0"):
        bgnbd.expected_purchases(-1.0, data)


def test_probability_of_n_purchases_sums_to_one(bgnbd):
    p = bgnbd.probability_of_n_purchases(39.0, np.arange(200))
    assert p.sum() == pytest.approx(1.0, abs=1e-6)
    mean = (np.arange(200) * p).sum()
    assert mean == pytest.approx(bgnbd.expected_purchases_new_customer(39.0), rel=1e-3)


def test_matrices_and_their_plots(bgnbd):
    fr = bgnbd.frequency_recency_matrix(1.0, max_frequency=5)
    pa = bgnbd.probability_alive_matrix(max_frequency=5)
    assert fr.shape == pa.shape == (6, 39)  # frequencies 0..5, recencies 0..38 weeks (T = 38.86)
    assert pa.loc[0, 0.0] == 1.0 and pa.loc[0].iloc[1:].isna().all()  # x = 0 has recency 0
    assert pa.loc[3].is_monotonic_increasing
    fig = bgnbd.plot_probability_alive_matrix(max_frequency=5)
    assert type(fig).__name__ == "Figure"
    assert bgnbd.plot_frequency_recency_matrix(1.0).data[0].type == "heatmap"


def test_bgbb_predictions():
    from crmine.datasets import load_donations

    donations = load_donations()
    m = BetaGeoBetaBinom().fit(donations)
    alive = m.probability_alive(donations)
    assert alive.between(0, 1).all()
    # donors who gave in the last year are the most likely to be alive (whatever x)
    last_year = donations["recency"] == 6
    np.testing.assert_allclose(alive[last_year], alive.max(), rtol=1e-12)
    assert alive[~last_year].max() < alive.max()
    e = m.expected_purchases(5, donations)
    assert (e > 0).all() and e.iloc[-1] > e.iloc[0]
    matrix = m.probability_alive_matrix()  # periods 6 from the fit
    assert matrix.shape == (7, 7)
    assert matrix.loc[2, 1.0] != matrix.loc[2, 1.0]  # frequency 2 by period 1 is impossible: NaN
    assert matrix.loc[3, 5.0] == pytest.approx(
        m.probability_alive(pd.DataFrame({"frequency": [3], "recency": [5], "periods": [6]})).iloc[
            0
        ]
    )


def test_sbg_survival_and_retention():
    m = ShiftedBetaGeometric.from_params({"alpha": 0.704, "beta": 1.182})
    table = m.survival_table(7, cohort_size=1000)
    assert table["survival"].iloc[0] == 1.0
    assert (
        table["retention_rate"].iloc[1:].is_monotonic_increasing
    )  # heterogeneity: retention rises
    s = m.survival(np.arange(1, 8))
    np.testing.assert_allclose(s[1:] / s[:-1], m.retention_rate(np.arange(2, 8)), rtol=1e-12)
    assert m.churn_probability(1) == pytest.approx(1 - m.survival(1))


# -- persistence ---------------------------------------------------------------------------------------
def test_save_load_round_trip(tmp_path, bgnbd, cdnow_rfm):
    path = tmp_path / "bg.json"
    bgnbd.save(path)
    doc = json.loads(path.read_text())
    assert doc["model"] == "BetaGeo" and "crmine_version" in doc
    back = BetaGeo.load(path)
    assert back.params_ == bgnbd.params_
    assert back.log_likelihood_ == bgnbd.log_likelihood_
    pd.testing.assert_frame_equal(back.summary, bgnbd.summary)
    pd.testing.assert_series_equal(
        back.probability_alive(cdnow_rfm), bgnbd.probability_alive(cdnow_rfm)
    )
    assert back.frequency_recency_matrix(1.0).shape == bgnbd.frequency_recency_matrix(1.0).shape


def test_load_refuses_mismatches(tmp_path, bgnbd):
    path = tmp_path / "bg.json"
    bgnbd.save(path)
    with pytest.raises(
        ModelMismatchError, match=r"holds a BetaGeo model; load it with crmine\.clv\.BetaGeo\.load"
    ):
        ParetoNBD.load(path)
    doc = json.loads(path.read_text())
    doc["crmine_version"] = "0.0.1"
    path.write_text(json.dumps(doc))
    with pytest.raises(ModelMismatchError, match="saved by crmine 0.0.1"):
        BetaGeo.load(path)
    assert BetaGeo.load(path, check_version=False).params_ == bgnbd.params_
    path.write_text("{}")
    with pytest.raises(ModelMismatchError, match="not a crmine CLV model file"):
        BetaGeo.load(path)


def test_save_load_sbg_and_gamma_gamma(tmp_path, gamma_gamma):
    gamma_gamma.save(tmp_path / "gg.json")
    assert GammaGamma.load(tmp_path / "gg.json").params_ == gamma_gamma.params_
    m = ShiftedBetaGeometric().fit([1000, 631, 468, 382])
    m.save(tmp_path / "sbg.json")
    assert ShiftedBetaGeometric.load(tmp_path / "sbg.json").survival(2) == m.survival(2)
