"""Activity survival: the censoring rule by hand, Kaplan-Meier against lifelines directly."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from lifelines import KaplanMeierFitter

from crmine.errors import SchemaError, SettingsError
from crmine.loyalty import activity_survival, plot_activity_survival
from crmine.warehouse import connect

AS_OF = "2024-12-31"


def _tx() -> pd.DataFrame:
    # a: 60 days active, silent 305 days -> inactive. b: one purchase, silent -> inactive (0 days).
    # c: 183 days, silent 30 -> censored. d: 154 days, silent exactly 180 -> censored.
    # e: 121 days, silent 184 -> inactive; e's return and a purchase after as_of are ignored.
    rows = [
        ("a", "2024-01-01", False),
        ("a", "2024-03-01", False),
        ("b", "2024-01-01", False),
        ("c", "2024-06-01", False),
        ("c", "2024-12-01", False),
        ("d", "2024-02-01", False),
        ("d", "2024-07-04", False),
        ("e", "2024-03-01", False),
        ("e", "2024-05-01", False),
        ("e", "2024-06-30", False),
        ("e", "2024-09-30", True),
        ("e", "2025-01-15", False),
    ]
    df = pd.DataFrame(rows, columns=["customer_id", "ts", "is_return"])
    df["ts"] = pd.to_datetime(df["ts"]) + pd.Timedelta(hours=9)
    df["amount"] = 10.0
    return df


def _wh(tx: pd.DataFrame):
    wh = connect()
    wh.write("transactions", tx)
    return wh


def test_activity_survival_hand_worked():
    fit = activity_survival(_wh(_tx()), as_of=AS_OF, inactivity_days=180)
    d = fit.durations.set_index(["duration_days", "observed"])["customers"].to_dict()
    assert d == {(0, True): 1, (60, True): 1, (121, True): 1, (154, False): 1, (183, False): 1}
    assert (fit.customers, fit.inactive) == (5, 3)
    # S: 4/5 after day 0, 3/5 after 60, 2/5 after 121, then censored only
    assert fit.table.loc[[0.0, 60.0, 121.0, 154.0, 183.0], "survival"].tolist() == pytest.approx(
        [0.8, 0.6, 0.4, 0.4, 0.4]
    )
    assert fit.median_days == 121.0
    assert fit.survival_at([-1, 0, 59, 60, 500]).tolist() == pytest.approx(
        [1.0, 0.8, 0.8, 0.6, 0.4]
    )


def test_activity_survival_equals_lifelines_directly():
    fit = activity_survival(_wh(_tx()), as_of=AS_OF, inactivity_days=180)
    kmf = KaplanMeierFitter().fit([60, 0, 183, 154, 121], event_observed=[1, 1, 0, 0, 1])
    assert fit.median_days == kmf.median_survival_time_
    np.testing.assert_allclose(fit.table["survival"], kmf.survival_function_.iloc[:, 0].to_numpy())
    np.testing.assert_allclose(
        fit.table["lower_95"], kmf.confidence_interval_.iloc[:, 0].to_numpy()
    )


def test_activity_survival_on_the_simulator_equals_lifelines(sim_ws):
    wh = sim_ws.warehouse
    fit = activity_survival(wh, inactivity_days=180)
    tx = wh.execute(wh.table("transactions").select("customer_id", "ts", "is_return"))
    lineage = wh.execute(wh.table("customer_lineage").select("customer_id", "unified_id"))
    tx = tx[~tx.is_return.eq(True)]
    tx["cid"] = tx.customer_id.map(lineage.set_index("customer_id").unified_id).fillna(
        tx.customer_id
    )
    day = tx.ts.dt.normalize()
    per = day.groupby(tx.cid).agg(["min", "max"])
    as_of = day.max()
    durations = (per["max"] - per["min"]).dt.days
    observed = (as_of - per["max"]).dt.days > 180
    kmf = KaplanMeierFitter().fit(durations, event_observed=observed)
    assert fit.customers == len(per)
    assert fit.median_days == kmf.median_survival_time_
    np.testing.assert_allclose(
        fit.table["survival"], kmf.survival_function_.iloc[:, 0].to_numpy(), rtol=1e-10
    )
    assert 0 < fit.median_days < 1095


def test_activity_survival_ignores_what_happens_after_as_of():
    tx = _tx()
    a = activity_survival(_wh(tx), as_of="2024-10-01")
    b = activity_survival(_wh(tx[tx.ts < "2024-10-02"]), as_of="2024-10-01")
    pd.testing.assert_frame_equal(a.table, b.table)
    assert a.median_days == b.median_days and a.as_of == b.as_of


def test_activity_survival_errors_and_plot():
    wh = _wh(_tx())
    with pytest.raises(SettingsError, match="inactivity_days must be a whole number"):
        activity_survival(wh, inactivity_days=0)
    with pytest.raises(SchemaError, match="no purchase on or before 2020-01-01"):
        activity_survival(wh, as_of="2020-01-01")
    fig = plot_activity_survival(activity_survival(wh, as_of=AS_OF))
    assert fig.data[-1].name == "still active"
