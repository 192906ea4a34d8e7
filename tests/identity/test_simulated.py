"""resolve() against the crmine simulator's planted duplicates (two source systems, known truth)."""

from __future__ import annotations

import pytest

from crmine.identity import evaluate, resolve
from tests.identity._identity_fakes import load_simulated

simulate = pytest.importorskip("crmine.datasets._simulate").simulate


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    out = tmp_path_factory.mktemp("simulated")
    simulate(5000, seed=7, out_dir=out, bad_rows=False)
    return load_simulated(out)


def test_resolve_recovers_simulated_duplicates(warehouse, simulated):
    customers, truth = simulated
    warehouse.write("customers", customers)
    result = resolve(warehouse, seed=0)
    scores = evaluate(warehouse.execute(warehouse.table("customer_lineage")), truth)
    assert result.trained and result.records == len(customers)
    assert scores["precision"] >= 0.95, scores
    assert scores["recall"] >= 0.95, scores
