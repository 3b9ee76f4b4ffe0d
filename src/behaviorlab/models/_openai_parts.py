"""Parts of the OpenAI-compatible backend (:mod:`behaviorlab.models._openai`): its errors,
per-event-loop state, usage counting and small helpers, kept apart so the backend module stays
readable."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import urlsplit

import httpx

from behaviorlab.models._base import BackendError, GenerateRequest, Message
from behaviorlab.models._http_body import BodyReader
from behaviorlab.models._openai_support import repair_instruction, server_model, token_counts


class HTTPStatusFailure(BackendError):
    """The server answered with an error status. ``body`` is the start of the error body (at
    most 64 KiB of it)."""

    def __init__(self, message: str, status: int, body: str) -> None:
        super().__init__(message)
        self.status = status
        self.body = body


class ResponseTooLarge(BackendError):
    """A successful response went past ``max_response_bytes`` (decompressed): the call fails
    without a retry. ``read`` is how many decompressed bytes were read when it stopped,
    ``raw_bytes`` how many came over the wire."""

    kind: ClassVar[str] = "response_too_large"

    def __init__(self, message: str, *, limit: int, read: int, raw_bytes: int) -> None:
        super().__init__(message)
        self.limit, self.read, self.raw_bytes = limit, read, raw_bytes


class _FormRejected(Exception):
    """The server refused the structured-output fields (``auto`` tries the next form)."""


@dataclass
class _LoopState:
    client: httpx.AsyncClient
    semaphore: asyncio.Semaphore


@dataclass
class _Usage:
    tokens_in: int = 0
    tokens_out: int = 0
    attempts: int = 0
    calls: int = 0
    server_model: str | None = None

    def add(self, data: Mapping[str, Any], attempts: int) -> None:
        counts = token_counts(data)
        self.tokens_in += counts.prompt
        self.tokens_out += counts.completion
        self.attempts += attempts
        self.calls += 1
        self.server_model = server_model(data) or self.server_model


def _normalise_base_url(url: str) -> str:
    url = url.rstrip("/")
    if urlsplit(url).path in ("", "/"):
        url += "/v1"  # "http://127.0.0.1:8000" means the server's /v1 API
    return url


def _timed_out(reader: BodyReader, budget: float) -> str:
    """Why an attempt that ran out of time failed: no answer, or a body still arriving."""
    if reader.status is None:
        return f"no response within {budget:.1f}s"
    return (
        f"HTTP {reader.status} but its body was still arriving after {budget:.1f}s "
        f"(bytes received: {reader.raw_bytes:,}): the server sends too slowly"
    )


def _size(n: int) -> str:
    return f"{n / 2**20:g} MiB" if n >= 2**20 else f"{n:,} bytes"


def _text_of(data: Mapping[str, Any]) -> str:
    """The output text of a chat or a text completion (checked by response_problem)."""
    choice = data["choices"][0]
    if isinstance(choice.get("message"), Mapping):
        return str(choice["message"].get("content") or "")
    return str(choice.get("text") or "")


def _repair_request(request: GenerateRequest, output: str, problem: str) -> GenerateRequest:
    """The original request plus the invalid output and what is wrong with it."""
    assert request.json_schema is not None
    note = repair_instruction(output, problem, request.json_schema)
    if request.messages is not None:
        messages = [
            *request.messages,
            Message(role="assistant", content=output),
            Message(role="user", content=note),
        ]
        return request.model_copy(update={"messages": messages})
    prompt = f"{request.prompt or ''}{output}\n\n{note}\n"
    return request.model_copy(update={"prompt": prompt})


def _env(name: str) -> str | None:
    return os.environ.get(name) or None
