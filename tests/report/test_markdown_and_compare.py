"""The Markdown summary, and two runs compared side by side (paired only when the trials
match)."""

from __future__ import annotations

import re

import pytest

from behaviorlab.report import write_report
from behaviorlab.report._markdown import anchor, md
from behaviorlab.runs import Run

from .conftest import PAYLOAD, RESAMPLES


@pytest.fixture(scope="session")
def summary(main_run: Run, tmp_path_factory: pytest.TempPathFactory) -> str:
    files = write_report(main_run, tmp_path_factory.mktemp("md"), n_resamples=RESAMPLES)
    return files.markdown.read_text(encoding="utf-8")


def test_markdown_has_every_section_and_links_the_page(summary: str) -> None:
    assert summary.startswith("# behaviorlab report: syn-report\n")
    for title in (
        "Headline",
        "Metrics with intervals",
        "Ablations and paired comparisons",
        "Subgroup gaps",
        "Confusion matrices",
        "Answer distributions per item",
        "Item-level agreement",
        "Position bias",
        "Failures and cache",
        "Yardsticks",
        "Manifest",
    ):
        assert f"\n## {title}\n" in summary, title
        assert f"(#{anchor(title)})" in summary
    n = int(re.search(r"The full report with (\d+) plots: \[report\.html\]", summary).group(1))  # type: ignore[union-attr]
    assert summary.count("_Plot in [report.html](report.html)") == n


def test_markdown_tables_and_manifest(summary: str, main_run: Run) -> None:
    assert "| simulator | condition | trials |" in summary
    assert re.search(r"\| llm:mock-1 \| full \| \d+ \|", summary)
    assert "majority (baseline)" in summary
    assert "```json\n{\n" in summary and f'"run_id": "{main_run.run_id}"' in summary


def test_markdown_escapes_raw_output(summary: str) -> None:
    assert "<script>" not in summary and "<b>" not in summary
    assert '&lt;script&gt;alert("pwned")&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;' in summary
    assert PAYLOAD not in summary


def test_md_escaping() -> None:
    assert md("a|b") == "a\\|b"
    assert md("*x* [y](z) `c`") == "\\*x\\* \\[y\\](z) \\`c\\`"
    assert md("line one\nline two") == "line one line two"
    assert md("knn_persona _x_") == "knn_persona \\_x\\_"
    assert md("# not a heading") == "\\# not a heading" and md("1. x") == "1\\. x"
    assert md("<img src=x onerror=alert(1)>") == "&lt;img src=x onerror=alert(1)&gt;"


def test_compare_same_trials_is_paired(
    report_runs: dict[str, Run], tmp_path_factory: pytest.TempPathFactory
) -> None:
    files = write_report(
        report_runs["main"],
        tmp_path_factory.mktemp("cmp-same"),
        compare=report_runs["rerun"],
        n_resamples=RESAMPLES,
    )
    page = files.html.read_text(encoding="utf-8")
    section = page[page.index('<section id="compare">') : page.index('<section id="effects">')]
    assert "<h2>Compared with syn-rerun</h2>" in section
    assert 'id="plot-compare"' in section
    assert "The runs share" in section and "paired bootstrap over people" in section
    assert re.search(r"paired \(\d+ trials\)", section)
    # the same spec and seed give the same answers: paired differences are exactly zero
    assert "+0.00 [0.00, 0.00]" in section
    assert "<h1>behaviorlab report: syn-report vs syn-rerun</h1>" in page
    summary = files.markdown.read_text(encoding="utf-8")
    assert "## Compared with syn-rerun" in summary and "| syn-rerun − syn-report |" in summary


def test_compare_different_trials_is_not_paired(
    report_runs: dict[str, Run], tmp_path_factory: pytest.TempPathFactory
) -> None:
    files = write_report(
        report_runs["main"],
        tmp_path_factory.mktemp("cmp-other"),
        compare=report_runs["other"],
        n_resamples=RESAMPLES,
    )
    page = files.html.read_text(encoding="utf-8")
    section = page[page.index('<section id="compare">') : page.index('<section id="effects">')]
    assert "share no trials" in section and "not paired" in section
    assert "paired (" not in section
    assert ">independent<" in section
    # both runs appear in the forest plot's legend
    assert '"name":"syn-report"' in section and '"name":"syn-other"' in section
