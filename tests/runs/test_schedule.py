"""Scheduling for prefix reuse: session chains in step order, whole chains per worker, a
serial model held for a whole chain, and resume with a chain cut short."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

import behaviorlab as bl
from behaviorlab.models import Backend, MockBackend
from behaviorlab.runs import load_spec
from behaviorlab.runs._executor import pending_chains
from behaviorlab.runs._lifecycle import execute
from behaviorlab.runs._planning import plan
from behaviorlab.runs._sessions import chains, schedule, session_key
from behaviorlab.simulators._base import Answer
from behaviorlab.store import ResultStore
from behaviorlab.tasks._base import TrialInput


def spec(name: str = "sched", **over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": name,
        "data": {"source": "synthetic-test", "split": {"test": 0.5, "seed": 0}},
        "simulators": [
            {"name": "llm", "backend": "mock", "answer": "score"},
            {"name": "majority"},
        ],
        "conditions": ["full", "no_persona"],
        "cache": False,
    }
    base.update(over)
    return base


@dataclass(frozen=True)
class _Sim:
    label: str


@dataclass(frozen=True)
class _Trial:
    episode_id: str
    step_index: int


@dataclass(frozen=True)
class _Job:
    trial_id: str
    trial: _Trial
    simulator: _Sim
    condition: str
    seed: int


def _job(tid: str, ep: str, step: int, sim: str = "a", cond: str = "full") -> _Job:
    return _Job(tid, _Trial(ep, step), _Sim(sim), cond, 0)


def test_chains_group_sessions_in_step_order() -> None:
    jobs = [
        _job("e1s1", "e1", 1),
        _job("e2s0", "e2", 0),
        _job("e1s0", "e1", 0),
        _job("e1s0-np", "e1", 0, cond="no_persona"),
        _job("e2s1", "e2", 1),
        _job("e1s2", "e1", 2),
    ]
    got = [[j.trial_id for j in c] for c in chains(jobs)]
    assert got == [["e1s0", "e1s1", "e1s2"], ["e2s0", "e2s1"], ["e1s0-np"]]
    assert [j.trial_id for j in schedule(jobs)] == [
        "e1s0",
        "e1s1",
        "e1s2",
        "e2s0",
        "e2s1",
        "e1s0-np",
    ]
    # stored trials are skipped; the limit cuts the last chain short
    pending = pending_chains(jobs, {"e1s0", "e2s1"}, limit=3)
    assert [[j.trial_id for j in c] for c in pending] == [["e1s1", "e1s2"], ["e2s0"]]
    assert pending_chains(jobs, {j.trial_id for j in jobs}) == []


def test_planned_jobs_run_session_after_session() -> None:
    p = plan(load_spec(spec()), None)
    keys = [session_key(j) for j in p.jobs]
    finished: set[tuple[str, str, int, str]] = set()
    for prev, key in itertools.pairwise(keys):
        if key != prev:
            finished.add(prev)
            assert key not in finished, f"session {key} is split"
    for a, b in zip(p.jobs, p.jobs[1:], strict=False):
        if session_key(a) == session_key(b):
            assert a.trial.step_index < b.trial.step_index
    # 20 test people x 2 simulators x 2 conditions sessions of 2 questions each
    assert len(set(keys)) == 20 * 2 * 2 and len(keys) == 20 * 2 * 2 * 2


def _flag(serial: bool) -> MockBackend:
    """A model that says whether it serves one call at a time (no calls are made)."""
    backend = MockBackend("flag", script=[])
    backend.serial = serial  # type: ignore[attr-defined]
    return backend


class _Recorder:
    """Answers after a short sleep and logs which session each answer started."""

    def __init__(self, label: str, backend: Backend, log: list[str]) -> None:
        self.label, self.backend, self.log = label, backend, log

    def fit(self, train: Any) -> None:
        pass

    async def answer(self, trial: TrialInput) -> Answer:
        self.log.append(trial.person_id)
        await asyncio.sleep(0.002)
        codes = trial.observation.option_codes() or ["x"]
        return Answer(choice=codes[0])

    def identity(self) -> dict[str, Any]:
        return {}


def _interleaved(log: list[str]) -> bool:
    """True when some session starts again after another one began (A, B, A)."""
    seen: set[str] = set()
    for prev, cur in itertools.pairwise(log):
        if cur != prev:
            if cur in seen:
                return True
            seen.add(prev)
    return False


def _run_recorded(tmp_path: Path, serial: bool) -> list[str]:
    p = plan(load_spec(spec(simulators=[{"name": "majority"}], conditions=["full"])), None)
    p.spec = p.spec.model_copy(update={"concurrency": 3})
    log: list[str] = []
    sim = _Recorder("rec", _flag(serial), log)
    p.simulators = [sim]
    p.jobs = [dataclasses.replace(j, simulator=sim) for j in p.jobs]
    store = ResultStore(tmp_path / f"{serial}.sqlite")
    store.start_run("r", "r", {})
    summary = asyncio.run(execute(p, store, "r"))
    assert summary.completed == store.count("r") == len(p.jobs) == 40
    store.close()
    return log


def test_a_serial_model_is_held_for_a_whole_chain(tmp_path: Path) -> None:
    held = _run_recorded(tmp_path, serial=True)
    assert not _interleaved(held)
    # a model serving calls in parallel is not held: three workers' chains interleave on it,
    # each worker still answering its own chain in step order
    parallel = _run_recorded(tmp_path, serial=False)
    assert _interleaved(parallel)
    assert sorted(parallel) == sorted(held)


VOLATILE = ["latency_s", "created_at", "cache_hits"]


def test_resume_after_a_chain_cut_short(runs_dir: Path, tmp_path: Path) -> None:
    whole = bl.run(spec(), out=tmp_path / "whole", progress=False).to_pandas()
    part = bl.run(spec(), out=runs_dir, progress=False, limit=5)  # 2 chains + 1 trial
    frame = part.to_pandas()
    assert len(frame) == 5
    episodes = frame.groupby(["simulator", "condition", "episode_id"]).size()
    assert sorted(episodes.tolist()) == [1, 2, 2]
    again = bl.run(spec(), out=runs_dir, progress=False)
    assert again.summary is not None and again.summary.completed == len(whole) - 5
    done = again.to_pandas()
    assert done["trial_id"].is_unique
    pd.testing.assert_frame_equal(
        done.drop(columns=VOLATILE).sort_values("trial_id").reset_index(drop=True),
        whole.drop(columns=VOLATILE).sort_values("trial_id").reset_index(drop=True),
    )
