"""Scheduling for prefix reuse: trials in session chains, and the local executor.

A *session* is one simulator answering one episode under one condition and seed: its trials
share the persona and a growing history, so their prompts share a prefix. The runner answers a
session's trials consecutively in step order (a *chain*), and with ``concurrency`` > 1 each
worker takes a whole chain at a time. On a model that serves one call at a time in this
process (the embedded llama.cpp backend), a worker also holds the model for its whole chain,
so one session's calls are never interleaved with another's and the KV cache of the shared
prefix is reused; endpoints that serve calls in parallel are not held (their server caches
prefixes itself).

Resume is unchanged: a chain's trials already stored are skipped, each trial is committed on
its own as soon as it is answered, so a crash loses at most the trials in flight.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, Protocol, TypeVar

from behaviorlab.models._base import Backend, MissingExtraError
from behaviorlab.simulators._base import Answer, Simulator
from behaviorlab.tasks._base import InteractiveTask, Task, Trial
from behaviorlab.tasks._parties import MultiPartyTask

if TYPE_CHECKING:
    from behaviorlab.runs._types import Job, Plan, ProgressHook, RunSummary
    from behaviorlab.store._sqlite import ResultStore


class _Schedulable(Protocol):
    @property
    def trial_id(self) -> str: ...
    @property
    def trial(self) -> Trial: ...
    @property
    def simulator(self) -> Simulator: ...
    @property
    def condition(self) -> str: ...
    @property
    def seed(self) -> int: ...


JobT = TypeVar("JobT", bound=_Schedulable)

SessionKey = tuple[str, str, int, str]


async def play_trial(task: Task, trial: Trial, sim: Simulator) -> Answer:
    """One trial answered: a set of parties plays it with the task (``play_parties``), an
    interactive task plays it against the simulator, any other is answered by it."""
    parties = getattr(sim, "parties", None)
    if isinstance(parties, dict):
        if not isinstance(task, MultiPartyTask):
            raise TypeError(f"task {task.name!r} has no roles; {sim.label!r} is a set of parties")
        return await task.play_parties(trial, parties)
    if isinstance(task, InteractiveTask):
        return await task.play(trial, sim)
    return await sim.answer(trial.input)


async def answer_job(job: Job, task: Task) -> tuple[Answer, float]:
    """Answer one job (:func:`play_trial`); a simulator's exception becomes a failed answer,
    except a missing optional package, which stops the run."""
    start = time.perf_counter()
    try:
        answer = await play_trial(task, job.trial, job.simulator)
    except MissingExtraError:
        raise  # every trial would fail the same way: stop and print the pip line
    except Exception as exc:  # a simulator bug must not stop the run: store it
        answer = Answer(error=f"{type(exc).__name__}: {exc}", error_kind="backend")
    return answer, time.perf_counter() - start


def session_key(job: _Schedulable) -> SessionKey:
    """(simulator label, condition, seed, episode): the trials that share a prompt prefix."""
    return (job.simulator.label, job.condition, job.seed, job.trial.episode_id)


def chains(jobs: Sequence[JobT]) -> list[list[JobT]]:
    """Jobs grouped by session, sessions in order of first appearance, each in step order."""
    groups: dict[SessionKey, list[JobT]] = {}
    for job in jobs:
        groups.setdefault(session_key(job), []).append(job)
    return [sorted(g, key=lambda j: j.trial.step_index) for g in groups.values()]


def schedule(jobs: Sequence[JobT]) -> list[JobT]:
    """The jobs in the order they are answered: session after session, each in step order."""
    return [job for chain in chains(jobs) for job in chain]


def pending_chains(
    jobs: Sequence[JobT], done: set[str], limit: int | None = None
) -> list[list[JobT]]:
    """The chains still to answer: stored trials skipped, at most ``limit`` trials in all
    (the last chain cut short when needed; a rerun finishes it)."""
    out: list[list[JobT]] = []
    n = 0
    for chain in chains(jobs):
        rest = [j for j in chain if j.trial_id not in done]
        if limit is not None:
            rest = rest[: max(0, limit - n)]
        if rest:
            out.append(rest)
            n += len(rest)
        if limit is not None and n >= limit:
            break
    return out


def exclusive_model(sim: Simulator) -> Backend | None:
    """The in-process model a simulator's chain should hold while it runs (None: no model, or
    one that serves calls in parallel). A backend says so with a ``serial`` attribute; without
    one, a model loaded from a local weights file (its identity has a SHA-256) is serial."""
    backend = getattr(sim, "backend", None)
    if not isinstance(backend, Backend):
        return None
    inner = getattr(backend, "inner", backend)
    model = inner if isinstance(inner, Backend) else backend
    serial = getattr(model, "serial", None)
    if serial is None:
        serial = model.identity().sha256 is not None
    return model if serial else None


def exclusive_models(sim: Simulator) -> list[Backend]:
    """The in-process models a chain of ``sim`` holds while it runs: its own, or each
    party's (a set of parties), each once, in a fixed order so two chains never wait on each
    other."""
    from behaviorlab.runs._build import members

    found = {id(m): m for one in members(sim) if (m := exclusive_model(one)) is not None}
    return [found[key] for key in sorted(found)]


async def execute_local(
    p: Plan,
    store: ResultStore,
    run_id: str,
    summary: RunSummary,
    work: list[list[Job]],
    *,
    on_progress: ProgressHook | None = None,
) -> None:
    """Answer ``work`` in this process: ``p.spec.concurrency`` workers (no more than there
    are chains), one chain at a time each; every result is committed before it is counted."""
    from behaviorlab.runs._rows import result_row

    queue: asyncio.Queue[list[Job]] = asyncio.Queue()
    for chain in work:
        queue.put_nowait(chain)
    remaining = sum(len(c) for c in work)
    started = time.perf_counter()
    holds: dict[int, asyncio.Lock] = {}
    models = {id(sim): exclusive_models(sim) for sim in p.simulators}

    async def run_chain(chain: list[Job]) -> None:
        nonlocal remaining
        for job in chain:
            answer, latency = await answer_job(job, p.task)
            store.write(result_row(job, p.task, answer, run_id, latency))  # one writer
            remaining -= 1
            summary.add(job.simulator.label, answer)
            summary.elapsed_s = time.perf_counter() - started
            if on_progress is not None:
                on_progress(summary, remaining)

    async def worker() -> None:
        while True:
            try:
                chain = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            sim = chain[0].simulator
            held = models[id(sim)] if id(sim) in models else exclusive_models(sim)
            async with AsyncExitStack() as stack:  # every model of the chain, in id order
                for model in held:
                    await stack.enter_async_context(holds.setdefault(id(model), asyncio.Lock()))
                await run_chain(chain)

    # a TaskGroup, not gather: when one worker raises (a missing extra), the others are
    # cancelled before the caller closes the store, so nothing writes to a closed store
    try:
        async with asyncio.TaskGroup() as group:
            for _ in range(min(p.spec.concurrency, len(work))):  # one chain each at most
                group.create_task(worker())
    except BaseExceptionGroup as eg:
        raise eg.exceptions[0] from None
