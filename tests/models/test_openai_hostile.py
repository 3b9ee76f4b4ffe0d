"""The OpenAI-compatible backend against a hostile or broken endpoint on loopback: bodies
without bounds (a gzip bomb, 200 MB of JSON, a 100 MB error page), bodies of the wrong shape,
and the faults that already ended cleanly (stalls, one byte a second, absurd Retry-After
values, HTML with status 200, invalid UTF-8). Each call ends within its deadline with a
BackendError that says what the server did; the memory a call takes is measured with
tracemalloc (every Python allocation, the fault server's included, so the bounds are loose)."""

from __future__ import annotations

import asyncio
import time
import tracemalloc
from collections.abc import Iterator
from typing import Any

import bl_fault_server as fs
import pytest

from behaviorlab.models._base import BackendError, GenerateRequest, Message, ScoreRequest
from behaviorlab.models._openai import OpenAIBackend, ResponseTooLarge

ASK = [Message(role="user", content="Pick A or B.")]
MiB = 2**20


@pytest.fixture
def server() -> Iterator[Any]:
    with fs.serve(fs.FaultServer()) as srv:
        yield srv


def make(srv: Any, **options: Any) -> OpenAIBackend:
    opts: dict[str, Any] = {
        "base_url": srv.url,
        "model": "fake-model",
        "timeout_s": 2.0,
        "deadline_s": 3.0,
        "max_retries": 2,
        "backoff_base_s": 0.01,
        "backoff_max_s": 0.02,
        "structured": "none",
    }
    opts.update(options)
    return OpenAIBackend(**opts)


def call(backend: OpenAIBackend, coro: Any) -> tuple[BaseException | Any, float]:
    """Run ``coro`` on a fresh loop: (its result or the exception it raised, seconds)."""

    async def go() -> Any:
        try:
            return await coro
        finally:
            await backend.aclose()

    start = time.monotonic()
    try:
        result: Any = asyncio.run(go())
    except Exception as e:  # the test asserts on its type and message
        result = e
    return result, time.monotonic() - start


def peak_mib(backend: OpenAIBackend, coro: Any) -> tuple[BaseException | Any, float]:
    """(what ``call`` returns, the peak of traced Python memory during the call in MiB)."""
    tracemalloc.start()
    try:
        result, _ = call(backend, coro)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return result, peak / MiB


def always(kind: str) -> Any:
    return lambda key, attempt: kind


# -- responses without bounds -----------------------------------------------------------------


def test_a_gzip_bomb_is_cut_at_the_decompressed_cap_and_not_retried(server: Any) -> None:
    server.script, server.bomb = always("gzipbomb"), fs.gzip_bomb(256 * MiB)
    assert len(server.bomb) < MiB // 2  # a 256 MiB body sent as a quarter of a megabyte
    backend = make(server, max_response_bytes=MiB)
    error, peak = peak_mib(backend, backend.generate(GenerateRequest(messages=ASK)))
    assert isinstance(error, ResponseTooLarge), error
    assert "larger than the 1 MiB limit" in str(error) and "max_response_bytes" in str(error)
    assert "gzip data received" in str(error) and "not retried" in str(error)
    assert error.read == MiB and error.raw_bytes < 256 * 1024  # stopped a step past 1 MiB
    assert len(server.served) == 1
    assert peak < 16, f"{peak:.1f} MiB traced"  # reading it whole: 256 MiB and more


def test_a_200_mb_json_body_stops_at_the_default_16_mib_cap(server: Any) -> None:
    server.script, server.huge_bytes = always("huge"), 200 * 10**6
    backend = make(server)
    assert backend.max_response_bytes == 16 * MiB
    error, peak = peak_mib(backend, backend.generate(GenerateRequest(messages=ASK)))
    assert isinstance(error, ResponseTooLarge), error
    assert "larger than the 16 MiB limit (reading stopped at 16,777,216 bytes)" in str(error)
    assert len(server.served) == 1
    assert peak < 56, f"{peak:.1f} MiB traced"  # the 16 MiB read, joined once, plus buffers


def test_of_a_100_mb_error_page_only_the_head_is_read(server: Any) -> None:
    server.script, server.huge_bytes = always("huge500"), 100 * 10**6
    backend = make(server, max_retries=1)
    error, peak = peak_mib(backend, backend.generate(GenerateRequest(messages=ASK)))
    assert isinstance(error, BackendError) and not isinstance(error, ResponseTooLarge)
    assert "gave up after 2 attempt(s)" in str(error)
    assert "HTTP 500: '<html><body><h1>Internal Server Error</h1> a a a" in str(error)
    assert peak < 8, f"{peak:.1f} MiB traced"  # whole, decoded and split: gigabytes


def test_a_50_mb_status_500_body_does_not_overrun_a_6_s_deadline(server: Any) -> None:
    server.script, server.huge_bytes = always("huge500"), 50 * 10**6
    backend = make(server, timeout_s=6.0, deadline_s=6.0, max_retries=20, backoff_base_s=0.2)
    error, elapsed = call(backend, backend.generate(GenerateRequest(messages=ASK)))
    assert isinstance(error, BackendError) and "HTTP 500" in str(error), error
    assert elapsed < 6.3, f"{elapsed:.2f}s"


def test_the_cap_is_configurable_and_a_body_under_it_is_read(server: Any) -> None:
    server.script, server.long_chars = always("long"), 3 * MiB
    backend = make(server, max_response_bytes=4 * MiB)
    gen, _ = call(backend, backend.generate(GenerateRequest(messages=ASK)))
    assert not isinstance(gen, BaseException), gen
    assert len(gen.text) == 3 * MiB and gen.text.startswith("lorem ipsum")
    small = make(server, max_response_bytes=2 * MiB)
    error, _ = call(small, small.generate(GenerateRequest(messages=ASK)))
    assert isinstance(error, ResponseTooLarge) and "2 MiB limit" in str(error)
    with pytest.raises(ValueError, match="max_response_bytes must be at least 1024"):
        make(server, max_response_bytes=10)


# -- responses of the wrong shape -------------------------------------------------------------

ANSWER = b'{"choices": [{"message": {"content": "A"}}]'


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (
            b'{"choices": [null]}',
            "the server's response has no choices[0].message (choices[0] is null)",
        ),
        (ANSWER + b', "usage": "lots"}', "usage 'lots' (text), not an object of token counts"),
        (
            ANSWER + b', "usage": {"total_tokens": 1e400}}',
            "usage.total_tokens is inf (a number), not a whole number of tokens",
        ),
        (ANSWER + b', "usage": {"prompt_tokens": -3}}', "usage.prompt_tokens is -3 (a number)"),
        (b'{"choices": [{"message": {"content": 5}}]}', "choices[0].message.content is 5"),
        (
            b'{"choices": [{"message": {"content": "A"}, "finish_reason": 7}]}',
            "choices[0].finish_reason is 7 (a number), not text",
        ),
        (b'{"choices": [{"message": "A"}]}', "has no choices[0].message ('A' (text))"),
        (b'{"choices": "all"}', "has no 'choices' list ('choices' is 'all' (text))"),
        (b'{"choices": []}', "has an empty 'choices' list"),
        (b"[1, 2]", "the server's response is a list, not a JSON object"),
        (b"[" * 100_000, "a JSON body nested too deeply to read"),
    ],
)
def test_a_response_of_the_wrong_shape_gives_a_reason(
    server: Any, body: bytes, reason: str
) -> None:
    server.script, server.raw_body = always("raw"), body
    backend = make(server)
    error, elapsed = call(backend, backend.generate(GenerateRequest(messages=ASK)))
    assert isinstance(error, BackendError), repr(error)  # not AttributeError, OverflowError...
    assert reason in str(error) and "gave up after 3 attempt(s)" in str(error)
    assert elapsed < 3.0


def test_a_text_completion_needs_its_text_and_scoring_its_logprobs(server: Any) -> None:
    server.script, server.raw_body = always("raw"), ANSWER + b"}"  # a chat answer
    backend = make(server, chat=False)
    error, _ = call(backend, backend.generate(GenerateRequest(prompt="Pick A or B:")))
    assert isinstance(error, BackendError) and "has no choices[0].text (null)" in str(error)
    server.raw_body = (
        b'{"choices": [{"text": "x", "logprobs": {"tokens": [1], "token_logprobs": ["a"]}}]}'
    )
    scorer = make(server, chat=False, check_echo=False)
    error, _ = call(scorer, scorer.score(ScoreRequest(prompt="Q:", continuations=[" A"])))
    assert isinstance(error, BackendError), repr(error)
    assert "tokens is not a list of texts: [1]" in str(error)


# -- what already held: each ends within the deadline with a clean error ----------------------


@pytest.mark.parametrize(
    ("kind", "retry_after", "reason"),
    [
        ("dribble", "", "its body was still arriving after"),
        ("stall", "", "no response within"),
        ("429", "1000000000", "the next try (1000000000.0s away) would pass the 3.0s deadline"),
        ("429", "Fri, 31 Dec 9999 23:59:59 GMT", "s away) would pass the 3.0s deadline"),
        ("429", "nan", "HTTP 429"),
        ("html200", "", "HTTP 200 with a malformed JSON body (Expecting value at character 0)"),
        ("badutf8", "", "HTTP 200 with a body that is not UTF-8 text (invalid continuation byte"),
    ],
)
@pytest.mark.timeout(20)
def test_what_already_ended_cleanly_still_does(
    server: Any, kind: str, retry_after: str, reason: str
) -> None:
    server.script, server.retry_after = always(kind), retry_after
    server.dribble_s, server.stall_s = 1.0, 10.0
    backend = make(server)
    error, elapsed = call(backend, backend.generate(GenerateRequest(messages=ASK)))
    assert isinstance(error, BackendError), repr(error)
    assert reason in str(error), str(error)
    assert elapsed < 3.0 + 0.3, f"{elapsed:.2f}s"  # deadline_s + scheduling slack
