from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from crmine.errors import SchemaError, SettingsError
from crmine.forecast import forecast
from crmine.forecast._models import arima

WEEK = np.array([0.0, 4, 8, 12, 20, 28, -16])  # Monday .. Sunday, planted
START = pd.Timestamp("2025-01-06")  # a Monday


def _daily(seed: int, days: int = 224, *, level: float = 80, trend: float = 0.08, noise: float = 4.0,
           week: np.ndarray = WEEK, start: pd.Timestamp = START) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    ts = pd.date_range(start, periods=days, freq="D")
    y = level + trend * np.arange(days) + week[ts.dayofweek] + rng.normal(0, noise, days)
    return pd.DataFrame({"day": ts, "sales": np.maximum(y, 0.0)})


def test_forecast_chosen_model_beats_seasonal_naive():
    result = forecast(_daily(1), time="day", value="sales", freq="D", horizon=14)
    bt = result.backtest.iloc[0]
    assert bt["model"] != "snaive"
    assert bt["mae"] < 0.9 * bt["snaive_mae"]
    assert (result.forecast["model"] == bt["model"]).all()


def test_forecast_recovers_the_planted_weekly_pattern():
    result = forecast(_daily(2, noise=3.0), time="day", value="sales", freq="D", horizon=14)
    f = result.forecast
    shape = f.groupby(f["ts"].dt.dayofweek)["forecast"].mean()
    shape = shape - shape.mean()
    planted = WEEK - WEEK.mean()
    assert np.corrcoef(shape.to_numpy(), planted)[0, 1] > 0.97
    assert np.abs(shape.to_numpy() - planted).max() < 5.0
    assert int(shape.idxmax()) == 5 and int(shape.idxmin()) == 6


def test_forecast_interval_covers_about_80_percent_of_held_out_days():
    hits, total = 0, 0
    for seed in range(30):
        full = _daily(100 + seed, days=182, trend=0.05 * (seed % 3), noise=5.0)
        train, test = full.iloc[:-14], full.iloc[-14:]
        f = forecast(train, time="day", value="sales", freq="D", horizon=14).forecast
        assert (f["ts"].to_numpy() == test["day"].to_numpy()).all()
        inside = (test["sales"].to_numpy() >= f["lo"].to_numpy()) & (test["sales"].to_numpy() <= f["hi"].to_numpy())
        hits, total = hits + int(inside.sum()), total + len(test)
    assert 0.65 <= hits / total <= 0.95


def test_forecast_bounds_are_ordered_and_never_negative():
    low = _daily(3, level=3, trend=-0.02, noise=3.0, week=np.zeros(7))
    f = forecast(low, time="day", value="sales", freq="D", horizon=28).forecast
    assert (f["lo"] <= f["forecast"]).all() and (f["forecast"] <= f["hi"]).all()
    assert (f[["lo", "forecast", "hi"]] >= 0).all().all()


def test_forecast_closed_sundays_are_zero_and_the_other_days_forecast():
    full = _daily(4, week=np.r_[WEEK[:6], 0.0])
    open_days = full[full["day"].dt.dayofweek != 6]  # no rows on Sundays: the shop is closed
    result = forecast(open_days, time="day", value="sales", freq="D", horizon=14, gaps="closed")
    f = result.forecast
    sunday = f["ts"].dt.dayofweek == 6
    assert sunday.sum() == 2
    assert (f.loc[sunday, ["forecast", "lo", "hi"]] == 0).all().all()
    assert (f.loc[~sunday, "forecast"] > 50).all()
    shape = f[~sunday].groupby(f["ts"].dt.dayofweek)["forecast"].mean()
    assert int(shape.idxmax()) == 5
    # The same file read as zero sales on Sundays: the weekly season forecasts Sundays near zero.
    zero = forecast(open_days, time="day", value="sales", freq="D", horizon=14, gaps="zero").forecast
    assert zero.loc[zero["ts"].dt.dayofweek == 6, "forecast"].max() < 10


def _stores() -> pd.DataFrame:
    parts = [_daily(10 + i, days=140 + 7 * i, level=50 + 20 * i).assign(store=f"s{i}") for i in range(3)]
    return pd.concat(parts, ignore_index=True)


def test_forecast_by_groups_give_one_forecast_per_group_and_period():
    result = forecast(_stores(), time="day", value="sales", by="store", freq="D", horizon=10)
    f = result.forecast
    assert list(f.columns) == ["store", "ts", "forecast", "lo", "hi", "model"]
    assert len(f) == 3 * 10
    assert f.groupby("store")["ts"].nunique().to_dict() == {"s0": 10, "s1": 10, "s2": 10}
    assert list(result.backtest["store"]) == ["s0", "s1", "s2"]
    # Every series starts on the day after the frame's last day (the shorter ones ran out earlier).
    assert f["ts"].min() == _stores()["day"].max() + pd.Timedelta(days=1)


def test_forecast_is_independent_of_row_order_and_time_format():
    frame = _stores()
    a = forecast(frame, time="day", value="sales", by=["store"], freq="W", horizon=4)
    shuffled = frame.sample(frac=1.0, random_state=7).reset_index(drop=True)
    shuffled["day"] = shuffled["day"].dt.strftime("%d/%m/%Y")
    b = forecast(shuffled, time="day", value="sales", by=["store"], freq="W", horizon=4)
    pd.testing.assert_frame_equal(a.forecast, b.forecast)
    pd.testing.assert_frame_equal(a.backtest, b.backtest)
    assert (a.forecast["ts"].dt.dayofweek == 0).all()  # weeks are named by their Monday


def test_forecast_monthly_periods_start_on_the_first():
    frame = _daily(5, days=800)
    f = forecast(frame, time="day", value="sales", freq="M", horizon=3).forecast
    assert (f["ts"].dt.day == 1).all() and len(f) == 3


def test_forecast_regressors_are_used_by_the_regression_model():
    rng = np.random.default_rng(8)
    frame = _daily(6, days=196, noise=2.0)
    promo = (rng.random(len(frame)) < 0.2).astype(int)
    frame["promo"] = promo
    frame["sales"] += 40 * promo
    future = pd.DataFrame({"day": pd.date_range(frame["day"].max() + pd.Timedelta(days=1), periods=14),
                           "promo": np.r_[np.ones(7), np.zeros(7)]})
    result = forecast(frame, time="day", value="sales", freq="D", horizon=14, regressors=["promo"], future=future)
    assert result.backtest["model"].item() == "regression"
    f = result.forecast["forecast"].to_numpy()
    assert 30 < (f[:7] - f[7:]).mean() < 50


def test_forecast_errors_name_the_column_the_rule_and_the_fix():
    frame = _daily(7)
    with pytest.raises(SchemaError, match=r"time 'when'.*value 'amount'.*Existing columns: day, sales"):
        forecast(frame, time="when", value="amount", horizon=7)
    bad = frame.assign(sales=frame["sales"].astype(object))
    bad.loc[3, "sales"] = "lots"
    with pytest.raises(SchemaError, match=r"Column 'sales' \(the value\): 1 of 224 values are not numbers"):
        forecast(bad, time="day", value="sales", horizon=7)
    times = frame.assign(day=frame["day"].dt.strftime("%Y-%m-%d"))
    times.loc[5, "day"] = "someday"
    with pytest.raises(SchemaError, match=r"Column 'day': 1 of 224 values are not dates"):
        forecast(times, time="day", value="sales", horizon=7)
    with pytest.raises(SettingsError, match=r"horizon must be a whole number of periods >= 1; received 0"):
        forecast(frame, time="day", value="sales", horizon=0)
    with pytest.raises(SettingsError, match=r"freq must be one of D, W, M"):
        forecast(frame, time="day", value="sales", horizon=7, freq="Q")
    with pytest.raises(SchemaError, match=r"1 series have fewer than 4 periods"):
        forecast(frame.head(3), time="day", value="sales", horizon=7)


def test_arima_interval_matches_statsmodels_full_sarima():
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    y = _daily(9, days=140)["sales"].to_numpy()
    z = y[7:] - y[:-7]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = SARIMAX(z, order=(1, 0, 0), seasonal_order=(0, 0, 1, 7), trend="c", concentrate_scale=True).fit(disp=False)
        ours = arima(y, 21, 7, 0.8, params=((7, (0, 0, 1, 7)), (1, 0), res.params, "filter"))
        full = SARIMAX(y, order=(1, 0, 0), seasonal_order=(0, 1, 1, 7)).filter(np.r_[res.params[1:], res.scale])
        ci = full.get_forecast(21).conf_int(alpha=0.2)
    np.testing.assert_allclose(ours.hi - ours.lo, ci[:, 1] - ci[:, 0], rtol=0.02)


def test_cli_forecast_writes_the_exact_columns_and_rows(tmp_path):
    from crmine.cli._app import app

    src = tmp_path / "sales.csv"
    frame = _stores()
    frame["day"] = frame["day"].dt.strftime("%Y-%m-%d")
    frame.to_csv(src, index=False)
    out = tmp_path / "forecast.csv"
    runner = CliRunner()
    args = ["forecast", str(src), "--time", "day", "--value", "sales", "--by", "store", "--freq", "D",
            "--horizon", "7", "--out", str(out)]
    done = runner.invoke(app, args)
    assert done.exit_code == 0, done.output
    written = pd.read_csv(out)
    assert list(written.columns) == ["store", "ts", "forecast", "lo", "hi", "model"]
    assert len(written) == 3 * 7
    assert written["ts"].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
    assert "series" in done.output
    summary = json.loads(runner.invoke(app, [*args, "--json", "--freq", "W", "--horizon", "2"]).output)
    assert (summary["series"], summary["horizon"], summary["freq"], summary["out"]) == (3, 2, "W", str(out))
    assert len(summary["backtest"]) == 3 and {"store", "model", "mae", "snaive_mae"} <= set(summary["backtest"][0])
    assert len(pd.read_csv(out)) == 3 * 2
    bad = runner.invoke(app, ["forecast", str(src), "--time", "nope", "--value", "sales", "--horizon", "7",
                              "--out", str(out)])
    assert bad.exit_code != 0


def test_forecast_an_unfinished_last_week_is_forecast_not_fitted():
    frame = _daily(11, days=150)  # 21 weeks and 3 days: the last week is unfinished
    f = forecast(frame, time="day", value="sales", freq="W", horizon=2).forecast
    assert f["ts"].iloc[0] == pd.Timestamp("2025-06-02")  # the Monday of the unfinished week
    assert f["forecast"].iloc[0] > 6 * 80  # a whole week's sales, not three days'


def test_forecast_future_regressors_may_come_from_rows_without_a_value():
    rng = np.random.default_rng(12)
    frame = pd.DataFrame({"day": pd.date_range(START, periods=126), "promo": (rng.random(126) < 0.3).astype(int)})
    frame["sales"] = 50 + 30 * frame["promo"] + rng.normal(0, 2, 126)
    frame.loc[frame.index[-7:], "sales"] = np.nan  # the flat-file form: next week's plan, no sales yet
    frame.loc[frame.index[-7:], "promo"] = [1, 0, 1, 0, 1, 0, 1]
    f = forecast(frame, time="day", value="sales", freq="D", horizon=7, regressors=["promo"]).forecast
    assert f["ts"].iloc[0] == frame["day"].iloc[-7]
    assert np.all(np.abs(f["forecast"].to_numpy() - (50 + 30 * np.array([1, 0, 1, 0, 1, 0, 1]))) < 5)
