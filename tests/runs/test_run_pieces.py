"""Runs at scale (issue 21 §4): a run resumed in pieces (``limit``) stores exactly what one
run in one go stores, and a survey's plan holds one object for what its trials share (the
person, the question shown in one option order, its answer schema, one answer per code)."""

from __future__ import annotations

import asyncio
import contextlib
import csv
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

import behaviorlab as bl
from behaviorlab.data._records import stable_hash
from behaviorlab.runs import run_async
from behaviorlab.runs._build import load_data
from behaviorlab.runs._spec import load_spec
from behaviorlab.simulators._base import Answer, simulator
from behaviorlab.tasks._base import TrialInput, tasks

TIMING = ["latency_s", "created_at"]  # when and how fast, not what was answered


def _survey(folder: Path, people: int = 12, questions: int = 3) -> dict[str, object]:
    qcols = [f"q{i}" for i in range(questions)]
    with (folder / "s.csv").open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["rid", "age", *qcols])
        for i in range(people):
            out.writerow([f"r{i}", 20 + i, *[1 + (i + j) % 3 for j in range(questions)]])
    mapping = {
        "name": "pieces",
        "id_column": "rid",
        "persona": [{"column": "age", "template": "You are {value} years old."}],
        "questions": [
            {"column": c, "text": f"{c}?", "options": {1: "yes", 2: "no", 3: "maybe"}}
            for c in qcols
        ],
    }
    (folder / "m.yaml").write_text(yaml.safe_dump(mapping), encoding="utf-8")
    return {
        "name": "pieces",
        "data": {"source": str(folder / "s.csv"), "mapping": str(folder / "m.yaml")},
        "simulators": [{"name": "llm", "backend": "mock", "answer": "generate"}],
        "conditions": ["full", "no_persona"],
        "cache": False,
        "concurrency": 3,
    }


def _rows(results: Path) -> pd.DataFrame:
    frame = bl.open_run(results).to_pandas().drop(columns=TIMING)
    return frame.sort_values("trial_id").reset_index(drop=True)


def test_a_run_in_pieces_stores_what_one_run_stores(tmp_path: Path) -> None:
    spec = _survey(tmp_path)
    whole = asyncio.run(run_async(spec, out=tmp_path / "one"))
    assert whole.completed == whole.planned == 36  # 6 test people x 3 questions x 2 conditions
    done, pieces = 0, 0
    while done < whole.planned:
        part = asyncio.run(run_async(spec, out=tmp_path / "pieces", limit=7))
        assert part.already_done == done  # each piece resumes where the last stopped
        done += part.completed
        pieces += 1
    assert pieces == 6  # 7 + 7 + 7 + 7 + 7 + 1
    one, cut = _rows(whole.results_path), _rows(part.results_path)
    assert part.run_id == whole.run_id
    assert cut["trial_id"].is_unique and len(cut) == 36
    pd.testing.assert_frame_equal(one, cut)


def test_survey_trials_share_what_they_have_in_common(tmp_path: Path) -> None:
    spec = load_spec(_survey(tmp_path, people=40, questions=2))
    dataset = load_data(spec)
    trials = tasks.get("survey")().trials(dataset, seed=0)
    assert len(trials) == 80
    shown = {(t.item_id, tuple(t.input.observation.option_codes())) for t in trials}
    assert len({id(t.input.observation) for t in trials}) == len(shown) <= 2 * 6
    orders = {tuple(t.input.observation.option_codes()) for t in trials}
    assert len({id(t.input.answer_schema) for t in trials}) == len(orders)
    assert all(t.input.persona is t.person is dataset.persons[t.person_id] for t in trials)
    assert len({id(t.target) for t in trials}) == len({t.target.value for t in trials}) == 3
    # still what the task always made: the schema's enum in the shown order, the seed in meta
    t = trials[0]
    codes = t.input.observation.option_codes()
    assert t.input.answer_schema["properties"]["answer"]["enum"] == codes
    assert t.input.meta == {"option_order_seed": t.input.meta["option_order_seed"]}


class _Stops:
    """Answers by the person and item; cancels the run it is in after ``STOP[0]`` answers
    (what Ctrl-C does to ``asyncio.run``: the main task is cancelled mid-chain)."""

    label = "stops"

    def __init__(self) -> None:
        self.answered = 0

    def fit(self, train: object) -> None:
        pass

    async def answer(self, trial: TrialInput) -> Answer:
        self.answered += 1
        if STOP and self.answered > STOP[0]:
            STOP[1].cancel()
            await asyncio.sleep(3600)  # cancelled here, never answered
        codes = trial.observation.option_codes()
        return Answer(choice=codes[int(stable_hash(trial.person_id, trial.item_id), 16) % 3])

    def identity(self) -> dict[str, object]:
        return {"simulator": "stops"}


STOP: list[Any] = []


@simulator("test-stops-midway", replace=True)
def _stops() -> _Stops:
    return _Stops()


def test_a_run_interrupted_then_resumed_stores_what_one_run_stores(tmp_path: Path) -> None:
    spec = _survey(tmp_path, people=16, questions=3)
    spec.update(simulators=[{"name": "test-stops-midway"}], concurrency=3)
    spec["conditions"] = ["full", "shuffled_persona"]  # one per episode, one whole section
    STOP.clear()
    whole = asyncio.run(run_async(spec, out=tmp_path / "one"))
    assert whole.completed == whole.planned == 8 * 3 * 2

    async def cut_at(n: int) -> None:
        STOP[:] = [n, asyncio.current_task()]
        with contextlib.suppress(asyncio.CancelledError):
            await run_async(spec, out=tmp_path / "cut")

    stored = [0]
    for n in (5, 11, 29):  # cut in the first chains, the middle, the second condition
        asyncio.run(cut_at(n))
        now = bl.open_run(tmp_path / "cut" / "pieces" / "results.sqlite").to_pandas()
        assert stored[-1] < len(now) < whole.planned  # each cut kept what it had answered
        stored.append(len(now))
    STOP.clear()
    last = asyncio.run(run_async(spec, out=tmp_path / "cut"))
    assert last.already_done == stored[-1] and last.completed == whole.planned - stored[-1]
    one, cut = _rows(whole.results_path), _rows(last.results_path)
    assert last.run_id == whole.run_id and cut["trial_id"].is_unique
    pd.testing.assert_frame_equal(one, cut)
