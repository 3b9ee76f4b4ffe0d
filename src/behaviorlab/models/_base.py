"""Model backends: one async interface for every LLM.

A backend has two abstract methods: :meth:`Backend.identity` (what exactly answers: file hash
or endpoint + model name) and :meth:`Backend.generate` (text, optionally constrained by a JSON
schema). :meth:`Backend.score` (log-likelihood of continuations, for option scoring) is
optional: backends that cannot do it say so in :attr:`Backend.capabilities`.
:meth:`Backend.score_positions` scores continuations at many points of one text (an
experiment transcript); by default one :meth:`Backend.score` per point, read once by the
backends that can (embedded llama.cpp; HTTP servers that echo prompt log-probabilities).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, ClassVar, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from behaviorlab._registry import Registry

Capability = Literal["chat", "generate", "json_schema", "score"]


class BackendError(RuntimeError):
    """A model call failed (the trial is stored as failed with this message)."""


class UnsupportedError(BackendError):
    """The backend cannot do what was asked (e.g. option scoring on a chat-only server)."""


class MissingExtraError(ImportError):
    """An optional dependency is not installed; the message holds the pip line that fixes it."""

    def __init__(self, what: str, extra: str, module: str) -> None:
        super().__init__(
            f"{what} needs the optional package {module!r}, which is not installed. "
            f"Install it with:  pip install 'behaviorlab[{extra}]'"
        )


class Message(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    role: Literal["system", "user", "assistant"]
    content: str


class _PromptRequest(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    messages: list[Message] | None = Field(
        default=None, description="Chat messages (rendered with the model's chat template)."
    )
    prompt: str | None = Field(default=None, description="Raw text prompt (base models).")

    @model_validator(mode="after")
    def _one_prompt(self) -> _PromptRequest:
        if (self.messages is None) == (self.prompt is None):
            raise ValueError("give exactly one of messages= or prompt=")
        return self


class GenerateRequest(_PromptRequest):
    """A request for text. ``json_schema`` constrains the output to valid JSON of that schema."""

    json_schema: dict[str, Any] | None = None
    temperature: float = 0.0
    top_p: float = 1.0
    max_tokens: int = 128
    seed: int = 0
    stop: list[str] = Field(default_factory=list)


class Generation(BaseModel):
    text: str
    tokens_in: int = 0
    tokens_out: int = 0
    finish_reason: str | None = None
    cached: bool = False
    meta: dict[str, Any] = Field(
        default_factory=dict,
        description="How the output was obtained (e.g. structured-output form sent, parse "
        "outcome: constrained / valid / repaired / invalid, retries); copied into Answer.meta.",
    )


class ScoreRequest(_PromptRequest):
    """Log-likelihood of each continuation right after the prompt (chat: after the assistant
    turn opens)."""

    continuations: list[str] = Field(min_length=1)


class ScoreResult(BaseModel):
    logprobs: list[float] = Field(description="Sum of token log-probabilities per continuation.")
    n_tokens: list[int] = Field(description="Number of tokens of each continuation.")
    tokens_in: int = 0
    cached: bool = False


class ScorePoint(BaseModel):
    """Continuations scored right after the first ``after`` pieces of a
    :class:`PositionsRequest`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    after: int = Field(ge=1, description="How many pieces come before the continuations.")
    continuations: list[str] = Field(min_length=1)


class PositionsRequest(BaseModel):
    """Continuations scored at many points of one raw text (an experiment transcript), read
    once where the backend can.

    The text is ``"".join(pieces)``. Each point asks for the log-likelihood of each of its
    continuations after ``pieces[:after]``: what :meth:`Backend.score` gives for
    ``prompt="".join(pieces[:after])``. Backends that read the text once tokenise it piece by
    piece (the first piece with the BOS token where the model asks for one), so every piece
    boundary is a token boundary and a continuation equal to the next piece is scored on that
    piece's tokens; see docs/backends.md for how close the two ways agree."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    pieces: list[str] = Field(min_length=1)
    points: list[ScorePoint] = Field(min_length=1)

    @model_validator(mode="after")
    def _points_inside(self) -> PositionsRequest:
        for i, point in enumerate(self.points):
            if point.after > len(self.pieces):
                raise ValueError(
                    f"points[{i}].after is {point.after}, but there are only "
                    f"{len(self.pieces)} pieces"
                )
        return self


class PositionsResult(BaseModel):
    scores: list[ScoreResult] = Field(description="One result per point, in the points' order.")
    tokens_in: int = Field(default=0, description="Tokens of the whole text.")
    evaluated: int = Field(
        default=0,
        description="Prompt tokens the model evaluated for the request (one pass: the text "
        "plus branches; per point: every point's prompt, less what a prefix cache reused).",
    )
    one_pass: bool = Field(default=False, description="Whether the text was read once.")
    calls: int = Field(default=1, description="Model calls made (per point: one per point).")
    cached: bool = False


class ContextWindowError(BackendError):
    """A prompt or text is longer than the model's context window."""

    def __init__(self, message: str, *, n_tokens: int, n_ctx: int) -> None:
        super().__init__(message)
        self.n_tokens = n_tokens
        self.n_ctx = n_ctx


class ModelIdentity(BaseModel):
    """What exactly answers: enough to tell two models apart in a cache or a manifest."""

    model_config = ConfigDict(frozen=True)

    backend: str
    model: str
    sha256: str | None = Field(default=None, description="Hash of the weights file, if local.")
    endpoint: str | None = None
    params: dict[str, Any] = Field(
        default_factory=dict, description="Load-time settings that change outputs (n_ctx, ...)."
    )


class Pricing(BaseModel):
    """What tokens cost, per million, in one currency (configured per model; not part of the
    model's identity, so a price change never invalidates the call cache)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    input_per_mtok: float = Field(default=0.0, ge=0)
    output_per_mtok: float = Field(default=0.0, ge=0)
    currency: str = "USD"

    def cost(self, tokens_in: int, tokens_out: int) -> float:
        return (tokens_in * self.input_per_mtok + tokens_out * self.output_per_mtok) / 1e6


class Backend(ABC):
    """One LLM behind an async interface."""

    name: ClassVar[str] = ""
    capabilities: ClassVar[frozenset[Capability]] = frozenset({"chat", "generate"})
    pricing: Pricing | None = None
    """Token prices (None: free / unknown); simulators charge only calls not served from the
    cache."""

    @abstractmethod
    def identity(self) -> ModelIdentity: ...

    @abstractmethod
    async def generate(self, request: GenerateRequest) -> Generation: ...

    async def score(self, request: ScoreRequest) -> ScoreResult:
        raise UnsupportedError(f"backend {self.name!r} cannot score continuations")

    async def score_positions(self, request: PositionsRequest) -> PositionsResult:
        """Score continuations at many points of one text. This default sends one
        :meth:`score` request per point (each re-reads its prompt, less what a prefix cache
        keeps); backends that can read the text once override it."""
        return await score_per_point(self, request)

    async def aclose(self) -> None:  # noqa: B027 - optional hook
        """Release resources (model memory, HTTP clients)."""


async def score_per_point(backend: Backend, request: PositionsRequest) -> PositionsResult:
    """``request`` as one :meth:`Backend.score` call per point, in order (the reference a
    one-pass reading is checked against)."""
    scores = []
    for point in request.points:
        prompt = "".join(request.pieces[: point.after])
        scores.append(
            await backend.score(ScoreRequest(prompt=prompt, continuations=point.continuations))
        )
    evaluated = sum(s.tokens_in for s in scores if not s.cached)
    return PositionsResult(
        scores=scores,
        tokens_in=max((s.tokens_in for s in scores), default=0),
        evaluated=evaluated,
        calls=len(scores),
    )


BackendT = TypeVar("BackendT", bound=Callable[..., Backend])

backends: Registry[Callable[..., Backend]] = Registry("backend")


def backend(name: str, *, replace: bool = False) -> Callable[[BackendT], BackendT]:
    """Register a backend factory (usually the class) under ``name``."""
    return backends.register(name, replace=replace)  # type: ignore[return-value]
