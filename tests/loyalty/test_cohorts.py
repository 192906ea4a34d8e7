"""Cohort retention against a matrix worked out by hand, a pandas oracle, and on every engine."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmine.errors import SettingsError
from crmine.loyalty import cohort_retention, cohort_retention_expr, plot_cohort_retention
from crmine.warehouse import connect
from tests.conftest import ENGINES

AS_OF = "2024-04-15"
NAN = np.nan


def _tx() -> pd.DataFrame:
    # a: Jan, Feb, Apr. b (records b1, b2): Jan, Mar. c: Feb, a return in Mar, Apr. d: Feb.
    # e: Apr, and May (after as_of). f: a return only (not a customer).
    rows = [
        ("a", "2024-01-05 10:00", False),
        ("a", "2024-01-20 10:00", False),
        ("a", "2024-02-10 10:00", False),
        ("a", "2024-04-01 10:00", False),
        ("b1", "2024-01-15 10:00", False),
        ("b2", "2024-03-03 10:00", False),
        ("c", "2024-02-01 10:00", False),
        ("c", "2024-03-05 10:00", True),
        ("c", "2024-04-10 10:00", False),
        ("d", "2024-02-14 10:00", False),
        ("e", "2024-04-02 10:00", False),
        ("e", "2024-05-01 10:00", False),
        ("f", "2024-01-10 10:00", True),
    ]
    df = pd.DataFrame(rows, columns=["customer_id", "ts", "is_return"])
    df["ts"] = pd.to_datetime(df["ts"])
    df["order_id"] = [f"o{i}" for i in range(len(df))]
    df["amount"] = np.where(df["is_return"], -5.0, 10.0)
    return df


def _lineage() -> pd.DataFrame:
    return pd.DataFrame({"customer_id": ["b1", "b2"], "unified_id": ["b", "b"]})


def _warehouse(tx: pd.DataFrame, path=None, engine: str = "duckdb"):
    wh = connect(path, engine=engine)
    wh.write("transactions", tx)
    wh.write("customer_lineage", _lineage())
    return wh


HAND_MONTHLY = pd.DataFrame(
    [[2, 1.0, 0.5, 0.5, 0.5], [2, 1.0, 0.0, 0.5, NAN], [1, 1.0, NAN, NAN, NAN]],
    index=pd.DatetimeIndex(["2024-01-01", "2024-02-01", "2024-04-01"], name="cohort"),
    columns=["size", 0, 1, 2, 3],
)


def _pandas_retention(tx: pd.DataFrame, as_of: str, freq: str) -> pd.DataFrame:
    """The same thing, straightforwardly, with pandas periods."""
    t = tx[(~tx.is_return) & (tx.ts < pd.Timestamp(as_of) + pd.Timedelta(days=1))].copy()
    t["customer_id"] = t.customer_id.replace({"b1": "b", "b2": "b"})
    pfreq = {"M": "M", "Q": "Q", "W": "W-SUN"}[freq]
    t["p"] = t.ts.dt.to_period(pfreq)
    first = t.groupby("customer_id").p.min().rename("c")
    t = t.join(first, on="customer_id")
    t["age"] = (t.p - t.c).apply(lambda d: d.n)
    active = (
        t.drop_duplicates(["customer_id", "age"]).groupby(["c", "age"]).size().unstack(fill_value=0)
    )
    size = first.value_counts().sort_index()
    last = pd.Timestamp(as_of).to_period(pfreq)
    ages = range((last - size.index.min()).n + 1)
    share = active.reindex(columns=ages, fill_value=0).div(size, axis=0)
    for c in share.index:
        for a in ages:
            if (last - c).n < a:
                share.loc[c, a] = np.nan
    out = pd.concat([size.rename("size"), share], axis=1)
    out.index = pd.DatetimeIndex(out.index.start_time, name="cohort")
    return out


def test_cohort_retention_hand_worked():
    wh = _warehouse(_tx())
    got = cohort_retention(wh, as_of=AS_OF)
    pd.testing.assert_frame_equal(got, HAND_MONTHLY, check_dtype=False)


@pytest.mark.parametrize("freq", ["M", "Q", "W"])
def test_cohort_retention_equals_pandas(freq):
    wh = _warehouse(_tx())
    got = cohort_retention(wh, as_of=AS_OF, freq=freq)
    want = _pandas_retention(_tx(), AS_OF, freq)
    pd.testing.assert_frame_equal(got, want, check_dtype=False, check_freq=False)


def test_cohort_retention_quarterly_hand_worked():
    got = cohort_retention(_warehouse(_tx()), as_of=AS_OF, freq="Q")
    # Q1: a, b, c, d; in Q2 a and c buy again. Q2: e.
    assert got["size"].tolist() == [4, 1]
    assert got[[0, 1]].to_numpy().tolist()[0] == [1.0, 0.5]
    assert got.loc["2024-04-01", 0] == 1.0 and np.isnan(got.loc["2024-04-01", 1])


def test_cohort_retention_ignores_what_happens_after_as_of():
    tx = _tx()
    full = cohort_retention(_warehouse(tx), as_of="2024-03-31")
    trimmed = cohort_retention(_warehouse(tx[tx.ts < "2024-04-01"]), as_of="2024-03-31")
    pd.testing.assert_frame_equal(full, trimmed)
    assert full.columns.tolist() == ["size", 0, 1, 2] and len(full) == 2


@pytest.mark.parametrize("engine", ENGINES, indirect=True)
def test_cohort_retention_same_on_every_engine(engine, tmp_path):
    path = tmp_path / ("w.duckdb" if engine == "duckdb" else "spark")
    wh = _warehouse(_tx(), path, engine)
    got = cohort_retention(wh, as_of=AS_OF)
    pd.testing.assert_frame_equal(got, HAND_MONTHLY, check_dtype=False)
    weekly = cohort_retention(wh, as_of=AS_OF, freq="W")
    pd.testing.assert_frame_equal(
        weekly, _pandas_retention(_tx(), AS_OF, "W"), check_dtype=False, check_freq=False
    )


def test_cohort_retention_errors_and_plot():
    wh = _warehouse(_tx())
    with pytest.raises(SettingsError, match=r"freq must be one of M, Q, W .*received 'D'"):
        cohort_retention(wh, freq="D")
    with pytest.raises(SettingsError, match="as_of must be a date"):
        cohort_retention(wh, as_of="not a date")
    expr = cohort_retention_expr(wh.table("transactions"), as_of=AS_OF)
    assert expr.columns == ("cohort", "period", "age", "active", "size", "retention")
    fig = plot_cohort_retention(cohort_retention(wh, as_of=AS_OF))
    assert fig.data[0].z.shape == (3, 4)


def test_cohort_retention_on_the_simulator(sim_ws):
    from crmine.features import customer_table

    wh = sim_ws.warehouse
    table = cohort_retention(wh)
    ct = customer_table(wh)
    buyers = int(wh.execute(ct.filter(ct.first_purchase.notnull()).count()))
    assert table["size"].sum() == buyers  # every unified customer with a purchase, once
    assert (table[0] == 1.0).all()
    later = table.drop(columns=["size", 0]).stack()
    assert later.between(0, 1).all() and later.mean() < 0.5
