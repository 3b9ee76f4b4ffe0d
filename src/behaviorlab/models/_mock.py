"""A deterministic, fast backend for tests and dry runs.

Answers are a pure function of the request (prompt, schema, seed): the same request always
gives the same answer, different prompts give varied answers. It can inject failures
deterministically (``fail_rate``, ``invalid_rate``) to exercise error handling.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
from typing import Any, ClassVar

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
    ) -> None:
        self.model = model
        self.delay_s = delay_s
        self.fail_rate = fail_rate
        self.invalid_rate = invalid_rate
        self.calls = 0

    def identity(self) -> ModelIdentity:
        return ModelIdentity(
            backend="mock",
            model=self.model,
            params={"fail_rate": self.fail_rate, "invalid_rate": self.invalid_rate},
        )

    async def generate(self, request: GenerateRequest) -> Generation:
        self.calls += 1
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
        self.calls += 1
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
    if kind == "integer":
        return int(_unit("int", *key) * 10)
    if kind == "number":
        return _unit("num", *key)
    if kind == "boolean":
        return _unit("bool", *key) < 0.5
    return f"mock {int(_unit('str', *key) * 1000)}"
