"""Parties taking turns on one embedded backend (bundled SmolLM2; marked slow, runs in CI): each
continues from its own prompt state, and answers and scores equal those read from scratch."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from behaviorlab.models._base import GenerateRequest, Message, MissingExtraError, ScoreRequest
from behaviorlab.models._llamacpp import _BLOCK, LlamaCppBackend, _import_llama_cpp
from behaviorlab.models._prefix import common_prefix

pytestmark = pytest.mark.slow

LOGPROB_TOLERANCE = 1e-3
"""Stated tolerance between reuse and from-scratch log-probabilities (observed: 0)."""

SETTING = (
    "A public meeting in the town of Bramley about replacing bus line 9 with a tram. Speak "
    "in one or two short sentences, stay in your role and answer the last speakers."
)
PARTIES = {
    "Moderator": "You are Ana Ruiz, the local radio host chairing the meeting. You keep "
    "everyone short, ask one pointed question at a time and never give your own opinion. "
    "You know the budget is 240 million pounds and the works would last three years.",
    "Shopkeeper": "You are Tom Hale, 52, who runs the hardware shop on the high street "
    "that the tram would use. Three years of works scare you: your customers come by car "
    "and your margins are thin. You are blunt and you speak from numbers you know.",
    "Engineer": "You are Priya Nair, the city's transport engineer who drew up the plan. "
    "You are precise and patient, you quote journey times and capacities, and you admit "
    "what the plan does not solve. You think buses on line 9 are full at rush hour.",
}


def _request(name: str, transcript: list[tuple[str, str]]) -> GenerateRequest:
    """``name``'s prompt: setting and persona, then the meeting so far, growing only at its end
    (its own answers as assistant turns, the others' since its last turn in one user turn)."""
    messages = [Message(role="system", content=f"{SETTING}\n\n{PARTIES[name]}")]
    heard: list[str] = []
    for speaker, text in transcript:
        if speaker == name:  # the turn it answered, exactly as it was asked
            messages.append(_turn(heard, name))
            messages.append(Message(role="assistant", content=text))
            heard = []
        else:
            heard.append(f"{speaker}: {text}")
    messages.append(_turn(heard, name))
    return GenerateRequest(messages=messages, max_tokens=12, temperature=0.0)


def _turn(heard: list[str], name: str) -> Message:
    return Message(role="user", content="\n".join([*heard, f"Your turn, {name}."]))


@pytest.fixture(scope="module")
def backends() -> Iterator[tuple[LlamaCppBackend, LlamaCppBackend]]:
    try:
        _import_llama_cpp()
    except MissingExtraError:
        pytest.skip("llama-cpp-python is not installed: pip install 'behaviorlab[llm]'")
    reuse = LlamaCppBackend("smollm2", n_ctx=2048, kv_slots=4)
    scratch = LlamaCppBackend("smollm2", n_ctx=2048, prefix_reuse=False)
    yield reuse, scratch
    for b in (reuse, scratch):
        asyncio.run(b.aclose())


def test_parties_taking_turns_read_only_their_new_tokens(
    backends: tuple[LlamaCppBackend, LlamaCppBackend],
) -> None:
    reuse, scratch = backends
    transcript: list[tuple[str, str]] = []
    last: dict[str, list[int]] = {}
    rows: list[tuple[str, int, int, dict[str, Any]]] = []

    async def play() -> None:
        for rnd in range(2):
            for name in PARTIES:
                request = _request(name, transcript)
                tokens = reuse.prompt_tokens(request.messages)
                with_reuse = await reuse.generate(request)
                from_scratch = await scratch.generate(request)
                assert with_reuse.text == from_scratch.text, (rnd, name)
                assert from_scratch.meta["prompt_tokens_reused"] == 0
                new = len(tokens) - common_prefix(last.get(name, []), tokens)
                rows.append((name, len(tokens), new, with_reuse.meta))
                last[name] = tokens
                transcript.append((name, from_scratch.text))

    asyncio.run(play())
    assert all(text.strip() for _, text in transcript)
    for _, total, _, meta in rows:
        assert meta["prompt_tokens_reused"] + meta["prompt_tokens_evaluated"] == total
    for name, total, new, meta in rows[len(PARTIES) :]:  # round 2: each party's own state
        assert total - new >= _BLOCK, (name, total, new)  # one cache would re-read it
        assert new <= meta["prompt_tokens_evaluated"] < new + _BLOCK, (name, total, new, meta)
    assert reuse.prompt_states.restores >= len(PARTIES)

    # Scoring continues from the same states, and a generation after it still agrees.
    options = [" Yes.", " No, the works would last three years."]
    first = next(iter(PARTIES))
    score = ScoreRequest(messages=_request(first, transcript).messages, continuations=options)
    before = reuse.prefix_stats.reused

    async def score_both() -> tuple[list[float], list[float]]:
        r = await reuse.score(score)
        s = await scratch.score(score)
        return r.logprobs, s.logprobs

    with_reuse, from_scratch = asyncio.run(score_both())
    assert with_reuse == pytest.approx(from_scratch, abs=LOGPROB_TOLERANCE)
    assert with_reuse[0] != with_reuse[1]
    assert reuse.prefix_stats.reused - before >= len(last[first]) // _BLOCK * _BLOCK
