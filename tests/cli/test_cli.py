from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from behaviorlab.cli import app

runner = CliRunner()


def test_demo_on_mock_backend_ends_with_gap_table(runs_dir: Path) -> None:
    res = runner.invoke(
        app, ["demo", "--backend", "mock", "--people", "80", "--out", str(runs_dir)]
    )
    assert res.exit_code == 0, res.output
    out = res.output
    assert (runs_dir / "anes96-vote-mock" / "report.html").exists()
    for text in ("llm:mock-1", "majority", "knn_persona", "shuffled_persona", "noise floor"):
        assert text in out, text
    db = runs_dir / "anes96-vote-mock" / "results.sqlite"
    assert db.exists()
    # 40 test people: llm x 3 conditions + majority x 1 + knn x 2
    csv = runner.invoke(
        app, ["results", "anes96-vote-mock", "--out", str(runs_dir), "--format", "csv"]
    )
    assert csv.exit_code == 0, csv.output
    lines = csv.output.strip().splitlines()
    assert len(lines) == 1 + 40 * 6
    js = runner.invoke(
        app, ["results", "anes96-vote-mock", "--out", str(runs_dir), "--format", "json"]
    )
    assert len(json.loads(js.output)) == 240
    pq = runs_dir / "t.parquet"
    res = runner.invoke(
        app,
        [
            "results",
            "anes96-vote-mock",
            "--out",
            str(runs_dir),
            "--format",
            "parquet",
            "-o",
            str(pq),
        ],
    )
    assert res.exit_code == 0 and len(pd.read_parquet(pq)) == 240


def test_run_with_bad_spec_points_at_line(tmp_path: Path) -> None:
    spec = tmp_path / "exp.yaml"
    spec.write_text(
        "name: x\ndata:\n  source: anes96\n  people: -1\nsimulators: [{name: majority}]\n"
    )
    res = runner.invoke(app, ["run", str(spec), "--out", str(tmp_path / "runs")])
    assert res.exit_code == 2
    assert "exp.yaml:4: data.people" in res.output


def test_unknown_dataset_lists_valid_ones(tmp_path: Path) -> None:
    spec = tmp_path / "exp.yaml"
    spec.write_text("name: x\ndata: {source: anes69}\nsimulators: [{name: majority}]\n")
    res = runner.invoke(app, ["run", str(spec), "--out", str(tmp_path / "runs")])
    assert res.exit_code == 2
    assert "anes69" in res.output and "anes96" in res.output


def test_results_of_missing_run(tmp_path: Path) -> None:
    res = runner.invoke(app, ["results", "nothing", "--out", str(tmp_path)])
    assert res.exit_code == 2 and "no results" in res.output


def test_listings() -> None:
    for cmd, expected in (
        ("tasks", "survey"),
        ("simulators", "knn_persona"),
        ("models", "llamacpp"),
        ("datasets", "anes96"),
        ("conditions", "shuffled_persona"),
        ("metrics", "accuracy"),
    ):
        res = runner.invoke(app, [cmd])
        assert res.exit_code == 0, res.output
        assert expected in res.output, (cmd, res.output)


def test_an_error_with_brackets_is_printed_as_it_is(tmp_path: Path) -> None:
    # before: Rich read "[ray]" in an error as markup and dropped it
    spec = tmp_path / "spec.yaml"
    spec.write_text("name: s\ndata: {source: 'my[ray]data.csv'}\nsimulators: [{name: majority}]\n")
    res = CliRunner().invoke(app, ["run", str(spec), "--out", str(tmp_path / "runs")])
    assert res.exit_code == 2
    assert "my[ray]data.csv" in res.output


def test_report_resamples_are_bounded(tmp_path: Path) -> None:
    for cmd in (["gap", "x"], ["report", "x"], ["view"]):
        res = CliRunner().invoke(app, [*cmd, "--resamples", "10000000"])
        text = " ".join(res.output.replace("│", " ").split())
        assert res.exit_code == 2 and "Invalid value for '--resamples'" in text, (cmd, text)
        assert "less than or equal to 100000" in text
