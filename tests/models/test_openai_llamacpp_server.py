"""The openai backend end to end against a real ``llama_cpp.server`` on loopback, serving the
bundled SmolLM2 file (slow: starts a server process and loads the model)."""

from __future__ import annotations

import asyncio
import json
import math
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

import behaviorlab as bl
from behaviorlab.families.next_action import action_schema
from behaviorlab.models._base import (
    BackendError,
    GenerateRequest,
    Message,
    ScoreRequest,
    UnsupportedError,
)
from behaviorlab.models._bundled import locate_bundled
from behaviorlab.models._openai import OpenAIBackend
from behaviorlab.models._openai_support import json_problem
from behaviorlab.runs import run_async
from behaviorlab.simulators._llm import softmax

pytestmark = pytest.mark.slow
pytest.importorskip("llama_cpp.server", reason="needs pip install 'behaviorlab[server]'")

SCORE_TOLERANCE = 0.05
"""Largest |difference| of an option's summed log-probability between the server (echo) and
the embedded backend (its own batching): the same weights, batches of different sizes."""
SYSTEM = "You are Maria, a 47-year-old nurse from Ohio who goes to church on Sundays."


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = _free_port()
    log_path = tmp_path_factory.mktemp("server") / "llama_cpp_server.log"
    cmd = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(locate_bundled("smollm2")),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        "2048",
    ]
    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE"}
    log = log_path.open("wb")  # a file, not a pipe: the server logs a lot, a full pipe blocks it
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


def _backend(url: str, **options: Any) -> OpenAIBackend:
    return OpenAIBackend(
        model="smollm2", base_url=url, timeout_s=120, deadline_s=300, max_retries=1, **options
    )


def test_survey_run_through_the_server(server_url: str, tmp_path: Path) -> None:
    spec: dict[str, Any] = {
        "name": "server",
        "task": "survey",
        "data": {"source": "synthetic-test", "split": {"test": 0.5, "seed": 0}},
        "simulators": [
            {
                "name": "llm",
                "backend": "openai",
                "model": "smollm2",
                "answer": "generate",
                "backend_options": {"base_url": server_url, "structured": "auto"},
            }
        ],
        "conditions": ["full"],
        "seeds": [0],
        "concurrency": 2,
        "cache": False,
    }
    summary = asyncio.run(run_async(spec, out=tmp_path, limit=3))
    frame = bl.open_run(summary.results_path).to_pandas()
    assert len(frame) == 3 and frame["error"].isna().all()
    assert frame.apply(lambda r: r["answer"] in r["options"], axis=1).all()
    # auto found that llama_cpp.server refuses OpenAI's json_schema form (HTTP 500)
    assert frame["meta"].map(lambda m: m["structured"] == "json_object_schema").all()
    assert frame["meta"].map(lambda m: m["parse"] == "constrained").all()
    assert (frame["tokens_in"] > 50).all() and (frame["tokens_out"] > 0).all()


def test_structured_action_is_valid(server_url: str) -> None:
    schema = action_schema(["search_box", "buy_button", "product_1"])
    backend = _backend(server_url, structured="json_object_schema")
    request = GenerateRequest(
        messages=[
            Message(role="system", content=SYSTEM),
            Message(
                role="user",
                content="You are shopping for socks. The page has search_box, buy_button and "
                "product_1. What do you do next? Answer in JSON.",
            ),
        ],
        json_schema=schema,
        max_tokens=96,
    )

    async def go() -> Any:
        try:
            return await backend.generate(request)
        finally:
            await backend.aclose()

    gen = asyncio.run(go())
    assert gen.meta["parse"] == "constrained", gen.text
    assert json_problem(json.loads(gen.text), schema) is None


def test_option_scores_agree_with_the_embedded_backend(server_url: str) -> None:
    from behaviorlab.models._llamacpp import LlamaCppBackend

    messages = [
        Message(role="system", content=SYSTEM),
        Message(role="user", content="How often do you attend religious services?"),
    ]
    options = ["Weekly", "Rarely", "Never"]
    backend = _backend(server_url, chat_template="chatml")
    embedded = LlamaCppBackend("smollm2")

    async def go() -> tuple[Any, Any, Any]:
        try:
            remote = await backend.score(ScoreRequest(messages=messages, continuations=options))
            local = await embedded.score(ScoreRequest(messages=messages, continuations=options))
            raw = backend.score(ScoreRequest(prompt="Answer:", continuations=[" A", " B"]))
            try:
                await raw
            except UnsupportedError as e:
                return remote, local, e
            return remote, local, None
        finally:
            await backend.aclose()
            await embedded.aclose()

    remote, local, refused = asyncio.run(go())
    probs = softmax(remote.logprobs)
    assert math.isclose(sum(probs), 1.0) and all(p > 0 for p in probs)
    assert remote.n_tokens == local.n_tokens
    for a, b in zip(remote.logprobs, local.logprobs, strict=True):
        assert abs(a - b) < SCORE_TOLERANCE, (remote.logprobs, local.logprobs)
    # SmolLM2 adds no BOS to a raw prompt, and llama_cpp.server's echo is then shifted by
    # one token: the alignment check must refuse rather than return wrong scores
    assert refused is not None and "shifted by one token for raw prompts" in str(refused)


def test_vllm_profile_requests_where_llama_cpp_server_overlaps(server_url: str) -> None:
    """The vllm profile against a real server, on what both offer: chat generation with the
    structured form this server accepts, and single raw-prompt completions. A list of prompts
    in one /v1/completions call (generate_many's batch), prompt_logprobs and the json_schema
    form are vLLM-only (tests/models/test_openai_vllm.py): llama_cpp.server answers the list
    with HTTP 500, which the profile reports as a BackendError."""
    from behaviorlab.models._vllm import VLLMBackend

    backend = VLLMBackend(
        model="smollm2",
        base_url=server_url,
        structured="json_object_schema",
        timeout_s=120,
        deadline_s=300,
        max_retries=1,
    )
    schema = {"type": "object", "properties": {"answer": {"type": "string", "enum": ["A", "B"]}},
              "required": ["answer"]}  # fmt: skip
    chat = GenerateRequest(
        messages=[Message(role="user", content="Pick A or B. Reply in JSON.")],
        json_schema=schema,
        max_tokens=16,
    )
    raw = [GenerateRequest(prompt=p, max_tokens=4, seed=1) for p in ("1, 2, 3,", "a, b, c,")]

    async def go() -> tuple[Any, Any, BaseException | None]:
        try:
            gen, single = await backend.generate(chat), await backend.generate(raw[0])
            try:
                await backend.generate_many(raw)
            except BackendError as exc:
                return gen, single, exc
            return gen, single, None
        finally:
            await backend.aclose()

    gen, single, batch_error = asyncio.run(go())
    assert json.loads(gen.text)["answer"] in ("A", "B") and gen.meta["parse"] == "constrained"
    assert single.text and single.tokens_in > 0
    assert batch_error is not None and "HTTP 500" in str(batch_error)
