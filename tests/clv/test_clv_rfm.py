"""rfm_summary on hand-worked tables, on CDNOW, and its Ibis twin against it."""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd
import pytest

from crmine.clv import rfm_summary, rfm_summary_expr
from crmine.errors import SchemaError, SettingsError
from tests.conftest import ENGINES

CALIBRATION_END, HOLDOUT_END = "1997-09-30", "1998-06-30"


@pytest.fixture
def tiny():
    # a: first 2024-01-01, two purchases on 01-08 (one day), one on 01-15, one in holdout
    # b: one purchase on 01-10; c: first purchase after the calibration end
    return pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "a", "a", "b", "c"],
            "ts": pd.to_datetime(
                [
                    "2024-01-01 09:00",
                    "2024-01-08 10:00",
                    "2024-01-08 18:30",
                    "2024-01-15 00:00",
                    "2024-01-20 00:00",
                    "2024-01-10 00:00",
                    "2024-01-18 00:00",
                ]
            ),
            "amount": [10.0, 5.0, 7.0, 20.0, 8.0, 3.0, 1.0],
        }
    )


def test_rfm_summary_hand_worked(tiny):
    out = rfm_summary(
        tiny,
        observation_end="2024-01-15",
        monetary_col="amount",
        time_unit="D",
        holdout_end="2024-01-29",
    )
    assert out["customer_id"].tolist() == ["a", "b"]
    a, b = out.iloc[0], out.iloc[1]
    assert a["frequency"] == 2  # 01-08 counts once
    assert a["recency"] == 14.0 and a["T"] == 14.0
    assert a["monetary"] == pytest.approx((12.0 + 20.0) / 2)  # per-day totals, first day excluded
    assert (a["frequency_holdout"], a["monetary_holdout"], a["duration_holdout"]) == (1, 8.0, 14.0)
    assert (b["frequency"], b["recency"], b["T"], b["monetary"]) == (0, 0.0, 5.0, 0.0)
    assert b["frequency_holdout"] == 0 and b["monetary_holdout"] == 0.0


@pytest.mark.parametrize(("unit", "days"), [("D", 1.0), ("W", 7.0), ("M", 30.4375), ("Y", 365.25)])
def test_rfm_summary_time_units(tiny, unit, days):
    out = rfm_summary(tiny, observation_end="2024-01-15", time_unit=unit)
    assert out["T"].tolist() == pytest.approx([14.0 / days, 5.0 / days])
    assert "monetary" not in out.columns


def test_rfm_summary_missing_columns_named_at_once(tiny):
    with pytest.raises(SchemaError, match=r"lacks column\(s\) when, value\. Existing columns"):
        rfm_summary(tiny, observation_end="2024-01-15", datetime_col="when", monetary_col="value")


def test_rfm_summary_missing_values_counted_not_shown(tiny):
    bad = tiny.copy()
    bad.loc[0, "amount"] = np.nan
    bad.loc[1, "customer_id"] = None
    with pytest.raises(
        SchemaError, match=r"'customer_id' has 1 missing .*'amount' has 1 missing"
    ) as e:
        rfm_summary(bad, observation_end="2024-01-15", monetary_col="amount")
    assert "10.0" not in str(e.value)


def test_rfm_summary_bad_settings(tiny):
    with pytest.raises(SettingsError, match="time_unit must be one of D, W, M, Y"):
        rfm_summary(tiny, observation_end="2024-01-15", time_unit="fortnight")
    with pytest.raises(SettingsError, match="holdout_end must be after observation_end"):
        rfm_summary(tiny, observation_end="2024-01-15", holdout_end="2024-01-01")
    with pytest.raises(SchemaError, match="no transaction falls on or before"):
        rfm_summary(tiny, observation_end="2023-01-01")


def test_rfm_summary_expr_equals_pandas_on_cdnow(cdnow, cdnow_rfm):
    con = ibis.duckdb.connect()
    table = con.create_table("transactions", cdnow)
    expr = rfm_summary_expr(table, observation_end=CALIBRATION_END, holdout_end=HOLDOUT_END)
    assert isinstance(expr, ibis.Table)
    got = con.execute(expr)
    assert list(got.columns) == list(cdnow_rfm.columns)
    pd.testing.assert_frame_equal(got, cdnow_rfm, check_dtype=False, rtol=1e-12)


def test_rfm_summary_expr_without_holdout_or_money(tiny):
    con = ibis.duckdb.connect()
    table = con.create_table("t", tiny)
    expr = rfm_summary_expr(table, observation_end="2024-01-15", time_unit="D", monetary_col=None)
    got = con.execute(expr)
    want = rfm_summary(tiny, observation_end="2024-01-15", time_unit="D")
    pd.testing.assert_frame_equal(got, want, check_dtype=False)


def test_rfm_summary_expr_missing_columns(tiny):
    table = ibis.memtable(tiny.drop(columns=["amount"]))
    with pytest.raises(SchemaError, match=r"lacks column\(s\) amount"):
        rfm_summary_expr(table, observation_end="2024-01-15")


def test_rfm_summary_expr_compiles_for_spark(cdnow):
    pytest.importorskip("pyspark")
    _ = ibis.pyspark  # registers the backend's options, needed to compile for it
    table = ibis.table({"customer_id": "string", "ts": "timestamp", "amount": "float64"}, name="tx")
    sql = ibis.to_sql(
        rfm_summary_expr(table, observation_end=CALIBRATION_END, holdout_end=HOLDOUT_END),
        dialect="pyspark",
    )
    assert "MIN_BY" in sql and "DATEDIFF" in sql


@pytest.mark.parametrize("engine", ENGINES, indirect=True)
def test_rfm_summary_expr_runs_in_the_warehouse_on_every_engine(cdnow, cdnow_rfm, engine, tmp_path):
    from crmine.warehouse import connect

    wh = connect(tmp_path / ("w.duckdb" if engine == "duckdb" else "spark"), engine=engine)
    wh.write("transactions", cdnow)
    expr = rfm_summary_expr(wh.table("transactions"), observation_end=CALIBRATION_END, holdout_end=HOLDOUT_END)
    got = wh.execute(expr).sort_values("customer_id").reset_index(drop=True)
    want = cdnow_rfm.sort_values("customer_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(got, want, check_dtype=False, rtol=1e-9)
