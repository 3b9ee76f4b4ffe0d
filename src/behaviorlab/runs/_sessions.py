"""Sessions and their chains, with no dependency on the rest of ``runs``.

A *session* is one simulator answering one episode under one condition and seed: its trials
share the persona and a growing history, so their prompts share a prefix. A *chain* is a
session's jobs in step order. Kept apart from the executor so the plan (which makes chains)
and the executor (which answers them) both use it without importing each other.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Protocol, TypeVar

from behaviorlab.simulators._base import Simulator
from behaviorlab.tasks._base import Trial

if TYPE_CHECKING:
    from behaviorlab.runs._types import Job


class Schedulable(Protocol):
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


JobT = TypeVar("JobT", bound=Schedulable)

SessionKey = tuple[str, str, int, str]


def session_key(job: Schedulable) -> SessionKey:
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


class FixedChains:
    """Chains of jobs given as a list (a plan whose jobs were set by hand)."""

    def __init__(self, jobs: Sequence[Job]) -> None:
        self._chains = chains(jobs)

    def __iter__(self) -> Iterator[list[Job]]:
        return iter(self._chains)

    def chain(self, key: SessionKey) -> list[Job]:
        return next((c for c in self._chains if session_key(c[0]) == key), [])
