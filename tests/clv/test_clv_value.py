"""Customer lifetime value and the model checks on CDNOW."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmine.clv import (
    calibration_vs_holdout,
    customer_lifetime_value,
    expected_cumulative_transactions,
    holdout_error,
    plot_calibration_vs_holdout,
    plot_cumulative_transactions,
)
from crmine.errors import SchemaError, SettingsError


def _clv_loop(model, spend, data, months, rate, weeks_per_month):
    # lifetimes' definition, one month at a time
    total = np.zeros(len(data))
    for m in range(1, months + 1):
        step = model.expected_purchases(m * weeks_per_month, data) - model.expected_purchases(
            (m - 1) * weeks_per_month, data
        )
        total += spend * step.to_numpy() / (1 + rate) ** m
    return total


def test_clv_equals_the_month_by_month_definition(bgnbd, gamma_gamma, cdnow_rfm):
    clv = customer_lifetime_value(bgnbd, gamma_gamma, cdnow_rfm, horizon=12, discount_rate=0.01)
    assert clv.name == "clv" and clv.index.equals(cdnow_rfm.index)
    spend = gamma_gamma.expected_spend(cdnow_rfm).to_numpy()
    want = _clv_loop(bgnbd, spend, cdnow_rfm, 12, 0.01, 30.4375 / 7)
    np.testing.assert_allclose(clv.to_numpy(), want, rtol=1e-10)


def test_clv_without_discount_is_margin_times_spend_times_purchases(bgnbd, gamma_gamma, cdnow_rfm):
    clv = customer_lifetime_value(
        bgnbd, gamma_gamma, cdnow_rfm, horizon=52, discount_rate=0.0, margin=0.3, freq="W"
    )
    want = 0.3 * gamma_gamma.expected_spend(cdnow_rfm) * bgnbd.expected_purchases(52.0, cdnow_rfm)
    np.testing.assert_allclose(clv.to_numpy(), want.to_numpy(), rtol=1e-10)


def test_clv_settings_are_checked(bgnbd, gamma_gamma, cdnow_rfm):
    with pytest.raises(
        SettingsError, match=r"horizon must be a whole number >= 1.*discount_rate must be"
    ):
        customer_lifetime_value(bgnbd, gamma_gamma, cdnow_rfm, horizon=0, discount_rate=-2.0)
    with pytest.raises(SettingsError, match="freq must be one of D, W, M, Y"):
        customer_lifetime_value(bgnbd, gamma_gamma, cdnow_rfm, freq="Q")


def test_expected_spend_shrinks_toward_the_population_mean(gamma_gamma):
    data = pd.DataFrame({"frequency": [0, 1, 20], "monetary": [0.0, 100.0, 100.0]})
    spend = gamma_gamma.expected_spend(data)
    population = gamma_gamma.expected_spend_new_customer()
    assert spend.iloc[0] == pytest.approx(population)
    assert population < spend.iloc[1] < spend.iloc[2] < 100.0


def test_calibration_vs_holdout_on_cdnow(bgnbd, cdnow_rfm):
    table = calibration_vs_holdout(bgnbd, cdnow_rfm)
    assert list(table.index) == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert table["customers"].sum() == 2357
    assert table.loc["0", "actual"] == pytest.approx(334 / 1411)
    # the model tracks the holdout within 0.35 purchases per customer in every bin
    assert (table["actual"] - table["predicted"]).abs().max() < 0.4
    fig = plot_calibration_vs_holdout(table)
    assert len(fig.data) == 2


def test_holdout_error_beats_the_naive_baseline(bgnbd, cdnow_rfm):
    table = holdout_error(bgnbd, cdnow_rfm)
    assert list(table.index) == ["model", "naive"]
    assert table.loc["model", "actual_total"] == 1882
    assert table.loc["model", "mae"] < table.loc["naive", "mae"]
    assert table.loc["model", "rmse"] < table.loc["naive", "rmse"]


def test_holdout_checks_need_holdout_columns(bgnbd, cdnow_rfm):
    with pytest.raises(
        SchemaError, match=r"lacks column\(s\) frequency_holdout, duration_holdout.*holdout_end"
    ):
        holdout_error(bgnbd, cdnow_rfm[["frequency", "recency", "T"]])


def test_cumulative_tracking_plot_and_errors(bgnbd, cdnow):
    table = expected_cumulative_transactions(bgnbd, cdnow, end="1998-06-30")
    assert table.index[0] == 1 and table["date"].iloc[-1] == pd.Timestamp("1998-06-30")
    assert table["actual"].is_monotonic_increasing and table["expected"].is_monotonic_increasing
    fig = plot_cumulative_transactions(table, calibration_end="1997-09-30")
    assert [t.name for t in fig.data] == ["actual", "expected"]
    with pytest.raises(SchemaError, match=r"lacks column\(s\) when"):
        expected_cumulative_transactions(bgnbd, cdnow, end="1998-06-30", datetime_col="when")
