"""A scripted MockBackend: lists played in order (never wrapping), callables, scripted scores,
per-kind call counts, and an identity that keeps scripted answers out of unscripted runs."""

from __future__ import annotations

import asyncio
import math
from pathlib import Path

import pytest

from behaviorlab.data import Dataset
from behaviorlab.models import (
    BackendError,
    CachedBackend,
    CallCache,
    GenerateRequest,
    Generation,
    Message,
    MockBackend,
    ScoreRequest,
    ScoreResult,
)
from behaviorlab.models._mock import MockScriptError


def _gen(mock: MockBackend, text: str = "how are you today") -> Generation:
    return asyncio.run(
        mock.generate(GenerateRequest(messages=[Message(role="user", content=text)]))
    )


def _score(mock: MockBackend, *continuations: str) -> ScoreResult:
    return asyncio.run(
        mock.score(ScoreRequest(prompt="pick one", continuations=list(continuations)))
    )


def test_a_list_is_played_in_order_and_never_wraps() -> None:
    whole = Generation(text='{"answer": "B"}', tokens_in=7, tokens_out=3, meta={"parse": "valid"})
    mock = MockBackend(script=["first reply", whole, BackendError("HTTP 503"), "last"])
    first = _gen(mock)
    assert first.text == "first reply"
    assert (first.tokens_in, first.tokens_out) == (5, 2)  # "user: how are you today"
    assert _gen(mock) == whole  # a Generation is given back as scripted
    with pytest.raises(BackendError, match="HTTP 503"):
        _gen(mock)
    assert _gen(mock).text == "last"
    for call in (5, 6):  # past the end: an error each time, never the first output again
        with pytest.raises(MockScriptError, match=rf"generate call {call}, but the script holds 4"):
            _gen(mock)
    assert mock.calls == 6 and mock.calls_by_kind == {"generate": 6}


def test_an_empty_script_refuses_every_call() -> None:
    mock = MockBackend(script=[])
    with pytest.raises(MockScriptError, match="holds 0 generate outputs"):
        _gen(mock)
    assert isinstance(MockScriptError("x"), BackendError)  # a run stores it as a failed trial


def test_the_script_is_copied_when_the_mock_is_made() -> None:
    outputs = ["a", "b"]
    mock = MockBackend(script=outputs)
    before = mock.identity()
    outputs[0] = "changed"
    outputs.append("c")
    assert mock.identity() == before
    assert [_gen(mock).text for _ in range(2)] == ["a", "b"]


def test_a_callable_answers_from_the_request() -> None:
    seen: list[str] = []

    def reply(request: GenerateRequest) -> str | Generation:
        user = (request.messages or [])[-1].content
        seen.append(user)
        if user == "fail":
            raise BackendError("scripted failure")
        if user == "whole":
            return Generation(text="whole", finish_reason="stop")
        return user.upper()

    mock = MockBackend(script=reply)
    assert _gen(mock, "hello there").text == "HELLO THERE"
    assert _gen(mock, "whole").finish_reason == "stop"
    with pytest.raises(BackendError, match="scripted failure"):
        _gen(mock, "fail")
    assert seen == ["hello there", "whole", "fail"]
    assert mock.calls_by_kind["generate"] == 3


def test_an_async_callable_is_awaited() -> None:
    async def reply(request: GenerateRequest) -> str:
        await asyncio.sleep(0)
        return f"seed {request.seed}"

    mock = MockBackend(script=reply)
    request = GenerateRequest(prompt="x", seed=4)
    assert asyncio.run(mock.generate(request)).text == "seed 4"


def test_a_script_giving_something_else_is_an_error() -> None:
    mock = MockBackend(script=lambda request: 42)  # type: ignore[arg-type]
    with pytest.raises(MockScriptError, match="generate call 1 gave a int"):
        _gen(mock)


def test_scores_from_a_list_a_result_or_a_callable() -> None:
    result = ScoreResult(logprobs=[-1.0, -2.0], n_tokens=[3, 4], tokens_in=9)
    mock = MockBackend(scores=[[-0.1, -2.3], result, BackendError("no logprobs")])
    first = _score(mock, "yes", "no thanks")
    assert first.logprobs == [-0.1, -2.3]
    assert first.n_tokens == [1, 2] and first.tokens_in == 2
    assert _score(mock, "a", "b") == result
    with pytest.raises(BackendError, match="no logprobs"):
        _score(mock, "a", "b")
    with pytest.raises(MockScriptError, match="score call 4, but the script holds 3 score"):
        _score(mock, "a", "b")

    def prefer_last(request: ScoreRequest) -> list[float]:
        return [-float(len(request.continuations) - i) for i in range(len(request.continuations))]

    assert _score(MockBackend(scores=prefer_last), "a", "b", "c").logprobs == [-3.0, -2.0, -1.0]


def test_scores_must_match_the_continuations() -> None:
    mock = MockBackend(scores=[[-1.0], [-1.0, -2.0, -3.0]])
    for _ in range(2):
        with pytest.raises(MockScriptError, match=r"log-probabilities for 2 continuations"):
            _score(mock, "a", "b")


def test_a_kind_without_a_script_keeps_the_hash_answers() -> None:
    plain = MockBackend()
    only_scores = MockBackend(scores=[[-1.0, -2.0]])
    only_text = MockBackend(script=["scripted"])
    assert _gen(only_scores) == _gen(plain)
    assert _score(only_text, "a", "b") == _score(plain, "a", "b")
    assert _score(only_scores, "a", "b").logprobs == [-1.0, -2.0]
    assert _gen(only_text).text == "scripted"
    assert only_text.calls_by_kind == {"generate": 1, "score": 1} and only_text.calls == 2
    assert plain.calls_by_kind == {"generate": 1, "score": 1}


def test_the_identity_tells_scripts_apart() -> None:
    plain = MockBackend().identity()
    ab, ab_again, ba = (
        MockBackend(script=s).identity() for s in (["a", "b"], ["a", "b"], ["b", "a"])
    )
    assert ab == ab_again
    assert plain != ab and plain != ba and ab != ba
    assert ab.params["script"].startswith("2 outputs, sha256 ")
    assert (
        MockBackend(script=[BackendError("x")]).identity() != MockBackend(script=["x"]).identity()
    )
    scored = MockBackend(scores=[[-1.0, -2.0]]).identity()
    assert scored != plain and "script" not in scored.params
    assert scored != MockBackend(scores=[[-1.0, -2.5]]).identity()

    def reply(request: GenerateRequest) -> str:
        return "r"

    by_name = MockBackend(script=reply).identity()
    assert by_name.params["script"] == f"callable {__name__}.{reply.__qualname__}"
    assert by_name != plain and by_name.model == plain.model == "mock-1"


def test_a_shared_cache_never_serves_a_scripted_answer_to_an_unscripted_mock(
    tmp_path: Path,
) -> None:
    cache = CallCache(tmp_path / "c.sqlite")
    scripted = CachedBackend(MockBackend(script=["scripted answer"]), cache)
    plain = CachedBackend(MockBackend(), cache)
    request = GenerateRequest(prompt="same prompt")

    async def go() -> tuple[Generation, Generation, Generation]:
        return (
            await scripted.generate(request),
            await plain.generate(request),
            await scripted.generate(request),  # the cache answers: the script is not played
        )

    first, other, again = asyncio.run(go())
    assert first.text == "scripted answer" and not other.cached
    assert other.text == asyncio.run(MockBackend().generate(request)).text  # its own hash answer
    assert again.cached and again.text == "scripted answer"
    assert scripted.inner.calls == 1  # type: ignore[attr-defined]


def test_a_script_does_not_mix_with_injected_failures() -> None:
    with pytest.raises(ValueError, match="put the failure"):
        MockBackend(script=["a"], fail_rate=0.5)
    with pytest.raises(ValueError, match="put the failure"):
        MockBackend(scores=[[-1.0]], invalid_rate=0.1)
    with pytest.raises(TypeError, match="a list of outputs or a callable, not a str"):
        MockBackend(script="one answer")  # a str is a Sequence: refused


def test_a_scripted_mock_drives_the_llm_simulator(survey: Dataset) -> None:
    from behaviorlab.families.survey import SurveyTask
    from behaviorlab.simulators import LLMSimulator

    trial = SurveyTask().trials(survey, seed=0)[0].input
    n = len(trial.observation.option_codes() or [])
    ones = [1] * n
    odds = [math.log(0.8)] + [math.log(0.2 / (n - 1))] * (n - 1)
    sim = LLMSimulator(
        MockBackend(scores=[ScoreResult(logprobs=odds, n_tokens=ones)]), answer="score"
    )
    ans = asyncio.run(sim.answer(trial))
    assert ans.ok and ans.probabilities is not None
    assert max(ans.probabilities.values()) == pytest.approx(0.8)
    # an exhausted script is a failed answer, not a crash
    empty = LLMSimulator(MockBackend(script=[]), answer="generate")
    failed = asyncio.run(empty.answer(trial))
    assert failed.error_kind == "backend" and "holds 0 generate outputs" in (failed.error or "")
