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
