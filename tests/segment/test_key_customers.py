"""Key customers: profit per unified customer against hand-worked and pandas oracles, Pareto curve."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from crmine.errors import SettingsError, WorkspaceError
from crmine.segment import customer_profit, key_customers, plot_pareto
from crmine.warehouse import connect
from tests.conftest import ENGINES

AS_OF = "2024-03-31"


@pytest.fixture
def wh():
    w = connect()
    w.write(
        "products", pd.DataFrame({"product_id": ["p1", "p2", "p3"], "unit_cost": [4.0, 10.0, None]})
    )
    w.write(
        "customer_lineage",
        pd.DataFrame(
            {"customer_id": ["C1", "C2", "C3", "C4"], "unified_id": ["U1", "U1", "U2", "U3"]}
        ),
    )
    # line profits (default_margin 0.3):    U1: 12 + 20 - 6 = 26; U2: 15 + 30 = 45; U3: 4 + 3 = 7
    w.write(
        "transactions",
        pd.DataFrame(
            {
                "order_id": ["o1", "o2", "o3", "o4", "o5", "o6", "o7", "o8"],
                "customer_id": ["C1", "C2", "C1", "C3", "C3", "C4", "C4", "C4"],
                "ts": pd.to_datetime(
                    [
                        "2024-01-05 00:00",
                        "2024-02-01 00:00",
                        "2024-02-10 12:00",
                        "2024-01-20 00:00",
                        "2024-03-01 00:00",
                        "2024-01-10 00:00",
                        "2024-04-01 00:00",
                        "2024-03-31 23:59",
                    ]
                ),
                "product_id": ["p1", "p2", "p1", "p3", "p2", "p1", "p2", "p9"],
                "quantity": [2.0, 1.0, 1.0, 1.0, 3.0, 1.0, 5.0, 1.0],
                "amount": [20.0, 30.0, -10.0, 50.0, 60.0, 8.0, 200.0, 10.0],
                "is_return": [False, False, True, False, False, False, False, None],
            }
        ),
    )
    yield w
    w.close()


def _pandas_profit(
    tx: pd.DataFrame, products: pd.DataFrame, lineage: pd.DataFrame, as_of: str, margin: float
) -> pd.DataFrame:
    t = tx[tx.ts < pd.Timestamp(as_of) + pd.Timedelta(days=1)].copy()
    t["customer_id"] = t.customer_id.map(lineage.set_index("customer_id").unified_id).fillna(
        t.customer_id
    )
    t = t.merge(products[["product_id", "unit_cost"]], on="product_id", how="left")
    units = np.where(t.is_return.eq(True), -t.quantity.abs(), t.quantity)
    t["cost"] = np.where(t.unit_cost.notna(), units * t.unit_cost, t.amount * (1 - margin))
    out = (
        t.groupby("customer_id").agg(revenue=("amount", "sum"), cost=("cost", "sum")).reset_index()
    )
    out["profit"] = out.revenue - out.cost
    return out.sort_values("customer_id", ignore_index=True)


def test_customer_profit_hand_worked(wh):
    got = wh.execute(customer_profit(wh, as_of=AS_OF))
    assert got.customer_id.tolist() == ["U1", "U2", "U3"]
    assert got.revenue.tolist() == pytest.approx([40.0, 110.0, 18.0])
    assert got.profit.tolist() == pytest.approx([26.0, 45.0, 7.0])
    assert got.cost.tolist() == pytest.approx([14.0, 65.0, 11.0])
    assert got.lines_without_cost.tolist() == [0, 1, 1]


def test_customer_profit_equals_pandas(wh):
    tables = {n: wh.execute(wh.table(n)) for n in ("transactions", "products", "customer_lineage")}
    for margin in (0.3, 0.0, 0.55):
        got = wh.execute(customer_profit(wh, as_of=AS_OF, default_margin=margin))
        want = _pandas_profit(
            tables["transactions"], tables["products"], tables["customer_lineage"], AS_OF, margin
        )
        pd.testing.assert_frame_equal(
            got[["customer_id", "revenue", "cost", "profit"]], want, check_dtype=False
        )


def test_key_customers_ranking_pareto_and_headline(wh):
    res = key_customers(wh, as_of=AS_OF, points=3)
    assert res.ranking.customer_id.tolist() == ["U2", "U1", "U3"]
    assert res.ranking["rank"].tolist() == [1, 2, 3]
    assert res.ranking.cumulative_share.tolist() == pytest.approx([45 / 78, 71 / 78, 1.0])
    assert res.pareto.customer_share.tolist() == pytest.approx([0, 1 / 3, 2 / 3, 1])
    assert res.pareto.value_share.tolist() == pytest.approx([0, 45 / 78, 71 / 78, 1.0])
    assert res.gold.customer_id.tolist() == ["U2"]  # ceil(0.2 * 3) = 1 customer
    assert res.top_value_share == pytest.approx(45 / 78)
    assert res.headline == "The top 20% of customers (1 of 3) bring 57.7% of profit."
    assert res.as_of == pd.Timestamp(AS_OF)
    assert math.isclose(key_customers(wh, as_of=AS_OF, top_share=0.5).top_value_share, 71 / 78)


def test_key_customers_ignores_what_happens_after_as_of(wh):
    before = key_customers(wh, as_of=AS_OF).ranking
    latest = key_customers(wh).ranking  # as of the last transaction, 2024-04-01: U3 buys 200
    assert latest.customer_id.iloc[0] == "U3"
    trimmed = connect()
    for name in ("products", "customer_lineage"):
        trimmed.write(name, wh.execute(wh.table(name)))
    tx = wh.execute(wh.table("transactions"))
    trimmed.write("transactions", tx[tx.ts < pd.Timestamp("2024-04-01")])
    pd.testing.assert_frame_equal(before, key_customers(trimmed, as_of=AS_OF).ranking)


def test_key_customers_by_clv(wh):
    with pytest.raises(WorkspaceError, match=r"needs table 'clv_scores'.*crmine clv score"):
        key_customers(wh, by="clv")
    wh.write(
        "clv_scores", pd.DataFrame({"customer_id": ["U1", "U2", "U3"], "clv": [100.0, 10.0, 50.0]})
    )
    res = key_customers(wh, as_of=AS_OF, by="clv", top_share=0.34)
    assert res.ranking.customer_id.tolist() == ["U1", "U3", "U2"]
    assert res.ranking.profit.tolist() == pytest.approx([26.0, 7.0, 45.0])
    assert res.gold.customer_id.tolist() == ["U1", "U3"]
    assert res.headline.endswith("bring 93.8% of expected value (CLV).")


def test_key_customers_settings_errors(wh):
    with pytest.raises(SettingsError, match="by must be one of profit, clv"):
        key_customers(wh, by="revenue")
    with pytest.raises(SettingsError, match="top_share must be a share"):
        key_customers(wh, top_share=0)
    with pytest.raises(SettingsError, match="default_margin is a share"):
        key_customers(wh, default_margin=3)
    with pytest.raises(SettingsError, match="as_of must be a date"):
        key_customers(wh, as_of="soon")


def test_key_customers_with_no_positive_total():
    w = connect()
    w.write(
        "transactions",
        pd.DataFrame(
            {
                "customer_id": ["a", "b"],
                "ts": pd.to_datetime(["2024-01-01"] * 2),
                "amount": [-5.0, 1.0],
            }
        ),
    )
    res = key_customers(w)
    assert "not positive" in res.headline and np.isnan(res.top_value_share)
    assert res.ranking.customer_id.tolist() == ["b", "a"]


def test_key_customers_on_the_simulator_equal_pandas(sim_ws):
    wh = sim_ws.warehouse
    res = key_customers(wh)
    tables = {n: wh.execute(wh.table(n)) for n in ("transactions", "products", "customer_lineage")}
    last = tables["transactions"].ts.max().normalize().strftime("%Y-%m-%d")
    want = _pandas_profit(
        tables["transactions"], tables["products"], tables["customer_lineage"], last, 0.3
    )
    got = res.ranking.sort_values("customer_id", ignore_index=True)
    pd.testing.assert_frame_equal(
        got[["customer_id", "revenue", "cost", "profit"]], want, check_dtype=False
    )
    assert 0.2 < res.top_value_share < 1 and len(res.pareto) == 101
    assert res.pareto.value_share.iloc[-1] == pytest.approx(1.0)
    fig = plot_pareto(res)
    assert fig.layout.title.text == res.headline


@pytest.mark.parametrize("engine", ENGINES, indirect=True)
def test_key_customers_same_on_every_engine(wh, engine, tmp_path):
    other = connect(tmp_path / ("w.duckdb" if engine == "duckdb" else "spark"), engine=engine)
    for name in ("products", "customer_lineage", "transactions"):
        other.write(name, wh.execute(wh.table(name)))
    res = key_customers(other, as_of=AS_OF)
    assert res.ranking.customer_id.tolist() == ["U2", "U1", "U3"]
    assert res.ranking.profit.tolist() == pytest.approx([45.0, 26.0, 7.0])
    assert res.headline == "The top 20% of customers (1 of 3) bring 57.7% of profit."
