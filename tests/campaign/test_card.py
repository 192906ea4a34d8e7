"""The uplift model card: one offline HTML file of aggregates, with the numbers the model reports."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from crmine.campaign import UpliftModel, uplift_at_k
from crmine.campaign._card import CARD_SHARES, uplift_card
from crmine.cli._campaign import uplift_app
from tests.campaign._data import synthetic_test

FAST = {"learners": ("two_model", "class_transformation"), "bases": ("linear",), "cv": 3, "seed": 0}


def _frame(n: int = 3000, *, seed: int = 3, arms: tuple[str, ...] = ("offer",)) -> pd.DataFrame:
    frame, _ = synthetic_test(n, seed=seed, arms=arms)
    # Ids nothing else on the page could spell by accident.
    frame["customer_id"] = [f"cust_{i:05d}_zq" for i in range(len(frame))]
    return frame


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    frame = _frame()
    model = UpliftModel(**FAST).fit(frame, outcome="bought", arm="arm", control="none", id_column="customer_id")
    folder = tmp_path_factory.mktemp("card")
    path = model.card(folder / "card.html", source="test.csv")
    return frame, model, path


class _Tables(HTMLParser):
    """The page's tables as (title of the h3 before it, header, rows of cell texts)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[tuple[str, list[str], list[list[str]]]] = []
        self._h3 = self._cell = None
        self._title = ""
        self._row: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "h3":
            self._h3 = ""
        elif tag == "table":
            self.tables.append((self._title, [], []))
            self._title = ""
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th"):
            self._cell = ""

    def handle_endtag(self, tag):
        if tag == "h3":
            self._title, self._h3 = self._h3 or "", None
        elif tag in ("td", "th") and self._row is not None:
            self._row.append((self._cell or "").strip())
            self._cell = None
        elif tag == "tr" and self._row is not None and self.tables:
            _, header, rows = self.tables[-1]
            if not header:
                header.extend(self._row)
            else:
                rows.append(self._row)
            self._row = None

    def handle_data(self, data):
        if self._h3 is not None:
            self._h3 += data
        if self._cell is not None:
            self._cell += data


def _tables(html: str) -> list[tuple[str, list[str], list[list[str]]]]:
    html = re.sub(r"<script\b.*?</script>", "", html, flags=re.S)  # plotly.js and the figures
    p = _Tables()
    p.feed(html)
    return p.tables


def _table(html: str, first_column: str, title: str | None = None) -> pd.DataFrame:
    found = [(h, r) for t, h, r in _tables(html) if h and h[0] == first_column and (title is None or t == title)]
    assert len(found) == 1, f"expected one table starting with {first_column!r}, found {len(found)}"
    header, rows = found[0]
    return pd.DataFrame(rows, columns=header)


def _num(text: str) -> float:
    text = text.replace(",", "").replace("−", "-").replace("–", "nan")
    if text.endswith("%"):
        return float(text[:-1]) / 100
    return float(text)


def _close(shown: str, value: float) -> bool:
    # The page shows three significant digits, or a percentage to 0.1 points.
    if shown.endswith("%"):
        return _num(shown) == pytest.approx(value, abs=5.01e-4)
    return _num(shown) == pytest.approx(value, rel=5.01e-3, abs=1e-12)


def test_card_is_one_self_contained_file(fitted):
    _, _, path = fitted
    assert path.is_file() and [p.name for p in path.parent.iterdir()] == ["card.html"]  # no temp file left
    html = path.read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]*\bsrc\s*=", html, flags=re.I)  # nothing fetched: plotly.js inlined
    assert not re.search(r"<link[^>]*href\s*=\s*[\"']?https?:", html, flags=re.I)
    assert html.count("Plotly.newPlot") >= 3  # Qini, uplift and decile figures
    assert len(html) > 1_000_000  # the plotly bundle itself is in the file
    for heading in ("The test", "Candidates compared", "Qini and uplift curves", "Uplift by decile", "Uplift@k"):
        assert f"<h2>{heading}</h2>" in html


def test_card_qini_table_matches_the_model(fitted):
    _, model, path = fitted
    html = path.read_text(encoding="utf-8")
    shown = _table(html, "candidate", "Cross-validated Qini, AUUC and uplift@k").set_index("candidate")
    results = model.results_.xs("offer", level="arm")
    assert set(shown.index) == set(results.index)  # the learners, the ensemble, response and random
    assert {"random", "ensemble", "response/linear"} <= set(shown.index)
    random = results.loc["random", "qini_mean"]
    for name, row in results.iterrows():
        assert _close(shown.loc[name, "Qini"], row.qini_mean), name
        assert _close(shown.loc[name, "Qini sd"], row.qini_std), name
        assert _close(shown.loc[name, "AUUC"], row.auuc_mean), name
        assert _close(shown.loc[name, "uplift@30%"], row.uplift_at_k_mean), name
        assert _close(shown.loc[name, "Qini - random"], row.qini_mean - random), name
        assert shown.loc[name, "best"] == ("yes" if name == model.best_["offer"] else "no")
    # The planted uplift is found: the chosen learner beats both the random and the response ranking.
    best = results.loc[model.best_["offer"], "qini_mean"]
    assert best > random and best > results.loc["response/linear", "qini_mean"]


def test_card_deciles_uplift_at_k_and_design(fitted):
    frame, model, path = fitted
    html = path.read_text(encoding="utf-8")
    deciles = _table(html, "decile")
    expected = model.decile_table("offer")
    assert deciles["decile"].astype(int).tolist() == list(range(1, 11))
    assert deciles["treated"].map(_num).tolist() == expected["n_treatment"].tolist()
    for shown, value in zip(deciles["realised uplift"], expected["uplift"], strict=True):
        assert _close(shown, value)

    at_k = _table(html, "top share k")
    assert at_k["top share k"].tolist() == [f"{k:.0%}" for k in CARD_SHARES] == ["10%", "20%", "30%", "50%"]
    o = model.oof_["offer"]
    for (_, row), k in zip(at_k.iterrows(), CARD_SHARES, strict=True):
        for column, ranking in (("uplift model", "uplift"), ("response model", "response"), ("random", "random")):
            assert _close(row[column], uplift_at_k(o.outcome, o.treated, o[ranking], k))

    design = _table(html, "group").set_index("group")
    for group, rows in frame.groupby(frame["arm"].map(lambda a: "offer" if a == "offer" else "none (control)")):
        assert _num(design.loc[group, "rows"]) == len(rows)
        assert _close(design.loc[group, "outcome rate"], rows["bought"].mean())


def test_card_shows_no_customer(fitted):
    frame, _, path = fitted
    html = path.read_text(encoding="utf-8")
    ids = set(frame["customer_id"])
    assert not ids & set(re.findall(r"cust_\d{5}_zq", html))
    assert "cust_" not in html and "customer_id" not in html


def test_card_rewrites_atomically_and_covers_every_arm(tmp_path):
    frame = _frame(2400, seed=5, arms=("mail", "email"))
    model = UpliftModel(**{**FAST, "learners": ("two_model",)}).fit(
        frame, outcome="bought", arm="arm", control="none", id_column="customer_id")
    target = tmp_path / "out" / "card.html"
    target.parent.mkdir()
    target.write_text("old", encoding="utf-8")
    out = uplift_card(model, target)
    assert out == target and sorted(p.name for p in target.parent.iterdir()) == ["card.html"]
    html = target.read_text(encoding="utf-8")
    for arm in ("email", "mail"):
        assert f"<h2>{arm} vs none: Candidates compared</h2>" in html
    assert len([t for t, h, _ in _tables(html) if h and h[0] == "candidate"]) == 2


def test_card_needs_a_fitted_model(tmp_path):
    from crmine.errors import NotFittedError

    with pytest.raises(NotFittedError):
        uplift_card(UpliftModel(), tmp_path / "card.html")
    assert not (tmp_path / "card.html").exists()


def test_cli_fit_writes_the_card(tmp_path):
    app = typer.Typer()
    app.add_typer(uplift_app, name="uplift")
    runner = CliRunner()
    frame = _frame(2000, seed=7)
    data = tmp_path / "test.csv"
    frame.to_csv(data, index=False)
    args = ["uplift", "fit", str(data), "--arm", "arm", "--control", "none", "--outcome", "bought",
            "--id", "customer_id", "--out", str(tmp_path / "m.joblib"), "--base", "linear",
            "--learner", "two_model"]
    card = tmp_path / "cards" / "card.html"
    r = runner.invoke(app, [*args, "--html", str(card)])
    assert r.exit_code == 0, r.output
    assert "Model card:" in r.output and card.is_file()
    html = card.read_text(encoding="utf-8")
    assert "Fitted on test.csv" in html and "cust_" not in html
    model = UpliftModel.load(tmp_path / "m.joblib")
    shown = _table(html, "candidate").set_index("candidate")
    for name, row in model.results_.xs("offer", level="arm").iterrows():
        assert _close(shown.loc[name, "Qini"], row.qini_mean)

    card2 = tmp_path / "card2.html"
    r = runner.invoke(app, [*args, "--html", str(card2), "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["card"] == str(card2) and card2.is_file()
    r = runner.invoke(app, args)  # no --html: no card
    assert r.exit_code == 0 and "Model card" not in r.output
    assert np.isfinite(model.results_["qini_mean"]).all()
