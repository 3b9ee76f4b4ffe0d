"""The runner: plan every trial of an experiment, answer the missing ones, stream them to the
store.

Resumable by construction: a trial's id is a hash of (task, simulator, condition, seed, trial
key), every answered trial is committed on its own, and a rerun of the same spec skips the ids
already stored. A failing trial is a stored row with its error; the run goes on.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from behaviorlab._registry import call_with_options
from behaviorlab.data import load_dataset
from behaviorlab.data._records import Dataset, stable_hash
from behaviorlab.models._base import MissingExtraError
from behaviorlab.models._cache import CallCache
from behaviorlab.runs._conditions import conditions
from behaviorlab.runs._manifest import build_manifest, data_manifest
from behaviorlab.runs._spec import ExperimentSpec, SpecError, SplitSpec, SubsetSpec, load_spec
from behaviorlab.simulators._base import Answer, Simulator, simulators
from behaviorlab.store._schema import TrialResult
from behaviorlab.store._sqlite import ResultStore
from behaviorlab.tasks._base import InteractiveTask, Task, Trial, split_by_person, tasks
from behaviorlab.tasks._next_action import split_by_session

if TYPE_CHECKING:
    from behaviorlab.runs._plan import Estimate


@dataclass(frozen=True)
class Job:
    trial_id: str
    trial: Trial
    simulator: Simulator
    condition: str
    seed: int


@dataclass
class RunSummary:
    """What one invocation of the runner did."""

    run_id: str
    results_path: Path
    planned: int
    already_done: int = 0
    completed: int = 0
    failed: int = 0
    invalid: int = 0
    cache_hits: int = 0
    cache_misses: int = 0
    elapsed_s: float = 0.0
    by_simulator: dict[str, int] = field(default_factory=dict)


ProgressHook = Callable[[RunSummary, int], None]
"""Called after every stored trial with the summary so far and the number still to do."""


def test_people(dataset: Dataset, test_share: float, seed: int) -> set[str]:
    ids = sorted(dataset.persons)
    random.Random(stable_hash("split", seed)).shuffle(ids)
    n_test = max(1, round(len(ids) * test_share))
    if n_test >= len(ids):
        raise SpecError(f"split leaves no training people ({len(ids)} people, test={test_share})")
    return set(ids[:n_test])


def load_data(spec: ExperimentSpec) -> Dataset:
    d = spec.data
    opts: dict[str, Any] = dict(d.options)
    for key in ("target", "persona", "people", "mapping"):
        value = getattr(d, key)
        if value is not None:
            opts[key] = value
    opts.setdefault("seed", d.split.seed)
    return load_dataset(d.source, **opts)


def make_simulator(name: str, options: dict[str, Any], cache: CallCache | None) -> Simulator:
    factory = simulators.get(name)
    opts = dict(options)
    if cache is not None and "cache" in inspect.signature(factory).parameters:
        opts["cache"] = cache
    sim: Simulator = call_with_options("simulator", name, factory, **opts)
    return sim


@dataclass
class Plan:
    """Everything a run will do, decided before any model is called."""

    spec: ExperimentSpec
    dataset: Dataset
    task: Task
    test_ids: set[str]
    """People with test trials (stored with the run; the bootstrap resamples them)."""
    simulators: list[Simulator]
    jobs: list[Job]
    split: dict[str, Any] = field(default_factory=dict)
    """How the split was made and its sizes (recorded in the manifest)."""


NO_SPLIT_IN_DATA = "this dataset records no split; use split: {by: person}"


def test_episodes_by_time(dataset: Dataset, test_share: float) -> set[str]:
    """Within each person, the last ``test_share`` of their episodes by start time (ties: file
    order): at least one when they have two or more, never all; one-episode people stay in
    train."""
    by_person: dict[str, list[tuple[int, Any, str]]] = {}
    for order, ep in enumerate(dataset.episodes):
        start = ep.started_at or (ep.steps[0].timestamp if ep.steps else None)
        if start is None:
            raise SpecError(
                f"split by time: episode {ep.episode_id!r} has no start time (started_at or a "
                "first step with a timestamp); use split: {by: person} or {by: data}"
            )
        by_person.setdefault(ep.person_id, []).append((order, start, ep.episode_id))
    test: set[str] = set()
    for eps in by_person.values():
        if len(eps) < 2:
            continue
        eps.sort(key=lambda e: (e[1], e[0]))
        n_test = min(len(eps) - 1, max(1, round(len(eps) * test_share)))
        test.update(e[2] for e in eps[len(eps) - n_test :])
    return test


def split_trials(
    split: SplitSpec, dataset: Dataset, trials: list[Trial], test_people: set[str]
) -> tuple[list[Trial], list[Trial]]:
    """(train, test) trials by the spec's ``split.by`` (``test_people``: for ``by: person``)."""
    if split.by == "person":
        return split_by_person(trials, test_people)
    if split.by == "data":
        if not any(t.input.meta.get("split") in ("train", "test") for t in trials):
            raise SpecError(NO_SPLIT_IN_DATA)
        missing = sum(1 for t in trials if t.input.meta.get("split") not in ("train", "test"))
        if missing:
            raise SpecError(
                f"split by data: {missing} of {len(trials)} trials have no split "
                "(meta['split'] not 'train' or 'test'); use split: {by: person}"
            )
        return split_by_session(trials)
    test_eps = test_episodes_by_time(dataset, split.test)
    train = [t for t in trials if t.episode_id not in test_eps]
    test = [t for t in trials if t.episode_id in test_eps]
    return train, test


def apply_subset(
    trials: list[Trial], subset: SubsetSpec | None, condition: str, seed: int
) -> list[Trial]:
    """The slice of the test trials one simulator answers under one condition."""
    if subset is None:
        return trials
    people = sorted({t.person_id for t in trials})
    if subset.people is not None and subset.people < len(people):
        random.Random(stable_hash("subset", seed)).shuffle(people)
        chosen = set(people[: subset.people])
        trials = [t for t in trials if t.person_id in chosen]
    steps = subset.max_steps_by_condition.get(condition, subset.max_steps)
    if steps is None:
        return trials
    made: dict[str, int] = {}
    out: list[Trial] = []
    for t in sorted(trials, key=lambda t: (t.episode_id, t.step_index)):
        made[t.episode_id] = made.get(t.episode_id, 0) + 1
        if made[t.episode_id] <= steps:
            out.append(t)
    order = {id(t): i for i, t in enumerate(trials)}
    return sorted(out, key=lambda t: order[id(t)])


def plan(spec: ExperimentSpec, cache: CallCache | None, *, dataset: Dataset | None = None) -> Plan:
    for cond in spec.conditions + [c for s in spec.simulators for c in s.conditions or []]:
        conditions.get(cond)  # unknown names fail before anything runs
    for s in spec.simulators:
        for cond in s.subset.max_steps_by_condition if s.subset else {}:
            conditions.get(cond)
    task: Task = call_with_options("task", spec.task, tasks.get(spec.task), **spec.task_options)
    if dataset is None:
        dataset = load_data(spec)
    split = spec.data.split
    people = test_people(dataset, split.test, split.seed) if split.by == "person" else set()
    sims = [make_simulator(s.name, s.options(), cache) for s in spec.simulators]
    labels = [s.label for s in sims]
    dupes = sorted({x for x in labels if labels.count(x) > 1})
    if dupes:
        raise SpecError(f"two simulators share the label {dupes}; give one a distinct 'label:'")
    jobs: list[Job] = []
    test_ids: set[str] = set()
    info: dict[str, Any] = {"by": split.by}
    for seed in spec.seeds:
        train, test = split_trials(split, dataset, task.trials(dataset, seed=seed), people)
        if not test:
            raise SpecError(f"the split (by: {split.by}) leaves no test trials")
        test_ids |= {t.person_id for t in test}
        if seed == spec.seeds[0]:
            info.update(
                train_trials=len(train),
                test_trials=len(test),
                train_people=len({t.person_id for t in train}),
                test_people=len({t.person_id for t in test}),
                train_episodes=len({t.episode_id for t in train}),
                test_episodes=len({t.episode_id for t in test}),
            )
            if split.by != "data":
                info.update(test=split.test, seed=split.seed)
        for sim, sim_spec in zip(sims, spec.simulators, strict=True):
            sim.fit(train)
            for cond in sim_spec.conditions or spec.conditions:
                sliced = apply_subset(test, sim_spec.subset, cond, split.seed)
                for trial in conditions.get(cond)(sliced, seed=seed):
                    tid = stable_hash(task.name, sim.label, cond, seed, trial.key, length=24)
                    jobs.append(Job(tid, trial, sim, cond, seed))
    return Plan(spec, dataset, task, test_ids, sims, jobs, info)


def _result(job: Job, task: Task, answer: Answer, run_id: str, latency: float) -> TrialResult:
    trial = job.trial
    options = trial.input.observation.option_codes() or None
    scores: dict[str, float] = {}
    if answer.ok:
        scores = task.score(trial, answer)
    position = options.index(answer.choice) if options and answer.choice in options else None
    return TrialResult(
        run_id=run_id,
        trial_id=job.trial_id,
        task=task.name,
        simulator=job.simulator.label,
        condition=job.condition,
        seed=job.seed,
        person_id=trial.person_id,
        item_id=trial.item_id,
        episode_id=trial.episode_id,
        step_index=trial.step_index,
        prompt_hash=answer.prompt_hash,
        raw_output=answer.raw,
        answer=answer.choice,
        answer_json=answer.value,
        probabilities=answer.probabilities,
        samples=answer.samples,
        human_answer=task.human_answer(trial),
        options=options,
        answer_position=position,
        correct=scores.get("correct"),
        scores=scores,
        error=answer.error,
        error_kind=answer.error_kind,
        latency_s=latency,
        tokens_in=answer.tokens_in,
        tokens_out=answer.tokens_out,
        calls=answer.calls,
        cache_hits=answer.cache_hits,
        meta={
            **trial.input.meta,
            **answer.meta,
            **(
                {"human_rationale": trial.target_rationale.text}
                if trial.target_rationale is not None
                else {}
            ),
            **(
                {"human_click_type": trial.target.attributes["click_type"]}
                if trial.target.attributes.get("click_type") is not None
                else {}
            ),
        },
    )


async def _answer(job: Job, task: Task) -> tuple[Answer, float]:
    start = time.perf_counter()
    try:
        if isinstance(task, InteractiveTask):
            answer = await task.play(job.trial, job.simulator)
        else:
            answer = await job.simulator.answer(job.trial.input)
    except MissingExtraError:
        raise  # every trial would fail the same way: stop and print the pip line
    except Exception as exc:  # a simulator bug must not stop the run: store it
        answer = Answer(error=f"{type(exc).__name__}: {exc}", error_kind="backend")
    return answer, time.perf_counter() - start


async def execute(
    p: Plan,
    store: ResultStore,
    run_id: str,
    *,
    limit: int | None = None,
    on_progress: ProgressHook | None = None,
) -> RunSummary:
    done = store.done_ids(run_id)
    pending = [j for j in p.jobs if j.trial_id not in done]
    todo = pending if limit is None else pending[:limit]
    summary = RunSummary(
        run_id, store.path, planned=len(p.jobs), already_done=len(p.jobs) - len(pending)
    )
    queue: asyncio.Queue[Job] = asyncio.Queue()
    for job in todo:
        queue.put_nowait(job)
    remaining = len(todo)
    started = time.perf_counter()

    async def worker() -> None:
        nonlocal remaining
        while True:
            try:
                job = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            answer, latency = await _answer(job, p.task)
            result = _result(job, p.task, answer, run_id, latency)
            store.write(result)  # one writer: the event loop thread; committed before counted
            remaining -= 1
            summary.completed += 1
            summary.by_simulator[job.simulator.label] = (
                summary.by_simulator.get(job.simulator.label, 0) + 1
            )
            if answer.error_kind == "invalid":
                summary.invalid += 1
            elif answer.error is not None:
                summary.failed += 1
            summary.cache_hits += answer.cache_hits
            summary.cache_misses += answer.calls - answer.cache_hits
            summary.elapsed_s = time.perf_counter() - started
            if on_progress is not None:
                on_progress(summary, remaining)

    await asyncio.gather(*(worker() for _ in range(p.spec.concurrency)))
    summary.elapsed_s = time.perf_counter() - started
    return summary


def open_cache(spec: ExperimentSpec) -> CallCache | None:
    if spec.cache is False:
        return None
    if spec.cache is True:
        return CallCache()
    return CallCache(Path(spec.cache))


def results_path(spec: ExperimentSpec, out: Path) -> Path:
    return out / spec.name / "results.sqlite"


async def run_async(
    spec_source: str | Path | ExperimentSpec | dict[str, Any],
    *,
    out: str | Path = "runs",
    limit: int | None = None,
    on_progress: ProgressHook | None = None,
    on_plan: Callable[[Plan], None] | None = None,
    on_estimate: Callable[[Estimate], None] | None = None,
) -> RunSummary:
    """Run (or resume) an experiment; returns what this invocation did.

    ``on_estimate`` receives the plan's estimate (trials, model calls after cache hits,
    prompt tokens, and time from the latencies already stored for this run, if any) before
    the first trial is answered."""
    spec = load_spec(spec_source)
    out = Path(out)
    cache = open_cache(spec)
    p = plan(spec, cache)
    if on_plan is not None:
        on_plan(p)
    store = ResultStore(results_path(spec, out))
    run_id = spec.run_id()
    try:
        if on_estimate is not None:
            from behaviorlab.runs._plan import estimate_plan, throughput_from_store

            on_estimate(
                await estimate_plan(p, store=store, throughput=throughput_from_store(store, run_id))
            )
        store.start_run(run_id, spec.name, spec.model_dump(mode="json"))
        manifest = build_manifest(
            run_id=run_id,
            spec=spec.model_dump(mode="json"),
            spec_hash=spec.spec_hash(),
            dataset=data_manifest(p.dataset, len(p.test_ids)),
            simulators=[{"label": s.label, **s.identity()} for s in p.simulators],
            trials_planned=len(p.jobs),
        )
        manifest["split"] = p.split
        store.set_manifest(run_id, manifest)
        store.write_persons(
            run_id, ((pid, p.dataset.persons[pid].attributes) for pid in sorted(p.test_ids))
        )
        summary = await execute(p, store, run_id, limit=limit, on_progress=on_progress)
        complete = store.count(run_id) == len(p.jobs)
        store.finish_run(run_id, "finished" if complete else "partial")
        manifest["cache"] = {"hits": summary.cache_hits, "misses": summary.cache_misses}
        manifest["status"] = "finished" if complete else "partial"
        store.set_manifest(run_id, manifest)
        (store.path.parent / "manifest.json").write_text(
            json.dumps(manifest, indent=2, default=str)
        )
    finally:
        store.close()
        for sim in p.simulators:
            backend = getattr(sim, "backend", None)
            if backend is not None:
                await backend.aclose()
        if cache is not None:
            cache.close()
    return summary
