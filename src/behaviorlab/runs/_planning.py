"""Planning a run: every trial decided before any model is called."""

from __future__ import annotations

from typing import Any

from behaviorlab._registry import call_with_options, import_plugins
from behaviorlab.data._records import Dataset, stable_hash
from behaviorlab.models._base import Backend
from behaviorlab.models._cache import CallCache
from behaviorlab.runs._build import load_data, make_simulator, set_pricing
from behaviorlab.runs._chains import (
    Arm,
    LazyTrials,
    PlanChains,
    Tally,
    TrialSource,
    counted_planned,
    per_trial,
)
from behaviorlab.runs._conditions import conditions
from behaviorlab.runs._spec import ExperimentSpec, PartiesSpec, SpecError
from behaviorlab.runs._split import test_episodes_by_time, test_people
from behaviorlab.runs._types import Plan
from behaviorlab.simulators._base import Simulator
from behaviorlab.simulators._parties import PartySet
from behaviorlab.tasks._base import InteractiveTask, Task, Trial, tasks
from behaviorlab.tasks._parties import MultiPartyTask


def trial_id(
    task: str, simulator: str, condition: str, seed: int, key: str, parties: str | None = None
) -> str:
    """A stored trial's id: (task, simulator label, condition, seed, trial key), hashed; for a
    multi-party trial the hash of its role assignment (``parties``) joins them, so a trial of
    one party keeps the id it always had."""
    if parties is None:
        return stable_hash(task, simulator, condition, seed, key, length=24)
    return stable_hash(task, simulator, condition, seed, key, parties, length=24)


def assignment_hash(entry: PartiesSpec) -> str:
    """The hash of a ``parties:`` entry's role assignment (what changes answers: not its
    label, prices or endpoint speeds)."""
    roles = {
        role: spec.model_dump(mode="json", exclude={"pricing", "throughput"})
        for role, spec in sorted(entry.roles.items())
    }
    return stable_hash(roles)


def _party_sets(spec: ExperimentSpec, task: Task, cache: CallCache | None) -> list[PartySet]:
    """The simulators of every ``parties:`` entry, checked against the task's roles."""
    if not spec.parties:
        if isinstance(task, MultiPartyTask) and not isinstance(task, InteractiveTask):
            raise SpecError(
                f"task {spec.task!r} is played by several parties (roles: "
                f"{', '.join(task.roles)}): assign a simulator to each role under parties: "
                "instead of simulators:"
            )
        return []
    if not isinstance(task, MultiPartyTask):
        raise SpecError(
            f"task {spec.task!r} is played by one simulator: it has no roles, so parties: "
            "does not apply (list simulators: instead)"
        )
    if spec.simulators and not isinstance(task, InteractiveTask):
        raise SpecError(
            f"task {spec.task!r} is played by several parties only: move simulators: into "
            "parties: entries"
        )
    out: list[PartySet] = []
    shared: dict[str, Backend] = {}
    for i, entry in enumerate(spec.parties):
        missing = [r for r in task.roles if r not in entry.roles]
        unknown = [r for r in entry.roles if r not in task.roles]
        where = f"parties[{i}] ({entry.label!r})"
        if missing:
            raise SpecError(
                f"{where} leaves the role{'s' if len(missing) > 1 else ''} "
                f"{', '.join(map(repr, missing))} of task {spec.task!r} unassigned; its roles "
                f"are {', '.join(task.roles)}"
            )
        if unknown:
            raise SpecError(
                f"{where} assigns {', '.join(map(repr, unknown))}, not a role of task "
                f"{spec.task!r} (its roles: {', '.join(task.roles)})"
            )
        for role, role_spec in entry.roles.items():
            whole = [f for f in ("conditions", "subset") if getattr(role_spec, f) is not None]
            if whole:
                raise SpecError(
                    f"{where}, role {role!r}: {' and '.join(whole)} apply to a whole "
                    f"exchange, not to one role: move {'them' if len(whole) > 1 else 'it'} "
                    f"up to parties[{i}]"
                )
            if role_spec.throughput is not None:
                raise SpecError(
                    f"{where}, role {role!r}: throughput is not configured per role; leave "
                    "it out (behaviorlab plan SPEC --measure N times the whole exchange)"
                )
        parties: dict[str, Simulator] = {}
        for role in task.roles:
            role_spec = entry.roles[role]
            sim = make_simulator(role_spec.name, role_spec.options(), cache)
            if role_spec.pricing is not None:
                set_pricing(sim, role_spec.pricing)
            _share_model(sim, role_spec.options(), shared)
            parties[role] = sim
        out.append(PartySet(entry.label, parties))
    return out


def _share_model(sim: Simulator, options: dict[str, Any], shared: dict[str, Backend]) -> None:
    """Parties on the same local model (a weights file: its identity has a SHA-256) with the
    same backend settings and prices use one backend object: one copy of the model in
    memory, whose saved prompt states (``kv_slots``) serve every party (self-play, several
    debaters on one model). Other backends (HTTP endpoints, mocks, plugins' backends that may
    keep state per object) are never shared: each role keeps its own, as its spec says."""
    backend = getattr(sim, "backend", None)
    if not isinstance(backend, Backend):
        return
    identity = backend.identity()
    if identity.sha256 is None:
        return
    settings = {k: options.get(k) for k in ("backend", "model", "backend_options")}
    key = stable_hash(
        type(backend).__qualname__,
        identity.model_dump(mode="json"),
        settings,
        backend.pricing.model_dump(mode="json") if backend.pricing is not None else None,
    )
    if key in shared:
        sim.backend = shared[key]  # type: ignore[attr-defined]
    else:
        shared[key] = backend


def plan(spec: ExperimentSpec, cache: CallCache | None, *, dataset: Dataset | None = None) -> Plan:
    """Every trial of the spec, decided before any model is called: the spec's plugins
    imported, the task built, the data loaded and split, the simulators built and fitted on
    the training side, the conditions applied, the jobs in session-chain order. The jobs are
    not held: ``Plan.chains`` makes them chain by chain when iterated; planning counts them
    (and the split's sizes) by making the trials once and dropping them."""
    return _plan(spec, cache, dataset=dataset, counted=True)


def _plan(
    spec: ExperimentSpec, cache: CallCache | None, *, dataset: Dataset | None, counted: bool
) -> Plan:
    """:func:`plan`; ``counted=False`` (a Ray actor, which only answers the chains it is
    sent): nothing is counted, so ``planned``, ``split`` sizes and ``test_ids`` are empty."""
    import_plugins(spec.plugins)
    for cond in spec.conditions + [c for s in spec.simulators for c in s.conditions or []]:
        conditions.get(cond)  # unknown names fail before anything runs
    for i, p in enumerate(spec.parties):
        for cond in p.conditions or []:
            if cond not in conditions:
                raise SpecError(
                    f"parties[{i}] ({p.label!r}): unknown condition {cond!r}; known: "
                    f"{', '.join(conditions.names())}"
                )
    subsets = [s.subset for s in spec.simulators] + [p.subset for p in spec.parties]
    for subset in subsets:
        for cond in subset.max_steps_by_condition if subset else {}:
            conditions.get(cond)
    task: Task = call_with_options("task", spec.task, tasks.get(spec.task), **spec.task_options)
    if dataset is None:
        dataset = load_data(spec)
    split = spec.data.split
    people = test_people(dataset, split.test, split.seed) if split.by == "person" else set()
    test_eps = test_episodes_by_time(dataset, split.test) if split.by == "time" else set()
    sims = [make_simulator(s.name, s.options(), cache) for s in spec.simulators]
    for sim, sim_spec in zip(sims, spec.simulators, strict=True):
        if sim_spec.pricing is not None:
            set_pricing(sim, sim_spec.pricing)
    party_sets = _party_sets(spec, task, cache)
    labels = [s.label for s in sims] + [p.label for p in party_sets]
    dupes = sorted({x for x in labels if labels.count(x) > 1})
    if dupes:
        raise SpecError(f"two simulators share the label {dupes}; give one a distinct 'label:'")
    arms = [
        Arm(sim, list(s.conditions or []), s.subset, None)
        for sim, s in zip(sims, spec.simulators, strict=True)
    ]
    arms += [
        Arm(ps, list(p.conditions or []), p.subset, assignment_hash(p))
        for ps, p in zip(party_sets, spec.parties, strict=True)
    ]
    source = TrialSource(task, dataset, split, people, test_eps)

    def job_id(sim: Simulator, cond: str, seed: int, trial: Trial, parties: str | None) -> str:
        return trial_id(task.name, sim.label, cond, seed, trial.key, parties)

    made = PlanChains(source, list(spec.seeds), arms, list(spec.conditions), job_id, split.seed)
    chain_conds = sorted(
        {c for _, arm, c in made.sections() if source.by_episode and per_trial(c, arm.subset)}
    )
    test_ids: set[str] = set()
    task_info: dict[str, Any] = {}
    info: dict[str, Any] = {"by": split.by}
    tallies: dict[int, Tally] = {}
    per_cond: dict[int, dict[str, int]] = {}
    for seed in spec.seeds:
        if counted:
            tally, per_cond[seed] = source.tally(seed, chain_conds)
            tallies[seed] = tally
            if not tally.test:
                raise SpecError(f"the split (by: {split.by}) leaves no test trials")
            test_ids |= tally.test_people
            if seed == spec.seeds[0]:
                info.update(tally.info())
                if split.by != "data":
                    info.update(test=split.test, seed=split.seed)
                hook = getattr(task, "plan_info", None)  # an optional Task hook
                if callable(hook):
                    task_info = dict(hook(source.test(seed)))
        for arm in arms:
            sim = arm.simulator
            if counted and not tallies[seed].train and getattr(sim, "learns_from_people", False):
                raise SpecError(
                    f"simulator {sim.label!r} learns from training people, and the split "
                    f"(by: {split.by}, test: {split.test}) leaves none; use a test share "
                    "below 1 or leave this simulator out"
                )
            # the training trials are made only if this fit reads them (an LLM's does not)
            sim.fit(LazyTrials(lambda seed=seed: source.train(seed)))  # type: ignore[misc]
    planned = counted_planned(made, tallies, per_cond) if counted else 0
    source.forget()
    return Plan(spec, dataset, task, test_ids, [*sims, *party_sets], made, planned, info, task_info)
