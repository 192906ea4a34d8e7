"""The entry function: series in, the chosen model's forecast per series out, with its backtest."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from crmine._progress import Progress
from crmine.errors import SettingsError
from crmine.forecast._backtest import Backtest, backtest, run_model
from crmine.forecast._models import MODELS, Prediction
from crmine.forecast._series import Series, build_series, validate_options

__all__ = ["ForecastResult", "forecast"]

# The most recent periods a model is fitted on (seasonal naive looks back one season anyway):
# older sales say little about next month, and the fits stay fast.
WINDOW = {"D": 366, "W": 260, "M": 120}


@dataclass(frozen=True)
class ForecastResult:
    """What :func:`forecast` returns.

    ``forecast`` has one row per series and future period: the by-columns, ``ts`` (the period's
    first day), ``forecast``, ``lo``, ``hi`` (the interval at ``level``) and ``model``.
    ``backtest`` has one row per series: the by-columns, ``model`` (chosen), ``mae`` (its backtest
    MAE), ``snaive_mae``, ``mase`` (MAE over the in-sample seasonal-naive MAE), ``origins``,
    ``backtest_horizon`` and ``history`` (periods of trading).
    """

    forecast: pd.DataFrame
    backtest: pd.DataFrame
    freq: str
    horizon: int
    level: float

    def summary(self) -> pd.DataFrame:
        """How often each model was chosen, and the mean backtest MAE against seasonal naive's."""
        b = self.backtest
        return (b.groupby("model", sort=True)
                 .agg(series=("model", "size"), mae=("mae", "mean"), snaive_mae=("snaive_mae", "mean"))
                 .reset_index())


def forecast(frame: pd.DataFrame, /, *, time: str, value: str, by: Sequence[str] | str = (),
             freq: str = "D", horizon: int, gaps: str = "zero", level: float = 0.8,
             regressors: Sequence[str] = (), future: pd.DataFrame | None = None,
             models: Sequence[str] = tuple(MODELS), origins: int = 3, window: int | None = None,
             clip: bool = True, progress: Progress | None = None) -> ForecastResult:
    """Forecast the sum of ``value`` per series and period, ``horizon`` periods ahead.

    Parameters
    ----------
    frame
        Sales rows: a time, an amount, optional series keys and regressors.
    time, value
        The time column (dates or timestamps in any common format) and the amount to sum.
    by
        Columns naming a series (e.g. store, product); none for one series.
    freq
        ``"D"`` days, ``"W"`` ISO weeks (named by their Monday), ``"M"`` months (named by the 1st).
    horizon
        Periods to forecast, at least 1.
    gaps
        ``"zero"``: a period without rows sold nothing. ``"closed"``: it did not trade; closed
        periods are left out of fitting, and with ``freq="D"`` a day of the week that was closed
        in most weeks is forecast as 0 (``lo`` = ``hi`` = 0) while the other days are forecast.
    level
        Coverage of the prediction interval ``[lo, hi]``.
    regressors
        Numeric columns (promotion flags, price) for the regression model, averaged per period.
        Their future values come from ``future`` (rows with ``by``, ``time`` and the regressors)
        or from rows of ``frame`` with an empty ``value``; a missing value is carried forward.
    models
        Candidates, from ``snaive``, ``ets``, ``arima``, ``regression``; seasonal naive always runs.
    origins
        Rolling origins of the backtest that chooses each series' model.
    window
        The most recent periods the models are fitted on (default 366 days, 260 weeks, 120 months).
    clip
        Sales cannot be negative: forecasts and bounds below 0 become 0.
    progress
        Called as ``progress("series", done, total)``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> days = pd.date_range("2025-01-06", periods=70, freq="D")
    >>> sales = pd.DataFrame({"day": days.strftime("%d/%m/%Y"), "amount": 10 + 5 * (days.dayofweek == 5)})
    >>> result = forecast(sales, time="day", value="amount", freq="D", horizon=7)
    >>> result.forecast[["ts", "forecast"]].round(1).head(2).to_dict("list")
    {'ts': [Timestamp('2025-03-17 00:00:00'), Timestamp('2025-03-18 00:00:00')], 'forecast': [10.0, 10.0]}
    >>> result.backtest["model"].item()
    'snaive'
    """
    by = [by] if isinstance(by, str) else list(by)
    regressors = list(regressors)
    validate_options(freq=freq, horizon=horizon, gaps=gaps, level=level)
    unknown = [m for m in models if m not in MODELS]
    if unknown or (isinstance(origins, bool) or not isinstance(origins, int) or origins < 1):
        raise SettingsError(
            f"models must come from {', '.join(MODELS)} (received {', '.join(map(repr, unknown)) or 'those'}), "
            f"and origins must be a whole number >= 1 (received {origins!r}).")
    names = ["snaive", *[m for m in MODELS if m in models and m != "snaive"]]
    series = build_series(frame, time=time, value=value, by=by, freq=freq, horizon=int(horizon), gaps=gaps,
                          regressors=regressors, future=future)
    window = window or WINDOW[freq]
    rows, checks = [], []
    for i, s in enumerate(series):
        fc, bt = _one(s, int(horizon), level, names, origins, window, clip)
        rows.append(fc)
        checks.append(_check_row(s, bt))
        if progress is not None:
            progress("series", i + 1, len(series))
    out = pd.concat(rows, ignore_index=True)
    keys = pd.DataFrame([s.key for s in series for _ in range(int(horizon))], columns=by) if by else None
    if keys is not None:
        out = pd.concat([keys, out], axis=1)
    checks_frame = pd.DataFrame(checks, columns=["key", "model", "mae", "snaive_mae", "mase", "origins",
                                                 "backtest_horizon", "history"])
    if by:
        checks_frame = pd.concat([pd.DataFrame(checks_frame.pop("key").tolist(), columns=by), checks_frame], axis=1)
    else:
        checks_frame = checks_frame.drop(columns="key")
    return ForecastResult(out, checks_frame, freq, int(horizon), float(level))


def _check_row(s: Series, bt: Backtest) -> list:
    mae = bt.mae.get(bt.model, float("nan"))
    mase = mae / bt.scale if bt.scale and np.isfinite(bt.scale) and bt.scale > 0 else float("nan")
    return [s.key, bt.model, mae, bt.mae.get("snaive", float("nan")), mase, bt.origins, bt.horizon,
            int(s.is_open.sum())]


def _one(s: Series, horizon: int, level: float, names: list[str], origins: int, window: int,
         clip: bool) -> tuple[pd.DataFrame, Backtest]:
    """Backtest, then refit the chosen model on the whole window and forecast the open periods."""
    y = s.y[s.is_open][-window:]
    x = None if s.x is None else s.x[s.is_open][-window:]
    h_open = int(s.future_open.sum())
    fx = None if s.future_x is None else s.future_x[s.future_open]
    bt = backtest(y, h=horizon, season=s.season, level=level, x=x, models=names, origins=origins)
    model, pred = bt.model, None
    if h_open:
        warm = bt.params.get(model)
        warm = None if warm is None else (*warm[:-1], "start")  # refit, starting from the backtest's estimates
        try:
            pred = run_model(model, y, h_open, s.season, level, x, fx, warm)
        except (ValueError, ArithmeticError, np.linalg.LinAlgError, IndexError):
            model, pred = "snaive", run_model("snaive", y, h_open, s.season, level, x, fx)
        if not np.all(np.isfinite(pred.mean)):
            model, pred = "snaive", run_model("snaive", y, h_open, s.season, level, x, fx)
        pred = _intervals(pred, bt, level)
    mean, lo, hi = (np.zeros(horizon) for _ in range(3))
    if pred is not None:
        mean[s.future_open], lo[s.future_open], hi[s.future_open] = pred.mean, pred.lo, pred.hi
    if clip:
        mean, lo, hi = np.maximum(mean, 0.0), np.maximum(lo, 0.0), np.maximum(hi, 0.0)
    lo, hi = np.minimum(lo, mean), np.maximum(hi, mean)
    frame = pd.DataFrame({"ts": s.future_ts, "forecast": mean, "lo": lo, "hi": hi, "model": model})
    return frame, bt


def _intervals(pred: Prediction, bt: Backtest, level: float) -> Prediction:
    """The model's own interval; when it has none (or a broken one), the backtest errors' quantiles."""
    ok = pred.lo is not None and pred.hi is not None and np.all(np.isfinite(pred.lo)) and np.all(np.isfinite(pred.hi))
    if ok:
        return pred
    e = bt.errors if len(bt.errors) else np.zeros(1)
    q_lo, q_hi = np.quantile(e, [(1 - level) / 2, (1 + level) / 2])
    return Prediction(pred.mean, pred.mean + min(q_lo, 0.0), pred.mean + max(q_hi, 0.0))
