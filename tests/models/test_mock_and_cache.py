from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

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

SCHEMA = {
    "type": "object",
    "properties": {"answer": {"enum": ["A", "B", "C"]}},
    "required": ["answer"],
}


def _req(text: str, **kw: object) -> GenerateRequest:
    return GenerateRequest(messages=[Message(role="user", content=text)], json_schema=SCHEMA, **kw)  # type: ignore[arg-type]


def test_mock_is_deterministic_and_valid() -> None:
    mock = MockBackend()
    outs = [asyncio.run(mock.generate(_req(f"question {i}"))).text for i in range(30)]
    again = [asyncio.run(mock.generate(_req(f"question {i}"))).text for i in range(30)]
    assert outs == again
    answers = {json.loads(o)["answer"] for o in outs}
    assert answers <= {"A", "B", "C"} and len(answers) > 1  # varied, always valid


def test_the_unscripted_mock_is_pinned() -> None:
    """Demo results and call-cache keys rest on these: the identity and the hash answers
    (values computed from the formula before scripts existed)."""
    mock = MockBackend()
    assert mock.identity().model_dump(mode="json") == {
        "backend": "mock",
        "model": "mock-1",
        "sha256": None,
        "endpoint": None,
        "params": {"fail_rate": 0.0, "invalid_rate": 0.0},
    }
    assert asyncio.run(mock.generate(GenerateRequest(prompt="hello"))) == Generation(
        text="mock answer 120", tokens_in=1, tokens_out=3
    )
    chat = GenerateRequest(messages=[Message(role="user", content="hello")])
    assert asyncio.run(mock.generate(chat)).text == "mock answer 705"
    assert asyncio.run(mock.generate(_req("q"))).text == '{"answer": "B"}'
    scored = asyncio.run(mock.score(ScoreRequest(prompt="p", continuations=["x", "y"])))
    assert scored == ScoreResult(
        logprobs=[-0.43781110715479227, -0.8635778469010803], n_tokens=[1, 1], tokens_in=1
    )
    assert mock.calls == 4 and mock.calls_by_kind == {"generate": 3, "score": 1}


def test_mock_injects_failures_deterministically() -> None:
    mock = MockBackend(fail_rate=0.5)
    failed = 0
    for i in range(40):
        try:
            asyncio.run(mock.generate(_req(f"q{i}")))
        except BackendError:
            failed += 1
    assert 8 < failed < 32


def test_request_needs_exactly_one_prompt() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        GenerateRequest()
    with pytest.raises(ValueError, match="exactly one"):
        ScoreRequest(prompt="x", messages=[Message(role="user", content="y")], continuations=["a"])


def test_cache_hits_only_for_identical_calls(tmp_path: object) -> None:
    cache = CallCache(tmp_path / "c.sqlite")  # type: ignore[operator]
    a = CachedBackend(MockBackend("model-a"), cache)
    b = CachedBackend(MockBackend("model-b"), cache)

    async def go() -> None:
        first = await a.generate(_req("hello"))
        assert not first.cached
        second = await a.generate(_req("hello"))
        assert second.cached and second.text == first.text
        # another model, seed, temperature or prompt is a different call
        assert not (await b.generate(_req("hello"))).cached
        assert not (await a.generate(_req("hello", seed=1))).cached
        assert not (await a.generate(_req("hello", temperature=0.7))).cached
        assert not (await a.generate(_req("hello!"))).cached
        s1 = await a.score(ScoreRequest(prompt="p", continuations=["x", "y"]))
        s2 = await a.score(ScoreRequest(prompt="p", continuations=["x", "y"]))
        assert s2.cached and s2.logprobs == s1.logprobs

    asyncio.run(go())
    assert cache.stats.hits == 2
    assert cache.stats.misses == 6
    assert len(cache) == 6
    assert (a.inner.calls, b.inner.calls) == (5, 1)  # type: ignore[attr-defined]


def test_a_backend_without_one_pass_caches_score_positions_point_by_point(
    tmp_path: Path,
) -> None:
    from behaviorlab.models import PositionsRequest, ScorePoint
    from behaviorlab.models._cache import reads_once

    cache = CallCache(tmp_path / "c.sqlite")
    backend = CachedBackend(MockBackend(), cache)
    assert not reads_once(backend)
    request = PositionsRequest(
        pieces=["a b ", "c d ", "e"],
        points=[
            ScorePoint(after=1, continuations=["x", "y"]),
            ScorePoint(after=2, continuations=["z"]),
        ],
    )
    first = asyncio.run(backend.score_positions(request))
    again = asyncio.run(backend.score_positions(request))
    assert [s.cached for s in first.scores] == [False, False]
    assert [s.cached for s in again.scores] == [True, True]
    assert [s.logprobs for s in again.scores] == [s.logprobs for s in first.scores]
    assert len(cache) == 2  # one entry per point, no whole-text entry
    cache.close()
