"""Scoring a participant's every choice given the transcript so far.

A :class:`Session` is one participant's transcript as the task plays it: the segments (what
they read before each response), the options each segment states, their own responses (the
targets) and the responses *shown* as history (their own; another participant's in the
``shuffled`` control). :func:`prompt_for` builds the text before response ``k``; every scorer
returns one :class:`ChoiceRecord` per response:

* :func:`score_by_requests`: one :class:`~behaviorlab.models.ScoreRequest` per response (any
  backend that scores continuations; HTTP backends, the mock);
* :func:`score_by_simulator`: one ``simulator.answer`` per response (baselines; an LLM in
  ``generate`` mode gives a choice without a distribution, so no NLL);
* :mod:`._onepass`: the embedded llama.cpp backend reads the whole transcript once.

NLL over options: ``-log p(response)`` with ``p`` the softmax of the options' summed
log-probabilities (the uniform distribution's NLL, ``log n``, is the chance line). A free-text
response (no options stated) is scored by the log-likelihood of its own tokens, kept apart.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from behaviorlab.data._records import Action, Observation, Option, Step
from behaviorlab.families.transcript._format import CLOSE, OPEN
from behaviorlab.models._base import Backend, BackendError, ScoreRequest

if TYPE_CHECKING:
    from behaviorlab.simulators._base import Simulator
    from behaviorlab.tasks._base import TrialInput

History = Literal["own", "shuffled", "none"]
HISTORIES: tuple[History, ...] = ("own", "shuffled", "none")
MIN_PROBABILITY = 1e-6
"""A simulator's probability of the person's response is clipped to this before the log."""


@dataclass(frozen=True)
class Session:
    experiment: str
    segments: tuple[str, ...]
    options: tuple[tuple[str, ...] | None, ...]
    labels: tuple[tuple[str, ...] | None, ...]
    responses: tuple[str, ...]
    shown: tuple[str, ...]
    history: History = "own"
    first_scored: int = 0
    """Responses before this index are context only (the within-person split by position)."""

    @property
    def n(self) -> int:
        return len(self.responses)

    def scored(self) -> range:
        return range(self.first_scored, self.n)


def prompt_for(session: Session, k: int) -> str:
    """The text the subject reads before response ``k``, ending with the opening ``<<``.

    ``own`` / ``shuffled``: every earlier segment and shown response, then segment ``k``.
    ``none``: the first segment (the instructions and the first trial, without its response)
    and, from the second response on, segment ``k``."""
    if session.history == "none":
        if k == 0:
            return session.segments[0] + OPEN
        return session.segments[0] + session.segments[k] + OPEN
    done = "".join(
        f"{s}{OPEN}{r}{CLOSE}" for s, r in zip(session.segments[:k], session.shown[:k], strict=True)
    )
    return done + session.segments[k] + OPEN


@dataclass
class ChoiceRecord:
    """One response of the participant, as scored (stored in ``Answer.value["choices"]``)."""

    k: int
    response: str
    options: list[str] | None
    probabilities: dict[str, float] | None = None
    nll: float | None = None
    """-log p(response) over the options (None: free text, or no distribution)."""
    chance_nll: float | None = None
    top: str | None = None
    correct: bool | None = None
    free_text_nll: float | None = None
    free_text_tokens: int | None = None
    windowed: bool = False
    """Scored on a window of the transcript (too long for the context): reported apart."""
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def from_logprobs(
    k: int, response: str, options: Sequence[str], logprobs: Sequence[float]
) -> ChoiceRecord:
    """A choice scored by the options' summed log-probabilities (softmax over the options)."""
    top = max(logprobs)
    z = top + math.log(sum(math.exp(v - top) for v in logprobs))
    probs = {o: math.exp(v - z) for o, v in zip(options, logprobs, strict=True)}
    best = max(options, key=lambda o: probs[o])
    return ChoiceRecord(
        k=k,
        response=response,
        options=list(options),
        probabilities=probs,
        nll=z - logprobs[list(options).index(response)],
        chance_nll=math.log(len(options)),
        top=best,
        correct=best == response,
    )


def from_probabilities(
    k: int,
    response: str,
    options: Sequence[str],
    probs: dict[str, float] | None,
    choice: str | None,
) -> ChoiceRecord:
    """A choice a simulator answered (its probabilities when it gives them)."""
    record = ChoiceRecord(
        k=k, response=response, options=list(options), chance_nll=math.log(len(options))
    )
    if probs:
        total = sum(max(0.0, probs.get(o, 0.0)) for o in options)
        if total > 0:
            norm = {o: max(0.0, probs.get(o, 0.0)) / total for o in options}
            record.probabilities = norm
            record.nll = -math.log(max(norm[response], MIN_PROBABILITY))
            choice = max(options, key=lambda o: norm[o])
    if choice is not None:
        record.top = choice
        record.correct = choice == response
    return record


async def score_by_requests(
    backend: Backend, session: Session, usage: Usage | None = None
) -> list[ChoiceRecord]:
    """One score request per response: the options (or the free-text response itself) as
    continuations of :func:`prompt_for`; a failed request is that choice's error. ``usage``
    counts the requests the call cache answered."""
    out: list[ChoiceRecord] = []
    for k in session.scored():
        response, options = session.responses[k], session.options[k]
        prompt = prompt_for(session, k)
        try:
            if options is not None:
                result = await backend.score(
                    ScoreRequest(prompt=prompt, continuations=list(options))
                )
                out.append(from_logprobs(k, response, options, result.logprobs))
            else:
                result = await backend.score(ScoreRequest(prompt=prompt, continuations=[response]))
                out.append(
                    ChoiceRecord(
                        k=k,
                        response=response,
                        options=None,
                        free_text_nll=-result.logprobs[0],
                        free_text_tokens=result.n_tokens[0],
                    )
                )
        except BackendError as exc:
            out.append(
                ChoiceRecord(k=k, response=response, options=_as_list(options), error=str(exc))
            )
            continue
        if usage is not None:
            usage.cache_hits += int(result.cached)
    return out


def _as_list(options: Sequence[str] | None) -> list[str] | None:
    return None if options is None else list(options)


def history_steps(session: Session, k: int) -> list[Step]:
    """The responses before ``k`` as history steps (what the person saw and did; the shown
    responses in the ``shuffled`` control, none in ``none``)."""
    if session.history == "none":
        return []
    steps = []
    for i in range(k):
        codes, labels = session.options[i], session.labels[i]
        opts = (
            None
            if codes is None or labels is None
            else [Option(code=c, label=la) for c, la in zip(codes, labels, strict=True)]
        )
        steps.append(
            Step(
                index=i,
                step_id=f"choice-{i + 1}",
                observation=Observation(
                    kind="transcript_segment", content=session.segments[i], options=opts
                ),
                action=Action(action_type="response", value=session.shown[i]),
            )
        )
    return steps


def choice_input(template: TrialInput, session: Session, k: int) -> TrialInput:
    """What a simulator is asked for response ``k``: the transcript so far as the question, the
    stated options in stated order, the earlier responses as history."""
    codes, labels = session.options[k], session.labels[k]
    options = (
        None
        if codes is None or labels is None
        else [Option(code=c, label=la) for c, la in zip(codes, labels, strict=True)]
    )
    return template.model_copy(
        update={
            "history": history_steps(session, k),
            "observation": Observation(
                kind="question", content=prompt_for(session, k), options=options
            ),
            "meta": {
                **template.meta,
                "choice_index": k,
                "n_choices": session.n,
                "history_mode": session.history,
            },
        }
    )


@dataclass
class Usage:
    tokens_in: int = 0
    tokens_out: int = 0
    calls: int = 0
    cache_hits: int = 0
    cost: float = 0.0
    errors: list[str] = field(default_factory=list)


async def score_by_simulator(
    simulator: Simulator, template: TrialInput, session: Session, usage: Usage
) -> list[ChoiceRecord]:
    """One ``simulator.answer`` per response; free-text responses are skipped (a simulator
    gives no likelihood of a text)."""
    from behaviorlab.simulators._base import Answer

    out: list[ChoiceRecord] = []
    for k in session.scored():
        response, options = session.responses[k], session.options[k]
        if options is None:
            out.append(ChoiceRecord(k=k, response=response, options=None))
            continue
        try:
            answer = await simulator.answer(choice_input(template, session, k))
        except Exception as exc:  # a simulator bug is a failed choice, not a failed run
            answer = Answer(error=f"{type(exc).__name__}: {exc}", error_kind="backend")
        usage.tokens_in += answer.tokens_in
        usage.tokens_out += answer.tokens_out
        usage.calls += answer.calls
        usage.cache_hits += answer.cache_hits
        usage.cost += answer.cost
        if answer.error is not None:
            usage.errors.append(answer.error)
            out.append(
                ChoiceRecord(k=k, response=response, options=list(options), error=answer.error)
            )
            continue
        out.append(from_probabilities(k, response, options, answer.probabilities, answer.choice))
    return out
