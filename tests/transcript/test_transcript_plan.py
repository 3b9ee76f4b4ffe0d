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
