"""Sales forecasts: crmine on 1,000 synthetic daily series (~2 years each) against a plain statsmodels loop.

Each series has its own level, trend, weekly pattern, yearly wave and noise (seeded). The last 14
days are held out: crmine forecasts them (its backtest chooses a model per series), and so does a
plain statsmodels ExponentialSmoothing loop (additive damped trend, additive weekly season, its
defaults) over the same series. Printed: seconds, series/s, crmine's backtest MAE against seasonal
naive's, and the held-out MAE of each method over seasonal naive's.

statsforecast, the peer named in the design, needs pandas < 3 and is not installed here: when it
cannot be imported, that is printed and the statsmodels loop stands in.

    python bench/bench_forecast.py [--series 1000] [--horizon 14]
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd

DAYS = 730


def simulate(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    days = pd.date_range("2024-01-01", periods=DAYS, freq="D")
    t = np.arange(DAYS)
    dow = days.dayofweek.to_numpy()
    parts = []
    for i in range(n):
        level = rng.uniform(20, 400)
        week = rng.normal(0, 0.15, 7) * level
        y = (level * (1 + rng.uniform(-0.3, 0.6) * t / DAYS) + week[dow]
             + rng.uniform(0, 0.15) * level * np.sin(2 * np.pi * t / 365.25 + rng.uniform(0, 6.3))
             + rng.normal(0, rng.uniform(0.05, 0.25) * level, DAYS))
        parts.append(pd.DataFrame({"series": f"s{i:04d}", "day": days, "sales": np.maximum(y, 0).round(2)}))
    return pd.concat(parts, ignore_index=True)


def statsmodels_loop(train: pd.DataFrame, horizon: int) -> tuple[float, dict[str, np.ndarray]]:
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    out = {}
    t = time.perf_counter()
    for key, part in train.groupby("series", sort=True):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = ExponentialSmoothing(part["sales"].to_numpy(), trend="add", damped_trend=True, seasonal="add",
                                       seasonal_periods=7, initialization_method="estimated").fit()
        out[key] = np.maximum(fit.forecast(horizon), 0)
    return time.perf_counter() - t, out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--series", type=int, default=1000)
    ap.add_argument("--horizon", type=int, default=14)
    args = ap.parse_args()
    from crmine.forecast import forecast

    h = args.horizon
    data = simulate(args.series)
    cut = data["day"].max() - pd.Timedelta(days=h)
    train, test = data[data["day"] <= cut], data[data["day"] > cut]
    actual = {k: g["sales"].to_numpy() for k, g in test.groupby("series", sort=True)}
    print(f"{args.series:,} daily series x {DAYS - h} days of history, horizon {h} (the last {h} days held out)")

    t = time.perf_counter()
    result = forecast(train, time="day", value="sales", by="series", freq="D", horizon=h)
    ours_s = time.perf_counter() - t
    ours = {k: g["forecast"].to_numpy() for k, g in result.forecast.groupby("series", sort=True)}
    bt = result.backtest
    print(f"crmine.forecast: {ours_s:.1f} s, {args.series / ours_s:.1f} series/s; models chosen: "
          + ", ".join(f"{m} {n}" for m, n in bt["model"].value_counts().sort_index().items()))
    print(f"  backtest MAE / seasonal-naive MAE: mean {np.mean(bt['mae'] / bt['snaive_mae']):.3f}; "
          f"series where a model beat seasonal naive (else it is kept): {np.mean(bt['model'] != 'snaive'):.0%}")

    try:
        import statsforecast  # noqa: F401
        print("statsforecast is installed, but this benchmark compares with statsmodels only.")
    except ImportError:
        print("statsforecast: not installable here (it needs pandas < 3); comparing with a plain statsmodels loop.")
    sm_s, sm = statsmodels_loop(train, h)
    print(f"statsmodels ExponentialSmoothing loop: {sm_s:.1f} s, {args.series / sm_s:.1f} series/s "
          f"(crmine {sm_s / ours_s:.2f}x its speed, with a backtest of 4 candidates per series)")

    snaive = {k: g["sales"].to_numpy()[-7:][np.arange(h) % 7] for k, g in train.groupby("series", sort=True)}

    def mae(pred: dict[str, np.ndarray]) -> float:
        return float(np.mean([np.mean(np.abs(actual[k] - pred[k])) for k in actual]))

    base = mae(snaive)
    print(f"held-out MAE / seasonal naive's: crmine {mae(ours) / base:.3f}, statsmodels ETS {mae(sm) / base:.3f} "
          f"(crmine / statsmodels = {mae(ours) / mae(sm):.3f})")
    lo = np.concatenate([g["lo"].to_numpy() for _, g in result.forecast.groupby("series", sort=True)])
    hi = np.concatenate([g["hi"].to_numpy() for _, g in result.forecast.groupby("series", sort=True)])
    y = np.concatenate([actual[k] for k in sorted(actual)])
    print(f"held-out coverage of crmine's 80% interval: {np.mean((y >= lo) & (y <= hi)):.1%}")


if __name__ == "__main__":
    main()
