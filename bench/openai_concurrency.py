"""behaviorlab's OpenAI-compatible backend with concurrency against sequential ``openai`` SDK
calls: same server, same prompts, same settings.

    .venv/bin/python bench/openai_concurrency.py                  # both endpoints
    .venv/bin/python bench/openai_concurrency.py --calls 32 --concurrency 16 --latency 0.2
    .venv/bin/python bench/openai_concurrency.py --no-llama-server  # fake endpoint only

Two endpoints, timed in one run:

(a) a real ``llama_cpp.server`` serving the bundled SmolLM2 on loopback. It evaluates one
    request at a time, so concurrency can only hide HTTP and client overhead: expect ~1x.
(b) a fixed-latency fake endpoint (the tests' fault server, every answer after ``--latency``
    seconds, as a remote API or a batching server like vLLM behaves): here concurrency shows,
    the ideal ratio being ``min(concurrency, calls)``.

Prints wall-clock seconds and the ratio sequential SDK time / behaviorlab time for each.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import platform
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
from openai import OpenAI

from behaviorlab.models._base import GenerateRequest, Message
from behaviorlab.models._bundled import locate_bundled
from behaviorlab.models._openai import OpenAIBackend

QUESTIONS = [
    "Should the federal minimum wage be raised?",
    "How often do you attend religious services?",
    "Is the economy getting better or worse?",
    "Do you trust the news media?",
    "Should public transport be free?",
    "How would you rate your health?",
    "Do you own a smartphone?",
    "What is your favourite season?",
]


def prompts(n: int) -> list[list[Message]]:
    return [
        [
            Message(role="system", content=f"You are person {i}, a 40-year-old from Ohio."),
            Message(role="user", content=QUESTIONS[i % len(QUESTIONS)] + " Answer briefly."),
        ]
        for i in range(n)
    ]


def sdk_sequential(url: str, model: str, batch: list[list[Message]], max_tokens: int) -> float:
    client = OpenAI(base_url=url, api_key="none", max_retries=0, timeout=300)
    start = time.perf_counter()
    for messages in batch:
        client.chat.completions.create(
            model=model,
            messages=[m.model_dump() for m in messages],  # type: ignore[misc]
            temperature=0.0,
            top_p=1.0,
            max_tokens=max_tokens,
            seed=0,
        )
    elapsed = time.perf_counter() - start
    client.close()
    return elapsed


def behaviorlab_concurrent(
    url: str, model: str, batch: list[list[Message]], max_tokens: int, concurrency: int
) -> float:
    backend = OpenAIBackend(
        model=model, base_url=url, concurrency=concurrency, timeout_s=300, deadline_s=600
    )
    requests = [GenerateRequest(messages=m, max_tokens=max_tokens) for m in batch]

    async def go() -> float:
        try:
            start = time.perf_counter()
            await backend.generate_many(requests)
            return time.perf_counter() - start
        finally:
            await backend.aclose()

    return asyncio.run(go())


def compare(label: str, url: str, model: str, args: argparse.Namespace) -> None:
    batch = prompts(args.calls)
    sdk_sequential(url, model, batch[:1], args.max_tokens)  # warm up (model load, caches)
    seq = sdk_sequential(url, model, batch, args.max_tokens)
    conc = behaviorlab_concurrent(url, model, batch, args.max_tokens, args.concurrency)
    print(
        f"{label}: {args.calls} calls, openai SDK sequential {seq:.2f} s, behaviorlab "
        f"concurrency {args.concurrency} {conc:.2f} s -> ratio {seq / conc:.2f}x"
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def llama_server(args: argparse.Namespace) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/v1"
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(locate_bundled("smollm2"))]
    cmd += ["--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048"]
    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE"}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{url}/models", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise SystemExit("llama_cpp.server did not start")
            time.sleep(0.3)
        compare("(a) llama_cpp.server, SmolLM2 (serial server)", url, "smollm2", args)
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def fault_server_module() -> ModuleType:
    path = Path(__file__).resolve().parents[1] / "tests" / "support" / "bl_fault_server.py"
    spec = importlib.util.spec_from_file_location("bl_bench_fault_server", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def fake_endpoint(args: argparse.Namespace) -> None:
    fs: Any = fault_server_module()
    with fs.serve(fs.FaultServer(latency_s=args.latency)) as server:
        label = f"(b) fixed-latency fake endpoint, {args.latency * 1000:.0f} ms per call"
        compare(label, server.url, "fake-model", args)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=16)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--max-tokens", type=int, default=16)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--no-llama-server", action="store_true")
    args = parser.parse_args()
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs")
    if not args.no_llama_server:
        llama_server(args)
    fake_endpoint(args)


if __name__ == "__main__":
    main()
