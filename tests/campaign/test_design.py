"""Test design: sizes that deliver the power they promise, and reproducible random groups."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmine.campaign._design import (
    assign,
    detection_power,
    minimum_detectable_lift,
    sample_size,
    smallest_control_share,
)
from crmine.campaign._stats import GroupSummary, compare_binary, summarise, welch
from crmine.errors import SchemaError, SettingsError


def test_sample_size_for_ten_versus_twelve_percent_is_the_textbook_3841_per_group():
    # Fleiss, Levin & Paik (2003) without continuity correction: 3,841 per group.
    d = sample_size(baseline=0.10, mde=0.02, alpha=0.05, power=0.8)
    assert (d.n_treatment, d.n_control, d.n_total) == (3841, 3841, 7682)
    # A mean: 2 (z_a + z_b)^2 sd^2 / mde^2 per group = 1004.7 -> 1005.
    assert sample_size(baseline=50, mde=5, sd=40).n_control == 1005


def _simulated_power(nt, nc, p0, p1, reps, rng):
    xt, xc = rng.binomial(nt, p1, reps), rng.binomial(nc, p0, reps)
    hits = [compare_binary(GroupSummary(nt, a / nt, 0), GroupSummary(nc, b / nc, 0)).p_value < 0.05
            for a, b in zip(xt, xc, strict=True)]
    return float(np.mean(hits))


def test_the_designed_size_detects_the_lift_with_the_promised_power():
    rng = np.random.default_rng(0)
    for share in (0.5, 0.2):
        d = sample_size(baseline=0.05, mde=0.01, control_share=share, power=0.8)
        assert d.n_control == pytest.approx(share * d.n_total, abs=2)
        assert _simulated_power(d.n_treatment, d.n_control, 0.05, 0.06, 3000, rng) == pytest.approx(0.8, abs=0.03)
    assert detection_power(d.n_treatment, d.n_control, baseline=0.05, mde=0.01) == pytest.approx(0.8, abs=0.002)


def test_the_designed_size_for_a_mean_delivers_its_power():
    rng = np.random.default_rng(1)
    d = sample_size(baseline=20.0, mde=2.0, sd=15.0, power=0.9)
    hits = 0
    for _ in range(1500):
        t, c = rng.normal(22, 15, d.n_treatment), rng.normal(20, 15, d.n_control)
        hits += welch(summarise(t), summarise(c)).p_value < 0.05
    assert hits / 1500 == pytest.approx(0.9, abs=0.025)


def test_minimum_detectable_lift_inverts_the_sample_size():
    d = sample_size(baseline=0.08, mde=0.015, control_share=0.3)
    assert minimum_detectable_lift(d.n_treatment, d.n_control, baseline=0.08) == pytest.approx(0.015, abs=5e-5)
    assert minimum_detectable_lift(1005, 1005, baseline=50, sd=40) == pytest.approx(5.0, rel=1e-3)


def test_smallest_control_share_is_the_least_that_reaches_the_power():
    d = smallest_control_share(100_000, baseline=0.10, mde=0.02)
    assert detection_power(d.n_treatment, d.n_control, baseline=0.10, mde=0.02) >= 0.8
    assert detection_power(d.n_treatment + 1, d.n_control - 1, baseline=0.10, mde=0.02) < 0.8
    assert d.n_control + d.n_treatment == 100_000 and d.control_share < 0.05
    with pytest.raises(SettingsError, match="cannot detect a lift of 0.02 .* an even split needs 7682"):
        smallest_control_share(5000, baseline=0.10, mde=0.02)


def test_bad_design_settings_are_listed_together():
    with pytest.raises(SettingsError, match="baseline must be a response rate.*power must be in"):
        sample_size(baseline=1.5, mde=0.02, power=80)


def _list(n=2000, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"customer_id": [f"K{i:05d}" for i in range(n)],
                         "region": rng.choice(["north", "south", "east"], n, p=[0.5, 0.3, 0.2]),
                         "tier": rng.choice(["gold", "basic"], n)})


def test_assignment_is_reproducible_exact_within_strata_and_independent_of_row_order():
    f = _list()
    g = assign(f, control_share=0.25, strata=["region", "tier"], id_column="customer_id", seed=3)
    again = assign(f, control_share=0.25, strata=["region", "tier"], id_column="customer_id", seed=3)
    assert g.equals(again)
    shuffled = f.sample(frac=1.0, random_state=9)
    s = assign(shuffled, control_share=0.25, strata=["region", "tier"], id_column="customer_id", seed=3)
    assert s.set_index("customer_id").group.sort_index().equals(g.set_index("customer_id").group.sort_index())
    other = assign(f, control_share=0.25, strata=["region", "tier"], id_column="customer_id", seed=4)
    assert (other.group != g.group).any()
    for _, part in g.groupby(["region", "tier"]):
        assert (part.group == "control").sum() == round(len(part) * 0.25)
    assert g.drop(columns="group").equals(f)


def test_assignment_deals_several_treatments_in_turn():
    g = assign(_list(900), control_share=1 / 3, treatments=("mail", "email"), seed=0)
    assert g.group.value_counts().to_dict() == {"control": 300, "mail": 300, "email": 300}


def test_assignment_errors():
    f = _list(10)
    f.loc[3, "customer_id"] = "K00001"
    with pytest.raises(SchemaError, match="must identify each customer once: 0 empty, 1 duplicated"):
        assign(f, id_column="customer_id")
    with pytest.raises(SchemaError, match="lacks column"):
        assign(f, strata=["city"])
    with pytest.raises(SettingsError, match="control_share must be in"):
        assign(f, control_share=0)
