"""A label or id given on the command line matches the column whatever its type (issue 10, part 6)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from crmine.cli import app
from crmine.errors import SettingsError
from crmine.predict import ModelSearch


def _caravan_like(n: int = 400, seed: int = 3) -> pd.DataFrame:
    """Like the CoIL 2000 insurance table: integer codes and a 0/1 integer target."""
    rng = np.random.default_rng(seed)
    income = rng.integers(0, 10, n)
    cars = rng.integers(0, 4, n)
    logit = -2.5 + 0.35 * income + 0.4 * cars
    return pd.DataFrame({"id": np.arange(10_001, 10_001 + n), "income": income, "cars": cars,
                         "caravan": (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)})


@pytest.mark.parametrize("given", ["1", 1, "1.0", 1.0])
def test_positive_given_as_text_matches_an_integer_target(given):
    m = ModelSearch(target="caravan", positive=given, id_column="id", candidates=("logistic",), cv=3)
    m.fit(_caravan_like())
    assert m.positive_ == 1 and type(m.positive_) is not str
    assert m.positive_rate_ == pytest.approx(_caravan_like().caravan.mean())
    # The id column is an identifier, not a feature, even though it holds numbers.
    assert "id" not in m.features_


def test_positive_that_is_no_label_is_an_error_naming_the_column():
    with pytest.raises(SettingsError, match=r"positive='2' is not a label of target column 'caravan'"):
        ModelSearch(target="caravan", positive="2", candidates=("logistic",), cv=3).fit(_caravan_like())


def test_cli_evaluate_with_integer_target_and_numeric_ids(tmp_path):
    path = tmp_path / "caravan.csv"
    _caravan_like().to_csv(path, index=False)
    result = CliRunner().invoke(app, ["model", "evaluate", str(path), "--target", "caravan", "--positive", "1",
                                      "--id", "id", "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    best = next(c for c in doc["candidates"] if c["name"] == doc["best"])
    assert best["roc_auc"] > 0.7  # income and cars carry a strong planted signal
