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
from itertools import pairwise
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
FORCE = 100.0
"""The logit bias that makes a token the one generated (log-probabilities are a few tens at
most below the top)."""


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


def text_span(
    tokens: Sequence[EchoToken], text: str, start: int, continuation: str
) -> range | None:
    """The tokens that are ``continuation`` where it is the text at ``start``, or None when it
    is not, or does not start and end on token boundaries of the echo."""
    first = next((i for i, t in enumerate(tokens) if t.start == start), None)
    if first is None or not continuation or not text.startswith(continuation, start):
        return None
    end, i = start + len(continuation), first
    while i < len(tokens) and tokens[i].start < end:
        i += 1
    if (i < len(tokens) and tokens[i].start == end) or (i == len(tokens) and end == len(text)):
        return range(first, i)
    return None  # the continuation ends inside a token of the text


def read_point(
    tokens: Sequence[EchoToken], text: str, start: int, continuation: str
) -> float | None:
    """log P(continuation | text[:start]) from the echoed text, or None when it cannot be
    read there (no token starts at ``start``; the continuation is neither the text there
    nor a single alternative token)."""
    span = text_span(tokens, text, start, continuation)
    if span is not None:
        lps = [tokens[i].logprob for i in span]
        return None if any(lp is None for lp in lps) else sum(lp for lp in lps if lp is not None)
    first = next((i for i, t in enumerate(tokens) if t.start == start), None)
    if first is None or not continuation or text.startswith(continuation, start):
        return None
    return tokens[first].top.get(continuation)


async def read_shifted(
    backend: OpenAIBackend,
    tokens: Sequence[EchoToken],
    text: str,
    start: int,
    continuation: str,
    usage: _Usage,
) -> float | None:
    """:func:`read_point` on a realigned echo, each token missing from the alternatives read
    by a forced completion (:func:`forced`) of the text before it; None when it cannot be."""
    span = text_span(tokens, text, start, continuation)
    if span is not None:
        total = 0.0
        for i in span:
            lp = tokens[i].logprob
            if lp is None and tokens[i].text:
                lp = await forced(backend, text[: tokens[i].start], tokens[i].text, usage)
            if lp is None:
                return None
            total += lp
        return total
    first = next((i for i, t in enumerate(tokens) if t.start == start), None)
    if first is None or not continuation or text.startswith(continuation, start):
        return None
    lp = tokens[first].top.get(continuation)
    return lp if lp is not None else await forced(backend, text[:start], continuation, usage)


def echo_shift(tokens: Sequence[EchoToken], text: str, completion_tokens: int) -> bool | None:
    """Whether the echo of ``text`` (its tokens, :func:`echo_tokens` with none dropped) is
    shifted by one token: True, False, or None when the response cannot tell.

    llama_cpp.server pairs the echoed tokens with the model's rows from the first token on,
    assuming a BOS token leads the prompt; without one (SmolLM2 adds none to a raw prompt)
    each token is paired with the row *after* it, so the last generated token has no row and
    is dropped from the list. An aligned echo holds ``completion_tokens`` generated tokens (at
    or after the text's end, by ``text_offset``), a shifted one a generated token fewer. With
    nothing generated (the model ended at once) it cannot tell."""
    if completion_tokens < 1 or not tokens or tokens[0].start != 0:
        return None
    extra = sum(t.start >= len(text) for t in tokens)
    if extra == completion_tokens:
        return False
    if extra == completion_tokens - 1:
        return True
    return None


def realign(tokens: Sequence[EchoToken]) -> list[EchoToken]:
    """A shifted echo's tokens, each with its own log-probability and alternatives: the
    alternatives reported at token ``i`` are the model's distribution of token ``i + 1`` (the
    reported log-probability of token ``i`` is of ``i`` repeating, useless), so token ``i + 1``
    is read from them, and is unknown (None) where it is not among them. The second token's
    alternatives are never reported (the server blanks the first token's)."""
    out = [EchoToken(t.text, t.start, None, {}) for t in tokens[:1]]
    for prev, tok in pairwise(tokens):
        lp = prev.top.get(tok.text) if tok.text else None  # "" is a part of a character
        out.append(EchoToken(tok.text, tok.start, lp, prev.top))
    return out


def shifted_tail(tokens: Sequence[EchoToken], prompt_chars: int) -> tuple[float, int] | None:
    """(summed log-probability, tokens) of the tokens ending after ``prompt_chars`` characters
    (the continuation's, as in per-choice echo scoring), or None when one is unknown."""
    tail = [t for t in tokens if t.start + len(t.text) > prompt_chars]
    if not tail or any(t.logprob is None for t in tail):
        return None
    return sum(t.logprob for t in tail if t.logprob is not None), len(tail)


def _echo_body(backend: OpenAIBackend, text: str) -> dict[str, Any]:
    return {
        "model": backend.model,
        "prompt": text,
        "max_tokens": 1,
        "temperature": 0.0,
        "echo": True,
        "logprobs": TOP,
        **backend.extra_body,
    }


def reset_prompt(prompt: str) -> str:
    """A one-character text whose first token is not ``prompt``'s (different first characters:
    no common first token)."""
    return "\n" if not prompt.startswith("\n") else "."


async def forced(backend: OpenAIBackend, prompt: str, cont: str, usage: _Usage) -> float | None:
    """log P(cont | prompt) of a single-token ``cont`` on llama_cpp.server: a plain completion
    (whose log-probabilities are aligned) with ``cont`` forced by ``logit_bias`` (the server's
    ``logit_bias_type: tokens``; the bias changes the sampling, not the reported
    log-probability). None when the server generated something else (``cont`` is more than
    one token).

    The server keeps the last request's KV entries: ``prompt`` being a prefix of the text just
    echoed, it would re-read only the prompt's last token, and llama.cpp computes a one-token
    batch on another code path (0.2 nats off on a measured token; docs/transcript.md, "One
    pass"). So a one-token request of a text that shares no first token with ``prompt``
    (:func:`reset_prompt`) goes first, and the prompt is read from position 0 in the server's
    batches, as the echo was."""
    reset = {
        "model": backend.model,
        "prompt": reset_prompt(prompt),
        "max_tokens": 1,
        "temperature": 0.0,
        **backend.extra_body,
    }
    data, attempts = await backend.post("completions", reset, estimate=2)
    usage.add(data, attempts)
    body = {
        "model": backend.model,
        "prompt": prompt,
        "max_tokens": 1,
        "temperature": 0.0,
        "logprobs": 1,
        "logit_bias": {cont: FORCE},
        "logit_bias_type": "tokens",
        **backend.extra_body,
    }
    data, attempts = await backend.post("completions", body, estimate=estimate_tokens(prompt, 1))
    usage.add(data, attempts)
    tokens, logprobs = logprob_block(data["choices"][0])
    if tokens == [cont] and logprobs[0] is not None:
        return logprobs[0]
    return None


async def _shifted_score(
    backend: OpenAIBackend, prompt: str, continuations: Sequence[str], usage: _Usage
) -> ScoreResult:
    """One point on a shifted server, per continuation: a single token forced in a plain
    completion (:func:`forced`), else an echo of ``prompt + continuation`` realigned, its
    tokens after the prompt read (:func:`read_shifted`); refused where one cannot be."""
    logprobs, n_tokens, before = [], [], usage.tokens_in
    for cont in continuations:
        lp = await forced(backend, prompt, cont, usage)
        n = 1
        if lp is None:
            text = prompt + cont
            data, attempts = await backend.post(
                "completions", _echo_body(backend, text), estimate=estimate_tokens(text, 1)
            )
            usage.add(data, attempts)
            raw = echo_tokens(data["choices"][0], 0)
            if echo_shift(raw, text, token_counts(data).completion):
                tokens = realign(raw)
                first = min((t.start for t in tokens if t.start + len(t.text) > len(prompt)),
                            default=len(prompt))  # fmt: skip
                lp = await read_shifted(backend, tokens, text, first, text[first:], usage)
                n = sum(t.start >= first for t in tokens)
        if lp is None:
            raise UnsupportedError(
                f"{backend.base_url} echoes prompt log-probabilities shifted by one token (the "
                "prompt does not start with the model's BOS token), and the log-probability of "
                f"the continuation {cont!r} after character {len(prompt)} cannot be read from "
                "it. Use the embedded llamacpp backend, vllm serve (backend: vllm), or a model "
                "whose prompts start with a BOS token"
            )
        logprobs.append(lp)
        n_tokens.append(n)
    return ScoreResult(logprobs=logprobs, n_tokens=n_tokens, tokens_in=usage.tokens_in - before)


async def echo_positions(backend: OpenAIBackend, request: PositionsRequest) -> PositionsResult:
    """The whole text in one echo request; a shifted echo (:func:`echo_shift`) is realigned
    (:func:`realign`). Where the response cannot tell, the backend's echo alignment check
    decides (unless ``check_echo`` is off)."""
    text = "".join(request.pieces)
    usage = _Usage()
    data, attempts = await backend.post(
        "completions", _echo_body(backend, text), estimate=estimate_tokens(text, 1)
    )
    usage.add(data, attempts)
    choice, done = data["choices"][0], token_counts(data).completion
    tokens = echo_tokens(choice, 0)
    shifted = echo_shift(tokens, text, done)
    if shifted is None:  # the response cannot tell: the backend's check decides
        shifted = False
        if backend.check_echo:
            try:
                await backend._check_echo_alignment("raw", request.pieces[0] or text)
            except UnsupportedError:
                if done:  # how many generated tokens the shifted list holds is unknown
                    raise
                shifted = True
    tokens = realign(tokens) if shifted else tokens[: len(tokens) - done]
    scores: list[ScoreResult] = []
    for point in request.points:
        start = len("".join(request.pieces[: point.after]))
        if shifted:
            read = [
                await read_shifted(backend, tokens, text, start, c, usage)
                for c in point.continuations
            ]
        else:
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
        if shifted:
            alone = await _shifted_score(backend, prompt, point.continuations, usage)
        else:
            request_one = ScoreRequest(prompt=prompt, continuations=point.continuations)
            alone = await backend.score(request_one)
            usage.tokens_in += alone.tokens_in
            usage.calls += len(point.continuations)  # one echo request per continuation
        scores.append(alone)
    return PositionsResult(
        scores=scores,
        tokens_in=len(tokens),
        evaluated=usage.tokens_in,
        one_pass=True,
        calls=usage.calls,
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
