"""The runner: plan every trial of an experiment, answer the missing ones, stream them to the
store.

Resumable by construction: a trial's id is a hash of (task, simulator, condition, seed, trial
key), every answered trial is committed on its own, and a rerun of the same spec skips the ids
already stored. A failing trial is a stored row with its error; the run goes on. Trials are
answered session after session (see :mod:`behaviorlab.runs._executor`), here or on Ray
workers (:mod:`behaviorlab.runs._ray`); this process is always the one writer of the store.
"""

from __future__ import annotations

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
from behaviorlab.models._base import Backend, MissingExtraError, Pricing
from behaviorlab.models._cache import CallCache
from behaviorlab.runs._conditions import conditions
from behaviorlab.runs._executor import execute_local, pending_chains, schedule
from behaviorlab.runs._manifest import build_manifest, data_manifest
from behaviorlab.runs._spec import (
    ExecutorKind,
    ExperimentSpec,
    SpecError,
    SplitSpec,
    SubsetSpec,
    load_spec,
)
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
    tokens_in: int = 0
    """Prompt tokens of the trials answered now (calls served by the cache included)."""
    tokens_out: int = 0
    cost: float = 0.0
    """What the calls not served by the cache cost (see ``currency``)."""
    currency: str = "USD"

    def add(self, label: str, answer: Answer) -> None:
        """Count one stored trial."""
        self.completed += 1
        self.by_simulator[label] = self.by_simulator.get(label, 0) + 1
        if answer.error_kind == "invalid":
            self.invalid += 1
        elif answer.error is not None:
            self.failed += 1
        self.cache_hits += answer.cache_hits
        self.cache_misses += answer.calls - answer.cache_hits
        self.tokens_in += answer.tokens_in
        self.tokens_out += answer.tokens_out
        self.cost += answer.cost


ProgressHook = Callable[[RunSummary, int], None]
"""Called after every stored trial with the summary so far and the number still to do."""


def test_people(dataset: Dataset, test_share: float, seed: int) -> set[str]:
    ids = sorted(dataset.persons)
    random.Random(stable_hash("split", seed)).shuffle(ids)
    if test_share >= 1:
        return set(ids)  # everyone is tested; plan() refuses simulators that need training
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


def pricing_of(sim: Simulator) -> Pricing | None:
    """The token prices of a simulator's model (None: no model or unpriced)."""
    backend = getattr(sim, "backend", None)
    return backend.pricing if isinstance(backend, Backend) else None


def set_pricing(sim: Simulator, pricing: Pricing) -> None:
    """Price a simulator's model as its spec says (over the backend's own prices)."""
    backend = getattr(sim, "backend", None)
    if not isinstance(backend, Backend):
        raise SpecError(f"simulator {sim.label!r} calls no model: 'pricing' does not apply")
    backend.pricing = pricing
    inner = getattr(backend, "inner", None)
    if isinstance(inner, Backend):  # the call cache wraps the model
        inner.pricing = pricing


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
    for sim, sim_spec in zip(sims, spec.simulators, strict=True):
        if sim_spec.pricing is not None:
            set_pricing(sim, sim_spec.pricing)
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
            if not train and getattr(sim, "learns_from_people", False):
                raise SpecError(
                    f"simulator {sim.label!r} learns from training people, and the split "
                    f"(by: {split.by}, test: {split.test}) leaves none; use a test share "
                    "below 1 or leave this simulator out"
                )
            sim.fit(train)
            for cond in sim_spec.conditions or spec.conditions:
                sliced = apply_subset(test, sim_spec.subset, cond, split.seed)
                for trial in conditions.get(cond)(sliced, seed=seed):
                    tid = stable_hash(task.name, sim.label, cond, seed, trial.key, length=24)
                    jobs.append(Job(tid, trial, sim, cond, seed))
    return Plan(spec, dataset, task, test_ids, sims, schedule(jobs), info)


def result_row(job: Job, task: Task, answer: Answer, run_id: str, latency: float) -> TrialResult:
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
        cost=answer.cost,
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


async def answer_job(job: Job, task: Task) -> tuple[Answer, float]:
    """Answer one job (an interactive task plays it); a simulator's exception becomes a
    failed answer, except a missing optional package, which stops the run."""
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
    executor: ExecutorKind | None = None,
    address: str | None = None,
) -> RunSummary:
    """Answer the plan's trials not stored yet (at most ``limit``), session chain by chain,
    here or on Ray (``executor``, default: the spec's); each result is committed at once."""
    done = store.done_ids(run_id)
    work = pending_chains(p.jobs, done, limit)
    summary = RunSummary(
        run_id,
        store.path,
        planned=len(p.jobs),
        already_done=sum(1 for j in p.jobs if j.trial_id in done),
        currency=_currency([pricing_of(s) for s in p.simulators]),
    )
    started = time.perf_counter()
    kind = executor or p.spec.executor.kind
    if kind == "ray":
        from behaviorlab.runs._ray import execute_ray

        await execute_ray(
            p,
            store,
            run_id,
            summary,
            work,
            address=address or p.spec.executor.address,
            on_progress=on_progress,
        )
    else:
        await execute_local(p, store, run_id, summary, work, on_progress=on_progress)
    summary.elapsed_s = time.perf_counter() - started
    return summary


def _currency(prices: list[Pricing | None]) -> str:
    """The one currency of the priced models ('USD' when none is priced; 'mixed')."""
    found = {pr.currency for pr in prices if pr is not None}
    if len(found) > 1:
        return "mixed"
    return found.pop() if found else "USD"


def usage_totals(p: Plan, store: ResultStore, run_id: str) -> dict[str, Any]:
    """Tokens and cost of every stored trial of the run, in all and by simulator (for the
    manifest)."""
    by_sim = store.totals(run_id)
    prices = {s.label: pricing_of(s) for s in p.simulators}
    per: dict[str, Any] = {}
    for label, row in by_sim.items():
        price = prices.get(label)
        per[label] = {**row, "currency": price.currency if price is not None else "USD"}
    return {
        "trials": sum(int(r["trials"]) for r in by_sim.values()),
        "tokens_in": sum(int(r["tokens_in"]) for r in by_sim.values()),
        "tokens_out": sum(int(r["tokens_out"]) for r in by_sim.values()),
        "cost": sum(float(r["cost"]) for r in by_sim.values()),
        "currency": _currency(list(prices.values())),
        "by_simulator": per,
    }


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
    executor: ExecutorKind | None = None,
    address: str | None = None,
) -> RunSummary:
    """Run (or resume) an experiment; returns what this invocation did.

    ``executor`` / ``address``: answer the trials here (``"local"``) or on Ray workers
    (``"ray"``, on the cluster at ``address`` or a local one); default: the spec's
    ``executor``.

    ``on_estimate`` receives the plan's estimate (trials, model calls after cache hits,
    prompt tokens, and time from the latencies already stored for this run, if any) before
    the first trial is answered."""
    spec = load_spec(spec_source)
    if (executor or spec.executor.kind) == "ray":
        from behaviorlab.runs._ray import import_ray

        import_ray()  # a missing extra fails before anything runs
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
        summary = await execute(
            p,
            store,
            run_id,
            limit=limit,
            on_progress=on_progress,
            executor=executor,
            address=address,
        )
        complete = store.count(run_id) == len(p.jobs)
        store.finish_run(run_id, "finished" if complete else "partial")
        manifest["cache"] = {"hits": summary.cache_hits, "misses": summary.cache_misses}
        manifest["status"] = "finished" if complete else "partial"
        manifest["totals"] = usage_totals(p, store, run_id)
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
