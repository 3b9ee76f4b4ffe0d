"""A plan streams its session chains (issue 21 §4): the jobs are made chain by chain as the run
takes them, never all at once; training trials are made only for a ``fit`` that reads them;
the chains, their trial ids and their order are those of one list of every job."""

from __future__ import annotations

import asyncio
import gc
from pathlib import Path
from typing import Any

from bl_survey import write_survey

import behaviorlab as bl
from behaviorlab.runs import run_async
from behaviorlab.runs._chains import LazyTrials
from behaviorlab.runs._conditions import conditions
from behaviorlab.runs._planning import plan, trial_id
from behaviorlab.runs._sessions import chains
from behaviorlab.runs._spec import load_spec
from behaviorlab.runs._types import Job
from behaviorlab.simulators._base import Answer, simulator
from behaviorlab.tasks._base import Trial, TrialInput, split_by_person


def _survey(folder: Path, people: int, questions: int, **over: Any) -> dict[str, Any]:
    write_survey(folder, people, questions, name="streams")
    spec: dict[str, Any] = {
        "name": "streams",
        "data": {"source": str(folder / "s.csv"), "mapping": str(folder / "m.yaml")},
        "simulators": [{"name": "llm", "backend": "mock", "answer": "generate"}],
        "conditions": ["full"],
        "cache": False,
    }
    spec.update(over)
    return spec


def _alive(kind: type) -> int:
    return sum(1 for o in gc.get_objects() if type(o) is kind)


class _Counting:
    """Answers the first option, and every 25th answer counts the jobs and trials alive."""

    def __init__(self, label: str = "counting") -> None:
        self.label = label
        self.answered = 0
        self.peak_jobs = 0
        self.peak_trials = 0
        self.fitted_on: LazyTrials | None = None

    def fit(self, train: Any) -> None:
        self.fitted_on = train if isinstance(train, LazyTrials) else None

    async def answer(self, trial: TrialInput) -> Answer:
        self.answered += 1
        if self.answered % 100 == 1:
            self.peak_jobs = max(self.peak_jobs, _alive(Job))
            self.peak_trials = max(self.peak_trials, _alive(Trial))
        return Answer(choice=trial.observation.option_codes()[0])

    def identity(self) -> dict[str, Any]:
        return {"simulator": "counting"}


SEEN: list[_Counting] = []


@simulator("test-counting-jobs", replace=True)
def _counting() -> _Counting:
    made = _Counting()
    SEEN.append(made)
    return made


def test_a_run_holds_the_chains_in_flight_not_every_job(tmp_path: Path) -> None:
    """200 test people x 5 questions: 1,000 jobs planned, at most a few chains alive."""
    spec = _survey(tmp_path, people=400, questions=5, simulators=[{"name": "test-counting-jobs"}])
    spec["concurrency"] = 2
    SEEN.clear()
    summary = asyncio.run(run_async(spec, out=tmp_path / "runs"))
    assert summary.planned == summary.completed == 1000
    sim = SEEN[0]
    assert sim.answered == 1000 and sim.peak_jobs > 0
    # two chains in flight (5 jobs each) and the one being made: never 1,000
    assert sim.peak_jobs <= 3 * 5, sim.peak_jobs
    assert sim.peak_trials <= 3 * 5, sim.peak_trials
    # its fit never read the training side: no training trial was made
    assert sim.fitted_on is not None and not sim.fitted_on.made


def _one_list(p: Any) -> list[str]:
    """What one list of every job gave before the plan streamed: the task's trials, split by
    person, each condition applied, grouped in sessions in order of first appearance."""
    expected: list[str] = []
    for seed in p.spec.seeds:
        _, test = split_by_person(p.task.trials(p.dataset, seed=seed), p.test_ids)
        for sim in p.simulators:
            for cond in p.spec.conditions:
                made = conditions.get(cond)(test, seed=seed)
                ids = [trial_id(p.task.name, sim.label, cond, seed, t.key) for t in made]
                jobs = [Job(i, t, sim, cond, seed) for i, t in zip(ids, made, strict=True)]
                expected += [j.trial_id for c in chains(jobs) for j in c]
    return expected


def test_the_chains_are_one_list_of_every_job_made_lazily(tmp_path: Path) -> None:
    spec = load_spec(
        _survey(
            tmp_path,
            people=30,
            questions=3,
            conditions=["full", "no_persona"],
            seeds=[0, 1],
            simulators=[
                {"name": "llm", "backend": "mock", "answer": "generate"},
                {"name": "majority"},
            ],
        )
    )
    p = plan(spec, None)
    expected = _one_list(p)
    first = [j.trial_id for c in p.chains for j in c]
    assert first == expected and len(first) == p.planned == 15 * 3 * 2 * 2 * 2
    assert [j.trial_id for c in p.chains for j in c] == first  # re-iterable, same order
    gc.collect()
    it = iter(p.chains)
    one = next(it)
    assert len(one) == 3 and _alive(Job) < 3 * 10  # one chain made, not the 360 jobs
    # a chain made on its own from its key (what a Ray actor does) is the same chain
    key = (one[0].simulator.label, one[0].condition, one[0].seed, one[0].trial.episode_id)
    assert [j.trial_id for j in p.chains.chain(key)] == [j.trial_id for j in one]
    assert p.chains.chain(("nobody", "full", 0, "x")) == []
    asyncio.run(p.aclose())


def test_a_fit_that_reads_the_training_side_gets_it() -> None:
    made: list[int] = []

    def make() -> list[Trial]:
        made.append(1)
        return []

    lazy = LazyTrials(make)
    assert not lazy.made and made == []
    assert len(lazy) == 0 and list(lazy) == [] and lazy.made and made == [1]


def test_a_ray_worker_makes_the_chain_it_is_sent_not_the_plan(tmp_path: Path) -> None:
    """The actor's class run in this process: it plans without counting, and answering a
    trial makes only that trial's session chain (the worker held every job before)."""
    from behaviorlab.runs._ray import SessionWorker
    from behaviorlab.runs._sessions import session_key

    spec = load_spec(_survey(tmp_path, people=200, questions=4))
    p = plan(spec, None)
    last = list(p.chains)[-1]
    key = session_key(last[0])
    expected = asyncio.run(run_async(spec, out=tmp_path / "runs")).results_path
    frame = bl.open_run(expected).to_pandas()
    stored = dict(zip(frame["trial_id"], frame["answer"], strict=True))
    asyncio.run(p.aclose())
    del p
    gc.collect()
    before = _alive(Job)
    worker = SessionWorker(spec.model_dump(mode="json"), str(Path.cwd()), {})
    try:
        assert worker.plan.planned == 0  # nothing counted, nothing made
        assert _alive(Job) == before
        for job in last:
            tid, data, _ = worker.answer(list(key), job.trial_id)
            assert tid == job.trial_id and data["choice"] == stored[tid]
        assert _alive(Job) - before == len(last) == 4  # that chain, not the plan's 400 jobs
    finally:
        worker.close()
