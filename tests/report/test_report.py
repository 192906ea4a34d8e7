import re
import shutil
import subprocess

import pytest

import crmine
from crmine.datasets import simulate
from crmine.report import ReportNamespace, build_report

FULL = ["Headline KPIs", "Data quality", "RFM segments", "Behavioural segments",
        "Cohort retention and survival", "Concentration of value", "Customer lifetime value",
        "Churn model card", "Target lists"]
CHARTS = {"quality": 1, "rfm": 2, "segments": 1, "retention": 2, "pareto": 1, "clv": 2, "churn": 4}
ANALYSES = ["RFM segments", "Behavioural segments", "Customer lifetime value", "Churn model card",
            "Target lists"]
CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="module")
def full(tmp_path_factory):
    root = tmp_path_factory.mktemp("full")
    simulate(1500, seed=3, out_dir=root)
    ws = crmine.init(root)
    ws.ingest.run()
    ws.identity.resolve()
    ws.customers.build()
    ws.customers.rfm()
    ws.segments.fit(seed=0)
    ws.clv.fit()
    ws.clv.score()
    ws.models.fit(candidates=("logistic",))
    ws.models.score()
    ws.models.target(top_n=100)
    path = build_report(ws)
    yield ws, path, path.read_text(encoding="utf-8")
    ws.close()


@pytest.fixture(scope="module")
def ingested(tmp_path_factory):
    root = tmp_path_factory.mktemp("ingested")
    simulate(200, seed=5, out_dir=root)
    ws = crmine.init(root)
    ws.ingest.run()
    html = ReportNamespace(ws).build(root / "only-ingested.html").read_text(encoding="utf-8")
    yield html
    ws.close()


def _sections(html):
    return dict(re.findall(r'<section id="([a-z]+)">(.*?)</section>', html, flags=re.S))


def test_build_report_writes_dated_file_in_reports(full):
    ws, path, _ = full
    assert path.parent == ws.root / "reports"
    assert re.fullmatch(r"report-\d{4}-\d{2}-\d{2}\.html", path.name)
    assert path.is_file()


def test_build_report_has_every_section_and_toc(full):
    html = full[2]
    for title in FULL:
        assert f"<h2>{title}</h2>" in html
    for sid in _sections(html):
        assert f'href="#{sid}"' in html


def test_build_report_is_offline(full):
    html = full[2]
    assert html.count("<script type=\"text/javascript\">") == 1
    assert html.count("plotly.js v") == 1  # the bundle's banner: embedded once
    assert not re.search(r"<script[^>]*\bsrc\s*=", html)
    assert "cdn.plot.ly" not in html.split("</head>", 1)[1]


def test_build_report_one_plot_per_chart(full):
    sections = _sections(full[2])
    for sid, n in CHARTS.items():
        assert sections[sid].count('class="plotly-graph-div"') == n, sid
    for sid in ("kpis", "targets"):
        assert "plotly-graph-div" not in sections[sid]


def test_build_report_shows_no_customer_id(full):
    html = full[2]
    assert not re.search(r"U[0-9a-f]{12}", html)
    assert not re.search(r"C\d{7}", html)  # source customer numbers either


def test_build_report_formats_thousands(full):
    kpis = _sections(full[2])["kpis"]
    assert re.search(r'class="v">\d{1,3}(,\d{3})+<', kpis)


def test_build_report_without_analyses_leaves_sections_out(ingested):
    for title in ("Headline KPIs", "Data quality", "Cohort retention and survival"):
        assert f"<h2>{title}</h2>" in ingested
    for title in ANALYSES:
        assert title not in ingested
    assert set(_sections(ingested)) == {"kpis", "quality", "retention", "pareto"}


@pytest.mark.skipif(not shutil.which(CHROMIUM), reason=f"{CHROMIUM} not installed: no headless render")
def test_build_report_renders_in_headless_chromium(full, tmp_path):
    shot = tmp_path / "shot.png"
    subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={shot}", "--window-size=1400,4000",
         full[1].as_uri()],
        check=True, timeout=120, capture_output=True,
    )
    assert shot.is_file() and shot.stat().st_size > 10_000
    # After the page's JavaScript ran, plotly marks every chart it drew with "js-plotly-plot":
    # every plot div of the file must have been drawn (a script error would leave some undrawn).
    dom = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         f"--user-data-dir={tmp_path / 'profile2'}", "--virtual-time-budget=10000", "--dump-dom",
         full[1].as_uri()],
        check=True, timeout=120, capture_output=True, text=True,
    ).stdout
    source = full[1].read_text(encoding="utf-8")
    planned = len(re.findall(r'class="plotly-graph-div"', source))
    drawn = len(re.findall(r'class="plotly-graph-div js-plotly-plot"', dom))
    assert planned >= 8 and drawn == planned, (planned, drawn)


def test_report_surface():
    import crmine.report

    assert sorted(crmine.report.__all__) == ["ReportNamespace", "build_model_card", "build_report"]


def _step(step, status, detail=""):
    return {"step": step, "status": status, "rows": None, "seconds": 0.0, "detail": detail}


def test_build_report_leaves_out_what_the_last_run_skipped_or_failed(full, monkeypatch, tmp_path):
    import crmine.pipeline

    ws = full[0]
    monkeypatch.setattr(crmine.pipeline, "last_run", lambda w: [
        _step("rfm", "up to date"), _step("segments", "ok"),
        _step("clv", "skipped", "needs repeat purchases: 3 of 90 customers bought on more than one day"),
        _step("churn", "failed", "ValueError: model server on fire"), _step("targets", "skipped", "needs churn"),
    ])
    html = build_report(ws, path=tmp_path / "run.html").read_text(encoding="utf-8")
    sections = _sections(html)
    # Their tables are in the warehouse, from before: the last run's word decides.
    assert {"clv", "churn", "targets"}.isdisjoint(sections)
    assert "total 12-month CLV" not in sections["kpis"]
    assert {"kpis", "quality", "rfm", "segments", "retention", "pareto", "leftout"} <= set(sections)
    rows = re.findall(r"<tr><td[^>]*>(\w+)</td><td[^>]*>([\w ]+)</td><td[^>]*>(.*?)</td></tr>", sections["leftout"])
    assert rows == [("clv", "skipped", "needs repeat purchases: 3 of 90 customers bought on more than one day"),
                    ("churn", "failed", "ValueError: model server on fire"), ("targets", "skipped", "needs churn")]
    assert 'href="#leftout"' in html


def test_build_report_without_a_run_has_no_left_out_section(full):
    assert "leftout" not in _sections(full[2])


def test_build_report_lists_a_section_that_broke_and_draws_the_rest(full, monkeypatch, tmp_path):
    from crmine.report import _build

    def broken(ws, wh, hide):
        raise RuntimeError("no such column: spend")

    monkeypatch.setattr(_build, "SECTIONS", tuple(
        (sid, step, broken if sid == "pareto" else build) for sid, step, build in _build.SECTIONS))
    sections = _sections(build_report(full[0], path=tmp_path / "broken.html").read_text(encoding="utf-8"))
    assert "pareto" not in sections and "clv" in sections
    assert "RuntimeError: no such column: spend" in sections["leftout"]


def test_build_report_on_an_empty_warehouse_and_on_guest_lines_only(tmp_path):
    import pandas as pd

    (tmp_path / "crmine.toml").write_text('[workspace]\nengine = "duckdb"\n', encoding="utf-8")
    ws = crmine.open(tmp_path)  # no canonical table at all
    assert _sections(build_report(ws).read_text(encoding="utf-8")) == {}
    ws.warehouse.write("transactions", pd.DataFrame({
        "order_id": ["1", "2"], "customer_id": pd.Series([None, None], dtype="string"),
        "ts": pd.to_datetime(["2024-01-01", "2024-01-02"]), "amount": [5.0, 7.5], "is_return": [False, False]}))
    sections = _sections(build_report(ws).read_text(encoding="utf-8"))
    assert set(sections) == {"kpis"}  # guest purchases count in the totals, in no per-customer view
    ws.close()
