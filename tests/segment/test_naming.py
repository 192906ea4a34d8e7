"""Segment names in words: the vocabulary, unknown columns, uniqueness, a hand-made frame."""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmine.segment import Segmenter
from crmine.segment._naming import AVERAGE_NAME, segment_names, term_for


def _centers(rows: list[dict[str, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows).rename_axis("segment")


def test_names_read_from_the_strongest_traits_with_a_behaviour_noun_at_the_head():
    names = segment_names(
        _centers(
            [
                {"age": -1.2, "share_channel_web": 1.5, "discount_rate": 0.9, "income": 0.1},
                {"spend": 1.4, "orders": 1.1, "tenure_days": 0.8, "age": 0.2},
                {"recency_days": 1.6, "orders": -1.0, "spend": -0.2},
            ]
        )
    )
    assert names.tolist() == [
        "young online bargain hunters",
        "high-spend long-standing regulars",
        "lapsed occasional buyers",
    ]
    assert names.index.name == "segment" and names.name == "name"


def test_names_fall_back_to_the_column_for_unknown_features():
    assert term_for("loyalty_points", 0.8).adjective == "high loyalty_points"
    assert term_for("loyalty_points", -0.8).adjective == "low loyalty_points"
    assert term_for("share_cat_garden", 1.0).noun == "garden shoppers"
    assert term_for("share_channel_kiosk", 1.0).adjective == "kiosk-channel"
    assert term_for("online_share", 1.0).adjective == "online"
    assert term_for("share_channel_web", -1.0).adjective == "offline"
    assert term_for("share_channel_store", -1.0) is None  # says only "buys elsewhere"
    assert term_for("return_rate", -1.0) is None
    names = segment_names(_centers([{"loyalty_points": 1.0}, {"loyalty_points": -1.0}]))
    assert names.tolist() == ["high loyalty_points customers", "low loyalty_points customers"]


def test_names_are_unique_within_a_fit():
    # the first two agree on their three strongest traits and differ in the fourth
    centers = _centers(
        [
            {"age": -1.5, "income": 1.2, "spend": 1.0, "orders": 0.5, "discount_rate": 0.0},
            {"age": -1.4, "income": 1.1, "spend": 0.9, "orders": 0.0, "discount_rate": 0.6},
            {"age": 0.0, "income": 0.0, "spend": 0.0, "orders": 0.1, "discount_rate": 0.0},
            {"age": 0.0, "income": 0.0, "spend": 0.0, "orders": 0.1, "discount_rate": 0.0},
        ]
    )
    names = segment_names(centers)
    assert names.is_unique, names.tolist()
    assert names[0] == "high-spend young affluent regulars"
    assert names[1] == "high-spend young affluent bargain hunters"
    # identical profiles: more words cannot help, so the second is numbered
    assert names[2] == AVERAGE_NAME and names[3] == f"{AVERAGE_NAME} (2)"
    assert segment_names(_centers([{"age": 0.1}]))[0] == AVERAGE_NAME


def test_segmenter_names_a_young_affluent_group_and_an_old_low_spend_group():
    rng = np.random.default_rng(11)
    n = 60
    young = {
        "age": rng.normal(26, 3, n),
        "income": rng.normal(95_000, 8_000, n),
        "spend": rng.normal(900, 80, n),
    }
    old = {
        "age": rng.normal(71, 4, n),
        "income": rng.normal(40_000, 6_000, n),
        "spend": rng.normal(120, 30, n),
    }
    frame = pd.DataFrame({k: np.r_[young[k], old[k]] for k in young})
    frame.insert(0, "customer_id", [f"c{i:03d}" for i in range(2 * n)])
    seg = Segmenter(k=2, features=["age", "income", "spend"]).fit(frame)
    young_seg = seg.labels_["c000"]
    old_seg = seg.labels_[f"c{n:03d}"]
    assert young_seg != old_seg
    young_name = seg.profile_.loc[young_seg, "name"]
    old_name = seg.profile_.loc[old_seg, "name"]
    assert "young" in young_name and "affluent" in young_name, young_name
    assert "older" in old_name and "low-spend" in old_name, old_name
