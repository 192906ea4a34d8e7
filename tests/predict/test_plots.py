"""The figures of a fitted ModelSearch, checked against its own tables, and the CLI model card."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from crmine.cli import app
from crmine.errors import NotFittedError, SettingsError
from crmine.predict import (
    ModelSearch,
    calibration_figure,
    gains_figure,
    importance_figure,
)
from tests.predict.conftest import simulate_logistic

runner = CliRunner()


def _trace(fig, name):
    (trace,) = [t for t in fig.data if t.name == name]
    return trace


def test_gains_figure_best_curve_runs_from_origin_to_one_and_matches_gains_at_20(simulated_search):
    s = simulated_search
    fig = gains_figure(s)
    assert [t.name for t in fig.data] == [s.best_, "random"]
    curve = _trace(fig, s.best_)
    x, y = np.asarray(curve.x, dtype=float), np.asarray(curve.y, dtype=float)
    assert (x[0], y[0]) == (0.0, 0.0)
    assert x[-1] == pytest.approx(1.0) and y[-1] == pytest.approx(1.0)
    assert np.all(np.diff(x) > 0) and np.all(np.diff(y) >= 0)
    # Oracle: the share of all positives among the 20% highest pooled out-of-fold scores.
    actual, scores = s.oof_["actual"].to_numpy(), s.oof_[s.best_].to_numpy()
    top = np.argsort(-scores, kind="stable")[: int(np.ceil(0.2 * len(scores)))]
    expected = actual[top].sum() / actual.sum()
    (at20,) = np.flatnonzero(np.isclose(x, 0.2))
    assert y[at20] == pytest.approx(expected, abs=1e-12)
    # ...which is close to the fold-mean metric of results_ (pooled vs averaged over folds).
    assert y[at20] == pytest.approx(s.results_.loc[s.best_, "gains_at_20_mean"], abs=0.03)
    diagonal = _trace(fig, "random")
    assert list(diagonal.x) == [0, 1] and list(diagonal.y) == [0, 1]
    assert fig.layout.xaxis.tickformat == ".0%" and fig.layout.yaxis.tickformat == ".0%"


def test_gains_figure_draws_the_given_candidates_including_baseline(simulated_search):
    names = list(simulated_search.results_.index)
    assert "baseline" in names
    fig = gains_figure(simulated_search, names)
    assert [t.name for t in fig.data] == [*names, "random"]
    assert [t.name for t in gains_figure(simulated_search, "baseline").data] == [
        "baseline",
        "random",
    ]
    # The model beats the baseline at every decile but the last (where both reach everyone).
    best = np.asarray(_trace(fig, simulated_search.best_).y)
    base = np.asarray(_trace(fig, "baseline").y)
    assert np.all(best[1:-1] > base[1:-1])


def test_calibration_figure_points_are_the_calibration_table(simulated_search):
    s = simulated_search
    for name in (None, "baseline"):
        fig = calibration_figure(s, name)
        cand = name or s.best_
        table = s.calibration_[cand]
        table = table[table["count"] > 0]
        points = _trace(fig, cand)
        np.testing.assert_allclose(points.x, table["mean_predicted"])
        np.testing.assert_allclose(points.y, table["observed_rate"])
        assert list(points.customdata) == table["count"].tolist()
        assert "n=%{customdata" in points.hovertemplate
        assert list(_trace(fig, "perfect").x) == [0, 1]


def test_importance_figure_bars_follow_permutation_importance(simulated_search):
    imp = simulated_search.permutation_importance_
    fig = importance_figure(simulated_search, top=3)
    (bars,) = fig.data
    assert bars.orientation == "h"
    assert list(bars.y) == imp["feature"].head(3).tolist()
    np.testing.assert_allclose(bars.x, imp["importance"].head(3))
    np.testing.assert_allclose(bars.error_x.array, imp["std"].head(3))
    assert fig.layout.yaxis.autorange == "reversed"  # the first (biggest) bar is drawn on top
    assert set(bars.y) == {"x1", "x2", "x3"}  # the simulation's true drivers lead
    assert len(importance_figure(simulated_search).data[0].y) == min(10, len(imp))


def test_figures_reject_an_unknown_candidate_naming_the_fitted_ones(simulated_search):
    msg = r"Unknown candidate\(s\) 'nope'; fitted: logistic, gradient_boosting, baseline\."
    with pytest.raises(SettingsError, match=msg):
        gains_figure(simulated_search, ["logistic", "nope"])
    with pytest.raises(SettingsError, match=msg):
        calibration_figure(simulated_search, "nope")
    with pytest.raises(SettingsError, match=r"Unknown candidate\(s\) 'actual'"):
        gains_figure(simulated_search, "actual")  # a column of oof_, not a candidate
    with pytest.raises(SettingsError, match="top must be a positive integer; received 0"):
        importance_figure(simulated_search, top=0)


@pytest.mark.parametrize("figure", [gains_figure, calibration_figure, importance_figure])
def test_figures_need_a_fitted_search(figure):
    with pytest.raises(
        NotFittedError, match=rf"{figure.__name__} needs a fitted ModelSearch; .*\.fit\(frame\)"
    ):
        figure(ModelSearch(target="responded"))


def test_model_evaluate_writes_an_offline_model_card(tmp_path):
    frame, _ = simulate_logistic(600, seed=3)
    data = tmp_path / "customers.csv"
    frame.to_csv(data, index=False)
    out = tmp_path / "cards" / "out.html"
    res = runner.invoke(
        app,
        [
            "model",
            "evaluate",
            str(data),
            "--target",
            "responded",
            "--id",
            "customer_id",
            "--html",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    assert out.is_file()
    assert f"Model card: {out}" in res.output.replace("\n", "")
    html = out.read_text(encoding="utf-8")
    for name in (*ModelSearch(target="responded").candidates, "baseline"):
        assert re.search(rf"<td[^>]*>{name}</td>", html), name
    for title in ("Candidates compared", "Cumulative gains", "Calibration of", "Top predictors"):
        assert title in html
    for col in (
        "ROC AUC",
        "PR AUC",
        "log loss",
        "Brier",
        "lift top decile",
        "gains at 20%",
        "best",
    ):
        assert f">{col}</th>" in html, col
    assert html.count('class="plotly-graph-div"') == 3
    # Offline: plotly.js inline once, no script fetched from anywhere, no CDN named in the page.
    assert html.count("plotly.js v") == 1
    assert not re.search(r"<script[^>]*\bsrc\s*=", html)
    assert "cdn.plot.ly" not in html.split("</head>", 1)[1]
    assert not re.search(r"https?://cdn", html.split("</head>", 1)[1])
    assert "customer_id" not in html and "c00001" not in html  # no identifiers reach the page
    assert sorted(p.name for p in out.parent.iterdir()) == ["out.html"]


def test_model_evaluate_json_is_unchanged_by_html(tmp_path):
    frame = pd.DataFrame(simulate_logistic(300, seed=4)[0]).drop(columns="customer_id")
    data = tmp_path / "c.csv"
    frame.to_csv(data, index=False)
    args = ["model", "evaluate", str(data), "--target", "responded", "--json"]
    plain = runner.invoke(app, args)
    with_card = runner.invoke(app, [*args, "--html", str(tmp_path / "card.html")])
    assert plain.exit_code == with_card.exit_code == 0, with_card.output
    assert with_card.stdout == plain.stdout
    assert set(json.loads(with_card.stdout)) == {"candidates", "best"}
    assert (tmp_path / "card.html").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.csv", "card.html"]
