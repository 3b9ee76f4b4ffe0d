"""Framework overhead: behaviorlab's embedded backend against raw llama-cpp-python.

    .venv/bin/python bench/framework_overhead.py               # 10 prompts, plain text
    .venv/bin/python bench/framework_overhead.py --schema      # both constrained by a grammar
    .venv/bin/python bench/framework_overhead.py --context 15  # ~450-token prompts

The same chat prompts (a persona in the system message, a survey question in the user
message) go through ``LlamaCppBackend.generate`` (bundled SmolLM2) and through
``llama_cpp.Llama.create_chat_completion`` on a second ``Llama`` loaded from the same file with
llama-cpp-python's defaults, as a user would write it. Sampling settings are the same on both
sides (greedy; top_k=0, min_p=0, typical_p=1, repeat_penalty=1, the same seed, the same
max_tokens, and with ``--schema`` the same GBNF grammar from the same JSON schema). Calls
alternate between the two, in the order A B B A, so that load from other processes falls on
both alike. Throughput is prompt plus generated tokens per second of wall time; the ratio
behaviorlab / raw is the number to read (target: at least 0.95).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

from behaviorlab.models._base import GenerateRequest, Message
from behaviorlab.models._bundled import locate_bundled
from behaviorlab.models._llamacpp import LlamaCppBackend, _import_llama_cpp

PERSONAS = [
    "You are Maria, a 47-year-old nurse from Columbus, Ohio, married, a political moderate.",
    "You are James, a 23-year-old student in Seattle who cycles everywhere.",
    "You are Linda, a 68-year-old retired teacher in rural Texas who volunteers at the library.",
    "You are Ahmed, a 35-year-old taxi driver in Chicago, father of three.",
    "You are Sophie, a 52-year-old baker in Vermont who hikes on weekends.",
]
QUESTIONS = [
    "Should the federal minimum wage be raised to $15 an hour? Explain briefly.",
    "How much do you trust the national news media, and why?",
    "Is the economy getting better or worse where you live?",
    "What would make you switch your grocery store?",
]
SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "answer": {"type": "string", "enum": ["yes", "no", "not sure"]},
        "reason": {"type": "string"},
    },
    "required": ["answer", "reason"],
}


@dataclass
class Side:
    seconds: float = 0.0
    tokens_in: int = 0
    tokens_out: int = 0
    texts: list[str] = field(default_factory=list)

    def rate(self) -> float:
        return (self.tokens_in + self.tokens_out) / self.seconds


def prompts(n: int, context: int) -> list[list[Message]]:
    """``n`` chats; ``context`` > 0 puts that many numbered survey notes (~27 SmolLM2 tokens each)
    before the question, so prompt reading weighs more than generation."""
    out = []
    for i in range(n):
        notes = "".join(
            f"Note {j}: respondent {i} answered item {j} on a scale of 1 to 5 with {j % 5 + 1}.\n"
            for j in range(context)
        )
        question = QUESTIONS[(i // len(PERSONAS) + i) % len(QUESTIONS)]
        out.append(
            [
                Message(role="system", content=PERSONAS[i % len(PERSONAS)]),
                Message(role="user", content=notes + question),
            ]
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--n", type=int, default=10, help="number of prompts")
    parser.add_argument("--max-tokens", type=int, default=24)
    parser.add_argument("--schema", action="store_true", help="constrain both with a grammar")
    parser.add_argument("--n-ctx", type=int, default=2048)
    parser.add_argument("--context", type=int, default=0, help="notes before each question")
    args = parser.parse_args()

    llama_cpp = _import_llama_cpp()  # sets OMP_WAIT_POLICY=PASSIVE for both sides
    from llama_cpp.llama_grammar import LlamaGrammar

    ours = LlamaCppBackend("smollm2", n_ctx=args.n_ctx)
    raw = llama_cpp.Llama(
        model_path=str(locate_bundled("smollm2")), n_ctx=args.n_ctx, verbose=False
    )
    grammar = LlamaGrammar.from_json_schema(json.dumps(SCHEMA), verbose=False)
    schema = SCHEMA if args.schema else None
    sides = {"behaviorlab": Side(), "raw": Side()}

    async def call_ours(messages: list[Message]) -> None:
        request = GenerateRequest(
            messages=messages, json_schema=schema, temperature=0.0, max_tokens=args.max_tokens
        )
        start = time.perf_counter()
        gen = await ours.generate(request)
        side = sides["behaviorlab"]
        side.seconds += time.perf_counter() - start
        side.tokens_in += gen.tokens_in
        side.tokens_out += gen.tokens_out
        side.texts.append(gen.text)

    def call_raw(messages: list[Message]) -> None:
        start = time.perf_counter()
        out = raw.create_chat_completion(
            messages=[m.model_dump() for m in messages],
            max_tokens=args.max_tokens,
            temperature=0.0,
            top_p=1.0,
            top_k=0,
            min_p=0.0,
            typical_p=1.0,
            repeat_penalty=1.0,
            seed=0,
            grammar=grammar if args.schema else None,
        )
        side = sides["raw"]
        side.seconds += time.perf_counter() - start
        side.tokens_in += int(out["usage"]["prompt_tokens"])
        side.tokens_out += int(out["usage"]["completion_tokens"])
        side.texts.append(str(out["choices"][0]["message"]["content"]))

    async def run() -> None:
        warm = [Message(role="user", content="Hello")]
        await ours.generate(GenerateRequest(messages=warm, max_tokens=2))  # load the model
        call_raw(warm)
        for side in sides.values():
            side.seconds = side.tokens_in = side.tokens_out = 0
            side.texts.clear()
        for i, messages in enumerate(prompts(args.n, args.context)):
            if i % 2 == 0:
                await call_ours(messages)
                call_raw(messages)
            else:
                call_raw(messages)
                await call_ours(messages)
        await ours.aclose()

    asyncio.run(run())
    raw.close()
    a, b = sides["behaviorlab"], sides["raw"]
    same = sum(x == y for x, y in zip(a.texts, b.texts, strict=True))
    print(
        f"{args.n} prompts, max_tokens={args.max_tokens}, "
        f"{'grammar from a JSON schema' if args.schema else 'no grammar'}"
    )
    for name, side in sides.items():
        print(
            f"{name:12s} {side.seconds:6.1f} s, {side.tokens_in} prompt + {side.tokens_out} "
            f"generated tokens: {side.rate():6.1f} tokens/s"
        )
    print(f"ratio behaviorlab / raw (tokens/s): {a.rate() / b.rate():.3f}  (target >= 0.95)")
    print(f"identical greedy outputs: {same}/{args.n}")


if __name__ == "__main__":
    main()
