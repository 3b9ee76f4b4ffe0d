"""``behaviorlab report`` and ``behaviorlab view``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import behaviorlab as bl
from behaviorlab.cli import app

runner = CliRunner()

SPEC: dict[str, Any] = {
    "name": "cli-report",
    "task": "survey",
    "data": {"source": "synthetic-test", "split": {"test": 0.5, "seed": 0}},
    "simulators": [
        {"name": "llm", "backend": "mock", "answer": "score", "conditions": ["full"]},
        {"name": "majority"},
    ],
    "conditions": ["full"],
}


@pytest.fixture
def runs(runs_dir: Path) -> Path:
    bl.run(SPEC, out=runs_dir, progress=False)
    bl.run(SPEC | {"name": "cli-other", "seeds": [1]}, out=runs_dir, progress=False)
    return runs_dir


def test_report_writes_next_to_the_results(runs: Path) -> None:
    res = runner.invoke(app, ["report", "cli-report", "--out", str(runs), "--resamples", "100"])
    assert res.exit_code == 0, res.output
    html, md = runs / "cli-report" / "report.html", runs / "cli-report" / "report.md"
    assert f"report:  {html}" in res.output and f"summary: {md}" in res.output
    assert html.exists() and md.exists()


def test_report_to_another_folder_with_a_comparison(runs: Path, tmp_path: Path) -> None:
    out = tmp_path / "elsewhere"
    res = runner.invoke(
        app,
        [
            "report",
            "cli-report",
            "--compare",
            "cli-other",
            "--out",
            str(runs),
            "--output",
            str(out),
            "--resamples",
            "100",
        ],
    )
    assert res.exit_code == 0, res.output
    page = (out / "report.html").read_text(encoding="utf-8")
    assert '<section id="compare">' in page and "cli-other" in page
    assert not (runs / "cli-report" / "report.html").exists()


def test_report_of_an_unknown_run(runs: Path) -> None:
    res = runner.invoke(app, ["report", "nope", "--out", str(runs)])
    assert res.exit_code == 2
    assert "no results" in res.output and "cli-report" in res.output
    res = runner.invoke(app, ["report", "cli-report", "--compare", "nope", "--out", str(runs)])
    assert res.exit_code == 2 and "no results" in res.output


def test_view_serves_on_loopback_by_default(monkeypatch: pytest.MonkeyPatch, runs: Path) -> None:
    import uvicorn

    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append({"app": app, **kw}))
    res = runner.invoke(app, ["view", "--out", str(runs)])
    assert res.exit_code == 0, res.output
    assert "http://127.0.0.1:8765/" in res.output and "warning" not in res.output
    assert calls[0]["host"] == "127.0.0.1" and calls[0]["port"] == 8765
    assert calls[0]["app"].title == "behaviorlab viewer"


def test_view_warns_on_other_interfaces(monkeypatch: pytest.MonkeyPatch, runs: Path) -> None:
    import uvicorn

    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: None)
    res = runner.invoke(app, ["view", "--out", str(runs), "--host", "0.0.0.0", "--port", "9000"])
    assert res.exit_code == 0, res.output
    assert "no authentication" in res.output and "http://0.0.0.0:9000/" in res.output
