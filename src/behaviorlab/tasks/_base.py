"""Trials and the Task protocol.

A task turns records into trials: what the subject sees (:class:`TrialInput`), the typed
answer it must give (a JSON schema), and how an answer is scored against the person's own
(:meth:`Task.score`). The human's action is kept on the :class:`Trial` but outside the input,
so a simulator is never handed the answer it must predict.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from behaviorlab._registry import Registry
from behaviorlab.data._records import (
    Action,
    Dataset,
    Observation,
    Person,
    Rationale,
    Step,
    stable_hash,
)

if TYPE_CHECKING:
    from behaviorlab.simulators._base import Answer, Simulator


class TrialInput(BaseModel):
    """Everything the subject may see for one trial."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    task: str
    item_id: str = Field(description="The question / situation, shared across people.")
    person_id: str = Field(description="Whose behavior is being simulated.")
    persona: Person | None = Field(
        description="The persona shown (None: no persona; another person's: shuffled control)."
    )
    history: list[Step] = Field(
        default_factory=list, description="Earlier steps of the episode, never the current one."
    )
    observation: Observation = Field(description="What is seen now; options in shown order.")
    answer_schema: dict[str, Any] = Field(description="JSON schema of a valid answer.")
    instructions: str = Field(default="", description="Task-level instructions to the subject.")
    meta: dict[str, Any] = Field(default_factory=dict)


class Trial(BaseModel):
    """One unit of simulation and scoring: an input, and the real person's action."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str = Field(description="Stable id of (task, episode, step, seed), before conditions.")
    episode_id: str
    step_index: int
    input: TrialInput
    target: Action = Field(description="What the real person did (hidden from simulators).")
    target_rationale: Rationale | None = None
    person: Person = Field(description="The real person (for subgroups and baselines' fit).")

    @property
    def person_id(self) -> str:
        return self.input.person_id

    @property
    def item_id(self) -> str:
        return self.input.item_id


@runtime_checkable
class Task(Protocol):
    """A task family: records → trials, and the score of an answer."""

    name: str

    def trials(self, dataset: Dataset, *, seed: int) -> list[Trial]:
        """All trials of the dataset; ``seed`` drives per-trial randomisation (option order)."""
        ...

    def score(self, trial: Trial, answer: Answer) -> dict[str, float]:
        """Scores of an answer against the person's own action (e.g. ``{"correct": 1.0}``).
        Called only for answers without an error."""
        ...

    def human_answer(self, trial: Trial) -> str | None:
        """The person's answer as one string (option code, action), stored with the result."""
        ...


@runtime_checkable
class InteractiveTask(Task, Protocol):
    """A task whose trial is played over several turns against the simulator (a repeated
    game): what the subject sees next depends on what it answered before, so the task, not
    the runner, calls :meth:`Simulator.answer` once per turn. The runner calls :meth:`play`
    instead of ``simulator.answer`` and stores the one :class:`Answer` it returns (per-turn
    records in ``Answer.value`` / ``Answer.meta``); :meth:`Task.score` then scores it.
    ``trial.input`` is the template of every turn's input (conditions such as ``no_persona``
    have already been applied to it)."""

    async def play(self, trial: Trial, simulator: Simulator) -> Answer:
        """Play one trial to the end. Must not raise for a model failure: record it."""
        ...


TaskT = TypeVar("TaskT", bound=Callable[..., Task])

tasks: Registry[Callable[..., Task]] = Registry("task")


def task(name: str, *, replace: bool = False) -> Callable[[TaskT], TaskT]:
    """Register a task factory (a class or function taking spec options) under ``name``."""
    return tasks.register(name, replace=replace)  # type: ignore[return-value]


def trial_key(task: str, episode_id: str, step_id: str | None, seed: int) -> str:
    """A trial's stable key before conditions: (task, episode, step, seed) hashed; a trial
    that is a whole episode (a game) has no step. Every task builds its keys with this, so
    stored trial ids stay put when a task moves or changes shape."""
    if step_id is None:
        return stable_hash(task, episode_id, seed)
    return stable_hash(task, episode_id, step_id, seed)


def split_by_person(
    trials: Sequence[Trial], test_person_ids: set[str]
) -> tuple[list[Trial], list[Trial]]:
    """(train, test): every trial of a person lands on one side only."""
    train = [t for t in trials if t.person_id not in test_person_ids]
    test = [t for t in trials if t.person_id in test_person_ids]
    return train, test
