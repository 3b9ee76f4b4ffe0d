"""``behaviorlab plan`` of a transcript run counts what the backend will do (issue 17): a
backend that reads a transcript once is one call of the whole text per participant; any
other is one scoring call per choice, each prompt counted."""

from __future__ import annotations

import asyncio
from typing import Any

import behaviorlab as bl
from behaviorlab.models import (
    MockBackend,
    PositionsRequest,
    PositionsResult,
    backend,
    score_per_point,
)
from behaviorlab.runs import plan
from behaviorlab.runs._build import open_cache
from behaviorlab.runs._estimate import estimate_plan


@backend("onepass_mock_test", replace=True)
class OnePassMock(MockBackend):
    """The mock, reading a text once (as llama.cpp does): the same scores, one call."""

    async def score_positions(self, request: PositionsRequest) -> PositionsResult:
        each = await score_per_point(self, request)
        return each.model_copy(update={"one_pass": True, "calls": 1})


def spec(backend_name: str) -> dict[str, Any]:
    return {
        "name": "tp",
        "task": "transcript",
        "data": {"source": "synthetic_bandit", "options": {"people": 8, "rounds": 10}},
        "simulators": [{"name": "llm", "backend": backend_name, "answer": "score"}],
        "cache": False,
    }


def test_a_one_pass_backend_is_one_call_per_transcript() -> None:
    once = asyncio.run(estimate_plan(plan(bl.load_spec(spec("onepass_mock_test")), None)))
    each = asyncio.run(estimate_plan(plan(bl.load_spec(spec("mock")), None)))
    (c1,), (c2,) = once.cells, each.cells
    assert c1.trials == c2.trials == 4
    assert c1.calls == 4  # one per participant
    assert c2.calls == 4 * 10  # one per choice
    # per choice, every prompt re-reads the transcript so far: several times the tokens
    assert c2.prompt_tokens > 3 * c1.prompt_tokens > 0


@backend("onepass_counting_test", replace=True)
class CountingOnePass(OnePassMock):
    """The one-pass mock, counting the whole-text requests that reach it."""

    calls = 0

    async def score_positions(self, request: PositionsRequest) -> PositionsResult:
        type(self).calls += 1
        return await super().score_positions(request)


def test_the_call_cache_stores_a_whole_transcript_as_one_call(tmp_path: Any) -> None:
    cached = {**spec("onepass_counting_test"), "cache": str(tmp_path / "calls.sqlite")}
    CountingOnePass.calls = 0
    first = bl.run(cached, out=tmp_path / "a", progress=False).to_pandas()
    assert CountingOnePass.calls == 4 and (first["cache_hits"] == 0).all()
    # the same transcripts again (another run, the same cache): no call reaches the model
    again = bl.run({**cached, "name": "tp-again"}, out=tmp_path / "b", progress=False)
    frame = again.to_pandas()
    assert CountingOnePass.calls == 4
    assert (frame["cache_hits"] >= 1).all() and (frame["calls"] >= 1).all()
    assert frame["scores"].tolist() == first["scores"].tolist()
    # and the plan says the cache answers them: no uncached prompt tokens
    third = bl.load_spec({**cached, "name": "tp-3"})
    calls = open_cache(third)
    try:
        est = asyncio.run(estimate_plan(plan(third, calls)))
    finally:
        if calls is not None:
            calls.close()
    (cell,) = est.cells
    assert cell.calls == 4 and cell.cached == 4 and cell.prompt_tokens == 0
