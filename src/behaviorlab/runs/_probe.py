"""The plan estimate's stand-in for a model: it records each request (prompt tokens, whether
the call cache holds it) instead of calling the model, and answers with what the cache holds,
else with a placeholder as long as the call may answer (``max_tokens``, valid for the call's
JSON schema), so the later turns of a multi-party trial, built from earlier answers, are as
long as they may get."""

from __future__ import annotations

import json
from typing import Any, ClassVar

from behaviorlab.data._records import stable_hash
from behaviorlab.models._base import (
    Backend,
    Capability,
    GenerateRequest,
    Generation,
    ModelIdentity,
    PositionsRequest,
    PositionsResult,
    ScoreRequest,
    ScoreResult,
    score_per_point,
)
from behaviorlab.models._cache import CallCache
from behaviorlab.tasks._tokens import TokenCounter


class Probe(Backend):
    """Records requests instead of calling a model: counts, tokens, cache presence."""

    name: ClassVar[str] = "probe"

    def __init__(
        self, real: Backend, cache: CallCache | None, count: TokenCounter, seen: set[str]
    ) -> None:
        self.real, self.cache, self.count, self.seen = real, cache, count, seen
        self.tokens_uncached = 0
        self.max_output_uncached = 0
        self.fillers: dict[int, str] = {}
        self._identity: ModelIdentity | None = None

    @property
    def capabilities(self) -> frozenset[Capability]:  # type: ignore[override]
        return self.real.capabilities

    def identity(self) -> ModelIdentity:
        if self._identity is None:
            self._identity = self.real.identity()
        return self._identity

    def _seen(
        self, kind: str, request: GenerateRequest | ScoreRequest
    ) -> tuple[bool, int, dict[str, Any] | None]:
        """(answered by the cache, prompt tokens, the cached response if the cache holds
        it)."""
        if request.messages is not None:
            text = "\n".join(m.content for m in request.messages)
        else:
            text = request.prompt or ""
        tokens = self.count(text)
        hit = False
        stored: dict[str, Any] | None = None
        if self.cache is not None:
            key = CallCache.key(self.identity(), kind, request)
            hits, misses = self.cache.stats.hits, self.cache.stats.misses
            stored = self.cache.get(key)
            hit = key in self.seen or stored is not None
            self.cache.stats.hits, self.cache.stats.misses = hits, misses
            self.seen.add(key)  # the same call later in this run is answered by the cache
        if not hit:
            self.tokens_uncached += tokens
        return hit, tokens, stored

    async def generate(self, request: GenerateRequest) -> Generation:
        hit, tokens, stored = self._seen("generate", request)
        if stored is not None:
            # what the model said before: later turns of a multi-party trial (built from
            # earlier answers) are then the prompts the run will send, cache hits included
            return Generation.model_validate({**stored, "tokens_in": tokens, "cached": True})
        if not hit:
            self.max_output_uncached += request.max_tokens
        # an answer as long as the call may give (max_tokens), valid for its schema, so the
        # prompts built from it are as long as they may get: an upper bound, as the output
        filler = self.fillers.get(request.max_tokens)
        if filler is None:
            filler = self.fillers[request.max_tokens] = filler_text(request.max_tokens, self.count)
        return Generation(text=placeholder(request, filler), tokens_in=tokens, cached=hit)

    async def score_positions(self, request: PositionsRequest) -> PositionsResult:
        """A backend that reads a text once (llama.cpp, echo or prompt-logprob servers) is
        one call of the whole text plus the continuations; any other is one score call per
        point, each counted (:func:`~behaviorlab.models._base.score_per_point`)."""
        if type(self.real).score_positions is Backend.score_positions:
            return await score_per_point(self, request)
        text = "".join(request.pieces)
        tokens = self.count(text) + sum(
            self.count(c) for point in request.points for c in point.continuations
        )
        hit = False
        if self.cache is not None:  # the call cache does not store whole-text requests
            key = stable_hash("score_positions", self.identity().model_dump(mode="json"), text)
            hit = key in self.seen
            self.seen.add(key)
        if not hit:
            self.tokens_uncached += tokens
        scores = [
            ScoreResult(logprobs=[0.0] * len(p.continuations), n_tokens=[1] * len(p.continuations))
            for p in request.points
        ]
        return PositionsResult(
            scores=scores, tokens_in=tokens, evaluated=tokens, one_pass=True, calls=1, cached=hit
        )

    async def score(self, request: ScoreRequest) -> ScoreResult:
        hit, tokens, _ = self._seen("score", request)
        n = len(request.continuations)
        if getattr(self.real, "score_rereads_prompt", False) and not hit:
            # an HTTP scorer reads (and bills) prompt + option once per option, 1 output each
            options = sum(self.count(c) for c in request.continuations)
            self.tokens_uncached += (n - 1) * tokens + options
            self.max_output_uncached += n
            tokens = n * tokens + options
        return ScoreResult(logprobs=[0.0] * n, n_tokens=[1] * n, tokens_in=tokens, cached=hit)


def _fill(schema: Any, filler: str, used: list[bool]) -> Any:
    """A small instance of a JSON schema; the first string field holds ``filler``."""
    if not isinstance(schema, dict):
        return filler
    if schema.get("enum"):
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    for key in ("anyOf", "oneOf"):
        if schema.get(key):
            return _fill(schema[key][0], filler, used)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    if kind == "object" or "properties" in schema:
        props = schema.get("properties") or {}
        names = schema.get("required") or list(props)
        return {n: _fill(props.get(n, {}), filler, used) for n in names}
    if kind == "array":
        return []
    if kind in ("integer", "number"):
        return schema.get("minimum", 0)
    if kind == "boolean":
        return False
    if used[0]:
        return "x"
    used[0] = True
    return filler


def filler_text(max_tokens: int, count: TokenCounter) -> str:
    """About ``max_tokens`` tokens of text, as ``count`` counts."""
    words: list[str] = []
    while count(" ".join(words)) < max_tokens:
        words.extend(["lorem"] * max(1, max_tokens // 2))
    low, high = 0, len(words)  # the most words that stay within max_tokens
    while low < high:
        mid = (low + high + 1) // 2
        if count(" ".join(words[:mid])) <= max_tokens:
            low = mid
        else:
            high = mid - 1
    return " ".join(words[:low])


def placeholder(request: GenerateRequest, filler: str) -> str:
    """What the estimate answers a call the cache does not hold: ``filler`` (about
    ``max_tokens`` tokens), as JSON of the request's schema when it has one."""
    if request.json_schema is None:
        return filler
    return json.dumps(_fill(request.json_schema, filler, [False]))


__all__ = ["Probe", "filler_text", "placeholder"]
