"""Uplift models: recovery of a planted effect, several arms, persistence, and Hillstrom."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.model_selection import train_test_split

from crmine.campaign import UpliftModel, qini_coefficient, uplift_at_k
from crmine.errors import ModelMismatchError, NotFittedError, SchemaError, SettingsError
from tests.campaign._data import FEATURES, hillstrom, synthetic_test

FAST = {"bases": ("linear", "gradient_boosting"), "cv": 3, "seed": 0}


@pytest.fixture(scope="module")
def synthetic():
    frame, effect = synthetic_test(8000, seed=1)
    model = UpliftModel(**FAST).fit(frame, outcome="bought", arm="arm", control="none", id_column="customer_id")
    return frame, effect, model


def test_planted_uplift_is_recovered_and_beats_response_and_random(synthetic):
    frame, effect, model = synthetic
    up = model.predict_uplift(frame)
    assert up.columns.tolist() == ["uplift"] and up.index.name == "customer_id"
    assert stats.spearmanr(up.uplift, effect).statistic > 0.5
    r = model.results_.loc["offer"]
    best = r.loc[model.best_["offer"]]
    assert best.qini_mean > r.loc["random", "qini_mean"] + 0.03
    assert best.qini_mean > r.loc[["response/linear", "response/gradient_boosting"], "qini_mean"].max()
    young_urban = ((frame.age < 40) & (frame.city == "urban")).to_numpy()
    assert up.uplift[young_urban].mean() == pytest.approx(0.15, abs=0.04)
    assert up.uplift[~young_urban].mean() < 0.04
    deciles = model.decile_table()
    assert deciles.uplift.iloc[:3].mean() > deciles.uplift.iloc[-3:].mean() + 0.1


def test_summary_lists_every_candidate_and_the_rankings_to_beat(synthetic):
    _, _, model = synthetic
    s = model.summary()
    names = set(s.loc["offer"].index)
    assert {"two_model/linear", "class_transformation/gradient_boosting", "x_learner/linear",
            "dr_learner/gradient_boosting", "ensemble", "response/linear", "random"} <= names
    assert s.best.sum() == 1 and s.attrs["kind"] == "binary"
    assert {"qini_mean", "qini_std", "auuc_mean", "uplift_at_k_mean"} <= set(s.columns)


def test_several_arms_get_one_model_each_and_treatment_leaves_the_others_out():
    frame, _ = synthetic_test(6000, seed=3, arms=("mail", "email"))
    model = UpliftModel(learners=("two_model", "dr_learner"), bases=("linear",)).fit(
        frame, outcome="bought", arm="arm", control="none")
    up = model.predict_uplift(frame)
    assert up.columns.tolist() == ["uplift_email", "uplift_mail"]
    young_urban = ((frame.age < 40) & (frame.city == "urban")).to_numpy()
    # The planted effect of email is 1.5 times that of mail.
    assert up.uplift_email[young_urban].mean() > up.uplift_mail[young_urban].mean() + 0.03
    only = UpliftModel(learners=("two_model",), bases=("linear",)).fit(
        frame, outcome="bought", arm="arm", control="none", treatment="email")
    assert only.arms_ == ["email"] and only.n_rows_ == int(frame.arm.isin(["email", "none"]).sum())
    with pytest.raises(SchemaError, match=r"treatment value\(s\) 'sms' do not occur in arm column 'arm'"):
        UpliftModel().fit(frame, outcome="bought", arm="arm", control="none", treatment="sms")


def test_a_continuous_outcome_and_an_outcome_recorded_with_it():
    rng = np.random.default_rng(4)
    frame, effect = synthetic_test(6000, seed=4)
    treated = (frame.arm == "offer").to_numpy()
    frame["revenue"] = frame.bought * rng.gamma(3.0, 20.0, len(frame))
    model = UpliftModel(learners=("two_model", "class_transformation", "dr_learner"), bases=("linear",)).fit(
        frame, outcome="revenue", arm="arm", control="none", id_column="customer_id")
    assert model.kind_ == "continuous" and "bought" in model.dropped_  # bought is 0 wherever revenue is
    assert "outcome recorded with it" in model.dropped_["bought"]
    up = model.predict_uplift(frame).uplift.to_numpy()
    assert stats.spearmanr(up, effect).statistic > 0.4
    assert treated.any()
    kept = UpliftModel(learners=("two_model",), bases=("linear",)).fit(
        frame, outcome="revenue", arm="arm", control="none", features=["age", "city", "bought"])
    assert "bought" in kept.features_


def test_save_and_load_round_trip(synthetic, tmp_path):
    frame, _, model = synthetic
    path = tmp_path / "m.joblib"
    model.save(path)
    again = UpliftModel.load(path)
    pd.testing.assert_frame_equal(again.predict_uplift(frame.head(50)), model.predict_uplift(frame.head(50)))
    assert [p.name for p in tmp_path.iterdir()] == ["m.joblib"]  # no temporary file left
    (tmp_path / "bad.joblib").write_bytes(b"")
    with pytest.raises(ModelMismatchError, match="is empty"):
        UpliftModel.load(tmp_path / "bad.joblib")


def test_unfitted_and_invalid_models():
    with pytest.raises(NotFittedError, match="not fitted yet"):
        UpliftModel().predict_uplift(pd.DataFrame({"a": [1]}))
    frame, _ = synthetic_test(300, seed=0)
    with pytest.raises(SettingsError, match="learners must be a non-empty selection.*cv must be an integer"):
        UpliftModel(learners=("s_learner",), cv=1).fit(frame, outcome="bought", arm="arm", control="none")


# ---- Hillstrom: Womens E-Mail vs No E-Mail, trained on one half, judged on the other ---------------
SPLIT_SEED = 0  # checked on split seeds 0-3 (see docs/campaigns.md): visit uplift@30% 0.072-0.079


def _halves():
    df = hillstrom()
    df = df[df.segment.isin(["Womens E-Mail", "No E-Mail"])].reset_index(drop=True)
    train, test = train_test_split(df, test_size=0.5, random_state=SPLIT_SEED, stratify=df.segment)
    return train, test


def _judge(model, test, outcome):
    y = test[outcome].to_numpy(float)
    w = (test.segment == "Womens E-Mail").to_numpy().astype(int)
    up = model.predict_uplift(test).uplift.to_numpy()
    resp = model.predict_response(test).response.to_numpy()
    rng = np.random.default_rng(0)
    random_qini = np.mean([qini_coefficient(y, w, rng.random(len(y))) for _ in range(200)])
    return (uplift_at_k(y, w, up, 0.3), qini_coefficient(y, w, up), qini_coefficient(y, w, resp), random_qini)


@pytest.mark.slow
def test_hillstrom_visit_uplift_at_30_percent_reaches_the_published_figure():
    train, test = _halves()
    model = UpliftModel(seed=0).fit(train[[*FEATURES, "segment", "visit"]], outcome="visit", arm="segment",
                                    control="No E-Mail")
    at30, qini, response_qini, random_qini = _judge(model, test, "visit")
    assert at30 >= 0.0661  # scikit-uplift tutorial, class-transformation model
    assert qini > response_qini + 0.01 and qini > random_qini + 0.03
    assert abs(random_qini) < 0.01


@pytest.mark.slow
def test_hillstrom_spend_uplift_beats_the_response_model_and_random():
    train, test = _halves()
    # The raw file: conversion and visit are outcomes too, and must not become features.
    model = UpliftModel(seed=0).fit(train[[*FEATURES, "segment", "visit", "conversion", "spend"]], outcome="spend",
                                    arm="segment", control="No E-Mail")
    assert {"visit", "conversion"} <= set(model.dropped_) and model.kind_ == "continuous"
    at30, qini, response_qini, random_qini = _judge(model, test, "spend")
    assert qini > response_qini and qini > random_qini
    assert at30 >= 0.0661  # the visit bar, met in dollars too (on this split below the $0.42 average effect)
