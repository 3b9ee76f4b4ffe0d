"""The vllm server profile: its requests, and its vLLM-only parsing (``prompt_logprobs``)
against responses shaped like vLLM's documented ``/v1/completions`` output."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Iterator
from typing import Any

import bl_fault_server as fs
import pytest

from behaviorlab.models._base import BackendError, GenerateRequest, Message, ScoreRequest, backends
from behaviorlab.models._vllm import VLLMBackend, parse_prompt_logprobs

# Hand-made from vLLM's documented completions format (CompletionResponseChoice with
# prompt_logprobs: one entry per prompt token, null for the first, else
# {token_id: {"logprob", "rank", "decoded_token"}}), for the prompts "Answer: yes" and
# "Answer: no way" sent with prompt_logprobs=0. Choices arrive out of order on purpose.
RECORDED: dict[str, Any] = {
    "id": "cmpl-5d1c0c7e9f7a4f0c",
    "object": "text_completion",
    "created": 1732000000,
    "model": "Qwen/Qwen2.5-0.5B-Instruct",
    "choices": [
        {
            "index": 1,
            "text": ".",
            "logprobs": None,
            "finish_reason": "length",
            "stop_reason": None,
            "prompt_logprobs": [
                None,
                {"25": {"logprob": -1.5, "rank": 3, "decoded_token": ":"}},
                {"902": {"logprob": -2.25, "rank": 7, "decoded_token": " no"}},
                {"1616": {"logprob": -0.5, "rank": 1, "decoded_token": " way"}},
            ],
        },
        {
            "index": 0,
            "text": ".",
            "logprobs": None,
            "finish_reason": "length",
            "stop_reason": None,
            "prompt_logprobs": [
                None,
                {"25": {"logprob": -1.5, "rank": 3, "decoded_token": ":"}},
                {"9834": {"logprob": -0.75, "rank": 1, "decoded_token": " yes"}},
            ],
        },
    ],
    "usage": {"prompt_tokens": 7, "total_tokens": 9, "completion_tokens": 2},
}


@pytest.fixture
def server() -> Iterator[Any]:
    with fs.serve(fs.FaultServer()) as srv:
        yield srv


def make(srv: Any, **options: Any) -> VLLMBackend:
    return VLLMBackend(base_url=srv.url, model="Qwen/Qwen2.5-0.5B-Instruct", **options)


def run(backend: VLLMBackend, coro: Any) -> Any:
    async def go() -> Any:
        try:
            return await coro
        finally:
            await backend.aclose()

    return asyncio.run(go())


def test_prompt_logprobs_parse_by_choice_index() -> None:
    pairs = parse_prompt_logprobs(RECORDED, ["yes", " no way"], where="test")
    # "yes" is covered by " yes" (the space straddles the boundary: counted with it)
    assert pairs == [(-0.75, 1), (-2.75, 2)]


def test_prompt_logprobs_refuse_what_they_cannot_read() -> None:
    topk = copy.deepcopy(RECORDED)
    topk["choices"][0]["prompt_logprobs"][2]["11"] = {"logprob": -0.1, "rank": 1}
    with pytest.raises(BackendError, match="asked with prompt_logprobs=0"):
        parse_prompt_logprobs(topk, [" yes", " no way"], where="test")
    with pytest.raises(BackendError, match="2 prompts sent, 1 choices returned"):
        parse_prompt_logprobs({"choices": RECORDED["choices"][:1]}, [" a", " b"], where="t")
    missing = copy.deepcopy(RECORDED)
    del missing["choices"][0]["prompt_logprobs"]
    with pytest.raises(BackendError, match="no prompt_logprobs: it is not vLLM"):
        parse_prompt_logprobs(missing, [" yes", " no way"], where="test")


def test_score_sends_one_batched_prompt_logprobs_request(server: Any) -> None:
    server.respond = lambda body: RECORDED
    backend = backends.get("vllm")(base_url=server.url, chat=False)
    assert isinstance(backend, VLLMBackend) and "score" in backend.capabilities
    result = run(
        backend, backend.score(ScoreRequest(prompt="Answer:", continuations=[" yes", " no way"]))
    )
    assert result.logprobs == [-0.75, -2.75] and result.n_tokens == [1, 2]
    assert result.tokens_in == 7
    (body,) = server.bodies  # no echo alignment check: vLLM's prompt log-probs are exact
    assert body["prompt"] == ["Answer: yes", "Answer: no way"]
    assert (body["prompt_logprobs"], body["max_tokens"], body["temperature"]) == (0, 1, 0.0)
    assert "echo" not in body


def test_chat_scoring_renders_the_template(server: Any) -> None:
    server.respond = lambda body: RECORDED
    backend = make(server, chat_template="chatml")
    run(
        backend,
        backend.score(
            ScoreRequest(
                messages=[Message(role="user", content="Q")], continuations=[" yes", " no way"]
            )
        ),
    )
    assert server.bodies[0]["prompt"][0] == (
        "<|im_start|>user\nQ<|im_end|>\n<|im_start|>assistant\n yes"
    )


def test_structured_defaults_to_json_schema_and_guided_json_is_an_option(server: Any) -> None:
    schema = {
        "type": "object",
        "properties": {"answer": {"type": "string", "enum": ["A", "B"]}},
        "required": ["answer"],
    }
    request = GenerateRequest(messages=[Message(role="user", content="Q")], json_schema=schema)
    backend = make(server)
    gen = run(backend, backend.generate(request))
    assert gen.meta["structured"] == "json_schema" and gen.meta["parse"] == "constrained"
    rf = server.bodies[0]["response_format"]
    assert rf["type"] == "json_schema" and rf["json_schema"]["schema"] == schema
    assert rf["json_schema"]["strict"] is False  # no additionalProperties: false
    guided = make(server, structured="guided_json")
    run(guided, guided.generate(request))
    assert server.bodies[1]["guided_json"] == schema and "response_format" not in server.bodies[1]


def test_generate_many_batches_raw_prompts_that_share_settings(server: Any) -> None:
    def respond(body: dict[str, Any]) -> dict[str, Any]:
        prompts = body["prompt"] if isinstance(body["prompt"], list) else [body["prompt"]]
        return {
            "choices": [
                {"index": i, "text": f"<{p}>", "finish_reason": "stop"}
                for i, p in reversed(list(enumerate(prompts)))
            ],
            "usage": {"prompt_tokens": 3 * len(prompts), "completion_tokens": 2 * len(prompts)},
        }

    server.respond = respond
    backend = make(server)
    requests = [
        GenerateRequest(prompt="a", temperature=1.0, seed=3),
        GenerateRequest(prompt="b", temperature=1.0, seed=3),
        GenerateRequest(prompt="c", temperature=0.0),  # other settings: its own call
        GenerateRequest(prompt="d", temperature=1.0, seed=3),
    ]
    gens = run(backend, backend.generate_many(requests))
    assert [g.text for g in gens] == ["<a>", "<b>", "<c>", "<d>"]
    assert sorted(str(b["prompt"]) for b in server.bodies) == ["['a', 'b', 'd']", "c"]
    assert gens[0].meta["batched"] == 3 and (gens[0].tokens_in, gens[0].tokens_out) == (3, 2)


def test_a_batched_calls_tokens_are_shared_by_length_and_add_up() -> None:
    from behaviorlab.models._vllm import split_total

    assert split_total(10, [1, 3, 5]) == [1, 3, 6]  # 1.11, 3.33, 5.56: the remainder to .56
    assert split_total(7, [1, 1, 1]) == [3, 2, 2]
    assert split_total(0, [2, 5]) == [0, 0]
    assert split_total(5, [0, 0]) == [3, 2]  # no lengths known: an even split
    for total, weights in [(101, [3, 9, 1, 40]), (13, [7]), (1000, [1] * 7)]:
        assert sum(split_total(total, weights)) == total
