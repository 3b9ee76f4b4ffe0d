"""The plan estimate's stand-in for a model: it records each request (prompt tokens, whether
the call cache holds it) instead of calling the model, and answers with what the cache holds,
else with a placeholder as long as the call may answer (``max_tokens``, valid for the call's
JSON schema), so the later turns of a multi-party trial, built from earlier answers, are as
long as they may get."""

from __future__ import annotations

import json
from typing import Any, ClassVar

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
        self.answer_tokens: int | None = None
        """Measured output tokens per call (a stored run's or ``plan --measure``'s), which
        sizes the stand-in's answers; None: ``max_tokens`` (an upper bound)."""
        self.bounded = 0
        """Answers given at ``max_tokens``: prompts built from them are upper bounds."""
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
        # an answer as long as a measured answer, else as long as the call may give
        # (max_tokens: the prompts built from it are upper bounds), valid for its schema
        size = request.max_tokens
        if self.answer_tokens is not None:
            size = max(1, min(size, self.answer_tokens))
        else:
            self.bounded += 1
        filler = self.fillers.get(size)
        if filler is None:
            filler = self.fillers[size] = filler_text(size, self.count)
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
        if self.cache is not None:  # the call cache stores a whole-text request as one call
            key = CallCache.key(self.identity(), "score_positions", request)
            hits, misses = self.cache.stats.hits, self.cache.stats.misses
            hit = key in self.seen or self.cache.get(key) is not None
            self.cache.stats.hits, self.cache.stats.misses = hits, misses
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


def _fill(schema: Any, filler: str, root: dict[str, Any], depth: int = 0) -> Any:
    """An instance of a JSON schema whose every free string field holds ``filler`` (so
    whichever field a task passes on to the next party is as long as an answer may be):
    ``$ref`` into the schema's own ``$defs`` / ``definitions`` followed, the first branch of
    ``anyOf`` / ``oneOf``, the parts of ``allOf`` merged, ``minimum`` / ``minItems`` /
    ``minLength`` met. (A ``pattern`` is not: such a field gets the filler, which may fail
    it; the stand-in's answer is then invalid, as a model's can be.)"""
    if not isinstance(schema, dict) or depth > 20:
        return filler
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        target: Any = root
        for part in ref[2:].split("/"):
            target = target.get(part, {}) if isinstance(target, dict) else {}
        return _fill(
            {**target, **{k: v for k, v in schema.items() if k != "$ref"}}, filler, root, depth + 1
        )
    if schema.get("allOf"):
        merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
        for part in schema["allOf"]:
            if isinstance(part, dict):
                merged = {**merged, **part}
        return _fill(merged, filler, root, depth + 1)
    if schema.get("enum"):
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    for key in ("anyOf", "oneOf"):
        if schema.get(key):
            return _fill(schema[key][0], filler, root, depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    if kind == "object" or "properties" in schema:
        props = schema.get("properties") or {}
        names = schema.get("required") or list(props)
        return {n: _fill(props.get(n, {}), filler, root, depth + 1) for n in names}
    if kind == "array":
        item = _fill(schema.get("items", {}), filler, root, depth + 1)
        return [item] * int(schema.get("minItems", 0))
    if kind in ("integer", "number"):
        low = float(schema.get("minimum", schema.get("exclusiveMinimum", 0)) or 0)
        value = low + (1 if "exclusiveMinimum" in schema else 0)
        return int(value) if kind == "integer" else value
    if kind == "boolean":
        return False
    text = filler or "x"
    need = int(schema.get("minLength", 0))
    if len(text) < need:
        text = (text + " ") * (need // (len(text) + 1) + 1)
    if "maxLength" in schema:
        text = text[: int(schema["maxLength"])]
    return text


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
    return json.dumps(_fill(request.json_schema, filler, request.json_schema))


__all__ = ["Probe", "filler_text", "placeholder"]
