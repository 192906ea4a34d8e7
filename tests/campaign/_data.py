"""Where the tests find Hillstrom's e-mail test (../shared/data, beside the repository), and small
synthetic tests with a known per-customer uplift."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

HILLSTROM = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "hillstrom.csv"
FEATURES = ["recency", "history", "mens", "womens", "zip_code", "newbie", "channel"]


def hillstrom() -> pd.DataFrame:
    if not HILLSTROM.is_file():
        pytest.skip(f"Hillstrom data not at {HILLSTROM} (it lives in ../shared/data beside the repository)")
    return pd.read_csv(HILLSTROM)


def synthetic_test(n: int = 6000, *, seed: int = 0, arms: tuple[str, ...] = ("offer",)) -> tuple[pd.DataFrame, np.ndarray]:
    """A randomised test where the offer works for young, urban customers and does nothing (or
    harm) for the rest; returns the frame and each row's true uplift under its own arm."""
    rng = np.random.default_rng(seed)
    age = rng.uniform(18, 75, n)
    city = rng.choice(["urban", "rural"], n, p=[0.6, 0.4])
    spend = rng.gamma(2.0, 50.0, n)
    arm = rng.choice([*arms, "none"], n)
    base = 1 / (1 + np.exp(-(-3.0 + 0.02 * spend)))  # who buys anyway: big spenders
    effect = np.where(age < 40, 0.15, -0.03) * np.where(city == "urban", 1.0, 0.3)
    true = np.zeros(n)
    for i, a in enumerate(arms):
        true = np.where(arm == a, effect * (1 + 0.5 * i), true)
    bought = (rng.random(n) < np.clip(base + true, 0, 1)).astype(int)
    frame = pd.DataFrame({"customer_id": [f"C{i:05d}" for i in range(n)], "age": age, "city": city,
                          "spend": spend, "arm": arm, "bought": bought})
    return frame, effect
