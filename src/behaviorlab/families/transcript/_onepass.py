"""Each transcript read once: a participant's every response scored with one
:meth:`~behaviorlab.models.Backend.score_positions` request.

The request's pieces are the transcript cut at the response markers (``segment 0 + "<<"``,
the first shown response, ``">>" + segment 1 + "<<"``, ...), so the text before response
``k`` is exactly the prompt of choice ``k`` (:func:`~._scoring.prompt_for`); each scored
response is a point whose continuations are its options (or the free-text response itself).
A backend that reads a text once (the embedded llama.cpp backend; an HTTP server that echoes
prompt log-probabilities) scores the session in one pass, tokenising piece by piece so each
response's tokens are the ones scored; any other backend that scores continuations answers
with one score request per choice (the protocol's default).

A transcript longer than the context (the backend raises
:class:`~behaviorlab.models._base.ContextWindowError`) is scored per choice on a **window**
(the first segment kept, the oldest trials dropped in chunks of an eighth of the session until
the prompt fits), flagged ``windowed`` and reported apart from the one-pass figures.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from behaviorlab.families.transcript._format import CLOSE, OPEN
from behaviorlab.families.transcript._scoring import (
    ChoiceRecord,
    Session,
    from_logprobs,
    prompt_for,
)
from behaviorlab.models._base import (
    Backend,
    BackendError,
    ContextWindowError,
    PositionsRequest,
    PositionsResult,
    ScorePoint,
    ScoreRequest,
    ScoreResult,
    score_per_point,
)
from behaviorlab.models._cache import reads_once as _reads_once


@dataclass
class PassStats:
    """Tokens of one scored session: the transcript (up to its last response), the tokens the
    model evaluated, of which ``extra`` on branches (one pass) or re-read (per choice)."""

    transcript_tokens: int = 0
    evaluated: int = 0
    extra: int = 0
    windowed_choices: int = 0
    windowed_evaluated: int = 0
    one_pass: bool = False
    calls: int = 0
    """Model calls: 1 for a whole-text request, one per choice when split or windowed."""
    cached: int = 0
    """Of those calls, the ones the call cache answered."""

    def add(self, other: PassStats) -> None:
        self.transcript_tokens += other.transcript_tokens
        self.evaluated += other.evaluated
        self.extra += other.extra
        self.windowed_choices += other.windowed_choices
        self.windowed_evaluated += other.windowed_evaluated


def session_request(session: Session) -> PositionsRequest:
    """The session as one :class:`PositionsRequest`: the transcript in pieces cut at the
    markers, one point per scored response (its options, or the free-text response)."""
    if session.history == "none":
        raise ValueError("history 'none' gives each choice its own text; score it per choice")
    pieces: list[str] = []
    for k in range(session.n):
        pieces += [("" if k == 0 else CLOSE) + session.segments[k] + OPEN, session.shown[k]]
    points = []
    for k in session.scored():
        options = session.options[k]
        conts = list(options) if options is not None else [session.responses[k]]
        points.append(ScorePoint(after=2 * k + 1, continuations=conts))
    return PositionsRequest(pieces=pieces, points=points)


def reads_once(backend: Backend) -> bool:
    """Whether ``backend`` (through a call cache, the backend it wraps) reads a text once (it
    overrides :meth:`~behaviorlab.models.Backend.score_positions`)."""
    return _reads_once(backend)


def reader(backend: Backend) -> Backend:
    """The backend to send a session to: ``backend`` itself (a call cache stores the whole
    request as one call when the backend it wraps reads a text once, else each point)."""
    return backend


def _record(session: Session, k: int, result: ScoreResult) -> ChoiceRecord:
    options = session.options[k]
    if options is not None:
        return from_logprobs(k, session.responses[k], options, result.logprobs)
    return ChoiceRecord(
        k=k,
        response=session.responses[k],
        options=None,
        free_text_nll=-result.logprobs[0],
        free_text_tokens=result.n_tokens[0],
    )


def _window_prompt(session: Session, k: int, first: int) -> str:
    """Prompt of choice ``k`` keeping segment 0 (with its response) and trials ``first..``."""
    if first <= 1:
        return prompt_for(session, k)
    head = f"{session.segments[0]}{OPEN}{session.shown[0]}{CLOSE}"
    rest = "".join(
        f"{s}{OPEN}{r}{CLOSE}"
        for s, r in zip(session.segments[first:k], session.shown[first:k], strict=True)
    )
    return head + rest + session.segments[k] + OPEN


def _counter(backend: Backend) -> Callable[[str], int]:
    while getattr(backend, "prompt_tokens", None) is None and isinstance(
        getattr(backend, "inner", None), Backend
    ):  # through a call cache to the model that counts
        backend = backend.inner  # type: ignore[attr-defined]
    count = getattr(backend, "prompt_tokens", None)
    if callable(count):
        return lambda prompt: len(count(prompt=prompt))
    return lambda prompt: len(prompt) // 4 + 1  # about 4 characters per token


async def _windowed(
    backend: Backend, session: Session, n_ctx: int
) -> tuple[list[ChoiceRecord], PassStats]:
    count = _counter(backend)
    texts = [o for k in session.scored() for o in (session.options[k] or [session.responses[k]])]
    budget = n_ctx - max(count(t) for t in texts)
    chunk = max(1, session.n // 8)
    out: list[ChoiceRecord] = []
    stats = PassStats()
    first = 0
    for k in session.scored():
        options = session.options[k]
        while True:
            prompt = _window_prompt(session, k, first)
            if count(prompt) <= budget or first >= k:
                break
            first = min(k, first + chunk)
        conts = list(options) if options is not None else [session.responses[k]]
        try:
            result = await backend.score(ScoreRequest(prompt=prompt, continuations=conts))
        except BackendError as exc:
            out.append(
                ChoiceRecord(
                    k=k,
                    response=session.responses[k],
                    options=None if options is None else list(options),
                    error=str(exc),
                    windowed=True,
                )
            )
            continue
        rec = _record(session, k, result)
        rec.windowed = True
        out.append(rec)
        stats.windowed_choices += 1
        stats.windowed_evaluated += result.tokens_in
        stats.calls += 1
        stats.cached += int(result.cached)
    return out, stats


async def score_one_pass(
    backend: Backend, session: Session, *, reference: bool = False
) -> tuple[list[ChoiceRecord], PassStats]:
    """Score ``session`` with one :meth:`~behaviorlab.models.Backend.score_positions` request
    (``reference``: one score request per choice instead, for checks and benchmarks); a
    transcript too long for the context is windowed."""
    request = session_request(session)
    target = reader(backend)
    try:
        if reference:
            result: PositionsResult = await score_per_point(target, request)
        else:
            result = await target.score_positions(request)
    except ContextWindowError as exc:
        records, stats = await _windowed(target, session, exc.n_ctx)
        stats.transcript_tokens = exc.n_tokens
        return records, stats
    records = [
        _record(session, k, score) for k, score in zip(session.scored(), result.scores, strict=True)
    ]
    stats = PassStats(
        transcript_tokens=result.tokens_in,
        evaluated=result.evaluated,
        extra=max(0, result.evaluated - result.tokens_in),
        one_pass=result.one_pass,
        calls=result.calls,
        cached=result.calls
        if result.cached
        else sum(int(s.cached) for s in result.scores)
        if result.calls > 1
        else 0,
    )
    return records, stats


def nll_close(a: Sequence[ChoiceRecord], b: Sequence[ChoiceRecord]) -> float:
    """The largest difference in NLL (or free-text NLL) between two scorings of a session."""
    worst = 0.0
    for x, y in zip(a, b, strict=True):
        for u, v in ((x.nll, y.nll), (x.free_text_nll, y.free_text_nll)):
            if u is not None and v is not None:
                worst = max(worst, abs(u - v))
            elif (u is None) != (v is None):
                return math.inf
    return worst
