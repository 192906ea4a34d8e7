"""Loyalty scores on a table worked out by hand, from a frame and from a warehouse."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmine.errors import SchemaError, SettingsError
from crmine.loyalty import loyalty_scores
from crmine.warehouse import connect
from tests.conftest import ENGINES

AS_OF = "2024-12-31"


def _tx() -> pd.DataFrame:
    # the customers of test_survival (S = 0.8 after day 0, 0.6 after 60, 0.4 after 121), with
    # categories X, Y, Z and channels web, store, phone
    rows = [
        ("a", "2024-01-01", "X", "web", 10.0, False),
        ("a", "2024-03-01", "Y", "store", 30.0, False),
        ("a", "2024-03-10", "W", "catalog", -30.0, True),  # a return: ignored
        ("b", "2024-01-01", "X", "web", 5.0, False),
        ("b", "2025-01-05", "Z", "phone", 5.0, False),  # after as_of
        ("c", "2024-06-01", "X", "web", 20.0, False),
        ("c", "2024-12-01", "X", "web", 20.0, False),
        ("d", "2024-02-01", "Z", "phone", 10.0, False),
        ("d", "2024-07-04", "Z", "phone", 10.0, False),
        ("e", "2024-03-01", "X", "web", 10.0, False),
        ("e", "2024-05-01", "Y", "web", 20.0, False),
        ("e", "2024-06-30", "Z", "store", 30.0, False),
    ]
    df = pd.DataFrame(
        rows, columns=["customer_id", "ts", "category", "channel", "amount", "is_return"]
    )
    df["ts"] = pd.to_datetime(df["ts"]) + pd.Timedelta(hours=12)
    df["order_id"] = [f"o{i}" for i in range(len(df))]
    return df


def _hand() -> pd.DataFrame:
    active = np.array([60, 0, 183, 154, 121])
    tenure = np.array([365, 365, 213, 334, 305])
    p = np.array([0.4 / 0.8, 0.4 / 1.0, 0.4 / 0.4, 0.4 / 0.4, 0.4 / 0.6])
    durability = (active / 730 + p) / 2
    robustness = np.array([(0.5 + 0.5) / 2, 0, 0, 0, (1.0 + 0.5) / 2])
    cv_e_time = 0.5 / 60.5  # gaps 61 and 60 days
    cv_e_value = np.sqrt(200 / 3) / 20  # orders 10, 20, 30
    stability = np.array(
        [
            (0 + 1 / 1.5) / 2,  # one gap only; values 10, 30: cv 0.5
            0.0,
            (0 + 1.0) / 2,
            (0 + 1.0) / 2,
            (1 / (1 + cv_e_time) + 1 / (1 + cv_e_value)) / 2,
        ]
    )
    return pd.DataFrame(
        {
            "customer_id": list("abcde"),
            "tenure_days": tenure,
            "active_days": active,
            "orders": [2, 1, 2, 2, 3],
            "purchase_days": [2, 1, 2, 2, 3],
            "categories": [2, 1, 1, 1, 3],
            "channels": [2, 1, 1, 1, 2],
            "p_active": p,
            "durability": durability,
            "robustness": robustness,
            "stability": stability,
            "loyalty": (durability + robustness + stability) / 3,
        }
    )


def test_loyalty_scores_hand_worked_from_a_frame():
    got = loyalty_scores(_tx(), as_of=AS_OF, inactivity_days=180, full_tenure_days=730)
    want = _hand()
    pd.testing.assert_frame_equal(got[want.columns], want, check_dtype=False)
    assert got["cv_time"].isna().tolist() == [True, True, True, True, False]
    assert got["cv_value"].iloc[0] == pytest.approx(0.5)


def test_loyalty_scores_from_a_warehouse_equal_the_frame():
    tx = _tx()
    wh = connect()
    products = tx[["category"]].drop_duplicates().assign(product_id=lambda d: "p" + d.category)
    wh.write("products", products)
    lines = tx.assign(product_id="p" + tx.category, customer_id=tx.customer_id.replace({"e": "e1"}))
    lines.loc[lines.index[-1], "customer_id"] = "e2"  # e's last purchase from a second record
    wh.write("transactions", lines.drop(columns="category"))
    wh.write(
        "customer_lineage", pd.DataFrame({"customer_id": ["e1", "e2"], "unified_id": ["e", "e"]})
    )
    got = loyalty_scores(wh, as_of=AS_OF)
    pd.testing.assert_frame_equal(got, loyalty_scores(tx, as_of=AS_OF), check_dtype=False)


def test_loyalty_scores_ignore_what_happens_after_as_of():
    tx = _tx()
    a = loyalty_scores(tx, as_of="2024-06-30")
    b = loyalty_scores(tx[tx.ts < "2024-07-01"], as_of="2024-06-30")
    pd.testing.assert_frame_equal(a, b)


def test_loyalty_scores_without_breadth_columns_and_errors():
    tx = _tx()[["customer_id", "ts", "amount"]]
    got = loyalty_scores(tx, as_of=AS_OF)
    assert got["robustness"].isna().all()
    assert got["loyalty"].to_numpy() == pytest.approx(
        ((got.durability + got.stability) / 2).to_numpy()
    )
    with pytest.raises(SchemaError, match=r"lacks column\(s\) amount"):
        loyalty_scores(tx.drop(columns="amount"))
    with pytest.raises(SettingsError, match="full_tenure_days"):
        loyalty_scores(tx, full_tenure_days=0)
    with pytest.raises(TypeError, match="Warehouse or a pandas DataFrame"):
        loyalty_scores([1, 2, 3])


def test_loyalty_scores_on_the_simulator(sim_ws):
    from pathlib import Path

    from tests.segment._simulated import planted_segment

    scores = loyalty_scores(sim_ws.warehouse).set_index("customer_id")
    cols = ["p_active", "durability", "robustness", "stability", "loyalty"]
    assert scores[cols].notna().all().all() and scores[cols].stack().between(0, 1).all()
    assert scores.index.is_unique
    # The planted loyal_high_value segment is more loyal than the bargain hunters.
    seg = planted_segment(sim_ws).reindex(scores.index)
    by_seg = scores["loyalty"].groupby(seg).mean()
    assert by_seg["loyal_high_value"] > by_seg["bargain_hunters"] + 0.05, by_seg.to_dict()
    # Customers still alive at the end (truth) have a higher probability of being active.
    root = Path(sim_ws.root)
    persons = pd.read_csv(root / "truth" / "persons.csv", usecols=["person_id", "alive_at_end"])
    identity = pd.read_csv(root / "truth" / "identity.csv", dtype=str)
    lineage = sim_ws.warehouse.execute(
        sim_ws.table("customer_lineage").select("customer_id", "unified_id")
    )
    alive = (
        lineage.merge(identity, left_on="customer_id", right_on="source_customer_id")
        .merge(persons, on="person_id")
        .groupby("unified_id")["alive_at_end"]
        .max()
    )
    p = scores["p_active"].groupby(alive.reindex(scores.index)).mean()
    assert p[True] > p[False] + 0.2, p.to_dict()


@pytest.mark.parametrize("engine", ENGINES, indirect=True)
def test_loyalty_scores_and_survival_same_on_every_engine(engine, tmp_path):
    from crmine.loyalty import activity_survival

    tx = _tx()
    wh = connect(tmp_path / ("w.duckdb" if engine == "duckdb" else "spark"), engine=engine)
    wh.write("transactions", tx)
    got = loyalty_scores(wh, as_of=AS_OF)
    pd.testing.assert_frame_equal(got[_hand().columns], _hand(), check_dtype=False)
    fit = activity_survival(wh, as_of=AS_OF)
    assert fit.median_days == 121.0 and fit.table["survival"].tolist() == pytest.approx(
        [0.8, 0.6, 0.4, 0.4, 0.4]
    )
