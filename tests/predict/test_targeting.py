"""target_list: profit ranking, the cuts, and the consent rule as a property."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmine.errors import SchemaError
from crmine.predict import target_list


def _scores(ids, probs):
    return pd.DataFrame({"customer_id": ids, "probability": probs})


def test_target_list_hand_worked_example():
    s = _scores(["a", "b", "c", "d"], [0.5, 0.2, 0.9, 0.05])
    c = pd.DataFrame({"customer_id": ["a", "b", "c", "d"], "granted": [True, True, False, True]})
    t = target_list(s, margin=100.0, contact_cost=10.0, consent=c)
    # a: 40, b: 10, c: no consent, d: -5 (not profitable)
    assert list(t.customers["customer_id"]) == ["a", "b"]
    assert list(t.customers["expected_profit"]) == [40.0, 10.0]
    assert (t.excluded_no_consent, t.selected, t.expected_profit) == (1, 2, 50.0)


def test_target_list_budget_top_n_min_profit():
    s = _scores(list("abcde"), [0.9, 0.8, 0.7, 0.6, 0.5])
    assert target_list(s, margin=10.0, contact_cost=1.0, consent=None, budget=3.5).selected == 3
    assert target_list(s, margin=10.0, contact_cost=1.0, consent=None, top_n=2).selected == 2
    t = target_list(s, margin=10.0, contact_cost=1.0, consent=None, min_profit=6.0)
    assert list(t.customers["customer_id"]) == ["a", "b", "c"]


def test_target_list_absent_consent_row_means_no_consent():
    s = _scores(["a", "b"], [0.9, 0.9])
    c = pd.DataFrame({"customer_id": ["a"], "granted": [True]})
    t = target_list(s, margin=10.0, contact_cost=1.0, consent=c)
    assert list(t.customers["customer_id"]) == ["a"] and t.excluded_no_consent == 1


def test_target_list_profit_ranking_beats_probability_ranking_when_margins_differ():
    rng = np.random.default_rng(5)
    n = 1000
    ids = [f"c{i}" for i in range(n)]
    p = rng.uniform(0.01, 0.6, n)
    margin = pd.Series(rng.lognormal(3.0, 1.0, n), index=ids)
    s = _scores(ids, p)
    cost, k = 5.0, 100
    by_profit = target_list(s, margin=margin, contact_cost=cost, consent=None, top_n=k, min_profit=-np.inf)
    top_p = s.nlargest(k, "probability")
    profit_of_prob_rank = float((top_p["probability"] * margin[top_p["customer_id"]].to_numpy() - cost).sum())
    assert by_profit.expected_profit > profit_of_prob_rank * 1.5


def test_target_list_bad_scores_rejected():
    with pytest.raises(SchemaError, match=r"1 probability value\(s\) missing or outside \[0, 1\]; 1 duplicated"):
        target_list(_scores(["a", "a"], [0.5, 1.5]), margin=1.0, contact_cost=0.0, consent=None)
    with pytest.raises(SchemaError, match=r"consent lacks column\(s\) granted"):
        target_list(_scores(["a"], [0.5]), margin=1.0, contact_cost=0.0, consent=pd.DataFrame({"customer_id": ["a"]}))


_ids = st.sampled_from([f"c{i}" for i in range(12)])


@settings(max_examples=150, deadline=None)
@given(
    ids=st.lists(_ids, unique=True, max_size=12),
    probs=st.lists(st.floats(0, 1), min_size=12, max_size=12),
    consent_rows=st.lists(
        st.tuples(_ids, st.sampled_from([True, False, None, np.nan, "yes", 1])), max_size=20
    ),
    margin=st.floats(0, 1e4),
    cost=st.floats(0, 100),
    budget=st.none() | st.floats(0, 1e3),
    top_n=st.none() | st.integers(0, 12),
    min_profit=st.none() | st.floats(-1e3, 1e3),
)
def test_target_list_never_lists_a_customer_without_consent(ids, probs, consent_rows, margin, cost, budget, top_n, min_profit):
    s = _scores(ids, probs[: len(ids)])
    c = pd.DataFrame(consent_rows, columns=["customer_id", "granted"]).astype({"granted": object})
    t = target_list(s, margin=margin, contact_cost=cost, consent=c, budget=budget, top_n=top_n, min_profit=min_profit)
    consented = {cid for cid in c["customer_id"] if all(g is True for g in c.loc[c["customer_id"] == cid, "granted"])}
    listed = set(t.customers["customer_id"])
    assert listed <= consented
    assert t.excluded_no_consent == len(set(ids) - consented)
    assert t.selected == len(t.customers)
