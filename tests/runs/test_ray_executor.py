"""The Ray executor on a local Ray cluster started by this module: the same table as the local
executor, and a run cut short then finished under Ray has no duplicates."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import behaviorlab as bl
from behaviorlab.models._base import MissingExtraError
from behaviorlab.runs._lifecycle import run_async

COMPARED = ["trial_id", "simulator", "condition", "answer", "correct", "scores"]


def spec(executor: str = "ray") -> dict[str, Any]:
    return {
        "name": "onray",
        "data": {"source": "anes96", "target": "vote", "people": 24},
        "simulators": [
            {"name": "llm", "backend": "mock", "answer": "score"},
            {"name": "majority"},
            {"name": "knn_persona", "k": 5},
        ],
        "conditions": ["full", "shuffled_persona"],
        "executor": {"kind": executor, "workers": 2},
    }


def table(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[COMPARED].sort_values("trial_id").reset_index(drop=True)


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[None]:
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        yield
    finally:
        ray.shutdown()


@pytest.fixture(scope="module")
def local_table(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    out = tmp_path_factory.mktemp("local")
    return table(bl.run(spec("local"), out=out, progress=False).to_pandas())


@pytest.mark.slow
def test_ray_gives_the_local_table(
    ray_cluster: None, local_table: pd.DataFrame, runs_dir: Path
) -> None:
    run = bl.run(spec(), out=runs_dir, progress=False)
    assert run.summary is not None and run.summary.completed == len(local_table) == 12 * 6
    pd.testing.assert_frame_equal(table(run.to_pandas()), local_table)
    assert run.manifest["status"] == "finished"


@pytest.mark.slow
def test_cut_short_then_finished_under_ray(
    ray_cluster: None, local_table: pd.DataFrame, runs_dir: Path
) -> None:
    part = bl.run(spec(), out=runs_dir, progress=False, limit=7)
    assert len(part.to_pandas()) == 7
    # finish with the executor chosen at call time (the spec says local)
    summary = asyncio.run(run_async(spec("local"), out=runs_dir, executor="ray"))
    assert summary.already_done == 7 and summary.completed == len(local_table) - 7
    frame = bl.open_run("onray", out=runs_dir).to_pandas()
    assert frame["trial_id"].is_unique
    pd.testing.assert_frame_equal(table(frame), local_table)


def duel_spec(executor: str) -> dict[str, Any]:
    llm = {"name": "llm", "backend": "mock"}
    return {
        "name": "duelonray",
        "task": "game",
        "data": {
            "source": "games",
            "options": {"games": ["rps"], "partners": ["fixed"], "rounds": 3, "repeats": 4},
            "split": {"test": 1.0},
        },
        "parties": [{"label": "pair", "roles": {"player_1": llm, "player_2": llm}}],
        "executor": {"kind": executor, "workers": 2},
        "cache": False,
    }


@pytest.mark.slow
def test_a_multi_party_trial_is_played_in_one_worker(ray_cluster: None, tmp_path: Path) -> None:
    cols = ["trial_id", "answer_json", "scores", "calls"]
    local = bl.run(duel_spec("local"), out=tmp_path / "local", progress=False).to_pandas()
    run = bl.run(duel_spec("ray"), out=tmp_path / "ray", progress=False)
    frame = run.to_pandas()
    assert run.summary is not None and run.summary.completed == 4
    # every turn of a game came back with its trial: 3 rounds x 2 players x (predict, move)
    assert [len(m["turns"]) for m in frame["meta"]] == [12] * 4
    pd.testing.assert_frame_equal(
        frame[cols].sort_values("trial_id").reset_index(drop=True),
        local[cols].sort_values("trial_id").reset_index(drop=True),
    )


def test_without_ray_the_error_names_the_extra(
    monkeypatch: pytest.MonkeyPatch, runs_dir: Path
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray now raises ImportError
    with pytest.raises(MissingExtraError, match=r"pip install 'behaviorlab\[ray\]'"):
        bl.run(spec(), out=runs_dir, progress=False)
    assert not runs_dir.exists()  # refused before anything ran
