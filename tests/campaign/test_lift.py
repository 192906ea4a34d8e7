"""Lift against a control group: Hillstrom's published rates, a hand-worked table, clear errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmine.campaign import lift_table
from crmine.errors import SchemaError, SettingsError
from tests.campaign._data import hillstrom

# Published per-segment means (scikit-uplift / pyuplift docs; ../shared/data/README.md).
PUBLISHED = {("Mens E-Mail", "visit"): 0.182757, ("Womens E-Mail", "visit"): 0.151400,
             ("Mens E-Mail", "spend"): 1.4226, ("Womens E-Mail", "spend"): 1.0772}
CONTROL = {"visit": 0.106167, "spend": 0.6528}


@pytest.fixture(scope="module")
def hillstrom_lift():
    return lift_table(hillstrom(), arm="segment", control="No E-Mail", outcomes=["visit", "spend"])


def test_hillstrom_lift_reproduces_the_published_rates(hillstrom_lift):
    t = hillstrom_lift.set_index(["arm", "outcome"])
    assert set(t.index) == set(PUBLISHED)
    for (arm, outcome), mean in PUBLISHED.items():
        row = t.loc[(arm, outcome)]
        tol = 5e-7 if outcome == "visit" else 5e-5
        assert row["mean"] == pytest.approx(mean, abs=tol)
        assert row["control_mean"] == pytest.approx(CONTROL[outcome], abs=tol)
        assert row["lift"] == pytest.approx(mean - CONTROL[outcome], abs=2 * tol)
        assert row["ci_low"] < row["lift"] < row["ci_high"]
        assert row["ci_low"] > 0  # the e-mails worked: the interval excludes no effect
        assert row["p_value"] < 0.01
    assert t.loc[("Mens E-Mail", "visit"), "p_value"] < 1e-100
    assert t.loc[("Womens E-Mail", "visit"), "p_value"] < 1e-40
    assert (t.n.to_dict()[("Mens E-Mail", "visit")], t.control_n.iloc[0]) == (21_307, 21_306)
    assert t.loc[("Womens E-Mail", "visit"), "kind"] == "binary"
    assert t.loc[("Womens E-Mail", "spend"), "kind"] == "continuous"
    assert "Newcombe" in t.loc[("Womens E-Mail", "visit"), "test"]
    assert "bootstrap" in t.loc[("Womens E-Mail", "spend"), "test"]


def test_hillstrom_incremental_visits_and_profit(hillstrom_lift):
    row = hillstrom_lift.set_index(["arm", "outcome"]).loc[("Womens E-Mail", "visit")]
    assert row["incremental"] == pytest.approx(21_387 * (0.151400 - 0.106167), abs=0.05)
    assert row["relative_lift"] == pytest.approx(0.151400 / 0.106167 - 1, abs=1e-5)
    t = lift_table(hillstrom(), arm="segment", control="No E-Mail", outcomes=["visit"], margin=2.0, cost=0.05)
    r = t.set_index("arm").loc["Womens E-Mail"]
    assert r.incremental_profit == pytest.approx(2.0 * r.incremental - 0.05 * 21_387)
    assert r.roi == pytest.approx(r.incremental_profit / (0.05 * 21_387))


def test_hand_worked_lift_with_two_arms_and_a_count():
    f = pd.DataFrame({
        "arm": ["A", "A", "A", "A", "B", "B", "B", "B", "C", "C", "C", "C"],
        "bought": [1, 1, 0, 1, 1, 0, 0, 0, 0, 1, 0, 0],
        "items": [2, 3, 0, 1, 1, 0, 0, 0, 0, 1, 0, 0],
    })
    t = lift_table(f, arm="arm", control="C", outcomes=["bought", "items"], method="welch")
    got = t.set_index(["arm", "outcome"])
    assert list(t.arm) == ["A", "B", "A", "B"]
    assert got.loc[("A", "bought"), ["mean", "control_mean", "lift"]].tolist() == [0.75, 0.25, 0.5]
    assert got.loc[("B", "bought"), "lift"] == 0.0
    assert got.loc[("A", "items"), "kind"] == "count"
    assert got.loc[("A", "items"), "lift"] == pytest.approx(1.5 - 0.25)
    assert got.loc[("B", "bought"), "p_value"] == pytest.approx(1.0)


def test_numeric_arm_labels_match_the_control_given_as_text():
    f = pd.DataFrame({"treated": [1, 1, 1, 0, 0, 0], "y": [1, 1, 0, 0, 1, 0]})
    t = lift_table(f, arm="treated", control="0", outcomes=["y"])
    assert t.arm.tolist() == ["1"] and t.lift.iloc[0] == pytest.approx(1 / 3)


def test_unknown_columns_are_named_together_with_the_existing_ones():
    f = pd.DataFrame({"segment": ["a", "b"], "visit": [0, 1]})
    with pytest.raises(SchemaError, match=r"test\.csv lacks column\(s\) arm, spend\. Existing columns: segment, visit"):
        lift_table(f, arm="arm", control="b", outcomes=["visit", "spend"], source="test.csv")


def test_absent_control_lists_the_arm_values_present():
    f = pd.DataFrame({"segment": ["Mens", "Womens", "None"], "visit": [0, 1, 0]})
    with pytest.raises(SchemaError, match=r"control value 'No E-Mail' does not occur in arm column 'segment'; "
                                          r"its values are 'Mens', 'None', 'Womens'"):
        lift_table(f, arm="segment", control="No E-Mail", outcomes=["visit"])


def test_non_numeric_outcome_is_counted_never_quoted():
    f = pd.DataFrame({"segment": ["t", "t", "c", "c"], "spend": ["12.5", "jane@example.com", "0", "3"]})
    with pytest.raises(SchemaError, match=r"outcome 'spend' must be numeric .* 1 value\(s\) are not numbers") as e:
        lift_table(f, arm="segment", control="c", outcomes=["spend"], source="orders.csv")
    assert "jane" not in str(e.value) and "12.5" not in str(e.value)


def test_a_single_arm_is_an_error():
    f = pd.DataFrame({"segment": ["c", "c", "c"], "visit": [0, 1, 0]})
    with pytest.raises(SchemaError, match=r"holds one arm only \('c'\)"):
        lift_table(f, arm="segment", control="c", outcomes=["visit"])


def test_missing_arms_and_outcomes_are_reported_in_one_error():
    f = pd.DataFrame({"segment": ["t", None, "c"], "visit": [1, np.nan, 0]})
    with pytest.raises(SchemaError) as e:
        lift_table(f, arm="segment", control="c", outcomes=["visit"])
    msg = str(e.value)
    assert "empty on 1 row(s)" in msg and "fill a missing response with 0" in msg


def test_bad_settings_are_listed():
    f = pd.DataFrame({"segment": ["t", "c"], "visit": [1, 0]})
    with pytest.raises(SettingsError, match="confidence must be between 0 and 1.*method must be one of"):
        lift_table(f, arm="segment", control="c", outcomes=["visit"], confidence=95, method="exact")
