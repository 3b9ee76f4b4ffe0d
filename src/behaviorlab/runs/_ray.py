"""The Ray executor: session chains answered by Ray actors, results written by the driver.

The driver plans as the local executor does and stays the one writer of the store. Each
actor (one per worker) rebuilds the same plan from the spec, without counting it: it loads
the data, builds the task and its own replica of every simulator (a model is loaded in the
actor, never pickled) and fits the baselines on the same training trials. It holds no jobs:
the driver sends each trial id with its session's key, and the actor makes that one session
chain when its first trial comes (:meth:`PlanChains.chain`), keeping only the chain it is
answering. A session's trials go to one actor, in step order (an actor answers one call at a
time, in the order they were sent), so its model reuses the shared prompt prefix. Each answer
comes back as (trial id, Answer JSON, latency); the driver scores it, commits it and counts
it, so the resume guarantees are the local executor's: trials stored are skipped on a rerun,
and a killed run loses at most the chains in flight.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import os
import socket
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from behaviorlab.models._base import MissingExtraError
from behaviorlab.runs._sessions import session_key
from behaviorlab.simulators._base import Answer

if TYPE_CHECKING:
    from behaviorlab.runs._sessions import SessionKey
    from behaviorlab.runs._types import Job, Plan, ProgressHook, RunSummary
    from behaviorlab.store._sqlite import ResultStore

ENV_PREFIX = "BEHAVIORLAB_"
"""Environment variables with this prefix (e.g. the call-cache folder) are passed to actors."""


def import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise MissingExtraError("the Ray executor", "ray", "ray") from None
    return ray


class SessionWorker:
    """One Ray actor: the plan rebuilt from the spec, answering trials by id, one at a time."""

    def __init__(self, spec: dict[str, Any], cwd: str, env: dict[str, str]) -> None:
        from behaviorlab.runs._build import open_cache
        from behaviorlab.runs._planning import _plan
        from behaviorlab.runs._spec import ExperimentSpec

        if os.path.isdir(cwd):  # relative data / cache paths resolve as on the driver
            os.chdir(cwd)
        os.environ.update(env)
        self.loop = asyncio.new_event_loop()
        parsed = ExperimentSpec.model_validate(spec)
        self.cache = open_cache(parsed)
        self.plan = _plan(parsed, self.cache, dataset=None, counted=False)
        self._chain: tuple[SessionKey, dict[str, Job]] | None = None

    def answer(self, key: list[Any], trial_id: str) -> tuple[str, dict[str, Any], float]:
        """Answer one trial of the session ``key`` (label, condition, seed, episode)."""
        from behaviorlab.runs._executor import answer_job

        session: SessionKey = (str(key[0]), str(key[1]), int(key[2]), str(key[3]))
        if self._chain is None or self._chain[0] != session:
            self._chain = None  # the chain answered before is dropped first
            jobs = self.plan.chains.chain(session)
            self._chain = (session, {j.trial_id: j for j in jobs})
        job = self._chain[1].get(trial_id)
        if job is None:
            raise LookupError(
                f"the Ray worker on {socket.gethostname()} planned no trial {trial_id}: it sees "
                "other data or another behaviorlab version than the driver; give every node "
                "the same data files (absolute paths) and the same installation"
            )
        answer, latency = self.loop.run_until_complete(answer_job(job, self.plan.task))
        return trial_id, answer.model_dump(mode="json"), latency

    def close(self) -> None:
        self.loop.run_until_complete(self.plan.aclose())  # each backend once
        if self.cache is not None:
            self.cache.close()
        self.loop.close()


def _cause(exc: BaseException) -> BaseException:
    """The exception raised inside an actor (Ray wraps it)."""
    cause = getattr(exc, "cause", None)
    return cause if isinstance(cause, BaseException) else exc


async def execute_ray(
    p: Plan,
    store: ResultStore,
    run_id: str,
    summary: RunSummary,
    work: Iterable[list[Job]],
    *,
    remaining: int,
    address: str | None = None,
    on_progress: ProgressHook | None = None,
) -> None:
    """Answer ``work`` (session chains, made as they are taken) on Ray actors; commit each
    result here as it comes. ``remaining``: the trials ``work`` holds."""
    from behaviorlab.runs._rows import result_row

    ray = import_ray()
    ex = p.spec.executor
    pending = iter(work)
    first = list(itertools.islice(pending, ex.workers or p.spec.concurrency))
    if not first:
        return
    n_workers = len(first)  # never more actors than chains
    started_ray = False
    if not ray.is_initialized():
        if address is not None:
            ray.init(address=address, log_to_driver=False)
        else:
            cpus = max(1, math.ceil(n_workers * ex.cpus_per_worker))
            ray.init(num_cpus=cpus, include_dashboard=False, log_to_driver=False)
        started_ray = True
    env = {k: v for k, v in os.environ.items() if k.startswith(ENV_PREFIX)}
    remote = ray.remote(SessionWorker).options(
        num_cpus=ex.cpus_per_worker, num_gpus=ex.gpus_per_worker, max_concurrency=1
    )
    spec_json = p.spec.model_dump(mode="json")
    actors = [remote.remote(spec_json, os.getcwd(), env) for _ in range(n_workers)]
    queue = itertools.chain(first, pending)  # one chain taken at a time, by any actor
    started = time.perf_counter()

    async def drive(actor: Any) -> None:
        nonlocal remaining
        while True:
            chain = next(queue, None)
            if chain is None:
                return
            key = list(session_key(chain[0]))
            refs = [actor.answer.remote(key, job.trial_id) for job in chain]  # in order
            for job, ref in zip(chain, refs, strict=True):
                try:
                    _, data, latency = await ref
                except ray.exceptions.RayError as exc:
                    raise _cause(exc) from None
                answer = Answer.model_validate(data)
                store.write(result_row(job, p.task, answer, run_id, latency))  # one writer
                remaining -= 1
                summary.add(job.simulator.label, answer)
                summary.elapsed_s = time.perf_counter() - started
                if on_progress is not None:
                    on_progress(summary, remaining)

    try:
        async with asyncio.TaskGroup() as group:
            for actor in actors:
                group.create_task(drive(actor))
        for actor in actors:  # all answered: release models and caches in order
            await actor.close.remote()
    except BaseExceptionGroup as eg:
        raise eg.exceptions[0] from None
    finally:
        for actor in actors:  # calls still queued on an actor after a failure are dropped
            ray.kill(actor)
        if started_ray:
            ray.shutdown()
