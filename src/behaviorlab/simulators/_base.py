"""The Simulator protocol and the Answer it gives.

A simulator answers trials: an LLM simulator builds a prompt from persona, history and
observation and parses a structured answer; a baseline answers from training data alone.
Failures are data: an answer with ``error`` set is stored like any other, never raised.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal, Protocol, TypeVar, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from behaviorlab._registry import Registry
from behaviorlab.tasks._base import Trial, TrialInput

ErrorKind = Literal["backend", "invalid", "timeout"]


class Answer(BaseModel):
    """What a simulator answered for one trial, with the evidence of how."""

    model_config = ConfigDict(extra="forbid")

    choice: str | None = Field(
        default=None, description="Chosen option code (for tasks with options)."
    )
    value: dict[str, Any] | None = Field(
        default=None, description="The parsed structured answer (matches the answer schema)."
    )
    probabilities: dict[str, float] | None = Field(
        default=None, description="Probability of every option code (option scoring, kNN)."
    )
    samples: list[str] | None = Field(
        default=None, description="Option codes of n sampled answers (sampling mode)."
    )
    raw: str = Field(default="", description="Raw model output (or a baseline's explanation).")
    prompt_hash: str | None = None
    error: str | None = None
    error_kind: ErrorKind | None = None
    tokens_in: int = 0
    tokens_out: int = 0
    calls: int = 0
    cache_hits: int = 0
    cost: float = Field(
        default=0.0, description="Cost of the calls not served from the cache (backend pricing)."
    )
    meta: dict[str, Any] = Field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error is None


@runtime_checkable
class Simulator(Protocol):
    """Who answers a trial."""

    label: str
    """Short display name, unique within an experiment (``llm:smollm2``, ``majority``).

    A simulator that learns from training people sets the class attribute
    ``learns_from_people = True``; the runner then refuses a split that leaves none."""

    def fit(self, train: Sequence[Trial]) -> None:
        """Learn from training trials (other people). LLM simulators ignore it."""
        ...

    async def answer(self, trial: TrialInput) -> Answer:
        """Answer one trial. Must not raise for a model failure: return ``Answer(error=...)``."""
        ...

    def identity(self) -> dict[str, Any]:
        """Everything that changes answers (model identity, template hash, answer mode), for
        the run manifest."""
        ...


SimT = TypeVar("SimT", bound=Callable[..., Simulator])

simulators: Registry[Callable[..., Simulator]] = Registry("simulator")


def simulator(name: str, *, replace: bool = False) -> Callable[[SimT], SimT]:
    """Register a simulator factory (a class or function taking spec options) under ``name``."""
    return simulators.register(name, replace=replace)  # type: ignore[return-value]
