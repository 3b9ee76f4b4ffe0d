"""Many points of one text on OpenAI-compatible servers
(:meth:`~behaviorlab.models.OpenAIBackend.score_positions`).

* ``scoring: echo`` (llama_cpp.server): **one** ``/v1/completions`` request of the whole text
  with ``echo`` and ``logprobs: TOP`` returns every text token's log-probability and the
  ``TOP`` most likely tokens at each position. A continuation that is the text at its point
  (the participant's own response) is read from the text's tokens; one that is a single token
  among the alternatives there (an option letter not taken) from those. A point whose start
  is not a token boundary of the server's tokenisation, or a continuation found neither way,
  is scored by an ordinary score request (counted in ``evaluated``).
* ``scoring: prompt_logprobs`` (vLLM): one request holding every point's ``prefix +
  continuation`` as a list of prompts; the server's automatic prefix caching reads the
  shared prefix once.

The server tokenises the whole text at once (not piece by piece, as the embedded backend
does), so where a piece boundary falls inside a token the continuation's tokens are those
that cover it (as in per-choice echo scoring).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from behaviorlab.models._base import (
    BackendError,
    PositionsRequest,
    PositionsResult,
    ScoreRequest,
    ScoreResult,
    UnsupportedError,
)
from behaviorlab.models._openai_parts import _Usage
from behaviorlab.models._openai_support import (
    estimate_tokens,
    logprob_block,
    prompt_logprob_pieces,
    tail_logprobs,
    token_counts,
)

if TYPE_CHECKING:
    from behaviorlab.models._openai import OpenAIBackend

TOP = 20
"""Alternatives asked per text token (vLLM's default cap on logprobs is 20)."""


@dataclass(frozen=True)
class EchoToken:
    text: str
    start: int
    logprob: float | None
    top: Mapping[str, float]


def echo_tokens(choice: Mapping[str, Any], completion_tokens: int) -> list[EchoToken]:
    """The echoed text's tokens (generated ones dropped) with their character offsets (the
    server's ``text_offset``, else the running length of the token texts) and alternatives."""
    tokens, logprobs = logprob_block(choice)
    block = choice["logprobs"]
    offsets = block.get("text_offset")
    tops = block.get("top_logprobs") or [None] * len(tokens)
    if len(tops) != len(tokens) or (offsets is not None and len(offsets) != len(tokens)):
        raise BackendError("malformed logprobs block: its lists differ in length")
    out: list[EchoToken] = []
    at = 0
    for i in range(len(tokens) - completion_tokens):
        start = int(offsets[i]) if isinstance(offsets, list) else at
        top = tops[i] if isinstance(tops[i], Mapping) else {}
        out.append(
            EchoToken(tokens[i], start, logprobs[i], {str(k): float(v) for k, v in top.items()})
        )
        at = start + len(tokens[i])
    return out


def read_point(
    tokens: Sequence[EchoToken], text: str, start: int, continuation: str
) -> float | None:
    """log P(continuation | text[:start]) from the echoed text, or None when it cannot be
    read there (no token starts at ``start``; the continuation is neither the text there
    nor a single alternative token)."""
    first = next((i for i, t in enumerate(tokens) if t.start == start), None)
    if first is None or not continuation:
        return None
    if text.startswith(continuation, start):
        end = start + len(continuation)
        total, i = 0.0, first
        while i < len(tokens) and tokens[i].start < end:
            lp = tokens[i].logprob
            if lp is None:
                return None
            total += lp
            i += 1
        if (i < len(tokens) and tokens[i].start == end) or (i == len(tokens) and end == len(text)):
            return total
        return None  # the continuation ends inside a token of the text
    return tokens[first].top.get(continuation)


async def echo_positions(backend: OpenAIBackend, request: PositionsRequest) -> PositionsResult:
    text = "".join(request.pieces)
    if backend.check_echo:
        await backend._check_echo_alignment("raw", request.pieces[0] or text)
    usage = _Usage()
    body = {
        "model": backend.model,
        "prompt": text,
        "max_tokens": 1,
        "temperature": 0.0,
        "echo": True,
        "logprobs": TOP,
        **backend.extra_body,
    }
    data, attempts = await backend.post("completions", body, estimate=estimate_tokens(text, 1))
    usage.add(data, attempts)
    tokens = echo_tokens(data["choices"][0], token_counts(data).completion)
    scores: list[ScoreResult] = []
    evaluated, calls = usage.tokens_in, 1
    for point in request.points:
        start = len("".join(request.pieces[: point.after]))
        read = [read_point(tokens, text, start, c) for c in point.continuations]
        if all(r is not None for r in read):
            n = [
                max(1, sum(start <= t.start < start + len(c) for t in tokens))
                if text.startswith(c, start)
                else 1
                for c in point.continuations
            ]
            before = sum(t.start < start for t in tokens)
            logprobs = [r for r in read if r is not None]
            scores.append(ScoreResult(logprobs=logprobs, n_tokens=n, tokens_in=before))
            continue
        prompt = text[:start]
        alone = await backend.score(ScoreRequest(prompt=prompt, continuations=point.continuations))
        evaluated += alone.tokens_in
        calls += len(point.continuations)  # one echo request per continuation
        scores.append(alone)
    return PositionsResult(
        scores=scores, tokens_in=len(tokens), evaluated=evaluated, one_pass=True, calls=calls
    )


async def batched_positions(backend: OpenAIBackend, request: PositionsRequest) -> PositionsResult:
    """vLLM: every point's prefix + continuation in one request (a list of prompts)."""
    prompts: list[str] = []
    conts: list[str] = []
    for point in request.points:
        prefix = "".join(request.pieces[: point.after])
        prompts += [prefix + c for c in point.continuations]
        conts += point.continuations
    body: dict[str, Any] = {
        "model": backend.model,
        "prompt": prompts,
        "max_tokens": 1,
        "temperature": 0.0,
        "prompt_logprobs": 0,
        **backend.extra_body,
    }
    estimate = sum(estimate_tokens(p, 1) for p in prompts)
    data, _ = await backend.post("completions", body, estimate=estimate)
    where = f"{backend.base_url} (vllm)"
    choices = sorted(data.get("choices") or [], key=lambda c: int(c.get("index") or 0))
    if len(choices) != len(conts) or not all(isinstance(c, Mapping) for c in choices):
        raise BackendError(f"{where}: {len(conts)} prompts sent, {len(choices)} choices returned")
    pairs = iter(
        tail_logprobs(prompt_logprob_pieces(c), t, where=where)
        for c, t in zip(choices, conts, strict=True)
    )
    scores = []
    for point in request.points:
        got = [next(pairs) for _ in point.continuations]
        scores.append(ScoreResult(logprobs=[lp for lp, _ in got], n_tokens=[n for _, n in got]))
    prompt_tokens = token_counts(data).prompt
    return PositionsResult(scores=scores, tokens_in=prompt_tokens, evaluated=prompt_tokens)


async def score_positions(backend: OpenAIBackend, request: PositionsRequest) -> PositionsResult:
    if "score" not in backend.capabilities:
        raise UnsupportedError(backend._why_no_scoring())
    if backend.scoring == "prompt_logprobs":
        return await batched_positions(backend, request)
    return await echo_positions(backend, request)
