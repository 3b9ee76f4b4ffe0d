"""score_positions on OpenAI-compatible servers, against responses shaped like
llama_cpp.server's echo (tokens, token_logprobs, top_logprobs, text_offset) and vLLM's
prompt_logprobs, served on loopback by the fault server."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import bl_fault_server as fs
import pytest

from behaviorlab.models._base import PositionsRequest, ScorePoint
from behaviorlab.models._openai import OpenAIBackend
from behaviorlab.models._openai_positions import echo_tokens, read_point
from behaviorlab.models._vllm import VLLMBackend

PIECES = ["Press F or J. <<", "F", ">> Again: F or J? <<", "J"]
POINTS = [
    ScorePoint(after=1, continuations=["F", "J"]),
    ScorePoint(after=3, continuations=["F", "J"]),
]
TEXT = "".join(PIECES)
# how a server could cut TEXT: "Press| F| or| J|.| <<|F|>>| Again|:| F| or| J|?| <<|J", then the
# generated token "."
CUT = [
    "Press",
    " F",
    " or",
    " J",
    ".",
    " <<",
    "F",
    ">>",
    " Again",
    ":",
    " F",
    " or",
    " J",
    "?",
    " <<",
    "J",
    ".",
]


def _echo(tops: dict[int, dict[str, float]]) -> dict[str, Any]:
    offsets, at = [], 0
    for t in CUT:
        offsets.append(at)
        at += len(t)
    logprobs: list[float | None] = [None] + [-0.5 - i / 100 for i in range(1, len(CUT))]
    return {
        "choices": [
            {
                "index": 0,
                "text": TEXT + ".",
                "logprobs": {
                    "tokens": CUT,
                    "token_logprobs": logprobs,
                    "top_logprobs": [None] + [tops.get(i, {}) for i in range(1, len(CUT))],
                    "text_offset": offsets,
                },
            }
        ],
        "usage": {"prompt_tokens": 16, "completion_tokens": 1, "total_tokens": 17},
    }


@pytest.fixture
def server() -> Iterator[Any]:
    with fs.serve(fs.FaultServer()) as srv:
        yield srv


def _run(backend: Any, coro: Any) -> Any:
    async def go() -> Any:
        try:
            return await coro
        finally:
            await backend.aclose()

    return asyncio.run(go())


def test_echo_reads_every_point_from_one_request(server: Any) -> None:
    # the option not taken is among the alternatives at both points
    server.respond = lambda body: _echo({6: {"F": -0.56, "J": -1.25}, 15: {"J": -0.65, "F": -0.9}})
    backend = OpenAIBackend(model="m", base_url=server.url, chat=False, check_echo=False)
    request = PositionsRequest(pieces=PIECES, points=POINTS)
    result = _run(backend, backend.score_positions(request))
    (body,) = server.bodies
    assert body["prompt"] == TEXT and body["echo"] is True and body["logprobs"] == 20
    assert result.one_pass and result.evaluated == 16 and result.calls == 1
    assert result.scores[0].logprobs == [-0.56, -1.25]  # F from the text, J an alternative
    assert result.scores[1].logprobs == [-0.9, -0.65]
    assert result.scores[0].tokens_in == 6 and result.scores[1].n_tokens == [1, 1]


def test_a_shifted_echo_is_realigned(server: Any) -> None:
    # llama_cpp.server without a BOS token: each token carries the model's row after it (its
    # own log-probability is of the next position, useless), the generated token is dropped
    shifted = _echo({5: {"F": -0.56, "J": -1.25}, 14: {"J": -0.65, "F": -0.9}})
    block = shifted["choices"][0]["logprobs"]
    for key in ("tokens", "token_logprobs", "top_logprobs", "text_offset"):
        block[key] = block[key][:-1]
    block["token_logprobs"] = [None] + [-9.0] * (len(CUT) - 2)
    server.respond = lambda body: shifted
    backend = OpenAIBackend(model="m", base_url=server.url, chat=False)
    result = _run(backend, backend.score_positions(PositionsRequest(pieces=PIECES, points=POINTS)))
    assert len(server.bodies) == 1 and result.calls == 1  # no alignment check needed
    assert result.scores[0].logprobs == [-0.56, -1.25]  # read one token earlier
    assert result.scores[1].logprobs == [-0.9, -0.65]


def test_echo_falls_back_to_a_score_request_where_it_cannot_read(server: Any) -> None:
    responses = iter(
        [
            _echo({6: {"F": -0.56, "J": -1.25}}),  # no alternatives at the second point
            # the fallback: the second point's prompt + "F", then + "J"
            {
                "choices": [
                    {
                        "index": 0,
                        "text": "",
                        "logprobs": {
                            "tokens": [" <<", "F", "."],
                            "token_logprobs": [-0.1, -0.3, -1.0],
                        },
                    }
                ],
                "usage": {"prompt_tokens": 15, "completion_tokens": 1, "total_tokens": 16},
            },
            {
                "choices": [
                    {
                        "index": 0,
                        "text": "",
                        "logprobs": {
                            "tokens": [" <<", "J", "."],
                            "token_logprobs": [-0.1, -1.4, -1.0],
                        },
                    }
                ],
                "usage": {"prompt_tokens": 15, "completion_tokens": 1, "total_tokens": 16},
            },
        ]
    )
    server.respond = lambda body: next(responses)
    backend = OpenAIBackend(model="m", base_url=server.url, chat=False, check_echo=False)
    result = _run(backend, backend.score_positions(PositionsRequest(pieces=PIECES, points=POINTS)))
    assert len(server.bodies) == 3
    assert sorted(b["prompt"] for b in server.bodies[1:]) == [TEXT[:-1] + "F", TEXT]
    assert result.scores[0].logprobs == [-0.56, -1.25]
    assert result.scores[1].logprobs == [-0.3, -1.4]
    assert result.evaluated == 16 + 30  # the fallback's two echoes re-read the prompt
    assert result.calls == 3


def test_a_point_inside_a_server_token_is_not_read() -> None:
    cut = [("ab", 0, -0.5), ("cd", 2, -0.7)]
    choice = {
        "logprobs": {
            "tokens": [t for t, _, _ in cut],
            "token_logprobs": [lp for _, _, lp in cut],
            "text_offset": [o for _, o, _ in cut],
        }
    }
    tokens = echo_tokens(choice, 0)
    assert read_point(tokens, "abcd", 2, "cd") == -0.7
    assert read_point(tokens, "abcd", 1, "bcd") is None  # no token starts at 1
    assert read_point(tokens, "abcd", 2, "c") is None  # ends inside the token "cd"


def test_vllm_sends_every_point_in_one_request(server: Any) -> None:
    def respond(body: dict[str, Any]) -> dict[str, Any]:
        choices = []
        for i, prompt in enumerate(body["prompt"]):
            last = prompt[-1]
            lp = {"F": -0.25, "J": -1.5}[last]
            entries = [None, {"1": {"logprob": -2.0, "rank": 1, "decoded_token": prompt[:-1]}}]
            entries.append({"2": {"logprob": lp, "rank": 1, "decoded_token": last}})
            choices.append({"index": i, "text": ".", "prompt_logprobs": entries})
        return {"choices": choices, "usage": {"prompt_tokens": 12, "completion_tokens": 4}}

    server.respond = respond
    backend = VLLMBackend(model="m", base_url=server.url, chat=False)
    result = _run(backend, backend.score_positions(PositionsRequest(pieces=PIECES, points=POINTS)))
    (body,) = server.bodies
    assert body["prompt"] == [PIECES[0] + "F", PIECES[0] + "J", TEXT[:-1] + "F", TEXT]
    assert [s.logprobs for s in result.scores] == [[-0.25, -1.5], [-0.25, -1.5]]
    assert not result.one_pass and result.evaluated == 12
