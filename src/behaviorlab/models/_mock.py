"""A deterministic, fast backend for tests and dry runs.

Answers are a pure function of the request (prompt, schema, seed): the same request always
gives the same answer, different prompts give varied answers. It can inject failures
deterministically (``fail_rate``, ``invalid_rate``) to exercise error handling.

A test that needs particular answers scripts them instead of writing a backend:

* ``script`` (generate calls): a list of outputs played in call order, each a text, a
  :class:`Generation` or an exception to raise; or a callable from the request to a text or a
  :class:`Generation` (or an awaitable of one), which may raise. A call past the end of a list
  raises :class:`MockScriptError` naming how many outputs were scripted: a list never wraps.
* ``scores`` (score calls): a list of log-probability lists (one per continuation), score
  results or exceptions; or a callable from the request to one of those.

A kind without a script keeps the hash answers. ``calls`` counts every call and
``calls_by_kind`` each kind (``"generate"``, ``"score"``). A scripted mock has another identity
than an unscripted one (a list script's hash is part of it, a callable's qualified name), so a
call cache never serves one's answers to the other; a cache in front of a list script answers a
repeated request itself, without playing the next output.
"""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import json
import math
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, ClassVar, TypeAlias, TypeVar

from behaviorlab.models._base import (
    Backend,
    BackendError,
    Capability,
    GenerateRequest,
    Generation,
    ModelIdentity,
    ScoreRequest,
    ScoreResult,
    backend,
)


def _prompt_text(request: GenerateRequest | ScoreRequest) -> str:
    if request.messages is not None:
        return "\n".join(f"{m.role}: {m.content}" for m in request.messages)
    return request.prompt or ""


Output: TypeAlias = str | Generation
"""What a generate script gives for one call: a text or a whole :class:`Generation`."""
Scores: TypeAlias = Sequence[float] | ScoreResult
"""What a score script gives for one call: a log-probability per continuation, or a result."""
GenerateScript: TypeAlias = (
    Sequence[Output | BaseException] | Callable[[GenerateRequest], Output | Awaitable[Output]]
)
ScoreScript: TypeAlias = (
    Sequence[Scores | BaseException] | Callable[[ScoreRequest], Scores | Awaitable[Scores]]
)


class MockScriptError(BackendError):
    """A scripted mock cannot answer: its list ran out, or a script gave something unusable."""


def _unit(*parts: object) -> float:
    """A deterministic number in [0, 1) from the parts."""
    digest = hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


@backend("mock")
class MockBackend(Backend):
    """Deterministic fake LLM: answers are a hash of the request (for tests)."""

    name: ClassVar[str] = "mock"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {"chat", "generate", "json_schema", "score"}
    )

    def __init__(
        self,
        model: str = "mock-1",
        *,
        fail_rate: float = 0.0,
        invalid_rate: float = 0.0,
        delay_s: float = 0.0,
        script: GenerateScript | None = None,
        scores: ScoreScript | None = None,
    ) -> None:
        if (script is not None or scores is not None) and (fail_rate or invalid_rate):
            raise ValueError(
                "MockBackend: fail_rate and invalid_rate shape the hash answers; with a script, "
                "put the failure (e.g. a BackendError) or the invalid text in the script"
            )
        self.model = model
        self.delay_s = delay_s
        self.fail_rate = fail_rate
        self.invalid_rate = invalid_rate
        self.script: GenerateScript | None = _frozen(script, "script")
        self.scores: ScoreScript | None = _frozen(scores, "scores")
        self.calls = 0
        self.calls_by_kind: Counter[str] = Counter()

    def identity(self) -> ModelIdentity:
        params: dict[str, Any] = {"fail_rate": self.fail_rate, "invalid_rate": self.invalid_rate}
        if self.script is not None:
            params["script"] = _describe(self.script, _output_json)
        if self.scores is not None:
            params["scores"] = _describe(self.scores, _scores_json)
        return ModelIdentity(backend="mock", model=self.model, params=params)

    def _count(self, kind: str) -> int:
        """Count a call of ``kind``; its number among the calls of that kind (from 1)."""
        self.calls += 1
        self.calls_by_kind[kind] += 1
        return self.calls_by_kind[kind]

    async def generate(self, request: GenerateRequest) -> Generation:
        if self.script is not None:
            return await self._scripted_generate(request)
        self._count("generate")
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        text = _prompt_text(request)
        key = (self.model, text, request.seed, request.temperature)
        if _unit("fail", *key) < self.fail_rate:
            raise BackendError("mock backend: injected failure")
        tokens_in = len(text.split())
        if _unit("invalid", *key) < self.invalid_rate:
            out = "I'd rather not say."
        elif request.json_schema is not None:
            out = json.dumps(_fill(request.json_schema, key))
        else:
            out = f"mock answer {int(_unit(*key) * 1000)}"
        return Generation(text=out, tokens_in=tokens_in, tokens_out=len(out.split()))

    async def score(self, request: ScoreRequest) -> ScoreResult:
        if self.scores is not None:
            return await self._scripted_score(request)
        self._count("score")
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        text = _prompt_text(request)
        if _unit("fail", self.model, text) < self.fail_rate:
            raise BackendError("mock backend: injected failure")
        logprobs = [
            math.log(0.05 + 0.95 * _unit(self.model, text, c)) for c in request.continuations
        ]
        return ScoreResult(
            logprobs=logprobs,
            n_tokens=[max(1, len(c.split())) for c in request.continuations],
            tokens_in=len(text.split()),
        )

    async def _scripted_generate(self, request: GenerateRequest) -> Generation:
        assert self.script is not None
        n = self._count("generate")
        if callable(self.script):
            made: object = self.script(request)  # picked before the delay: call order
        else:
            made = _nth(self.script, n, "generate")
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if inspect.isawaitable(made):
            made = await made
        if isinstance(made, BaseException):
            raise made
        text = _prompt_text(request)
        if isinstance(made, Generation):
            return made.model_copy(deep=True)
        if isinstance(made, str):
            return Generation(text=made, tokens_in=len(text.split()), tokens_out=len(made.split()))
        raise MockScriptError(
            f"mock script: generate call {n} gave a {type(made).__name__}, "
            "not a str or a Generation"
        )

    async def _scripted_score(self, request: ScoreRequest) -> ScoreResult:
        assert self.scores is not None
        n = self._count("score")
        if callable(self.scores):
            made: object = self.scores(request)
        else:
            made = _nth(self.scores, n, "score")
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if inspect.isawaitable(made):
            made = await made
        if isinstance(made, BaseException):
            raise made
        wanted = len(request.continuations)
        if isinstance(made, ScoreResult):
            result = made.model_copy(deep=True)
        elif isinstance(made, Sequence) and not isinstance(made, str):
            result = ScoreResult(
                logprobs=[float(x) for x in made],
                n_tokens=[max(1, len(c.split())) for c in request.continuations],
                tokens_in=len(_prompt_text(request).split()),
            )
        else:
            raise MockScriptError(
                f"mock scores: score call {n} gave a {type(made).__name__}, "
                "not a list of log-probabilities or a ScoreResult"
            )
        if len(result.logprobs) != wanted:
            raise MockScriptError(
                f"mock scores: score call {n} gave {len(result.logprobs)} log-probabilities "
                f"for {wanted} continuations"
            )
        return result


def _frozen(script: Any, name: str) -> Any:
    """``script`` as a tuple (the caller's list may change later) or the callable itself."""
    if script is None or callable(script):
        return script
    if isinstance(script, str | bytes) or not isinstance(script, Sequence):
        raise TypeError(
            f"MockBackend {name}= is a list of outputs or a callable, not a {type(script).__name__}"
        )
    return tuple(script)


T = TypeVar("T")


def _nth(script: Sequence[T], n: int, kind: str) -> T:
    """The ``n``-th (from 1) scripted output of ``kind``; an error past the end."""
    if n > len(script):
        plural = "" if len(script) == 1 else "s"
        raise MockScriptError(
            f"mock script exhausted: {kind} call {n}, but the script holds {len(script)} "
            f"{kind} output{plural} (it does not wrap around)"
        )
    return script[n - 1]


def _describe(script: Any, as_json: Callable[[Any], Any]) -> str:
    """What a script is, for the identity: a list by the hash of its outputs, a callable by
    its qualified name."""
    if callable(script):
        module = getattr(script, "__module__", None) or "?"
        name = getattr(script, "__qualname__", None) or type(script).__qualname__
        return f"callable {module}.{name}"
    blob = json.dumps([as_json(item) for item in script], sort_keys=True, default=str)
    return f"{len(script)} outputs, sha256 {hashlib.sha256(blob.encode()).hexdigest()[:16]}"


def _raised_json(item: BaseException) -> Any:
    return {"raise": f"{type(item).__module__}.{type(item).__qualname__}", "message": str(item)}


def _output_json(item: Output | BaseException) -> Any:
    if isinstance(item, BaseException):
        return _raised_json(item)
    if isinstance(item, Generation):
        return item.model_dump(mode="json")
    return item


def _scores_json(item: Scores | BaseException) -> Any:
    if isinstance(item, BaseException):
        return _raised_json(item)
    if isinstance(item, ScoreResult):
        return item.model_dump(mode="json")
    return [float(x) for x in item]


def _fill(schema: dict[str, Any], key: tuple[Any, ...]) -> Any:
    """A value valid for the small subset of JSON schema that behaviorlab tasks use."""
    if "enum" in schema:
        options = list(schema["enum"])
        return options[int(_unit("enum", *key) * len(options))]
    kind = schema.get("type")
    if kind == "object":
        props: dict[str, Any] = schema.get("properties", {})
        return {name: _fill(sub, (*key, name)) for name, sub in props.items()}
    if kind == "array":
        return [_fill(schema.get("items", {}), (*key, 0))]
    if kind in ("integer", "number") and ("minimum" in schema or "maximum" in schema):
        return _bounded(schema, kind, key)
    if kind == "integer":
        return int(_unit("int", *key) * 10)
    if kind == "number":
        return _unit("num", *key)
    if kind == "boolean":
        return _unit("bool", *key) < 0.5
    return f"mock {int(_unit('str', *key) * 1000)}"


def _bounded(schema: dict[str, Any], kind: str, key: tuple[Any, ...]) -> int | float:
    """A number in ``[minimum, maximum]`` (a missing bound sits 10 from the other, or 1 for a
    number); schemas without bounds keep the unbounded draws above, so stored mock answers
    of such schemas do not change."""
    span = 10.0 if kind == "integer" else 1.0
    lo = float(schema.get("minimum", float(schema.get("maximum", span)) - span))
    hi = max(lo, float(schema.get("maximum", lo + span)))
    if kind == "integer":
        first, last = math.ceil(lo), math.floor(hi)
        if last < first:
            raise ValueError(f"mock backend: no integer in [{lo:g}, {hi:g}] of schema {schema}")
        return min(last, first + int(_unit("int", *key) * (last - first + 1)))
    return lo + _unit("num", *key) * (hi - lo)
