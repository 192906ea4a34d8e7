"""ModelSearch on published data (telco churn) and on a simulation with known drivers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from crmine.errors import ModelMismatchError, NotFittedError, SchemaError, SettingsError
from crmine.predict import ModelSearch
from tests.predict.conftest import TRUE_DRIVERS


def test_model_search_telco_logistic_matches_published_auc(telco_search):
    # Published: stratified 5-fold (seed 42), one-hot + scaled logistic regression, ROC AUC 0.845.
    res = telco_search.results_
    assert res.loc["logistic", "roc_auc_mean"] == pytest.approx(0.845, abs=0.01)
    print("\n" + res[["roc_auc_mean", "roc_auc_std", "pr_auc_mean", "lift_top_decile_mean", "gains_at_20_mean"]].to_string())


def test_model_search_telco_best_beats_baseline_and_reaches_published_range(telco_search):
    res = telco_search.results_
    best = telco_search.best_
    # Tenure and charges act non-linearly (churn falls steeply over the first months): the
    # additive model bends with them and gains 0.005 over the plain logistic regression. Across
    # fold seeds 0, 1, 2 and 42 it scores 0.8497-0.8503; this protocol (seed 42) gives 0.8501.
    assert best == "additive_logistic"
    assert res.loc[best, "roc_auc_mean"] >= 0.85
    assert res.loc[best, "roc_auc_mean"] > res.loc["logistic", "roc_auc_mean"] + 0.003
    assert res.loc[best, "roc_auc_mean"] > res.loc["baseline", "roc_auc_mean"] + 0.05
    assert res.loc[best, "lift_top_decile_mean"] > 2.5
    assert res.loc[best, "gains_at_20_mean"] > 0.45
    summary = telco_search.summary()
    assert summary.attrs["positive"] == "Yes"
    assert summary.attrs["positive_rule"] == "conventional label 'Yes'"
    assert summary["best"].sum() == 1
    cal = telco_search.calibration_[best]
    assert list(cal.columns) == ["lower", "upper", "count", "mean_predicted", "observed_rate"]
    assert cal["count"].sum() == len(telco_search.oof_)
    gains = telco_search.gains_table()
    assert gains["cumulative_gains"].iloc[-1] == pytest.approx(1.0)


def test_model_search_telco_importance_on_original_columns(telco_search, telco):
    imp = telco_search.permutation_importance_
    assert set(imp["feature"]) == set(telco.columns) - {"churn"}
    # Contract type and length of tenure are the known telco churn drivers; total charges are
    # roughly tenure x monthly charges, so the two share tenure's importance between them.
    top3 = set(imp["feature"].head(3))
    assert "contract" in top3 and {"tenure", "total_charges"} & top3


def test_model_search_recovers_true_drivers(simulated_search, simulated):
    frame, p_true = simulated
    imp = simulated_search.permutation_importance_
    assert set(imp["feature"].head(3)) == set(TRUE_DRIVERS)
    y = (frame["responded"] == "yes").to_numpy()
    auc_true = roc_auc_score(y, p_true)
    auc_model = simulated_search.results_.loc[simulated_search.best_, "roc_auc_mean"]
    print(f"\nsimulated: model CV AUC {auc_model:.4f}, AUC of the true probabilities {auc_true:.4f}")
    assert auc_model == pytest.approx(auc_true, abs=0.015)
    assert simulated_search.positive_ == "yes"


def test_model_search_predict_proba_indexed_by_id(simulated_search, simulated):
    frame, _ = simulated
    p = simulated_search.predict_proba(frame.head(10))
    assert list(p.index) == list(frame["customer_id"].head(10))
    assert p.index.name == "customer_id"
    assert ((p > 0) & (p < 1)).all()


def test_model_search_reasons_name_drivers_that_raise_the_score(simulated_search, simulated):
    frame, _ = simulated
    rows = frame.head(200)
    r = simulated_search.reasons(rows, top=3)
    assert list(r.columns) == ["probability", "reason_1", "effect_1", "reason_2", "effect_2", "reason_3", "effect_3"]
    np.testing.assert_allclose(r["probability"], simulated_search.predict_proba(rows))
    # Rows with a large x1 have x1 among their reasons (x1 raises the score).
    high = rows["x1"] > 1.5
    named = r.loc[high.to_numpy(), ["reason_1", "reason_2", "reason_3"]]
    assert named.eq("x1").any(axis=1).mean() > 0.9
    assert (r["effect_1"].dropna() > 0).all()


def test_model_search_text_target_minority_rule():
    rng = np.random.default_rng(3)
    n = 300
    x = rng.normal(size=n)
    label = np.where(x + rng.normal(size=n) > 1.0, "left", "stayed")
    frame = pd.DataFrame({"x": x, "const": 1.0, "target": label, "cust": [f"K{i:04d}" for i in range(n)]})
    m = ModelSearch(target="target", candidates=("logistic",), cv=3).fit(frame)
    assert m.positive_ == "left"
    assert m.positive_rule_ == "minority class"
    assert m.dropped_ == {"const": "constant", "cust": "unique on every row: an identifier? Declare it with --id (id_column)"}
    assert list(m.features_) == ["x"]


def test_model_search_not_fitted_raises():
    with pytest.raises(NotFittedError, match="not fitted yet"):
        ModelSearch(target="y").predict_proba(pd.DataFrame({"x": [1.0]}))


def test_model_search_bad_settings_listed_at_once():
    frame = pd.DataFrame({"x": [0.0, 1.0] * 10, "y": [0, 1] * 10})
    with pytest.raises(SettingsError, match=r"candidates must .*unknown: svm.*metric must be one of.*cv must be"):
        ModelSearch(target="y", candidates=("svm",), metric="accuracy", cv=1).fit(frame)


def test_model_search_missing_columns_named_all(simulated_search, simulated):
    frame, _ = simulated
    with pytest.raises(SchemaError, match=r"Frame to score lacks column\(s\) x1, x3, noise_cat\."):
        simulated_search.predict_proba(frame.drop(columns=["x1", "x3", "noise_cat"]))


def test_model_search_save_load_round_trip(simulated_search, simulated, tmp_path):
    frame, _ = simulated
    path = tmp_path / "model.joblib"
    simulated_search.save(path)
    loaded = ModelSearch.load(path)
    pd.testing.assert_series_equal(loaded.predict_proba(frame), simulated_search.predict_proba(frame))
    assert loaded.best_ == simulated_search.best_
    assert loaded.fingerprint_ == simulated_search.fingerprint_
    assert len(loaded.fingerprint_) == 64
    assert loaded.features_["x3"] in ("object", "str")


def test_model_search_load_other_version_raises(simulated_search, tmp_path, monkeypatch):
    import crmine.predict._search as search_module

    path = tmp_path / "model.joblib"
    monkeypatch.setattr(search_module, "__version__", "0.0.1")
    simulated_search.save(path)
    monkeypatch.undo()
    with pytest.raises(ModelMismatchError, match=r"was saved by crmine 0\.0\.1, this is .*check_version=False"):
        ModelSearch.load(path)
    assert ModelSearch.load(path, check_version=False).best_ == simulated_search.best_


def test_model_search_load_foreign_file_raises(tmp_path):
    import joblib

    path = tmp_path / "other.joblib"
    joblib.dump({"format": "something"}, path)
    with pytest.raises(ModelMismatchError, match="is not a crmine ModelSearch file"):
        ModelSearch.load(path)


def test_model_search_load_checks_the_training_data(simulated_search, simulated, tmp_path):
    frame, _ = simulated
    path = tmp_path / "model.joblib"
    simulated_search.save(path)
    shuffled = frame.sample(frac=1.0, random_state=3)  # row order does not matter
    assert ModelSearch.load(path, trained_on=shuffled).best_ == simulated_search.best_
    changed = frame.copy()
    changed.loc[changed.index[0], "x1"] += 1.0
    with pytest.raises(ModelMismatchError, match="was not fitted on the frame given as trained_on"):
        ModelSearch.load(path, trained_on=changed)


def test_model_search_scoring_refuses_a_numeric_column_turned_text(simulated_search, simulated):
    frame, _ = simulated
    rows = frame.head(50).copy()
    rows["x1"] = rows["x1"].map(lambda v: f"{v:.2f} units")
    with pytest.raises(ModelMismatchError, match=r"Frame to score: column\(s\) numeric when the model was "
                                                 r"trained now hold text: x1 \(50 value\(s\) not numbers\)"):
        simulated_search.predict_proba(rows)
    rows["x1"] = frame.head(50)["x1"].astype(str)  # numbers written as text still read as numbers
    np.testing.assert_allclose(simulated_search.predict_proba(rows), simulated_search.predict_proba(frame.head(50)))


def test_model_search_scores_a_holdout_with_every_candidate():
    from tests.predict.conftest import simulate_logistic

    train, _ = simulate_logistic(3000, seed=11)
    later, _ = simulate_logistic(2000, seed=12)  # same process, new customers
    m = ModelSearch(target="responded", id_column="customer_id", candidates=("logistic",), cv=3).fit(
        train, holdout=later
    )
    out = m.holdout_results_
    assert list(out.index) == ["logistic", "baseline"]
    expected = roc_auc_score(later["responded"] == "yes", m.predict_proba(later))
    assert out.loc["logistic", "roc_auc"] == pytest.approx(expected)  # the refitted best, scored
    assert out.loc["logistic", "roc_auc"] == pytest.approx(m.results_.loc["logistic", "roc_auc_mean"], abs=0.03)
    with pytest.raises(SchemaError, match="Holdout frame holds one class of 'responded' only"):
        ModelSearch(target="responded", candidates=("logistic",), cv=3).fit(
            train, holdout=later.assign(responded="no")
        )


def test_baseline_rank_auc_equals_sklearn_with_ties():
    from crmine.predict._baseline import _auc

    rng = np.random.default_rng(3)
    y = (rng.random(5000) < 0.2).astype(float)
    x = np.round(rng.normal(size=5000) + 0.7 * y, 1)  # many ties
    assert _auc(y, x) == pytest.approx(roc_auc_score(y, x), abs=1e-12)
    assert _auc(np.zeros(10), np.arange(10.0)) == 0.5


def test_model_search_reports_progress_per_fold(simulated):
    frame, _ = simulated
    calls = []
    ModelSearch(target="responded", id_column="customer_id", candidates=("logistic",), cv=3).fit(
        frame.head(600), progress=lambda step, done, total: calls.append((step, done, total))
    )
    # 3 folds x (logistic + baseline), then the refit of the best.
    assert [c[1] for c in calls] == list(range(1, 8)) and {c[2] for c in calls} == {7}
    assert calls[0][0] == "logistic, fold 1 of 3" and calls[-1][0].startswith("refitted ")
