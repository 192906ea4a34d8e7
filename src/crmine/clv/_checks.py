"""Model checking: calibration against a holdout, tracking of cumulative repeat transactions, and
holdout error against a naive baseline. Each check returns a DataFrame; ``plot_*`` draw one.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from crmine.clv._base import TransactionModel, read_columns
from crmine.clv._rfm import _day, unit_days
from crmine.errors import SchemaError
from crmine.schema import require_columns

__all__ = [
    "calibration_vs_holdout",
    "expected_cumulative_transactions",
    "holdout_error",
    "plot_calibration_vs_holdout",
    "plot_cumulative_transactions",
]

_HOLDOUT_HINT = "Build the table with crmine.clv.rfm_summary(..., holdout_end=...)."


def _holdout(model: TransactionModel, data: pd.DataFrame, where: str):
    cols = read_columns(
        data, ("frequency_holdout", "duration_holdout"), where=where, hint=_HOLDOUT_HINT
    )
    predicted = model.expected_purchases(cols["duration_holdout"], data).to_numpy()
    return cols["frequency_holdout"], predicted


def calibration_vs_holdout(
    model: TransactionModel, data: pd.DataFrame, /, *, max_frequency: int = 7
) -> pd.DataFrame:
    """Mean actual and predicted holdout purchases by calibration frequency (0 .. max_frequency+).

    Parameters
    ----------
    model
        A fitted transaction model.
    data
        The calibration summary with holdout columns, from ``rfm_summary(..., holdout_end=...)``.
    max_frequency
        The last bin gathers this frequency and above.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``frequency`` (the last label ends in ``+``), with ``customers``, ``actual`` and
        ``predicted`` (means per customer).
    """
    actual, predicted = _holdout(model, data, "calibration_vs_holdout data")
    freq = np.minimum(np.asarray(data[model._columns[0]], dtype=int), max_frequency)
    frame = pd.DataFrame({"bin": freq, "actual": actual, "predicted": predicted})
    out = frame.groupby("bin").agg(
        customers=("actual", "size"), actual=("actual", "mean"), predicted=("predicted", "mean")
    )
    out = out.reindex(range(max_frequency + 1))
    out["customers"] = out["customers"].fillna(0).astype("int64")
    out.index = pd.Index(
        [str(i) for i in range(max_frequency)] + [f"{max_frequency}+"], name="frequency"
    )
    return out


def holdout_error(model: TransactionModel, data: pd.DataFrame, /) -> pd.DataFrame:
    """Per-customer error of the model's holdout predictions and of a naive baseline.

    The baseline carries each customer's calibration purchase rate forward:
    frequency / T * duration_holdout (0 when T is 0).

    Returns
    -------
    pandas.DataFrame
        Rows ``model`` and ``naive``; columns ``mae``, ``rmse``, ``predicted_total`` and
        ``actual_total``.
    """
    actual, predicted = _holdout(model, data, "holdout_error data")
    x, _, T = (np.asarray(data[c], dtype=float) for c in model._columns)
    duration = np.asarray(data["duration_holdout"], dtype=float)
    naive = np.divide(x, T, out=np.zeros_like(x), where=T > 0) * duration
    rows = {}
    for name, pred in (("model", predicted), ("naive", naive)):
        err = pred - actual
        rows[name] = {
            "mae": float(np.mean(np.abs(err))),
            "rmse": float(np.sqrt(np.mean(err**2))),
            "predicted_total": float(pred.sum()),
            "actual_total": float(actual.sum()),
        }
    return pd.DataFrame.from_dict(rows, orient="index")


def expected_cumulative_transactions(
    model: TransactionModel,
    transactions: pd.DataFrame,
    /,
    *,
    end: Any,
    start: Any = None,
    customer_id_col: str = "customer_id",
    datetime_col: str = "ts",
    time_unit: str = "W",
) -> pd.DataFrame:
    """Actual and expected cumulative repeat transactions at the end of each period (tracking plot).

    Period k covers days [start + (k-1) * time_unit, start + k * time_unit). A customer whose first
    purchase was on day f has been observed for k - (f - start) / time_unit units at the end of
    period k (the day f counts as starting at its beginning, as in Fader, Hardie & Lee 2005, whose
    figure 2 and week 20-25 figures this reproduces) and is expected to have made E[X(that time)]
    repeat purchases (the model's ``expected_purchases_new_customer``); the expected curve sums
    these over the customers, grouped by day of first purchase.

    Parameters
    ----------
    model
        A fitted continuous-time transaction model (BetaGeo, ParetoNBD, ModifiedBetaGeo).
    transactions
        One row per transaction (all of them, calibration and holdout).
    end
        Last day to track.
    start
        First day of period 1; by default the first transaction's day.
    customer_id_col, datetime_col
        Column names.
    time_unit
        Length of a period (D, W, M, Y), the unit the model was fit in.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``period`` (1, 2, ...), with ``date`` (the period's last day), ``actual`` and
        ``expected`` cumulative repeat transactions.
    """
    days = unit_days(time_unit)
    require_columns(
        list(map(str, transactions.columns)),
        [customer_id_col, datetime_col],
        where="expected_cumulative_transactions transactions",
    )
    ts = pd.to_datetime(transactions[datetime_col])
    if getattr(ts.dt, "tz", None) is not None:
        ts = ts.dt.tz_localize(None)
    missing = int(ts.isna().sum() + transactions[customer_id_col].isna().sum())
    if missing:
        raise SchemaError(
            f"expected_cumulative_transactions transactions have {missing} missing customer id(s) or date(s)."
        )
    daily = pd.DataFrame(
        {"cid": transactions[customer_id_col].to_numpy(), "day": ts.dt.floor("D").to_numpy()}
    ).drop_duplicates()
    end_day = _day(end, "end")
    start_day = daily["day"].min() if start is None else _day(start, "start")
    daily = daily[daily["day"] <= end_day].copy()
    daily["first"] = daily.groupby("cid")["day"].transform("min")
    daily = daily[daily["first"] >= start_day]  # customers who first bought on or after start
    first_days = daily.loc[daily["day"] == daily["first"], "day"]
    repeat_days = daily.loc[daily["day"] > daily["first"], "day"]

    n_periods = int(np.floor(((end_day - start_day).days + 1) / days + 1e-9))
    if n_periods < 1:
        raise SchemaError(
            "expected_cumulative_transactions: end is less than one period after start."
        )
    k = np.arange(1, n_periods + 1)
    end_off = k * days  # days from start to the end of period k (exclusive)
    ends = start_day + pd.to_timedelta(np.ceil(end_off - 1e-9).astype(int) - 1, unit="D")
    # expected: customers grouped by their first day
    off = ((first_days - start_day).dt.days).to_numpy()
    uoff, cnt = np.unique(off, return_counts=True)
    age = (end_off[None, :] - uoff[:, None]) / days
    ex = np.zeros(age.shape)
    alive = age > 0
    ex[alive] = model.expected_purchases_new_customer(age[alive])
    expected = cnt @ ex
    # actual: repeat purchase days before the end of each period
    rep = np.sort((repeat_days - start_day).dt.days.to_numpy())
    actual = np.searchsorted(rep, end_off - 1e-9, side="right")
    return pd.DataFrame(
        {"date": ends, "actual": actual.astype("int64"), "expected": expected},
        index=pd.Index(k, name="period"),
    )


def plot_calibration_vs_holdout(table: pd.DataFrame, /):
    """Bar-and-line chart of :func:`calibration_vs_holdout`; returns a plotly Figure."""
    import plotly.graph_objects as go

    x = table.index.astype(str)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=x, y=table["actual"], mode="lines+markers", name="actual"))
    fig.add_trace(
        go.Scatter(
            x=x, y=table["predicted"], mode="lines+markers", name="predicted", line={"dash": "dash"}
        )
    )
    fig.update_layout(
        title="Holdout purchases by calibration frequency",
        xaxis_title="purchases in calibration",
        yaxis_title="mean purchases in holdout",
    )
    return fig


def plot_cumulative_transactions(table: pd.DataFrame, /, *, calibration_end: Any = None):
    """Line chart of :func:`expected_cumulative_transactions`; returns a plotly Figure."""
    import plotly.graph_objects as go

    fig = go.Figure()
    fig.add_trace(go.Scatter(x=table.index, y=table["actual"], mode="lines", name="actual"))
    fig.add_trace(
        go.Scatter(
            x=table.index, y=table["expected"], mode="lines", name="expected", line={"dash": "dash"}
        )
    )
    if calibration_end is not None:
        cal = _day(calibration_end, "calibration_end")
        after = table.index[table["date"] >= cal]
        if len(after):
            fig.add_vline(x=int(after[0]), line={"dash": "dot", "color": "grey"})
    fig.update_layout(
        title="Cumulative repeat transactions",
        xaxis_title="period",
        yaxis_title="cumulative repeat transactions",
    )
    return fig
