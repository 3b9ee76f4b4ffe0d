"""Prefix reuse with the bundled SmolLM2 (marked slow; runs in CI): a session replayed step by
step reads only the new tokens and answers as a from-scratch replay does."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from behaviorlab.data import Action, Observation, Person, Step
from behaviorlab.models._base import GenerateRequest, Message, MissingExtraError, ScoreRequest
from behaviorlab.models._llamacpp import _BLOCK, LlamaCppBackend, _import_llama_cpp
from behaviorlab.models._prefix import common_prefix
from behaviorlab.simulators._prompts import structured_prompt
from behaviorlab.tasks._base import TrialInput

pytestmark = pytest.mark.slow

LOGPROB_TOLERANCE = 1e-3
"""Stated tolerance between reuse and from-scratch log-probabilities (observed: 0)."""

PERSONA = (
    "You are 58, a retired bus driver from Leeds who buys kitchen things online about once a "
    "month. You compare prices carefully, read the one-star reviews first and never pay for "
    "express delivery. You live with your wife and two cats, you like tea more than coffee, "
    "and you distrust brands you have never heard of. When a page confuses you, you go back "
    "to the search results rather than guess. Your daughter set up the account for you and "
    "you still find the small grey buttons hard to read."
)
PAGES = [
    ("Search: kettle", ["kettle_1.title", "kettle_2.title", "filter.under_30", "next_page"]),
    ("Steel Kettle 1.7L", ["add_to_cart", "reviews", "colour.black", "colour.steel"]),
    ("Reviews: Steel Kettle", ["filter.one_star", "back", "helpful_1", "helpful_2"]),
]


def _schema(ids: list[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "action_type": {"type": "string", "enum": ["click", "terminate"]},
            "semantic_id": {"type": "string", "enum": ids},
        },
        "required": ["action_type", "semantic_id"],
    }


def _session() -> list[TrialInput]:
    person = Person(person_id="p1", description=PERSONA)
    trials, shown = [], []
    for i, (title, ids) in enumerate(PAGES):
        body = "\n".join(f'[{e}] button "{e.replace("_", " ").replace(".", " ")}"' for e in ids)
        page = Observation(kind="page", content=f"Page: {title}\n{body}", meta={"title": title})
        trials.append(
            TrialInput(
                task="next_action",
                item_id=f"s{i}",
                person_id="p1",
                persona=person,
                history=list(shown),
                observation=page,
                answer_schema=_schema(ids),
                instructions="Predict this shopper's next action on the page.",
            )
        )
        action = Action(action_type="click", target=ids[i % len(ids)])
        shown.append(Step(index=i, step_id=f"s{i}", observation=page, action=action))
    return trials


def _request(trial: TrialInput) -> GenerateRequest:
    messages = structured_prompt(trial).messages
    return GenerateRequest(messages=messages, json_schema=trial.answer_schema, max_tokens=6)


@pytest.fixture(scope="module")
def llama_cpp() -> Any:
    try:
        return _import_llama_cpp()
    except MissingExtraError:
        pytest.skip("llama-cpp-python is not installed: pip install 'behaviorlab[llm]'")


@pytest.fixture(scope="module")
def reuse(llama_cpp: Any) -> Iterator[LlamaCppBackend]:
    backend = LlamaCppBackend("smollm2", n_ctx=2048)
    yield backend
    asyncio.run(backend.aclose())


@pytest.fixture(scope="module")
def scratch(llama_cpp: Any) -> Iterator[LlamaCppBackend]:
    backend = LlamaCppBackend("smollm2", n_ctx=2048, prefix_reuse=False)
    yield backend
    asyncio.run(backend.aclose())


def test_replay_reads_only_new_tokens_and_agrees_with_scratch(
    reuse: LlamaCppBackend, scratch: LlamaCppBackend
) -> None:
    requests = [_request(t) for t in _session()]
    prompts = [reuse.prompt_tokens(r.messages) for r in requests]
    batches: list[list[list[int]]] = []  # per call

    async def replay() -> tuple[list[Any], list[Any]]:
        with_reuse = [await reuse.generate(requests[0])]
        from_scratch = [await scratch.generate(requests[0])]
        llm = reuse._llm
        original = llm.eval

        def recording_eval(tokens: list[int]) -> None:  # every batch llama.cpp evaluates
            batches[-1].append(list(tokens))
            original(tokens)

        llm.eval = recording_eval
        try:
            for request in requests[1:]:
                batches.append([])
                with_reuse.append(await reuse.generate(request))
                from_scratch.append(await scratch.generate(request))
        finally:
            del llm.eval  # back to Llama.eval
        return with_reuse, from_scratch

    with_reuse, from_scratch = asyncio.run(replay())
    assert [g.text for g in with_reuse] == [g.text for g in from_scratch]
    assert all('"action_type"' in g.text for g in with_reuse), with_reuse[0].text
    for k in range(1, len(prompts)):
        new = len(prompts[k]) - common_prefix(prompts[k - 1], prompts[k])
        meta = with_reuse[k].meta
        assert new >= 20 and meta["prompt_tokens_reused"] >= 2 * _BLOCK
        assert new <= meta["prompt_tokens_evaluated"] < new + _BLOCK, (k, new, meta)
        assert meta["prompt_tokens_reused"] + meta["prompt_tokens_evaluated"] == len(prompts[k])
        assert from_scratch[k].meta == {
            "prompt_tokens_reused": 0,
            "prompt_tokens_evaluated": len(prompts[k]),
        }
    # llama-cpp-python's create_completion (grammar on) found the prompt cached: per call, our
    # eval of the prompt's new tokens, its own eval of nothing, then the generated tokens
    calls = batches
    assert len(calls) == len(prompts) - 1
    for k, call in enumerate(calls, 1):
        assert call[0] == prompts[k][with_reuse[k].meta["prompt_tokens_reused"] :]
        assert call[1] == []  # Llama.generate: "full prompt already cached", nothing to read
        assert all(len(b) == 1 for b in call[2:])  # then one generated token at a time
        assert len(call) - 2 <= with_reuse[k].tokens_out


def test_score_after_generate_shares_the_cache_safely(
    reuse: LlamaCppBackend, scratch: LlamaCppBackend
) -> None:
    """generate → score (same prompt) → generate (next step) on one cache, against scratch."""
    trials = _session()
    first, second = _request(trials[1]), _request(trials[2])
    options = ['{"action_type": "click"', '{"action_type": "terminate"', "I think"]
    score = ScoreRequest(messages=first.messages, continuations=options)

    async def run(b: LlamaCppBackend) -> tuple[str, list[float], str, int]:
        before = b.prefix_stats.reused
        a = await b.generate(first)
        s = await b.score(score)
        c = await b.generate(second)
        return a.text, s.logprobs, c.text, b.prefix_stats.reused - before

    r_first, r_logprobs, r_second, reused = asyncio.run(run(reuse))
    s_first, s_logprobs, s_second, none = asyncio.run(run(scratch))
    assert (r_first, r_second) == (s_first, s_second)
    assert r_logprobs == pytest.approx(s_logprobs, abs=LOGPROB_TOLERANCE)
    assert len(set(r_logprobs)) == 3 and max(r_logprobs) < 0
    assert none == 0
    n = len(reuse.prompt_tokens(first.messages))
    assert reused >= (n - 1) // _BLOCK * _BLOCK  # the score call re-used the generate's prompt


def test_cache_state_does_not_leak_across_unrelated_prompts(reuse: LlamaCppBackend) -> None:
    """A long unrelated call in between changes neither the answer nor the score."""
    request = _request(_session()[0])
    other = [Message(role="user", content="Tell me about the history of tea. " * 12)]
    score = ScoreRequest(messages=request.messages, continuations=['{"action_type": "click"'])

    async def run() -> tuple[str, float, str, float]:
        a = await reuse.generate(request)
        s = await reuse.score(score)
        await reuse.generate(GenerateRequest(messages=other, max_tokens=6))
        b = await reuse.generate(request)
        t = await reuse.score(score)
        return a.text, s.logprobs[0], b.text, t.logprobs[0]

    a, s, b, t = asyncio.run(run())
    assert a == b
    assert s == pytest.approx(t, abs=LOGPROB_TOLERANCE)
