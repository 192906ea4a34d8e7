"""Pairwise precision and recall, against counts worked out by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from crmine.errors import SchemaError
from crmine.identity import evaluate


def test_evaluate_counts_pairs():
    # Predicted clusters {a,b,c} {d} {e,f}; true persons {a,b} {c,d} {e,f}.
    lineage = pd.DataFrame(
        {"customer_id": list("abcdef"), "unified_id": ["U1", "U1", "U1", "U2", "U3", "U3"]}
    )
    truth = pd.DataFrame({"source_customer_id": list("abcdef"), "person_id": [1, 1, 2, 2, 3, 3]})
    r = evaluate(lineage, truth)
    # predicted pairs: ab ac bc ef = 4; true pairs: ab cd ef = 3; correct: ab ef = 2
    assert (r["predicted_pairs"], r["true_pairs"], r["correct_pairs"]) == (4, 3, 2)
    assert r["precision"] == pytest.approx(0.5)
    assert r["recall"] == pytest.approx(2 / 3)
    assert r["f1"] == pytest.approx(2 * 0.5 * (2 / 3) / (0.5 + 2 / 3))
    assert (r["records"], r["persons"], r["unified_customers"]) == (6, 3, 3)


def test_evaluate_perfect_and_empty_cases():
    lineage = pd.DataFrame({"customer_id": ["a", "b", "z"], "unified_id": ["U1", "U2", "U3"]})
    truth = pd.DataFrame({"source_customer_id": ["a", "b"], "person_id": ["p", "q"]})
    r = evaluate(lineage, truth)
    assert (r["precision"], r["recall"], r["f1"]) == (1.0, 1.0, 1.0)
    assert r["records_without_truth"] == 1


def test_evaluate_names_missing_columns():
    with pytest.raises(SchemaError, match=r"truth lacks column\(s\) source_customer_id, person_id"):
        evaluate(pd.DataFrame({"customer_id": [], "unified_id": []}), pd.DataFrame({"id": []}))
