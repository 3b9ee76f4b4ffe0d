"""The OpenAI-compatible backend against a scripted fake server on loopback (fast), and its
pure parts (rate limits, backoff, schema checks) with a fake clock."""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import bl_fault_server as fs
import pytest

from behaviorlab.models import CallCache
from behaviorlab.models._base import (
    BackendError,
    GenerateRequest,
    Message,
    ScoreRequest,
    UnsupportedError,
    backends,
)
from behaviorlab.models._openai import HTTPStatusFailure, OpenAIBackend
from behaviorlab.models._openai_support import (
    json_problem,
    render_chat,
    strict_compatible,
    structured_fields,
)
from behaviorlab.models._ratelimit import RateLimiter, backoff_delay, retry_after_seconds
from behaviorlab.simulators import simulators
from behaviorlab.simulators._llm import merge_meta

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"answer": {"type": "string", "enum": ["A", "B"]}},
    "required": ["answer"],
    "additionalProperties": False,
}
ASK = [Message(role="user", content="Pick A or B.")]


@pytest.fixture
def server() -> Iterator[Any]:
    with fs.serve(fs.FaultServer()) as srv:
        yield srv


def make(srv: Any, **options: Any) -> OpenAIBackend:
    opts: dict[str, Any] = {
        "base_url": srv.url,
        "model": "fake-model",
        "timeout_s": 0.5,
        "deadline_s": 3.0,
        "max_retries": 2,
        "backoff_base_s": 0.01,
        "backoff_max_s": 0.02,
        "structured": "json_object_schema",
    }
    opts.update(options)
    return OpenAIBackend(**opts)


def run(backend: OpenAIBackend, coro: Any) -> Any:
    async def go() -> Any:
        try:
            return await coro
        finally:
            await backend.aclose()

    return asyncio.run(go())


def script(**kinds: str) -> Any:
    """Behaviour by attempt number: script(first="429") → 429 on attempt 1, then ok."""
    order = [kinds.get("first", "ok"), kinds.get("second", "ok"), kinds.get("rest", "ok")]
    return lambda key, attempt: order[min(attempt, 3) - 1]


# -- rate limits and backoff ------------------------------------------------------------------


def test_token_buckets_with_a_fake_clock() -> None:
    now = [0.0]
    slept: list[float] = []

    async def sleep(s: float) -> None:
        slept.append(s)

    limiter = RateLimiter(2, 600, clock=lambda: now[0], sleep=sleep)
    # 2 requests/min: a burst of 2, then one every 30 s
    assert limiter.requests is not None and limiter.tokens is not None
    assert [limiter.requests.reserve(1) for _ in range(3)] == [0.0, 0.0, 30.0]
    now[0] = 15.0  # refilled half a request: level -1 + 0.5
    assert limiter.requests.reserve(1) == pytest.approx(45.0)
    # 600 tokens/min = 10/s: 500 then 300 leave -200, i.e. 20 s to wait
    assert limiter.tokens.reserve(500) == 0.0
    assert limiter.tokens.reserve(300) == pytest.approx(20.0)
    limiter.correct(estimated=300, actual=100)  # the call used 200 fewer tokens than feared
    assert limiter.tokens.reserve(100) == pytest.approx(10.0)
    # acquire sleeps for the reservation; a wait beyond max_wait reserves nothing
    fresh = RateLimiter(None, 60, clock=lambda: now[0], sleep=sleep)
    # 60 tokens/min = 1/s with 60 banked: 90 tokens leave -30, i.e. 30 s to wait
    assert asyncio.run(fresh.acquire(90)) == pytest.approx(30.0) and slept == [30.0]
    with pytest.raises(TimeoutError, match="next slot"):
        asyncio.run(fresh.acquire(60, max_wait=1.0))
    assert fresh.tokens is not None and fresh.tokens.level == pytest.approx(-30.0)


def test_backoff_is_full_jitter_under_the_cap() -> None:
    rng = random.Random(1)
    draws = [backoff_delay(a, base=0.5, cap=4.0, rng=rng) for a in range(6) for _ in range(50)]
    for a in range(6):
        chunk = draws[a * 50 : (a + 1) * 50]
        assert all(0 <= d <= min(4.0, 0.5 * 2**a) for d in chunk)
        assert max(chunk) > 0.8 * min(4.0, 0.5 * 2**a)  # the whole range is used
    assert retry_after_seconds("2.5") == 2.5
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480.0) == 10.0
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None


# -- schema checks and request forms ----------------------------------------------------------


def test_json_problem_names_the_first_mismatch() -> None:
    schema = {
        "type": "object",
        "properties": {
            "action_type": {"type": "string", "enum": ["click", "input"]},
            "n": {"type": "integer", "minimum": 1},
            "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 2},
        },
        "required": ["action_type"],
        "additionalProperties": False,
    }
    assert json_problem({"action_type": "click", "n": 2, "tags": ["a"]}, schema) is None
    assert json_problem({}, schema) == "$: missing required property 'action_type'"
    assert "not one of" in str(json_problem({"action_type": "scroll"}, schema))
    assert json_problem({"action_type": "click", "n": True}, schema) == (
        "$.n: expected integer, got bool"
    )
    assert json_problem({"action_type": "click", "n": 0}, schema) == "$.n: 0 is below 1"
    assert json_problem({"action_type": "click", "tags": ["a", 1]}, schema) == (
        "$.tags[1]: expected string, got int"
    )
    assert json_problem({"action_type": "click", "x": 1}, schema) == ("$: unexpected property 'x'")


def test_structured_forms_and_strictness() -> None:
    assert strict_compatible(SCHEMA)
    assert not strict_compatible({**SCHEMA, "required": []})
    fields = structured_fields("json_schema", SCHEMA)
    assert fields["response_format"]["json_schema"] == {
        "name": "answer",
        "schema": SCHEMA,
        "strict": True,
    }
    assert structured_fields("json_object_schema", SCHEMA) == {
        "response_format": {"type": "json_object", "schema": SCHEMA}
    }
    assert structured_fields("guided_json", SCHEMA) == {"guided_json": SCHEMA}
    assert structured_fields("none", SCHEMA) == {}
    text = render_chat([Message(role="system", content="S"), *ASK], "chatml")
    assert text == (
        "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nPick A or B.<|im_end|>\n"
        "<|im_start|>assistant\n"
    )
    jinja = "{% for m in messages %}[{{ m.role }}]{{ m.content }}{% endfor %}>"
    assert render_chat(ASK, jinja) == "[user]Pick A or B.>"


# -- retries, timeouts, errors ----------------------------------------------------------------


def test_retry_after_is_honoured_and_retries_recorded(server: Any) -> None:
    server.script, server.retry_after = script(first="429"), "0.3"
    backend = make(server)
    start = time.monotonic()
    gen = run(backend, backend.generate(GenerateRequest(messages=ASK, json_schema=SCHEMA)))
    assert time.monotonic() - start >= 0.3  # the backoff alone would be <= 0.02 s
    assert gen.text == '{"answer": "A"}'
    assert gen.meta == {
        "structured": "json_object_schema",
        "parse": "constrained",
        "retries": 1,
        "server_model": "fake-model",
    }
    assert (gen.tokens_in, gen.tokens_out) == (len("Pick A or B.") // 4, 5)
    assert [kind for _, _, kind in server.served] == ["429", "ok"]


def test_persistent_500_gives_a_final_error_with_status_body_attempts(server: Any) -> None:
    server.script = script(first="500", second="500", rest="500")
    backend = make(server)
    with pytest.raises(BackendError) as info:
        run(backend, backend.generate(GenerateRequest(messages=ASK)))
    message = str(info.value)
    assert "gave up after 3 attempt(s)" in message
    assert "HTTP 500" in message and "internal error" in message
    assert len(server.served) == 3


def test_client_errors_are_not_retried(server: Any) -> None:
    server.script = script(first="400")
    backend = make(server)
    with pytest.raises(HTTPStatusFailure, match=r"HTTP 400 after 1 attempt\(s\).*bad model name"):
        run(backend, backend.generate(GenerateRequest(messages=ASK)))
    assert len(server.served) == 1


@pytest.mark.timeout(10)
def test_stalls_hit_the_timeout_then_the_deadline(server: Any) -> None:
    server.script, server.stall_s = script(first="stall", second="stall", rest="stall"), 3.0
    backend = make(server, timeout_s=0.2, deadline_s=0.5, max_retries=10)
    start = time.monotonic()
    with pytest.raises(BackendError, match=r"gave up after [23] attempt\(s\).*no response within"):
        run(backend, backend.generate(GenerateRequest(messages=ASK)))
    assert time.monotonic() - start < 1.5  # 10 retries of a 3 s stall would take 30 s
    assert len(server.served) <= 3


@pytest.mark.parametrize(
    ("kind", "expected"),
    [("malformed", "malformed JSON body"), ("truncated", "body truncated")],
)
def test_broken_bodies_are_retried_then_reported(server: Any, kind: str, expected: str) -> None:
    server.script = script(first=kind, second=kind, rest="ok")
    backend = make(server)
    gen = run(backend, backend.generate(GenerateRequest(messages=ASK)))
    assert gen.meta["retries"] == 2 and gen.text == '{"answer": "A"}'
    server.script = script(first=kind, second=kind, rest=kind)
    with pytest.raises(BackendError, match=expected):
        run(backend, backend.generate(GenerateRequest(messages=ASK, max_tokens=7)))


# -- structured output ------------------------------------------------------------------------


def test_auto_falls_back_to_the_form_the_server_accepts_and_remembers_it(server: Any) -> None:
    server.script = lambda key, attempt: "format500"  # like llama_cpp.server
    backend = make(server, structured="auto")
    request = GenerateRequest(messages=ASK, json_schema=SCHEMA)
    first = run(backend, backend.generate(request))
    second = run(backend, backend.generate(request))
    assert first.meta["structured"] == second.meta["structured"] == "json_object_schema"
    assert first.meta["parse"] == "constrained" and first.meta["retries"] == 0
    sent = [b["response_format"]["type"] for b in server.bodies]
    assert sent == ["json_schema", "json_object", "json_object"]


def test_unconstrained_output_is_validated_and_repaired_once(server: Any) -> None:
    def respond(body: dict[str, Any]) -> dict[str, Any]:
        repairing = "Your reply was not valid" in body["messages"][-1]["content"]
        text = '{"answer": "B"}' if repairing else "I think B."
        return {"choices": [{"message": {"content": text}}], "usage": {"prompt_tokens": 10}}

    server.respond = respond
    backend = make(server, structured="none")
    gen = run(backend, backend.generate(GenerateRequest(messages=ASK, json_schema=SCHEMA)))
    assert gen.text == '{"answer": "B"}'
    assert gen.meta["parse"] == "repaired" and gen.meta["structured"] == "none"
    assert gen.tokens_in == 20  # both calls counted
    first, repair = server.bodies
    assert (
        "response_format" not in first
        and "fits this JSON schema" in first["messages"][-1]["content"]
    )
    assert repair["messages"][-2] == {"role": "assistant", "content": "I think B."}
    assert "not valid JSON" in repair["messages"][-1]["content"]

    server.respond = lambda body: {"choices": [{"message": {"content": '{"answer": "C"}'}}]}
    gen = run(backend, backend.generate(GenerateRequest(messages=ASK, json_schema=SCHEMA)))
    assert gen.meta["parse"] == "invalid" and "'C' is not one of" in gen.meta["problem"]
    no_repair = make(server, structured="none", repair=False)
    gen = run(no_repair, no_repair.generate(GenerateRequest(messages=ASK, json_schema=SCHEMA)))
    assert gen.meta["parse"] == "invalid" and len(server.bodies) == 5  # 2 + 2 + 1 calls


# -- scoring ----------------------------------------------------------------------------------


def _echo_response(prompt: str, shift: bool) -> dict[str, Any]:
    """A llama_cpp.server-shaped echo answer: the prompt split at spaces, each token's
    log-probability -len(token) (or, shifted, the next token's), plus one generated token."""
    words = prompt.replace(" ", "\x00 ").split("\x00")
    lps: list[float | None] = [None] + [-float(len(w)) for w in words[1:]]
    if shift:
        lps = [None] + [-float(len(w)) - 1.0 for w in words[1:]]
    return {
        "choices": [
            {
                "text": prompt + " x",
                "logprobs": {"tokens": [*words, " x"], "token_logprobs": [*lps, -0.5]},
            }
        ],
        "usage": {"prompt_tokens": len(words), "completion_tokens": 1},
    }


def _plain_response(prompt: str) -> dict[str, Any]:
    return {
        "choices": [{"text": " x", "logprobs": {"tokens": [" x"], "token_logprobs": [-2.0]}}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 1},
    }


@pytest.mark.parametrize("shift", [False, True])
def test_echo_scoring_and_its_alignment_check(server: Any, shift: bool) -> None:
    def respond(body: dict[str, Any]) -> dict[str, Any]:
        if body.get("echo"):
            return _echo_response(body["prompt"], shift)
        return _plain_response(body["prompt"])

    server.respond = respond
    backend = make(server, chat=False)
    assert "score" in backend.capabilities and "chat" not in backend.capabilities
    request = ScoreRequest(prompt="Answer:", continuations=[" yes", " no way"])
    if shift:
        with pytest.raises(UnsupportedError, match="shifted by one token for raw prompts"):
            run(backend, backend.score(request))
        return
    result = run(backend, backend.score(request))
    assert result.logprobs == [-4.0, -3.0 - 4.0] and result.n_tokens == [1, 2]
    checks = [b for b in server.bodies if not b.get("echo")]
    assert len(checks) == 1  # the alignment check runs once per prompt kind
    assert {b["max_tokens"] for b in server.bodies} == {1}


def test_scoring_needs_a_chat_template_for_chat_messages(server: Any) -> None:
    backend = make(server)
    assert "score" not in backend.capabilities
    with pytest.raises(UnsupportedError, match="needs the model's chat template"):
        run(backend, backend.score(ScoreRequest(messages=ASK, continuations=["A"])))
    official = OpenAIBackend(api_key="sk-test")
    assert official.scoring == "none" and "score" not in official.capabilities


# -- identity, pricing, the simulator ---------------------------------------------------------


def test_identity_has_endpoint_and_params_never_the_key(
    server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MY_KEY", "sk-secret-123")
    backend = backends.get("openai")(
        model="m", base_url="http://127.0.0.1:9", api_key_env="MY_KEY", chat_template="chatml"
    )
    ident = backend.identity()
    assert ident.endpoint == "http://127.0.0.1:9/v1" and ident.model == "m"
    assert ident.params["chat_template"] == "chatml" and ident.params["scoring"] == "echo"
    assert "sk-secret-123" not in ident.model_dump_json()
    with pytest.raises(BackendError, match="set the environment variable OPENAI_API_KEY"):
        monkeypatch.delenv("OPENAI_API_KEY", raising=False)
        asyncio.run(OpenAIBackend().generate(GenerateRequest(messages=ASK)))


def test_simulator_copies_meta_and_charges_uncached_calls(server: Any, tmp_path: Path) -> None:
    from behaviorlab.tasks import TrialInput

    server.respond = lambda body: {
        "choices": [{"message": {"content": '{"answer": "B"}'}}],
        "usage": {"prompt_tokens": 1000, "completion_tokens": 10, "total_tokens": 1010},
    }
    backend = make(server, pricing={"input_per_mtok": 2.0, "output_per_mtok": 8.0})
    sim = simulators.get("llm")(backend=backend, answer="generate", cache=CallCache(tmp_path / "c"))
    trial = TrialInput.model_validate(
        {
            "task": "survey",
            "item_id": "q",
            "person_id": "p",
            "persona": None,
            "answer_schema": {},
            "observation": {
                "kind": "question",
                "content": "Pick one",
                "options": [{"code": "x", "label": "X"}, {"code": "y", "label": "Y"}],
            },
        }
    )

    async def twice() -> tuple[Any, Any]:
        try:
            return await sim.answer(trial), await sim.answer(trial)
        finally:
            await backend.aclose()

    first, second = asyncio.run(twice())
    assert first.choice == "y" and first.meta["parse"] == "constrained"
    assert first.cost == pytest.approx((1000 * 2.0 + 10 * 8.0) / 1e6)
    assert second.cache_hits == 1 and second.cost == 0.0
    assert json.loads(second.raw) == {"answer": "B"}


def test_meta_of_several_samples_is_merged() -> None:
    one = {"structured": "none", "parse": "valid", "retries": 1}
    assert merge_meta([one]) == one
    two = {"structured": "none", "parse": "repaired", "retries": 2, "problem": "x"}
    assert merge_meta([one, two]) == {
        "structured": ["none", "none"],
        "parse": ["valid", "repaired"],
        "retries": 3,
        "problem": [None, "x"],
    }
