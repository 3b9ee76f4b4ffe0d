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
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, Generic

from behaviorlab.models._base import Backend, MissingExtraError
from behaviorlab.runs._sessions import JobT, chains
from behaviorlab.simulators._base import Answer, Simulator
from behaviorlab.tasks._base import InteractiveTask, Task, Trial
from behaviorlab.tasks._parties import MultiPartyTask

if TYPE_CHECKING:
    from behaviorlab.runs._types import Job, Plan, ProgressHook, RunSummary
    from behaviorlab.store._sqlite import ResultStore


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


class Pending(Generic[JobT]):
    """The chains still to answer, taken one at a time from ``every`` (a plan's chains,
    made as they are iterated): stored trials skipped, at most ``limit`` trials in all (the
    last chain cut short when needed; a rerun finishes it). ``already_done`` counts the
    stored trials met; once iterated to the end it is the number of the plan's trials the
    store holds (past the limit's cut, chains are read only until every stored id is met)."""

    def __init__(
        self, every: Iterable[list[JobT]], done: set[str], limit: int | None = None
    ) -> None:
        self.every, self.done, self.limit = every, done, limit
        self.already_done = 0

    def __iter__(self) -> Iterator[list[JobT]]:
        self.already_done = 0
        n = 0
        it = iter(self.every)
        for chain in it:
            rest = [j for j in chain if j.trial_id not in self.done]
            self.already_done += len(chain) - len(rest)
            if self.limit is not None:
                rest = rest[: max(0, self.limit - n)]
            if rest:
                n += len(rest)
                yield rest
            if self.limit is not None and n >= self.limit:
                break
        for chain in it:  # cut by the limit: the stored trials after the cut
            if self.already_done >= len(self.done):
                break
            self.already_done += sum(1 for j in chain if j.trial_id in self.done)


def pending_chains(
    jobs: Sequence[JobT], done: set[str], limit: int | None = None
) -> list[list[JobT]]:
    """The chains of ``jobs`` still to answer (:class:`Pending`), as a list."""
    return list(Pending(chains(jobs), done, limit))


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
    work: Iterable[list[Job]],
    *,
    remaining: int,
    on_progress: ProgressHook | None = None,
) -> None:
    """Answer ``work`` in this process, taking its chains as they are made: at most
    ``p.spec.concurrency`` chains in flight (so no more workers than there are chains), one
    worker per chain; every result is committed before it is counted. ``remaining``: the
    trials ``work`` holds (what the progress hook counts down from)."""
    from behaviorlab.runs._rows import result_row

    started = time.perf_counter()
    holds: dict[int, asyncio.Lock] = {}
    models = {id(sim): exclusive_models(sim) for sim in p.simulators}
    slots = asyncio.Semaphore(max(1, min(p.spec.concurrency, max(remaining, 1))))

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

    async def worker(chain: list[Job]) -> None:
        try:
            sim = chain[0].simulator
            held = models[id(sim)] if id(sim) in models else exclusive_models(sim)
            async with AsyncExitStack() as stack:  # every model of the chain, in id order
                for model in held:
                    await stack.enter_async_context(holds.setdefault(id(model), asyncio.Lock()))
                await run_chain(chain)
        finally:
            slots.release()

    # a TaskGroup, not gather: when one worker raises (a missing extra), the others are
    # cancelled before the caller closes the store, so nothing writes to a closed store
    try:
        async with asyncio.TaskGroup() as group:
            for chain in work:  # made one at a time, as a slot frees
                await slots.acquire()
                group.create_task(worker(chain))
    except BaseExceptionGroup as eg:
        raise eg.exceptions[0] from None
