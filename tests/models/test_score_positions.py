"""Backend.score_positions: many points of one text. The default sends one score request per
point; the embedded llama.cpp backend reads the text once (slow tests, bundled SmolLM2)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import ValidationError

from behaviorlab.models import MockBackend, ScoreRequest
from behaviorlab.models._base import (
    ContextWindowError,
    PositionsRequest,
    ScorePoint,
    score_per_point,
)

PIECES = ["Round 1: press F or J. You press <<", "F", ">>. You win 3.\nRound 2: F or J? <<", "J"]
POINTS = [
    ScorePoint(after=1, continuations=["F", "J"]),
    ScorePoint(after=3, continuations=["F", "J"]),
]


def test_a_point_past_the_pieces_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"points\[1\]\.after is 5, but there are only 4"):
        PositionsRequest(
            pieces=PIECES, points=[POINTS[0], ScorePoint(after=5, continuations=["F"])]
        )
    with pytest.raises(ValidationError):
        ScorePoint(after=0, continuations=["F"])


def test_default_is_one_score_request_per_point_on_the_joined_prefix() -> None:
    mock = MockBackend()
    result = asyncio.run(mock.score_positions(PositionsRequest(pieces=PIECES, points=POINTS)))
    assert mock.calls_by_kind["score"] == 2 and not result.one_pass and result.calls == 2
    for point, got in zip(POINTS, result.scores, strict=True):
        prompt = "".join(PIECES[: point.after])
        alone = asyncio.run(
            MockBackend().score(ScoreRequest(prompt=prompt, continuations=point.continuations))
        )
        assert got.logprobs == alone.logprobs
    assert result.evaluated == sum(s.tokens_in for s in result.scores)
    assert result.tokens_in == result.scores[-1].tokens_in


def test_score_per_point_stops_at_a_failing_point() -> None:
    from behaviorlab.models import BackendError

    mock = MockBackend(scores=[[-0.1, -2.0], BackendError("server down")])
    with pytest.raises(BackendError, match="server down"):
        asyncio.run(score_per_point(mock, PositionsRequest(pieces=PIECES, points=POINTS)))


# -- the embedded llama.cpp backend (slow) ---------------------------------------------------


@pytest.fixture(scope="module")
def smol() -> Iterator[Any]:
    pytest.importorskip("llama_cpp")
    from behaviorlab.models._llamacpp import LlamaCppBackend

    backend = LlamaCppBackend("smollm2", n_ctx=512, prefix_reuse=False)
    yield backend
    asyncio.run(backend.aclose())


@pytest.mark.slow
def test_llamacpp_reads_the_text_once_and_agrees_with_score(smol: Any) -> None:
    words = ["Zorblax", "Quendrith"]
    pieces = [*PIECES, ">>. You win 1.\nRound 3: say Zorblax or Quendrith. You say <<", "Quendrith"]
    points = [*POINTS, ScorePoint(after=5, continuations=words)]
    request = PositionsRequest(pieces=pieces, points=points)
    before = smol.prefix_stats.evaluated
    result = asyncio.run(smol.score_positions(request))
    assert result.one_pass
    # "Zorblax" leaves the text after its first token: a branch of its other tokens but one
    bos = len(smol.prompt_tokens(prompt=""))  # the BOS token, if the model adds one
    zorblax = len(smol.prompt_tokens(prompt="Zorblax")) - bos
    # (a branch of one token re-reads the token before it: no one-token batch)
    assert result.evaluated == result.tokens_in + zorblax - 1 + (zorblax == 2)
    assert smol.prefix_stats.evaluated - before == result.evaluated
    reference = asyncio.run(score_per_point(smol, request))
    for fast, slow in zip(result.scores, reference.scores, strict=True):
        assert fast.n_tokens == slow.n_tokens and fast.tokens_in == slow.tokens_in
        assert fast.logprobs == slow.logprobs  # the same bits: no one-token batch either way
    assert result.scores[2].n_tokens[1] > 1  # a multi-token continuation was scored


@pytest.mark.slow
def test_llamacpp_text_longer_than_the_context(smol: Any) -> None:
    long = ["Round. " * 600, "F"]
    with pytest.raises(ContextWindowError, match="n_ctx=512") as err:
        asyncio.run(
            smol.score_positions(
                PositionsRequest(pieces=long, points=[ScorePoint(after=1, continuations=["F"])])
            )
        )
    assert err.value.n_ctx == 512 and err.value.n_tokens > 512


def test_batches_never_hold_a_single_token_when_avoidable() -> None:
    from behaviorlab.models._llamacpp_pass import batches

    # a 577-token prompt from scratch: ..., 512-575, 575-577 (not 576 alone)
    assert batches(0, 577, 64)[-2:] == [(512, 575), (575, 577)]
    # after a branch at 63: the first batch takes a token from the next one
    assert batches(63, 129, 64) == [(63, 65), (65, 127), (127, 129)]
    assert batches(0, 128, 64) == [(0, 64), (64, 128)]  # aligned batches stay as they are
    assert batches(0, 1, 64) == [(0, 1)]  # one token alone cannot be helped
    for start, end in ((0, 577), (63, 129), (5, 70), (1, 2), (0, 65)):
        cut = batches(start, end, 64)
        assert cut[0][0] == start and cut[-1][1] == end
        assert all(a < b <= a + 64 for a, b in cut)
        assert len(cut) == 1 or all(b - a >= 2 for a, b in cut)
