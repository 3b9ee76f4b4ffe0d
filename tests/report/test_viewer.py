"""The local viewer: lists runs, builds a report on first request and when the results
changed, serves it from disk otherwise, and answers unknown runs with a helpful 404."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from behaviorlab.report._hosts import is_loopback
from behaviorlab.report._viewer import create_app
from behaviorlab.runs import Run

LOCAL = "http://127.0.0.1"


@pytest.fixture
def runs_copy(main_run: Run, tmp_path: Path) -> Path:
    """A runs folder with a copy of the main run (the viewer writes reports into it)."""
    root = tmp_path / "runs"
    shutil.copytree(main_run.results_path.parent, root / "syn-report")
    for leftover in (root / "syn-report").glob("report.*"):
        leftover.unlink()
    return root


@pytest.fixture
def client(runs_copy: Path) -> TestClient:
    return TestClient(create_app(runs_copy, n_resamples=100), base_url=LOCAL)


def test_lists_runs_as_html_and_json(client: TestClient, main_run: Run) -> None:
    res = client.get("/")
    assert res.status_code == 200 and res.headers["content-type"].startswith("text/html")
    assert '<a href="/runs/syn-report">syn-report</a>' in res.text
    assert main_run.run_id in res.text and "finished" in res.text
    runs = client.get("/api/runs").json()
    assert runs == [
        {
            "name": "syn-report",
            "run_id": main_run.run_id,
            "status": "finished",
            "trials": len(main_run.to_pandas()),
            "created_at": runs[0]["created_at"],
            "report": "missing",
            "url": "/runs/syn-report",
        }
    ]
    assert client.get("/api/runs/syn-report").json()["run_id"] == main_run.run_id


def test_report_is_built_once_and_rebuilt_when_results_change(
    client: TestClient, runs_copy: Path
) -> None:
    res = client.get("/runs/syn-report")
    assert res.status_code == 200
    assert '<section id="headline">' in res.text and "Plotly.newPlot(" in res.text
    html = runs_copy / "syn-report" / "report.html"
    assert html.exists() and (runs_copy / "syn-report" / "report.md").exists()
    assert client.get("/api/runs").json()[0]["report"] == "ready"
    built = html.stat().st_mtime_ns
    assert client.get("/runs/syn-report").text == res.text  # served from disk
    assert html.stat().st_mtime_ns == built
    # new results (a later mtime on the results file): stale, rebuilt on the next request
    later = time.time() + 5
    os.utime(runs_copy / "syn-report" / "results.sqlite", (later, later))
    assert client.get("/api/runs").json()[0]["report"] == "stale"
    assert client.get("/runs/syn-report").status_code == 200
    assert html.stat().st_mtime_ns != built
    md = client.get("/runs/syn-report/report.md")
    assert md.status_code == 200 and md.text.startswith("# behaviorlab report: syn-report")


def test_unknown_run_is_a_helpful_404(client: TestClient) -> None:
    for url in ("/runs/nope", "/runs/nope/report.md", "/api/runs/nope"):
        res = client.get(url)
        assert res.status_code == 404, url
        text = res.text
        assert "No run &#39;nope&#39;" in text or "No run 'nope'" in text, url
        assert "syn-report" in text and "behaviorlab run SPEC" in text, url
    # a path out of the runs folder is just another unknown name
    assert client.get("/runs/..%2F..%2Fetc").status_code == 404


def test_empty_runs_folder(tmp_path: Path) -> None:
    client = TestClient(create_app(tmp_path / "nothing-here"), base_url=LOCAL)
    res = client.get("/")
    assert res.status_code == 200 and "runs there: none" in res.text
    assert client.get("/api/runs").json() == []


def test_loopback_hosts() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.2")
    assert not is_loopback("example.org")


@pytest.mark.parametrize("damage", ["empty", "garbage"])
def test_a_broken_run_shows_its_error_and_the_others_are_served(
    runs_copy: Path, damage: str
) -> None:
    broken = runs_copy / "broken-run"
    broken.mkdir()
    results = broken / "results.sqlite"
    if damage == "empty":
        results.write_bytes(b"")
    else:
        good = (runs_copy / "syn-report" / "results.sqlite").read_bytes()
        results.write_bytes(b"\x89PNG\r\n\x1a\n" + good[8:])
    client = TestClient(create_app(runs_copy, n_resamples=100), base_url=LOCAL)
    listed = {r["name"]: r for r in client.get("/api/runs").json()}
    assert listed["syn-report"]["status"] == "finished"
    status = listed["broken-run"]["status"]
    assert status.startswith("unreadable:") and str(results) in status and "--restart" in status
    page = client.get("/runs/broken-run")
    assert page.status_code == 409 and "is not a usable behaviorlab store" in page.text
    md = client.get("/runs/broken-run/report.md")
    assert md.status_code == 409 and str(results) in md.text and "--restart" in md.text
    assert client.get("/runs/syn-report").status_code == 200
    assert client.get("/runs/syn-report/report.md").status_code == 200
    assert results.read_bytes()[:8] in (b"", b"\x89PNG\r\n\x1a\n")  # left as it was


def test_every_page_refuses_another_host_name(runs_copy: Path) -> None:
    """A DNS-rebinding page (another Host) cannot read the runs or their reports."""
    client = TestClient(create_app(runs_copy, n_resamples=100), base_url=LOCAL)
    assert client.get("/api/runs").status_code == 200
    for path in ("/", "/api/runs", "/runs/anything"):
        refused = client.get(path, headers={"host": "attacker.example"})
        assert refused.status_code == 400, path
        assert "attacker.example" in refused.text
