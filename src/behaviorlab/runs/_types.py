"""What a run is made of: jobs, the plan, the summary of one invocation."""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from behaviorlab.data._records import Dataset
from behaviorlab.models._base import Pricing
from behaviorlab.runs._spec import ExperimentSpec
from behaviorlab.simulators._base import Answer, Simulator
from behaviorlab.tasks._base import Task, Trial


class Chains(Protocol):
    """A plan's session chains: re-iterable, and one chain made on its own by its key."""

    def __iter__(self) -> Iterator[list[Job]]: ...

    def chain(self, key: tuple[str, str, int, str]) -> list[Job]:
        """The chain of (simulator label, condition, seed, episode); [] if none."""
        ...


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


@dataclass
class Plan:
    """Everything a run will do, decided before any model is called."""

    spec: ExperimentSpec
    dataset: Dataset
    task: Task
    test_ids: set[str]
    """People with test trials (stored with the run; the bootstrap resamples them)."""
    simulators: list[Simulator]
    chains: Chains
    """The session chains, in the order they run: made when iterated (seed → arm →
    condition → episode), not held; iterating again gives the same chains."""
    planned: int
    """How many jobs iterating ``chains`` gives (counted while planning)."""
    split: dict[str, Any] = field(default_factory=dict)
    """How the split was made and its sizes (recorded in the manifest)."""
    task_info: dict[str, Any] = field(default_factory=dict)
    """What the task measured on the test trials it made (its optional ``plan_info(trials)``
    hook, e.g. next_action's target survival), recorded in the manifest as ``task_info``."""

    @property
    def jobs(self) -> list[Job]:
        """Every job, in the order they run, made at once: for small plans and tests (a
        run iterates ``chains`` instead, which holds one chain at a time)."""
        return [job for chain in self.chains for job in chain]

    @jobs.setter
    def jobs(self, jobs: list[Job]) -> None:
        from behaviorlab.runs._sessions import FixedChains

        self.chains = FixedChains(jobs)
        self.planned = len(jobs)

    async def aclose(self) -> None:
        """Release every model the plan holds: each simulator's (a set of parties': each
        party's), each backend once however many share it, and the task's own (a task that
        holds a model, such as a judge, has an ``async aclose()``). Everything is closed even
        when one close fails; the first failure is raised after."""
        from behaviorlab.runs._build import members

        seen: set[int] = set()
        closes: list[Callable[[], Awaitable[None]]] = []
        for one in (m for sim in self.simulators for m in members(sim)):
            backend = getattr(one, "backend", None)
            if callable(getattr(backend, "aclose", None)) and id(backend) not in seen:
                seen.add(id(backend))
                closes.append(backend.aclose)  # type: ignore[union-attr]
        task_close = getattr(self.task, "aclose", None)
        if callable(task_close):
            closes.append(task_close)
        failure: Exception | None = None
        for close in closes:
            try:
                await close()
            except Exception as exc:  # close the others first
                failure = failure or exc
        if failure is not None:
            raise failure


def currency_of(prices: list[Pricing | None]) -> str:
    """The one currency of the priced models ('USD' when none is priced; 'mixed')."""
    found = {pr.currency for pr in prices if pr is not None}
    if len(found) > 1:
        return "mixed"
    return found.pop() if found else "USD"


def trials_per_label(plan: Plan) -> Counter[str]:
    """How many trials each simulator label has in ``plan``, counted chain by chain as the
    chains are made (never holding every job: ``behaviorlab plan`` at a million trials)."""
    counts: Counter[str] = Counter()
    for chain in plan.chains:
        for job in chain:
            counts[job.simulator.label] += 1
    return counts
