"""The HTML report: every section, one plotly.js, one div per plot, escaped raw output, and no
network references."""

from __future__ import annotations

import re

import pytest

from behaviorlab.report import ReportFiles, write_report
from behaviorlab.runs import Run

from .conftest import PAYLOAD, RESAMPLES

SECTIONS = (
    "headline",
    "metrics",
    "effects",
    "subgroups",
    "confusion",
    "distributions",
    "items",
    "position",
    "failures",
    "yardsticks",
    "manifest",
)


@pytest.fixture(scope="session")
def written(main_run: Run, tmp_path_factory: pytest.TempPathFactory) -> ReportFiles:
    return write_report(main_run, tmp_path_factory.mktemp("report"), n_resamples=RESAMPLES)


@pytest.fixture(scope="session")
def page(written: ReportFiles) -> str:
    return written.html.read_text(encoding="utf-8")


def test_writes_both_files_where_asked(written: ReportFiles) -> None:
    assert written.html.name == "report.html" and written.markdown.name == "report.md"
    assert written.html.stat().st_size > 1_000_000  # plotly.js is inside
    assert not list(written.html.parent.glob(".*.tmp"))  # atomic writes leave nothing behind


def test_default_folder_is_the_runs_folder(report_runs: dict[str, Run]) -> None:
    run = report_runs["rerun"]
    files = write_report(run, n_resamples=50)
    assert files.html == run.results_path.parent / "report.html"
    assert files.markdown.exists()


def test_every_section_is_present_and_in_the_contents(page: str) -> None:
    for sid in SECTIONS:
        assert f'<section id="{sid}">' in page, sid
        assert f'href="#{sid}"' in page, sid
    order = [page.index(f'<section id="{sid}">') for sid in SECTIONS]
    assert order == sorted(order)
    assert "<h1>behaviorlab report: syn-report</h1>" in page


def test_plot_count_is_what_the_page_says(page: str) -> None:
    n = int(re.search(r'data-plot-count="(\d+)"', page).group(1))  # type: ignore[union-attr]
    assert f'<meta name="behaviorlab-plots" content="{n}">' in page
    assert page.count('class="plotly-graph-div"') == n
    assert page.count("Plotly.newPlot(") == n
    assert page.count('<figure class="plot"') == n
    toc = sum(int(c) for c in re.findall(r'<span class="count" title="plots">(\d+)</span>', page))
    assert toc == n
    expected = ["plot-forest", "plot-effects", "plot-subgroups-survey", "plot-confusion-0"]
    expected += ["plot-item-0", "plot-item-1", "plot-scatter-survey", "plot-position-survey"]
    for plot_id in expected:
        assert f'id="{plot_id}"' in page, plot_id
    # two items with different options: two confusion figures; one figure per item
    assert n == len(expected) + 1 and 'id="plot-confusion-1"' in page
    ids = re.findall(r'<div id="([^"]+)" class="plotly-graph-div"', page)
    assert len(ids) == len(set(ids)) == n


def test_plotly_js_is_embedded_once_and_nothing_is_fetched(page: str) -> None:
    assert len(re.findall(r"plotly\.js v\d+\.\d+\.\d+", page)) == 1
    assert "<script src" not in page
    assert re.findall(r"<link[^>]*>", page) == [
        re.search(r'<link rel="icon" href="data:[^>]*>', page).group(0)
    ]  # type: ignore[union-attr]
    assert "@import" not in page and "@font-face" not in page
    assert not re.search(r"url\(\s*['\"]?https?:", page)
    assert 'src="http' not in page and "src='http" not in page


def test_raw_output_is_escaped(page: str) -> None:
    assert PAYLOAD not in page
    assert '<script>alert("pwned")' not in page
    assert (
        "&lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in page
    )
    failures = page[page.index('<section id="failures">') : page.index('<section id="yardsticks">')]
    assert 'class="code"' in failures and "invalid" in failures and "backend" in failures


def test_headline_reads_the_result(page: str) -> None:
    headline = page[page.index('<section id="headline">') : page.index('<section id="metrics">')]
    assert '<p class="lead">' in headline
    assert "syn-report had the LLM simulators llm:flaky and llm:mock-1" in headline
    assert "baseline" in headline and "real people from synthetic" in headline
    assert "Findings" in headline


def test_baselines_are_marked(page: str) -> None:
    metrics = page[page.index('<section id="metrics">') : page.index('<section id="effects">')]
    assert metrics.count('<tr class="baseline">') == 3  # majority, knn x 2
    assert "majority (baseline)" in page  # legend entry of the forest plot


def test_manifest_is_collapsible_pretty_json(page: str, main_run: Run) -> None:
    manifest = page[page.index('<section id="manifest">') :]
    assert "<details" in manifest and "<summary>manifest.json" in manifest
    assert f"&#34;run_id&#34;: &#34;{main_run.run_id}&#34;" in manifest


def test_sections_show_the_analysis(page: str) -> None:
    body = page[page.index("<body") :]  # plotly.js in the head has its own messages
    missing = [body[max(0, m.start() - 120) : m.end()] for m in re.finditer("not available", body)]
    assert not missing
    effects = page[page.index('<section id="effects">') : page.index('<section id="subgroups">')]
    assert "p (Holm)" in effects and "Holm&#39;s method" in effects
    subgroups = page[
        page.index('<section id="subgroups">') : page.index('<section id="confusion">')
    ]
    for attribute in ("age", "party"):
        assert f'<th class="num" scope="col">{attribute}</th>' in subgroups
    yardsticks = page[
        page.index('<section id="yardsticks">') : page.index('<section id="manifest">')
    ]
    assert "p (TOST)" in yardsticks and "No human ceiling" in yardsticks
