"""Shared data for the predict tests: the IBM telco churn table and a logistic simulation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

TELCO = Path(__file__).resolve().parents[3] / "shared" / "data" / "wa_churn.csv"
TRUE_DRIVERS = ("x1", "x2", "x3")


def simulate_logistic(n: int = 4000, *, seed: int = 7) -> tuple[pd.DataFrame, np.ndarray]:
    """3 true drivers (two numeric, one categorical) and 5 noise columns; returns frame and true p."""
    rng = np.random.default_rng(seed)
    x1 = rng.normal(size=n)
    x2 = rng.normal(size=n)
    x3 = rng.choice(["a", "b", "c"], size=n, p=[0.5, 0.3, 0.2])
    eta = -1.0 + 1.2 * x1 - 0.9 * x2 + np.select([x3 == "b", x3 == "c"], [1.0, 1.8], 0.0)
    p = 1 / (1 + np.exp(-eta))
    frame = pd.DataFrame({"customer_id": [f"c{i:05d}" for i in range(n)], "x1": x1, "x2": x2, "x3": x3})
    for j in range(4):
        frame[f"noise{j}"] = rng.normal(size=n)
    frame["noise_cat"] = rng.choice(["u", "v", "w", "z"], size=n)
    frame["responded"] = np.where(rng.uniform(size=n) < p, "yes", "no")
    return frame, p


@pytest.fixture(scope="session")
def telco() -> pd.DataFrame:
    if not TELCO.exists():
        pytest.skip(f"{TELCO} is absent")
    return pd.read_csv(TELCO)


@pytest.fixture(scope="session")
def telco_search(telco):
    from crmine.predict import ModelSearch

    return ModelSearch(target="churn", seed=42).fit(telco)


@pytest.fixture(scope="session")
def simulated():
    return simulate_logistic()


@pytest.fixture(scope="session")
def simulated_search(simulated):
    from crmine.predict import ModelSearch

    frame, _ = simulated
    return ModelSearch(target="responded", id_column="customer_id", candidates=("logistic", "gradient_boosting"), seed=1).fit(frame)
