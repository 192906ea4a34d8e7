"""From a frame of sales rows to regular series: parse times, aggregate per period, fill the calendar.

A period is named by its first day: the day itself (D), the Monday of its ISO week (W), the first
of its month (M). Every series runs from its own first period to the last period of the whole
frame, so all forecasts start on the same day. Missing periods are zero sales (``gaps="zero"``) or
closed (``gaps="closed"``): a closed period is left out of fitting, and in the future a day of the
week that was closed in most weeks of the history is forecast as 0. A last week or month that the
data do not cover to its last day is left out (it would read as a drop in sales) and is forecast.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from crmine.errors import SchemaError, SettingsError

__all__ = ["FREQS", "SEASON", "Series", "build_series", "period_start", "parse_times"]

FREQS = ("D", "W", "M")
SEASON = {"D": 7, "W": 52, "M": 12}
GAPS = ("zero", "closed")
MIN_HISTORY = 4  # periods of trading a series needs before anything is fitted


@dataclass(frozen=True)
class Series:
    """One regular series, ready for the models: history and future, with the open periods marked."""

    key: tuple
    ts: pd.DatetimeIndex  # every period of the history
    y: np.ndarray  # sales per period (0 where nothing was sold, or where closed)
    is_open: np.ndarray  # bool per history period: traded (always True with gaps="zero")
    x: np.ndarray | None  # regressors per history period (n x k), or None
    future_ts: pd.DatetimeIndex
    future_open: np.ndarray  # bool per future period: forecast it (False: closed, forecast 0)
    future_x: np.ndarray | None  # regressors per future period (h x k), or None
    season: int  # the season length on the open periods


def period_start(ts: pd.Series | pd.DatetimeIndex, freq: str) -> pd.DatetimeIndex:
    """The first day of the period of each time: the day, the ISO week's Monday, or the month's first."""
    days = pd.DatetimeIndex(ts).normalize().as_unit("ns")  # one resolution, whatever pandas parsed
    if freq == "D":
        return days
    if freq == "W":
        return days - pd.to_timedelta(days.dayofweek, unit="D")
    return days - pd.to_timedelta(days.day - 1, unit="D")


def _range(start: pd.Timestamp, periods: int, freq: str) -> pd.DatetimeIndex:
    alias = {"D": "D", "W": "W-MON", "M": "MS"}[freq]
    return pd.date_range(start, periods=periods, freq=alias).as_unit("ns")


def _count(first: pd.Timestamp, last: pd.Timestamp, freq: str) -> int:
    if freq == "D":
        return (last - first).days + 1
    if freq == "W":
        return (last - first).days // 7 + 1
    return (last.year - first.year) * 12 + last.month - first.month + 1


def parse_times(col: pd.Series, name: str) -> pd.Series:
    """``col`` as naive timestamps. Text is read in the one format crmine's ingest infers for it
    (ISO 8601, day- or month-first, month names, compact digits); a SchemaError names the column
    and how many values could not be read."""
    if pd.api.types.is_datetime64_any_dtype(col):
        out = pd.to_datetime(col)
    else:
        from crmine.io._infer_values import infer_timestamp

        text = col.astype("string").str.strip()
        counts = text.value_counts(dropna=True)
        guess = infer_timestamp(zip(counts.index.astype(str), counts.to_numpy().tolist(), strict=True))
        fmt = guess.format if guess is not None and guess.format else "ISO8601"
        out = pd.to_datetime(text, format=fmt, errors="coerce", utc=False)
        if guess is None or out.isna().sum() > text.isna().sum():
            mixed = pd.to_datetime(text, format="mixed", errors="coerce")
            if mixed.notna().sum() > out.notna().sum():
                out = mixed
        bad = int((out.isna() & text.notna() & (text != "")).sum())
        if bad:
            raise SchemaError(
                f"Column {name!r}: {bad:,} of {len(col):,} values are not dates or times. Rule: every time "
                "must read as a date, e.g. 2025-06-30 or 30/06/2025 14:05. Fix or drop those rows, "
                "or name another column with --time.")
    if getattr(out.dt, "tz", None) is not None:
        out = out.dt.tz_localize(None)
    if out.isna().any():
        raise SchemaError(
            f"Column {name!r}: {int(out.isna().sum()):,} rows have no time. Rule: every sales row needs "
            "its time. Drop those rows or fill them in.")
    return out


def _numeric(col: pd.Series, name: str, what: str) -> pd.Series:
    if pd.api.types.is_bool_dtype(col):
        return col.astype(float)
    if pd.api.types.is_numeric_dtype(col):
        return col.astype(float)
    text = col.astype("string").str.strip().str.replace(",", "", regex=False)
    out = pd.to_numeric(text, errors="coerce")
    bad = int((out.isna() & text.notna() & (text != "")).sum())
    if bad:
        raise SchemaError(
            f"Column {name!r} ({what}): {bad:,} of {len(col):,} values are not numbers. Rule: {what} "
            "must be numeric, e.g. 12.5. Fix those cells or name another column.")
    return out.astype(float)


def check_columns(frame: pd.DataFrame, *, time: str, value: str, by: Sequence[str],
                  regressors: Sequence[str]) -> None:
    """Every column named exists; all missing ones are listed in one SchemaError."""
    wanted = [("time", time), ("value", value)] + [("by", b) for b in by] + [("regressor", r) for r in regressors]
    missing = [f"{role} {col!r}" for role, col in wanted if col not in frame.columns]
    if missing:
        cols = ", ".join(map(str, frame.columns)) or "(none)"
        raise SchemaError(
            f"Column(s) not found: {', '.join(missing)}. Existing columns: {cols}. Name existing columns "
            "with time=, value=, by= and regressors= (--time, --value, --by on the command line).")


def build_series(frame: pd.DataFrame, *, time: str, value: str, by: Sequence[str], freq: str,
                 horizon: int, gaps: str, regressors: Sequence[str],
                 future: pd.DataFrame | None = None) -> list[Series]:
    """The regular series of ``frame``, sorted by key; see the module docstring for the rules.

    Rows whose value is empty carry regressors only: those after the last sale period give the
    regressors of the forecast periods (as do the rows of ``future``). A regressor missing for a
    period is carried forward from the last period that has it (then back, then 0).
    """
    by, regressors = list(by), list(regressors)
    check_columns(frame, time=time, value=value, by=by, regressors=regressors)
    if future is not None:
        check_columns(future.assign(**{value: np.nan}) if value not in future.columns else future,
                      time=time, value=value, by=by, regressors=regressors)
        frame = pd.concat([frame, future.assign(**{value: np.nan})[[*by, time, value, *regressors]]],
                          ignore_index=True)
    data = pd.DataFrame({"_ts": parse_times(frame[time], time), "_y": _numeric(frame[value], value, "the value")})
    for i, b in enumerate(by):
        data[f"_by{i}"] = frame[b].astype("string").fillna("").to_numpy()
    for j, r in enumerate(regressors):
        data[f"_x{j}"] = _numeric(frame[r], r, "a regressor")
    data["_p"] = period_start(data["_ts"], freq)
    keys = [f"_by{i}" for i in range(len(by))]
    xcols = [f"_x{j}" for j in range(len(regressors))]
    # Sorting first makes every sum add the same numbers in the same order, whatever the row order.
    data = data.sort_values([*keys, "_p", "_y", *xcols], kind="mergesort", na_position="last")
    sales = data[data["_y"].notna()]
    if sales.empty:
        raise SchemaError(f"Column {value!r} has no numbers: there are no sales to forecast.")
    last = sales["_p"].max()
    if freq != "D" and sales["_ts"].max().normalize() < _range(last, 2, freq)[1] - pd.Timedelta(days=1):
        # The last week or month is not covered to its last day: it would read as a drop in sales.
        # It is left out of the history and becomes the first period forecast.
        sales = sales[sales["_p"] < last]
        if sales.empty:
            raise SchemaError(f"The sales in column {value!r} cover less than one whole period at freq={freq!r}; "
                              "use a shorter period (freq='D').")
        last = sales["_p"].max()
    future_ts = _range(last, horizon + 1, freq)[1:]
    agg = sales.groupby([*keys, "_p"], sort=True)["_y"].sum() if keys else sales.groupby("_p", sort=True)["_y"].sum()
    xagg = (data.groupby([*keys, "_p"], sort=True)[xcols].mean() if keys
            else data.groupby("_p", sort=True)[xcols].mean()) if xcols else None
    out, short = [], 0
    levels = (0 if len(keys) == 1 else list(range(len(keys)))) if keys else None
    groups = agg.groupby(level=levels, sort=True) if keys else [((), agg)]
    for key, part in groups:
        key = key if isinstance(key, tuple) else (key,)
        part = part.droplevel(levels) if keys else part
        first = part.index.min()
        ts = _range(first, _count(first, last, freq), freq)
        observed = part.reindex(ts)
        is_open = observed.notna().to_numpy() if gaps == "closed" else np.ones(len(ts), bool)
        if int(is_open.sum()) < MIN_HISTORY:
            short += 1
            continue
        y = observed.fillna(0.0).to_numpy(dtype=float)
        x = fx = None
        if xagg is not None:
            xs = xagg.xs(key if len(keys) > 1 else key[0], level=levels) if keys else xagg
            both = xs.reindex(ts.append(future_ts)).ffill().bfill().fillna(0.0).to_numpy(dtype=float)
            x, fx = both[: len(ts)], both[len(ts):]
        future_open, season = _closed_days(ts, is_open, future_ts, freq, gaps)
        out.append(Series(key, ts, y, is_open, x, future_ts, future_open, fx, season))
    if short:
        raise SchemaError(
            f"{short:,} series have fewer than {MIN_HISTORY} periods of sales at freq={freq!r}. Rule: a forecast "
            f"needs at least {MIN_HISTORY} periods of history. Drop those series (filter the by-column), "
            "or use a shorter period (freq='D').")
    return out


def _closed_days(ts: pd.DatetimeIndex, is_open: np.ndarray, future_ts: pd.DatetimeIndex, freq: str,
                 gaps: str) -> tuple[np.ndarray, int]:
    """Which future periods trade, and the season length on the open periods."""
    season = SEASON[freq]
    if gaps != "closed" or freq != "D":
        return np.ones(len(future_ts), bool), season
    share = pd.Series(is_open).groupby(ts.dayofweek).mean()
    open_days = {d for d in range(7) if share.get(d, 0.0) >= 0.5}
    if not open_days:
        open_days = set(range(7))
    return np.array([d in open_days for d in future_ts.dayofweek]), len(open_days)


def validate_options(*, freq: str, horizon: int, gaps: str, level: float) -> None:
    """Every option checked; all problems in one SettingsError."""
    problems = []
    if freq not in FREQS:
        problems.append(f"freq must be one of D, W, M (day, week, month); received {freq!r}")
    if isinstance(horizon, bool) or not isinstance(horizon, (int, np.integer)) or horizon < 1:
        problems.append(f"horizon must be a whole number of periods >= 1; received {horizon!r}")
    if gaps not in GAPS:
        problems.append(f"gaps must be 'zero' (missing periods sold nothing) or 'closed' (no trading); received {gaps!r}")
    if not isinstance(level, (int, float)) or not 0 < level < 1:
        problems.append(f"level must lie strictly between 0 and 1, e.g. 0.8; received {level!r}")
    if problems:
        raise SettingsError("; ".join(problems) + ".")
