"""Targeting by expected incremental profit under a budget, against targeting by response."""

from __future__ import annotations

import pandas as pd
import pytest

from crmine.campaign._targeting import uplift_targets
from crmine.errors import SchemaError, SettingsError


def _scores():
    idx = pd.Index(["a", "b", "c", "d", "e"], name="customer_id")
    up = pd.DataFrame({"uplift_mail": [0.10, 0.00, 0.05, 0.02, -0.01],
                       "uplift_email": [0.04, 0.03, 0.06, 0.001, 0.0]}, index=idx)
    resp = pd.DataFrame({"response_mail": [0.3, 0.9, 0.2, 0.5, 0.8],
                         "response_email": [0.3, 0.9, 0.25, 0.4, 0.7]}, index=idx)
    return up, resp


def test_each_customer_gets_the_most_profitable_offer_or_none():
    up, resp = _scores()
    t = uplift_targets(up, value=50.0, cost={"mail": 1.0, "email": 0.1}, response=resp)
    # a: mail 4.0 vs email 1.9; b: email 1.4; c: email 2.9 vs mail 1.5; d: 0.0 / -0.05 -> none; e: none
    got = t.customers.set_index("customer_id")
    assert got.offer.to_dict() == {"a": "mail", "c": "email", "b": "email"}
    assert got.expected_profit.tolist() == pytest.approx([4.0, 2.9, 1.4])
    assert t.customers["rank"].tolist() == [1, 2, 3]
    assert t.expected_profit == pytest.approx(8.3) and t.cost == pytest.approx(1.2)


def test_budget_and_the_response_comparison_at_equal_spend():
    up, resp = _scores()
    t = uplift_targets(up, value=50.0, cost=1.0, budget=2.0, response=resp)
    assert t.customers.customer_id.tolist() == ["a", "c"] and t.cost == 2.0
    # By response: b (0.9, its best response forecast is mail, the first of a tie: 0 * 50 - 1) then
    # e (0.8 for mail: -0.01 * 50 - 1): -2.5.
    assert t.response_selected == 2 and t.response_expected_profit == pytest.approx(-2.5)
    assert t.expected_profit == pytest.approx(4.0 + 2.0)


def test_targeting_errors():
    up, resp = _scores()
    with pytest.raises(SettingsError, match="value lacks offer"):
        uplift_targets(up, value={"mail": 1.0}, cost=1.0)
    with pytest.raises(SchemaError, match="matching columns"):
        uplift_targets(up, value=1.0, cost=1.0, response=resp.iloc[:, :1])
