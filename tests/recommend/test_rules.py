"""Association rules: arules' published Groceries numbers, a hand-worked table, the CLI contract."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from crmine.errors import SchemaError, SettingsError
from crmine.recommend import RULE_COLUMNS, association_rules

GROCERIES = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "groceries_long.csv"

# Four baskets worked by hand: bread 3, butter 2, jam 2, {bread, butter} 2, {bread, jam} 1.
HAND = pd.DataFrame({
    "order": ["o1", "o1", "o1", "o2", "o2", "o3", "o3", "o4", None, "o4"],
    "sku": ["bread", "butter", "bread", "bread", "butter", "bread", "jam", "jam", "tea", " "],
})


@pytest.fixture(scope="module")
def groceries() -> pd.DataFrame:
    if not GROCERIES.is_file():
        pytest.skip("groceries_long.csv not available (../shared/data)")
    return pd.read_csv(GROCERIES, dtype={"item": str})


@pytest.fixture(scope="module")
def groceries_rules(groceries):
    return association_rules(groceries, basket="transaction_id", item="item", min_support=0.001,
                             min_confidence=0.5)


# ---- arules' published numbers ----------------------------------------------------------------
def test_groceries_matches_arules_apriori_rule_counts(groceries_rules):
    r = groceries_rules
    assert (r.n_baskets, r.n_items, len(r)) == (9835, 169, 5668)
    by_length = dict(zip(r.summary()["length"], r.summary()["rules"], strict=True))
    assert by_length == {2: 11, 3: 1461, 4: 3211, 5: 939, 6: 46}


def test_groceries_top_three_by_lift_match_arules(groceries_rules):
    top = groceries_rules.rules.head(3)
    assert list(zip(top["antecedent"], top["consequent"], strict=True)) == [
        ("Instant food products & soda", "hamburger meat"),
        ("popcorn & soda", "salty snack"),
        ("baking powder & flour", "sugar"),
    ]
    np.testing.assert_allclose(top["support"], [0.001220, 0.001220, 0.001017], atol=5e-7)
    np.testing.assert_allclose(top["confidence"], [0.6316, 0.6316, 0.5556], atol=5e-5)
    np.testing.assert_allclose(top["lift"], [18.996, 16.698, 16.408], atol=5e-4)


def test_groceries_min_two_items_gives_463_rules(groceries):
    r = association_rules(groceries, basket="transaction_id", item="item", min_support=0.006,
                          min_confidence=0.25, min_items=2)
    assert len(r) == 463
    assert (r.rules["antecedent"] != "").all()


def test_groceries_whole_milk_support(groceries):
    r = association_rules(groceries, basket="transaction_id", item="item", min_support=0.25,
                          min_confidence=0.25)
    milk = r.rules.set_index("consequent").loc["whole milk"]
    assert milk["count"] == 2513 and round(milk["support"], 4) == 0.2555
    assert milk["antecedent"] == "" and milk["lift"] == 1.0  # {} => {whole milk}, as arules gives it


def test_groceries_rules_do_not_depend_on_row_order(groceries, groceries_rules):
    shuffled = groceries.sample(frac=1.0, random_state=7).reset_index(drop=True)
    again = association_rules(shuffled, basket="transaction_id", item="item", min_support=0.001,
                              min_confidence=0.5)
    pd.testing.assert_frame_equal(again.rules, groceries_rules.rules)


# ---- a table worked by hand -------------------------------------------------------------------
def test_hand_example_counts_and_metrics():
    r = association_rules(HAND, basket="order", item="sku", min_support=0.5, min_confidence=0.6)
    assert (r.n_baskets, r.n_items, r.skipped_rows, r.n_itemsets) == (4, 3, 2, 4)
    assert list(r.rules.columns) == list(RULE_COLUMNS)
    got = r.rules.set_index(["antecedent", "consequent"])
    assert list(got.index) == [("bread", "butter"), ("butter", "bread"), ("", "bread")]
    bb = got.loc[("bread", "butter")]
    assert (bb["count"], bb["antecedent_count"], bb["consequent_count"]) == (2, 3, 2)
    assert bb["support"] == 0.5 and math.isclose(bb["confidence"], 2 / 3)
    assert math.isclose(bb["lift"], 4 / 3) and math.isclose(bb["leverage"], 0.5 - 0.75 * 0.5)
    assert math.isclose(bb["conviction"], (1 - 0.5) / (1 - 2 / 3))
    assert got.loc[("butter", "bread"), "conviction"] == math.inf  # confidence 1
    empty = got.loc[("", "bread")]  # {} => {bread}: confidence = support(bread) = 0.75 >= 0.6
    assert (empty["count"], empty["antecedent_count"], empty["lift"]) == (3, 4, 1.0)


def test_thresholds_are_inclusive():
    # support 0.5 exactly (2 of 4) and confidence 0.5 exactly (jam => bread is 1 of 2: out at 0.5 support)
    r = association_rules(HAND, basket="order", item="sku", min_support=0.25, min_confidence=0.5,
                          min_items=2)
    pairs = set(zip(r.rules["antecedent"], r.rules["consequent"], strict=True))
    assert ("jam", "bread") in pairs and ("bread", "jam") not in pairs  # 1/2 kept, 1/3 dropped


def test_min_and_max_items_count_both_sides():
    r = association_rules(HAND, basket="order", item="sku", min_support=0.25, min_confidence=0.0,
                          max_items=1)
    assert set(r.rules["antecedent"]) == {""} and len(r) == 3
    r2 = association_rules(HAND, basket="order", item="sku", min_support=0.25, min_confidence=0.0,
                           min_items=2, max_items=2)
    assert len(r2) == 4  # both directions of {bread, butter} and {bread, jam}


def test_filters_by_consequent_and_by_items():
    r = association_rules(HAND, basket="order", item="sku", min_support=0.25, min_confidence=0.0)
    assert set(r.with_consequent("butter").rules["consequent"]) == {"butter"}
    jam = r.containing(["jam"]).rules
    assert len(jam) == 3 and all("jam" in (a, c) for a, c in zip(jam["antecedent"], jam["consequent"], strict=True))


def test_recommend_for_a_basket():
    lines = pd.DataFrame({
        "b": [1, 1, 1, 2, 2, 2, 3, 3, 4, 4, 5],
        "i": ["tea", "milk", "sugar", "tea", "milk", "sugar", "tea", "milk", "tea", "lemon", "milk"],
    })
    r = association_rules(lines, basket="b", item="i", min_support=0.2, min_confidence=0.5, min_items=2)
    recs = r.recommend(["tea", "sugar"])
    assert list(recs.columns) == list(RULE_COLUMNS)
    assert set(recs["consequent"]) == {"milk"}  # tea and sugar are in the basket already
    assert list(recs["confidence"]) == sorted(recs["confidence"], reverse=True)
    assert recs.iloc[0]["antecedent"] in {"sugar", "sugar & tea"} and recs.iloc[0]["confidence"] == 1.0
    assert len(r.recommend(["tea", "sugar"], top=1)) == 1
    assert r.recommend(["coffee"]).empty


# ---- errors -----------------------------------------------------------------------------------
def test_missing_columns_are_named_with_the_fix():
    with pytest.raises(SchemaError, match=r"Column 'basket_id' not found in the baskets\. Existing "
                                          r"columns: order, sku\. Name the basket column with basket="):
        association_rules(HAND, basket="basket_id", item="sku", min_support=0.5, min_confidence=0.5)


def test_bad_thresholds_are_listed_at_once():
    with pytest.raises(SettingsError, match=r"min_support must be a share of baskets in \(0, 1\]; "
                                            r"received 0.*min_confidence must be in \[0, 1\]; received 1.5"):
        association_rules(HAND, basket="order", item="sku", min_support=0, min_confidence=1.5)
    with pytest.raises(SettingsError, match=r"max_items \(2\) is below min_items \(3\)"):
        association_rules(HAND, basket="order", item="sku", min_support=0.5, min_confidence=0.5,
                          min_items=3, max_items=2)


def test_all_blank_rows_is_an_error():
    blank = pd.DataFrame({"order": [None, "o1"], "sku": ["tea", None]})
    with pytest.raises(SchemaError, match=r"No baskets to mine: all 2 rows have a blank 'order' or 'sku'"):
        association_rules(blank, basket="order", item="sku", min_support=0.5, min_confidence=0.5)


# ---- the CLI contract -------------------------------------------------------------------------
def _cli(*args):
    from crmine.cli._app import app

    return CliRunner().invoke(app, [str(a) for a in args])


def test_cli_writes_rules_csv_and_json(tmp_path):
    src = tmp_path / "lines.csv"
    HAND.assign(sku=HAND["sku"].replace(" ", "")).to_csv(src, index=False)
    out = tmp_path / "rules.csv"
    r = _cli("baskets", "rules", src, "--basket", "order", "--item", "sku", "--min-support", "0.5",
             "--min-confidence", "0.6", "--out", out, "--json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.output)
    assert {k: doc[k] for k in ("baskets", "items", "rules", "skipped_rows")} == \
        {"baskets": 4, "items": 3, "rules": 3, "skipped_rows": 2}
    assert doc["out"] == str(out) and doc["top"][0]["antecedent"] == "bread"
    rules = pd.read_csv(out, keep_default_na=False)
    assert list(rules.columns) == list(RULE_COLUMNS) and len(rules) == 3
    assert rules.loc[rules["antecedent"] == "butter", "conviction"].item() == math.inf
    assert ",inf," in out.read_text()  # written as inf


def test_cli_on_groceries_and_plain_text(tmp_path):
    if not GROCERIES.is_file():
        pytest.skip("groceries_long.csv not available (../shared/data)")
    out = tmp_path / "rules.csv"
    r = _cli("baskets", "rules", GROCERIES, "--basket", "transaction_id", "--item", "item",
             "--min-support", "0.006", "--min-confidence", "0.25", "--min-items", "2", "--out", out)
    assert r.exit_code == 0, r.output
    assert "9,835 baskets, 169 items" in r.output and "463 rules" in r.output
    assert len(pd.read_csv(out)) == 463


def test_cli_missing_column_is_an_error(tmp_path):
    src = tmp_path / "lines.csv"
    HAND.to_csv(src, index=False)
    r = _cli("baskets", "rules", src, "--basket", "receipt", "--item", "sku", "--min-support", "0.5",
             "--min-confidence", "0.5", "--out", tmp_path / "r.csv")
    assert r.exit_code != 0
    assert isinstance(r.exception, SchemaError)
    assert "Column 'receipt' not found in lines.csv. Existing columns: order, sku" in str(r.exception)
    assert not (tmp_path / "r.csv").exists()


# ---- a reference library ------------------------------------------------------------------------
def test_same_rules_as_mlxtend(groceries):
    mlx = pytest.importorskip("mlxtend.frequent_patterns")
    onehot = pd.crosstab(groceries["transaction_id"], groceries["item"]).astype(bool)
    fi = mlx.fpgrowth(onehot, min_support=0.005, use_colnames=True)
    try:
        theirs = mlx.association_rules(fi, num_itemsets=len(onehot), metric="confidence", min_threshold=0.2)
    except TypeError:  # mlxtend before 0.23.2 has no num_itemsets
        theirs = mlx.association_rules(fi, metric="confidence", min_threshold=0.2)
    theirs = theirs[theirs["consequents"].map(len) == 1]
    want = {(" & ".join(sorted(a)), next(iter(c))): (s, f) for a, c, s, f in
            zip(theirs["antecedents"], theirs["consequents"], theirs["support"], theirs["confidence"], strict=True)}
    ours = association_rules(groceries, basket="transaction_id", item="item", min_support=0.005,
                             min_confidence=0.2, min_items=2).rules
    got = {(a, c): (s, f) for a, c, s, f in
           zip(ours["antecedent"], ours["consequent"], ours["support"], ours["confidence"], strict=True)}
    # mlxtend divides supports, so a confidence of exactly 0.2 (53 of 265 baskets) can round to just
    # below it and be dropped; crmine divides the counts, keeping the threshold inclusive as arules does.
    only_ours = got.keys() - want.keys()
    exact = ours.set_index(["antecedent", "consequent"]).loc[sorted(only_ours)]
    assert (exact["antecedent_count"] == 5 * exact["count"]).all()
    assert not want.keys() - got.keys()
    for k, (s, f) in got.items():
        if k in only_ours:
            continue
        assert math.isclose(s, want[k][0]) and math.isclose(f, want[k][1])


# ---- an oracle: every itemset of every basket, enumerated ---------------------------------------
def _brute_force(lines: pd.DataFrame, min_support: float, min_confidence: float, min_items: int,
                 max_items: int) -> dict[tuple[str, str], tuple[int, int]]:
    from collections import Counter
    from itertools import combinations

    baskets = [frozenset(g) for _, g in lines.groupby("b")["i"]]
    n = len(baskets)
    counts = Counter(s for b in baskets for k in range(1, min(len(b), max_items) + 1)
                     for s in combinations(sorted(b), k))
    counts[()] = n
    rules = {}
    for s, c in counts.items():
        if not s or c < min_support * n - 1e-9 or not min_items <= len(s) <= max_items:
            continue
        for y in s:
            x = tuple(v for v in s if v != y)
            if c >= min_confidence * counts[x] - 1e-9 * counts[x]:
                rules[(" & ".join(x), y)] = (c, counts[x])
    return rules


@pytest.mark.parametrize("seed", range(6))
def test_rules_equal_a_brute_force_enumeration(seed):
    rng = np.random.default_rng(seed)
    n_lines = int(rng.integers(40, 400))
    lines = pd.DataFrame({"b": rng.integers(0, n_lines // 4, n_lines),
                          "i": rng.choice(list("abcdefghij"), n_lines, p=np.linspace(2, 0.5, 10) / 12.5)})
    support, confidence = [0.02, 0.05, 0.1][seed % 3], [0.0, 0.3, 0.6][seed // 2]
    min_items, max_items = 1 + seed % 2, [10, 3, 4][seed % 3]
    want = _brute_force(lines, support, confidence, min_items, max_items)
    got = association_rules(lines, basket="b", item="i", min_support=support, min_confidence=confidence,
                            min_items=min_items, max_items=max_items).rules
    assert {(a, c): (k, ak) for a, c, k, ak in zip(got["antecedent"], got["consequent"], got["count"],
                                                   got["antecedent_count"], strict=True)} == want
    assert len(got) == len(want) > 0


def test_sparse_and_dense_counting_agree(groceries, groceries_rules, monkeypatch):
    import crmine.recommend._eclat as eclat

    monkeypatch.setattr(eclat, "_DENSE_CELLS", 0)  # every class counted on sparse blocks
    sparse = association_rules(groceries, basket="transaction_id", item="item", min_support=0.001,
                               min_confidence=0.5)
    pd.testing.assert_frame_equal(sparse.rules, groceries_rules.rules)


def test_items_are_named_as_text():
    lines = pd.DataFrame({"b": [1, 1, 2, 2, 3], "i": [7, "x", "7", "x", 7.5]})
    r = association_rules(lines, basket="b", item="i", min_support=0.5, min_confidence=0.5, min_items=2)
    assert r.n_items == 3  # 7 and "7" are one item
    assert set(zip(r.rules["antecedent"], r.rules["consequent"], strict=True)) == {("7", "x"), ("x", "7")}
