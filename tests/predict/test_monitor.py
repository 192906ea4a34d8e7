"""Population stability index."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmine.errors import SchemaError
from crmine.predict import population_stability_index, psi_table


def test_psi_identical_samples_is_zero():
    rng = np.random.default_rng(0)
    x = pd.Series(rng.normal(size=5000))
    assert population_stability_index(x, x) == pytest.approx(0.0, abs=1e-12)
    # two draws of the same distribution: small
    assert population_stability_index(x, pd.Series(rng.normal(size=5000))) < 0.02


def test_psi_shifted_samples_is_large():
    rng = np.random.default_rng(1)
    x = pd.Series(rng.normal(size=5000))
    assert population_stability_index(x, x + 1.0) > 0.25


def test_psi_categorical_with_unseen_and_missing_levels():
    e = pd.Series(["a"] * 50 + ["b"] * 50)
    assert population_stability_index(e, e.copy()) == pytest.approx(0.0, abs=1e-12)
    a = pd.Series(["a"] * 20 + ["c"] * 60 + [None] * 20)
    assert population_stability_index(e, a) > 0.25


def test_psi_hand_worked_two_bins():
    # expected shares (0.5, 0.5), actual (0.8, 0.2): 0.3*ln(1.6) + (-0.3)*ln(0.4) = 0.4159
    e = pd.Series(["a", "b"] * 50)
    a = pd.Series(["a"] * 80 + ["b"] * 20)
    want = 0.3 * np.log(1.6) - 0.3 * np.log(0.4)
    assert population_stability_index(e, a) == pytest.approx(want, abs=1e-3)


def test_psi_table_bands_and_missing_columns():
    rng = np.random.default_rng(2)
    train = pd.DataFrame({"x": rng.normal(size=2000), "g": rng.choice(["u", "v"], 2000)})
    score = pd.DataFrame({"x": rng.normal(size=2000) + 1.0, "g": rng.choice(["u", "v"], 2000)})
    t = psi_table(train, score, ["x", "g"])
    assert list(t["band"]) == ["shift", "stable"]
    with pytest.raises(SchemaError, match=r"Scoring frame lacks column\(s\) y, z\."):
        psi_table(train.assign(y=1.0, z=1.0), score, ["x", "y", "z"])
