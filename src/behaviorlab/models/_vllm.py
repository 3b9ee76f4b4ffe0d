"""The ``vllm`` backend: the OpenAI-compatible backend with what ``vllm serve`` adds.

In-process vLLM pins a CUDA build of torch, so behaviorlab reaches vLLM through its server:

* **Option scoring with ``prompt_logprobs``.** vLLM returns the log-probability of every prompt
  token (``"prompt_logprobs": 0`` asks for the prompt token's alone), for all continuations of
  a question in one ``/v1/completions`` call (a list of prompts), and without the one-token
  shift of llama_cpp.server's echo, so no alignment check is needed.
* **Batched completions.** :meth:`VLLMBackend.generate_many` sends raw-prompt requests that
  share their sampling settings as one ``/v1/completions`` call with a list of prompts.
* **Structured output** with ``response_format`` ``json_schema`` (vLLM's guided decoding);
  ``structured: guided_json`` sends the schema as vLLM's ``guided_json`` field instead.
* **Automatic prefix caching** is a server flag (``vllm serve MODEL --enable-prefix-caching``,
  on by default in vLLM's V1 engine): trials that share a persona then reuse its KV cache on
  the GPU with no client change; behaviorlab's prompts put the shared part first.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, ClassVar

from behaviorlab.models._base import BackendError, GenerateRequest, Generation, backend
from behaviorlab.models._openai import OpenAIBackend, Scoring, Structured
from behaviorlab.models._openai_parts import _Usage
from behaviorlab.models._openai_support import (
    estimate_tokens,
    prompt_logprob_pieces,
    server_model,
    tail_logprobs,
    token_counts,
)


@backend("vllm")
class VLLMBackend(OpenAIBackend):
    """A ``vllm serve`` endpoint (``base_url`` defaults to vLLM's ``http://127.0.0.1:8000/v1``).

    Takes every option of the ``openai`` backend; the defaults differ: ``structured:
    json_schema``, ``scoring: prompt_logprobs``, ``chat_template`` must still be given to score
    chat messages (e.g. ``chatml`` for Qwen / SmolLM2)."""

    name: ClassVar[str] = "vllm"
    default_structured: ClassVar[Structured] = "json_schema"
    default_scoring: ClassVar[Scoring] = "prompt_logprobs"

    def __init__(
        self,
        model: str = "Qwen/Qwen2.5-0.5B-Instruct",
        *,
        base_url: str = "http://127.0.0.1:8000/v1",
        api_key_env: str = "VLLM_API_KEY",
        **options: Any,
    ) -> None:
        super().__init__(model, base_url=base_url, api_key_env=api_key_env, **options)

    async def _score_texts(
        self, prompt: str, continuations: list[str], usage: _Usage
    ) -> list[tuple[float, int]]:
        if self.scoring != "prompt_logprobs":
            return await super()._score_texts(prompt, continuations, usage)
        texts = [prompt + c for c in continuations]
        body: dict[str, Any] = {
            "model": self.model,
            "prompt": texts,
            "max_tokens": 1,
            "temperature": 0.0,
            "prompt_logprobs": 0,
            **self.extra_body,
        }
        estimate = sum(estimate_tokens(t, 1) for t in texts)
        data, attempts = await self.post("completions", body, estimate=estimate)
        usage.add(data, attempts)
        return parse_prompt_logprobs(data, continuations, where=f"{self.base_url} (vllm)")

    async def generate_many(self, requests: Sequence[GenerateRequest]) -> list[Generation]:
        """Raw-prompt requests without a schema that share sampling settings go out as one
        ``/v1/completions`` call with a list of prompts; the rest one by one, concurrently."""
        groups: dict[str, list[int]] = {}
        for i, r in enumerate(requests):
            if r.prompt is not None and r.json_schema is None:
                key = r.model_dump_json(exclude={"prompt"})
                groups.setdefault(key, []).append(i)
        batched = {i for idx in groups.values() if len(idx) > 1 for i in idx}
        out: dict[int, Generation] = {}

        async def one(i: int) -> None:
            out[i] = await self.generate(requests[i])

        async def batch(idx: list[int]) -> None:
            for i, gen in zip(idx, await self._batch([requests[i] for i in idx]), strict=True):
                out[i] = gen

        await asyncio.gather(
            *(one(i) for i in range(len(requests)) if i not in batched),
            *(batch(idx) for idx in groups.values() if len(idx) > 1),
        )
        return [out[i] for i in range(len(requests))]

    async def _batch(self, requests: list[GenerateRequest]) -> list[Generation]:
        path, body = self._body(requests[0], "none")
        body["prompt"] = [r.prompt or "" for r in requests]
        estimate = sum(estimate_tokens(r.prompt or "", r.max_tokens) for r in requests)
        data, attempts = await self.post(path, body, estimate=estimate)
        choices = sorted(data["choices"], key=lambda c: int(c.get("index") or 0))
        if len(choices) != len(requests):
            raise BackendError(
                f"{self.base_url}: {len(requests)} prompts sent in one call, "
                f"{len(choices)} choices returned"
            )
        counts = token_counts(data)
        texts = [str(c.get("text") or "") for c in choices]
        # the call's totals, shared by each prompt's and each output's own (estimated) length
        tokens_in = split_total(
            counts.prompt, [estimate_tokens(r.prompt or "", 0) for r in requests]
        )
        tokens_out = split_total(counts.completion, [max(1, len(t)) for t in texts])
        meta = {
            "batched": len(requests),
            "retries": attempts - 1,
            "structured": "none",
            "server_model": server_model(data),
        }
        return [
            Generation(
                text=text,
                tokens_in=tin,
                tokens_out=tout,
                finish_reason=c.get("finish_reason"),
                meta=dict(meta),
            )
            for c, text, tin, tout in zip(choices, texts, tokens_in, tokens_out, strict=True)
        ]


def split_total(total: int, weights: Sequence[int]) -> list[int]:
    """``total`` split in proportion to ``weights`` (largest remainders): the parts add up to
    ``total`` exactly, so a batched call's tokens and cost are neither lost nor invented."""
    if not weights:
        return []
    whole = sum(weights) or len(weights)
    exact = [total * (w or (0 if sum(weights) else 1)) / whole for w in weights]
    parts = [int(x) for x in exact]
    order = sorted(range(len(weights)), key=lambda i: exact[i] - parts[i], reverse=True)
    for i in order[: total - sum(parts)]:
        parts[i] += 1
    return parts


def parse_prompt_logprobs(
    data: dict[str, Any], continuations: Sequence[str], *, where: str
) -> list[tuple[float, int]]:
    """(summed log-probability, token count) of each continuation from a vLLM completions
    response to a list of prompts ``prompt + continuation`` sent with ``prompt_logprobs``."""
    choices = data.get("choices") or []
    if not all(isinstance(c, dict) for c in choices):
        raise BackendError(f"{where}: the response's choices are not all objects")
    choices = sorted(choices, key=lambda c: int(c.get("index") or 0))
    if len(choices) != len(continuations):
        raise BackendError(
            f"{where}: {len(continuations)} prompts sent, {len(choices)} choices returned"
        )
    return [
        tail_logprobs(prompt_logprob_pieces(choice), cont, where=where)
        for choice, cont in zip(choices, continuations, strict=True)
    ]
