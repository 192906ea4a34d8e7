"""Pairwise accuracy of a resolution against known truth."""

from __future__ import annotations

import pandas as pd

from crmine.schema import require_columns

__all__ = ["evaluate"]


def _pairs(sizes: pd.Series) -> int:
    s = sizes.astype("int64")
    return int((s * (s - 1) // 2).sum())


def evaluate(lineage: pd.DataFrame, truth: pd.DataFrame) -> dict[str, float | int]:
    """Pairwise precision, recall and F1 of ``lineage`` against ``truth``.

    A pair of records is *predicted* when both have the same ``unified_id`` and *true* when both
    have the same ``person_id``. Only records present in both frames count.

    Parameters
    ----------
    lineage
        Columns ``customer_id`` and ``unified_id`` (the ``customer_lineage`` table).
    truth
        Columns ``source_customer_id`` and ``person_id``.

    Returns
    -------
    dict
        ``precision``, ``recall``, ``f1``, ``true_pairs``, ``predicted_pairs``,
        ``correct_pairs``, ``records``, ``persons``, ``unified_customers`` and
        ``records_without_truth``. Precision is 1.0 when no pair is predicted, recall is 1.0 when
        no pair is true.

    Examples
    --------
    >>> import pandas as pd
    >>> lineage = pd.DataFrame({"customer_id": ["a", "b", "c"], "unified_id": ["U1", "U1", "U1"]})
    >>> truth = pd.DataFrame({"source_customer_id": ["a", "b", "c"], "person_id": [1, 1, 2]})
    >>> r = evaluate(lineage, truth)
    >>> r["precision"], r["recall"], r["correct_pairs"]
    (0.3333333333333333, 1.0, 1)
    """
    require_columns(lineage.columns, ["customer_id", "unified_id"], where="lineage")
    require_columns(truth.columns, ["source_customer_id", "person_id"], where="truth")
    left = lineage[["customer_id", "unified_id"]].astype({"customer_id": "string"})
    right = truth[["source_customer_id", "person_id"]].rename(
        columns={"source_customer_id": "customer_id"}
    )
    right = right.astype({"customer_id": "string"}).drop_duplicates("customer_id")
    both = left.merge(right, on="customer_id", how="inner")
    predicted = _pairs(both.groupby("unified_id").size())
    true = _pairs(both.groupby("person_id").size())
    correct = _pairs(both.groupby(["unified_id", "person_id"]).size())
    precision = correct / predicted if predicted else 1.0
    recall = correct / true if true else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "true_pairs": true,
        "predicted_pairs": predicted,
        "correct_pairs": correct,
        "records": len(both),
        "persons": int(both["person_id"].nunique()),
        "unified_customers": int(both["unified_id"].nunique()),
        "records_without_truth": int(len(left) - len(both)),
    }
