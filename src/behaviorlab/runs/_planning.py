"""Planning a run: every trial decided before any model is called."""

from __future__ import annotations

from typing import Any

from behaviorlab._registry import call_with_options, import_plugins
from behaviorlab.data._records import Dataset, stable_hash
from behaviorlab.models._cache import CallCache
from behaviorlab.runs._build import load_data, make_simulator, set_pricing
from behaviorlab.runs._conditions import conditions
from behaviorlab.runs._executor import schedule
from behaviorlab.runs._spec import ExperimentSpec, SpecError
from behaviorlab.runs._split import apply_subset, split_trials, test_people
from behaviorlab.runs._types import Job, Plan
from behaviorlab.tasks._base import Task, tasks


def trial_id(task: str, simulator: str, condition: str, seed: int, key: str) -> str:
    """A stored trial's id: (task, simulator label, condition, seed, trial key), hashed."""
    return stable_hash(task, simulator, condition, seed, key, length=24)


def plan(spec: ExperimentSpec, cache: CallCache | None, *, dataset: Dataset | None = None) -> Plan:
    """Every trial of the spec, decided before any model is called: the spec's plugins
    imported, the task built, the data loaded and split, the simulators built and fitted on
    the training side, the conditions applied, the jobs in session-chain order."""
    import_plugins(spec.plugins)
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
                    tid = trial_id(task.name, sim.label, cond, seed, trial.key)
                    jobs.append(Job(tid, trial, sim, cond, seed))
    return Plan(spec, dataset, task, test_ids, sims, schedule(jobs), info)
