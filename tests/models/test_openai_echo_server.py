"""A transcript scored in one echo request by a real ``llama_cpp.server`` on loopback, serving
the bundled SmolLM2 file, against the embedded llamacpp backend (slow: starts one server process
for the module and loads the model twice, once in it and once embedded; each transcript is
scored once, by a module fixture, and the tests check the results).

SmolLM2 adds no BOS token to a raw prompt, and llama_cpp.server then reports every echoed
token one position late (tests/models/test_openai_llamacpp_server.py checks that per-choice
echo scoring refuses it). The one-request path detects the shift from the echo itself and
realigns it (behaviorlab.models._openai_positions)."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from behaviorlab.families.transcript import TranscriptTask, load_transcripts
from behaviorlab.families.transcript._onepass import session_request
from behaviorlab.models._base import PositionsRequest, PositionsResult, score_per_point
from behaviorlab.models._bundled import locate_bundled
from behaviorlab.models._openai import OpenAIBackend

pytestmark = pytest.mark.slow
pytest.importorskip("llama_cpp.server", reason="needs pip install 'behaviorlab[server]'")

TOLERANCE = 1e-3
"""Largest |difference| of an option's log-probability read through the server (from the
realigned echo, or by a forced completion where it is not among the 20 alternatives) and the
embedded backend's per-choice score: the issue's 1e-3 nats. Measured: at most 2.2e-7 (both
decode the text in multi-token batches of the same weights; the server sends float32
log-softmax values, the embedded backend computes them in float64). A forced completion read
straight after the echo, with only its last token re-read, was 0.2 nats off (a one-token batch,
docs/transcript.md, "One pass"): the reset request before it is what this test checks."""
ROUNDS = "".join(
    f"Round {i}: machine K or machine X? You press <<{c}>>. You win {w} points.\n"
    for i, (c, w) in enumerate([("K", 4), ("K", 1), ("X", 5)], start=1)
)
OPTIONS_ONLY = "In this game you press K or X to pick a slot machine.\n" + ROUNDS
WITH_FREE_TEXT = OPTIONS_ONLY + "How did you choose? You write <<by luck>>."


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = _free_port()
    log_path = tmp_path_factory.mktemp("echo-server") / "llama_cpp_server.log"
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(locate_bundled("smollm2")),
           "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "1024"]  # fmt: skip
    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE"}
    log = log_path.open("wb")  # a file, not a pipe: a full pipe would block the server
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                err = log_path.read_text(errors="replace")
                pytest.fail(f"llama_cpp.server exited with {proc.returncode}: {err[-2000:]}")
            try:
                if httpx.get(f"{url}/models", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("llama_cpp.server was not ready within 90 s")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture(scope="module")
def embedded() -> Iterator[Any]:
    """One embedded backend for the module: the model is loaded once, on its first call."""
    from behaviorlab.models._llamacpp import LlamaCppBackend

    backend = LlamaCppBackend("smollm2", n_ctx=1024)
    yield backend
    asyncio.run(backend.aclose())


Scored = tuple[PositionsRequest, PositionsResult, PositionsResult, list[dict[str, Any]]]


@pytest.fixture(scope="module")
def scored(
    server_url: str, embedded: Any, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Scored]:
    """Each transcript through the server (with the bodies it was sent) and per choice through
    the embedded backend, scored once for the module in one event loop."""
    texts = {"options only": OPTIONS_ONLY, "with free text": WITH_FREE_TEXT}
    requests = _requests(tmp_path_factory.mktemp("echo-prompts"), list(texts.values()))

    async def go() -> dict[str, Scored]:
        out: dict[str, Scored] = {}
        for name, request in zip(texts, requests, strict=True):
            got, bodies = await _through_server(server_url, request)
            out[name] = (request, got, await score_per_point(embedded, request), bodies)
        return out

    return asyncio.run(go())


def _requests(tmp_path: Path, texts: list[str]) -> list[PositionsRequest]:
    path = tmp_path / "prompts.jsonl"
    path.write_text(
        "".join(
            json.dumps({"text": t, "experiment": "echo", "participant": i}) + "\n"
            for i, t in enumerate(texts)
        ),
        encoding="utf-8",
    )
    task = TranscriptTask()
    return [session_request(task.session(t)) for t in task.trials(load_transcripts(path), seed=0)]


async def _through_server(
    url: str, request: PositionsRequest
) -> tuple[PositionsResult, list[dict[str, Any]]]:
    """The request through the server, by a fresh client, and the bodies it was sent."""
    remote = OpenAIBackend(
        model="smollm2", base_url=url, chat=False, timeout_s=300, deadline_s=600, max_retries=1
    )
    bodies: list[dict[str, Any]] = []
    post = remote.post

    async def counting(path: str, body: dict[str, Any], **kw: Any) -> Any:
        bodies.append({"path": path, **body})
        return await post(path, body, **kw)

    remote.post = counting  # type: ignore[method-assign]
    try:
        return await remote.score_positions(request), bodies
    finally:
        await remote.aclose()


def _worst(got: PositionsResult, want: PositionsResult) -> float:
    assert [s.n_tokens for s in got.scores] == [s.n_tokens for s in want.scores]
    return max(
        abs(a - b)
        for g, w in zip(got.scores, want.scores, strict=True)
        for a, b in zip(g.logprobs, w.logprobs, strict=True)
    )


def test_a_transcript_in_one_echo_request_equals_the_embedded_backend(
    scored: dict[str, Scored],
) -> None:
    request, got, want, bodies = scored["options only"]
    assert [p.continuations for p in request.points] == [["K", "X"]] * 3
    assert len(bodies) == 1 and bodies[0]["path"] == "completions" and bodies[0]["echo"] is True
    assert bodies[0]["prompt"] == "".join(request.pieces)
    assert got.one_pass and got.calls == 1 and got.evaluated == got.tokens_in
    assert _worst(got, want) < TOLERANCE, (got.scores, want.scores)


def test_a_token_outside_the_alternatives_is_read_by_a_forced_completion(
    scored: dict[str, Scored],
) -> None:
    request, got, want, bodies = scored["with free text"]
    assert request.points[-1].continuations == ["by luck"]
    forced = [b for b in bodies if "logit_bias" in b]
    resets = [b for b in bodies[1:] if "logit_bias" not in b]
    assert bodies[0]["echo"] is True and len(forced) == len(resets) >= 1
    assert len(bodies) == 1 + 2 * len(forced)
    for reset, force in zip(bodies[1::2], bodies[2::2], strict=True):
        assert reset in resets and force in forced  # each forced read right after a reset
        assert not force.get("echo") and force["logit_bias_type"] == "tokens"
        assert reset["prompt"][0] != force["prompt"][0]
    assert got.calls == len(bodies) and got.evaluated > got.tokens_in
    assert _worst(got, want) < TOLERANCE, (got.scores, want.scores)
