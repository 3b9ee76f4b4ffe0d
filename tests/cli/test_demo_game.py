"""`behaviorlab demo game`: the packaged game demo on the mock backend (fast), and a small
slice of it with the bundled SmolLM2 (slow)."""

from __future__ import annotations

import asyncio
from importlib import resources
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from behaviorlab.cli import app
from behaviorlab.runs import open_run, run_async

runner = CliRunner()


def _demo_spec() -> dict[str, object]:
    text = resources.files("behaviorlab.families.game").joinpath("demo.yaml").read_text()
    spec: dict[str, object] = yaml.safe_load(text)
    return spec


def test_demo_game_on_mock_backend(runs_dir: Path) -> None:
    res = runner.invoke(app, ["demo", "game", "--backend", "mock", "--out", str(runs_dir)])
    assert res.exit_code == 0, res.output
    assert "behaviorlab demo game" in res.output and "regret" in res.output
    frame = open_run("game-demo-mock", out=runs_dir).to_pandas()
    assert set(frame["simulator"]) == {"llm:mock-1", "best_responder", "random_move", "first_move"}
    assert frame.groupby("simulator").size().tolist() == [6, 6, 6, 6]  # 6 of 8 games each
    assert frame["error"].isna().all()
    assert (frame.loc[frame["simulator"] == "llm:mock-1", "calls"] == 16).all()  # 8 rounds x 2
    report = (runs_dir / "game-demo-mock" / "report.html").read_text()
    assert "plot-game-learning" in report


@pytest.mark.slow
def test_demo_game_slice_with_bundled_model(runs_dir: Path) -> None:
    spec = _demo_spec()
    spec["name"] = "game-demo-slice"
    spec["data"] = {
        "source": "games",
        "options": {"games": ["rps", "ipd"], "partners": ["tit_for_tat"], "rounds": 2},
        "split": {"test": 0.5},
    }
    spec["simulators"] = [spec["simulators"][0], {"name": "best_responder"}]  # type: ignore[index]
    summary = asyncio.run(run_async(spec, out=runs_dir))
    assert summary.completed == 2 and summary.failed == 0 and summary.invalid == 0
    frame = open_run("game-demo-slice", out=runs_dir).to_pandas()
    llm = frame[frame["simulator"] == "llm:smollm2"].iloc[0]
    assert llm["calls"] == 4 and llm["error"] is None
    rounds = llm["answer_json"]["rounds"]
    moves = {"rps": {"rock", "paper", "scissors"}, "ipd": {"cooperate", "defect"}}[
        llm["answer_json"]["game"]
    ]
    assert all(r["move"] in moves and r["prediction"] in moves for r in rounds)
    assert 0.0 <= llm["scores"]["prediction_accuracy"] <= 1.0
