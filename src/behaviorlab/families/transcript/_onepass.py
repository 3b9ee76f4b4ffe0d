"""Each transcript read once: the embedded llama.cpp backend scores a participant's every
response in one decode of the whole transcript.

The transcript is tokenised segment by segment (``segment 0 + "<<"`` with the BOS token, then
each shown response, then ``">>" + next segment + "<<"``, ...), so each response's tokens are
exactly the ones scored and the tokens before response ``k`` are exactly the prompt of choice
``k``. One decode from position 0 in the backend's blocks (64 tokens, aligned to position 0)
asks for logits only at the positions that predict a scored token: the token before each
response gives every option's first token; a candidate (an option, or a free-text response)
that follows the shown response's tokens takes its next tokens' log-probabilities from the same
pass. Only a candidate that leaves the shown tokens after its first token (a multi-token option
the participant did not pick; any response in the ``shuffled`` control) is decoded on a branch
at that point (its tokens but the last, after the prompt), counted as extra tokens, and the
branch is dropped before the pass goes on. With single-token options (the 2×2 games' ``A``/
``B``, the risky-choice letters) the pass evaluates each transcript token once.

A transcript longer than the context (``n_ctx`` minus the longest candidate) is not scored in
one pass: its choices go through per-choice score requests on a **window** (the first segment
kept, the oldest trials dropped in chunks of an eighth of the session until the prompt fits),
flagged ``windowed`` and reported apart from the one-pass figures.

This reads the backend's llama.cpp context directly (``LlamaCppBackend._run`` / ``_load`` and
the C API), under the backend's locks, and resets its prompt states after each pass: the
backend has no public "score at these positions of one sequence" call yet (see
docs/transcript.md for the core change that would replace this module's private access).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from behaviorlab.families.transcript._format import CLOSE, OPEN
from behaviorlab.families.transcript._scoring import (
    ChoiceRecord,
    Session,
    from_logprobs,
    prompt_for,
)
from behaviorlab.models._base import Backend, BackendError, ScoreRequest

BLOCK = 64


@dataclass
class PassStats:
    """Tokens of one scored session: the transcript (up to its last response), the tokens the
    model evaluated, of which ``extra`` on branches."""

    transcript_tokens: int = 0
    evaluated: int = 0
    extra: int = 0
    windowed_choices: int = 0
    windowed_evaluated: int = 0

    def add(self, other: PassStats) -> None:
        self.transcript_tokens += other.transcript_tokens
        self.evaluated += other.evaluated
        self.extra += other.extra
        self.windowed_choices += other.windowed_choices
        self.windowed_evaluated += other.windowed_evaluated


def llama_backend(backend: Backend) -> Any | None:
    """The embedded llama.cpp backend under ``backend`` (through a call cache), or None."""
    from behaviorlab.models._llamacpp import LlamaCppBackend

    inner = backend
    while not isinstance(inner, LlamaCppBackend) and hasattr(inner, "inner"):
        inner = inner.inner
    return inner if isinstance(inner, LlamaCppBackend) else None


@dataclass(frozen=True)
class _Layout:
    tokens: list[int]
    starts: list[int]
    """Position of each response's first token (= the length of its prompt)."""
    shown: list[list[int]]
    candidates: dict[int, list[list[int]]]
    """Per scored response: each option's tokens (or the free-text response's)."""


def _tokenize(llm: Any, text: str, bos: bool) -> list[int]:
    return list(llm.tokenize(text.encode("utf-8"), add_bos=bos, special=False))


def _layout(llm: Any, session: Session) -> _Layout:
    tokens: list[int] = []
    starts: list[int] = []
    shown: list[list[int]] = []
    for k in range(session.n):
        piece = ("" if k == 0 else CLOSE) + session.segments[k] + OPEN
        tokens += _tokenize(llm, piece, bos=k == 0)
        starts.append(len(tokens))
        shown.append(_tokenize(llm, session.shown[k], bos=False))
        tokens += shown[k]
    candidates: dict[int, list[list[int]]] = {}
    for k in session.scored():
        options = session.options[k]
        texts = list(options) if options is not None else [session.responses[k]]
        cands = [_tokenize(llm, t, bos=False) for t in texts]
        if options is not None and any(not c for c in cands):
            raise BackendError(f"an option of response {k + 1} has no tokens: {texts}")
        candidates[k] = cands
    return _Layout(tokens, starts, shown, candidates)


def _follows(cand: list[int], shown: list[int]) -> bool:
    """Whether every token of ``cand`` but its last is predicted on the shown tokens' path."""
    return cand[: len(cand) - 1] == shown[: len(cand) - 1]


class _Decoder:
    """Decodes into sequence 0 of the backend's context, reading log-probabilities of chosen
    tokens at chosen positions."""

    def __init__(self, llm: Any) -> None:
        from behaviorlab.models._llamacpp import _import_llama_cpp

        self.llm = llm
        self.c = _import_llama_cpp()
        self.evaluated = 0

    def clear(self, start: int = 0) -> None:
        self.c.llama_memory_seq_rm(self.c.llama_get_memory(self.llm.ctx), 0, start, -1)

    def decode(
        self, tokens: Sequence[int], n_past: int, wanted: dict[int, set[int]]
    ) -> dict[tuple[int, int], float]:
        """Decode ``tokens`` at positions ``n_past..`` in blocks aligned to position 0; for
        each absolute position ``p`` in ``wanted``, the log-probability (after ``p``) of each
        token id in ``wanted[p]``."""
        from behaviorlab.models._llamacpp import _log_softmax, _logits_row

        out: dict[tuple[int, int], float] = {}
        if not tokens:
            return out
        c = self.c
        batch = c.llama_batch_init(BLOCK, 0, 1)
        try:
            pos = n_past
            end = n_past + len(tokens)
            while pos < end:
                stop = min(end, (pos // BLOCK + 1) * BLOCK)
                rows: list[tuple[int, int]] = []  # (index in the batch, position)
                batch.n_tokens = stop - pos
                for i, p in enumerate(range(pos, stop)):
                    batch.token[i] = tokens[p - n_past]
                    batch.pos[i] = p
                    batch.n_seq_id[i] = 1
                    batch.seq_id[i][0] = 0
                    batch.logits[i] = p in wanted
                    if p in wanted:
                        rows.append((i, p))
                status = c.llama_decode(self.llm.ctx, batch)
                if status != 0:
                    raise BackendError(f"llama_decode failed with status {status}")
                self.evaluated += stop - pos
                for i, p in rows:
                    logp = _log_softmax(_logits_row(self.llm, i))
                    for tok in wanted[p]:
                        out[(p, tok)] = float(logp[tok])
                pos = stop
        finally:
            c.llama_batch_free(batch)
        return out


def _want(wanted: dict[int, set[int]], p: int, tok: int) -> None:
    wanted.setdefault(p, set()).add(tok)


Lookup = dict[tuple[int, int], float]
"""(absolute position, token id) -> the token's log-probability after that position."""


def _records(
    session: Session, layout: _Layout, source: dict[tuple[int, int], Lookup]
) -> list[ChoiceRecord]:
    """Each scored response from the log-probabilities of its candidates' tokens
    (``source[(k, candidate index)]``)."""
    out = []
    for k in session.scored():
        start = layout.starts[k]
        sums = []
        for ci, cand in enumerate(layout.candidates[k]):
            got = source[(k, ci)]
            sums.append(sum(got[(start + j - 1, t)] for j, t in enumerate(cand)))
        options = session.options[k]
        if options is not None:
            out.append(from_logprobs(k, session.responses[k], options, sums))
        else:
            out.append(
                ChoiceRecord(
                    k=k,
                    response=session.responses[k],
                    options=None,
                    free_text_nll=-sums[0],
                    free_text_tokens=len(layout.candidates[k][0]),
                )
            )
    return out


def _one_pass_sync(
    llm: Any, layout: _Layout, session: Session
) -> tuple[list[ChoiceRecord], PassStats]:
    wanted: dict[int, set[int]] = {}
    branch_at: dict[int, list[int]] = {}
    for k, cands in layout.candidates.items():
        start, shown = layout.starts[k], layout.shown[k]
        for ci, cand in enumerate(cands):
            if not cand:
                continue
            _want(wanted, start - 1, cand[0])
            if _follows(cand, shown):
                for j in range(1, len(cand)):
                    _want(wanted, start + j - 1, cand[j])
            else:
                branch_at.setdefault(k, []).append(ci)
    dec = _Decoder(llm)
    dec.clear()
    lp: dict[tuple[int, int], float] = {}
    branch: dict[tuple[int, int], dict[tuple[int, int], float]] = {}
    extra = 0
    cursor = 0
    stops = [*sorted({layout.starts[k] for k in branch_at}), len(layout.tokens)]
    for stop in stops:
        lp.update(dec.decode(layout.tokens[cursor:stop], cursor, wanted))
        cursor = stop
        for k in [k for k in branch_at if layout.starts[k] == stop]:
            for ci in branch_at[k]:
                cand = layout.candidates[k][ci]
                here: dict[tuple[int, int], float] = {(stop - 1, cand[0]): lp[(stop - 1, cand[0])]}
                want_b = {stop + j - 1: {cand[j]} for j in range(1, len(cand))}
                here.update(dec.decode(cand[:-1], stop, want_b))
                extra += len(cand) - 1
                dec.clear(stop)
                branch[(k, ci)] = here
    stats = PassStats(transcript_tokens=len(layout.tokens), evaluated=dec.evaluated, extra=extra)
    source = {
        (k, ci): branch.get((k, ci), lp)
        for k, cands in layout.candidates.items()
        for ci in range(len(cands))
    }
    return _records(session, layout, source), stats


def _per_choice_sync(
    llm: Any, layout: _Layout, session: Session
) -> tuple[list[ChoiceRecord], PassStats]:
    """The reference: every choice's prompt decoded from scratch (same tokens, same blocks),
    then each candidate's tokens after it."""
    dec = _Decoder(llm)
    lp_all: dict[tuple[int, int], dict[tuple[int, int], float]] = {}
    for k, cands in layout.candidates.items():
        start = layout.starts[k]
        dec.clear()
        first = {start - 1: {c[0] for c in cands if c}}
        base = dec.decode(layout.tokens[:start], 0, first)
        for ci, cand in enumerate(cands):
            here = {(start - 1, cand[0]): base[(start - 1, cand[0])]} if cand else {}
            if len(cand) > 1:
                here.update(
                    dec.decode(
                        cand[:-1], start, {start + j - 1: {cand[j]} for j in range(1, len(cand))}
                    )
                )
                dec.clear(start)
            lp_all[(k, ci)] = here
    stats = PassStats(transcript_tokens=len(layout.tokens), evaluated=dec.evaluated)
    return _records(session, layout, lp_all), stats


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


async def _windowed(
    backend: Any, llm_count: Any, session: Session, budget: int
) -> tuple[list[ChoiceRecord], PassStats]:
    chunk = max(1, session.n // 8)
    out: list[ChoiceRecord] = []
    stats = PassStats()
    before = backend.prefix_stats.evaluated
    first = 0
    for k in session.scored():
        options = session.options[k]
        while True:
            prompt = _window_prompt(session, k, first)
            if llm_count(prompt) <= budget or first >= k:
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
        if options is not None:
            rec = from_logprobs(k, session.responses[k], options, result.logprobs)
        else:
            rec = ChoiceRecord(
                k=k,
                response=session.responses[k],
                options=None,
                free_text_nll=-result.logprobs[0],
                free_text_tokens=result.n_tokens[0],
            )
        rec.windowed = True
        out.append(rec)
        stats.windowed_choices += 1
    stats.windowed_evaluated = backend.prefix_stats.evaluated - before
    return out, stats


async def score_one_pass(
    backend: Any, session: Session, *, reference: bool = False
) -> tuple[list[ChoiceRecord], PassStats]:
    """Score ``session`` on the llama.cpp ``backend`` in one pass (``reference``: per-choice
    prompts from scratch instead, for checks and benchmarks)."""
    if session.history == "none":
        raise ValueError("one-pass scoring reads one transcript; history 'none' is per choice")

    def run() -> tuple[list[ChoiceRecord], PassStats] | _Layout:
        llm = backend._load()
        layout = _layout(llm, session)
        longest = max((len(c) for cs in layout.candidates.values() for c in cs), default=1)
        if len(layout.tokens) + longest > backend.n_ctx:
            return layout
        try:
            fn = _per_choice_sync if reference else _one_pass_sync
            return fn(llm, layout, session)
        finally:
            # the context no longer holds any state the backend kept: forget them all
            _Decoder(llm).clear()
            llm.n_tokens = 0
            backend.prompt_states.clear()

    done: tuple[list[ChoiceRecord], PassStats] | _Layout = await backend._run(run)
    if not isinstance(done, _Layout):
        return done
    longest = max((len(c) for cs in done.candidates.values() for c in cs), default=1)

    def count(prompt: str) -> int:
        return len(backend.prompt_tokens(prompt=prompt))

    records, stats = await _windowed(backend, count, session, backend.n_ctx - longest)
    stats.transcript_tokens = len(done.tokens)
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
