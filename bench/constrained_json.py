"""How often does a small model answer a survey question in valid JSON, with and without a
JSON-schema constraint? And how fast is the embedded llama.cpp backend?

    .venv/bin/python bench/constrained_json.py            # SmolLM2, 20 prompts
    .venv/bin/python bench/constrained_json.py --n 40 --model path/to/model.gguf

Each prompt is a persona (system message) and a question with lettered options (user message)
asking for ``{"answer": "<letter>"}``. Both modes decode greedily with the same prompt; the
constrained mode adds the schema (a grammar), the plain mode relies on the instruction alone.
An output counts as valid if the whole text parses as JSON and matches the schema (an object
whose only key "answer" holds one of the offered letters); "lenient" also accepts the first
``{...}`` found inside the text. Speeds come from llama.cpp's own counters (prompt
evaluation = batched decoding, generation = one token per decode) and from wall time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from behaviorlab.models._base import GenerateRequest, Message, ScoreRequest
from behaviorlab.models._llamacpp import LlamaCppBackend, _import_llama_cpp, _new_llama

PERSONAS = [
    "You are Maria, a 47-year-old nurse from Columbus, Ohio. You are married, go to church "
    "most Sundays and describe yourself as a political moderate.",
    "You are James, a 23-year-old computer science student in Seattle who rents a shared flat, "
    "cycles everywhere and votes for progressive candidates.",
    "You are Linda, a 68-year-old retired teacher living in rural Texas with her husband. You "
    "are a lifelong Republican and volunteer at the local library.",
    "You are Ahmed, a 35-year-old taxi driver in Chicago, father of three, who came to the "
    "United States twelve years ago and worries about the cost of living.",
    "You are Sophie, a 52-year-old small-business owner in Vermont who runs a bakery, hikes on "
    "weekends and is independent in politics.",
]
QUESTIONS = [
    ("Should the federal minimum wage be raised to $15 an hour?", ["Yes", "No", "Not sure"]),
    ("How much do you trust the national news media?", ["A lot", "Some", "Not much", "Not at all"]),
    ("Is the economy getting better or worse?", ["Better", "Worse", "About the same"]),
    ("How often do you attend religious services?", ["Weekly", "Monthly", "Rarely", "Never"]),
    ("Should public transport in cities be free?", ["Yes", "No"]),
    ("How satisfied are you with your life overall?", ["Very", "Fairly", "Not very", "Not at all"]),
]
LETTERS = "ABCDEFGH"


def survey_prompts(n: int) -> list[tuple[list[Message], str]]:
    """``n`` (messages, allowed letters) pairs cycling through personas × questions."""
    out = []
    for i in range(n):
        persona = PERSONAS[i % len(PERSONAS)]
        question, options = QUESTIONS[(i // len(PERSONAS) + i) % len(QUESTIONS)]
        letters = LETTERS[: len(options)]
        lines = "\n".join(
            f"{letter}) {text}" for letter, text in zip(letters, options, strict=True)
        )
        user = (
            f"{question}\n{lines}\n"
            'Reply with JSON only, in the form {"answer": "<letter>"}, where <letter> is one of '
            f"{', '.join(letters)}."
        )
        msgs = [Message(role="system", content=persona), Message(role="user", content=user)]
        out.append((msgs, letters))
    return out


def answer_schema(letters: str) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {"answer": {"type": "string", "enum": list(letters)}},
        "required": ["answer"],
        "additionalProperties": False,
    }


def is_valid(value: object, letters: str) -> bool:
    return isinstance(value, dict) and set(value) == {"answer"} and value["answer"] in letters


def check(text: str, letters: str) -> tuple[bool, bool]:
    """(strict, lenient) validity of one output."""
    try:
        strict = is_valid(json.loads(text), letters)
    except json.JSONDecodeError:
        strict = False
    lenient = strict
    if not strict and (match := re.search(r"\{.*?\}", text, re.DOTALL)):
        with contextlib.suppress(json.JSONDecodeError):
            lenient = is_valid(json.loads(match.group(0)), letters)
    return strict, lenient


@dataclass
class Tally:
    strict: int = 0
    lenient: int = 0
    tokens_out: int = 0
    wall: float = 0.0
    examples: list[str] = field(default_factory=list)
    answers: Counter[str] = field(default_factory=Counter)


class PerfCounters:
    """llama.cpp's per-context timing counters (a peek at the backend's loaded model)."""

    def __init__(self, backend: LlamaCppBackend) -> None:
        self.lib = _import_llama_cpp()
        self.ctx = backend._llm.ctx

    def reset(self) -> None:
        self.lib.llama_perf_context_reset(self.ctx)

    def read(self) -> tuple[int, float, int, float]:
        d = self.lib.llama_perf_context(self.ctx)
        return d.n_p_eval, d.t_p_eval_ms / 1000, d.n_eval, d.t_eval_ms / 1000


async def run_modes(backend: LlamaCppBackend, n: int, max_tokens: int) -> None:
    prompts = survey_prompts(n)
    perf = PerfCounters(backend)
    for mode in ("schema", "plain"):
        tally = Tally()
        perf.reset()
        for messages, letters in prompts:
            req = GenerateRequest(
                messages=messages,
                json_schema=answer_schema(letters) if mode == "schema" else None,
                temperature=0.0,
                max_tokens=max_tokens,
            )
            start = time.perf_counter()
            out = await backend.generate(req)
            tally.wall += time.perf_counter() - start
            tally.tokens_out += out.tokens_out
            strict, lenient = check(out.text, letters)
            tally.strict += strict
            tally.lenient += lenient
            if strict:
                tally.answers[json.loads(out.text)["answer"]] += 1
            if len(tally.examples) < 3:
                tally.examples.append(out.text)
        n_p, t_p, n_g, t_g = perf.read()
        print(
            f"{mode:>6}: valid {tally.strict}/{n} (lenient {tally.lenient}/{n}); "
            f"{tally.tokens_out / n:.1f} tokens/answer; {tally.wall / n:.2f} s/answer"
        )
        print(
            f"        prompt eval {n_p} tokens at {n_p / max(t_p, 1e-9):.0f} tokens/s; "
            f"generation {n_g} tokens at {n_g / max(t_g, 1e-9):.1f} tokens/s (decode only), "
            f"{tally.tokens_out / tally.wall:.1f} tokens/s end to end"
        )
        answers = ", ".join(f"{k}: {v}" for k, v in sorted(tally.answers.items()))
        print(f"        valid answers by letter: {answers or '-'}")
        for text in tally.examples:
            print(f"        e.g. {text!r}")


async def score_latency(backend: LlamaCppBackend, reps: int = 5) -> None:
    """One score() call with 2 options on a ~200-token prompt that shares nothing cached."""
    times, n_in = [], 0
    for i in range(reps):
        persona = " ".join(PERSONAS[(i + k) % len(PERSONAS)] for k in range(5))
        messages = [
            Message(role="system", content=f"Respondent {i}. {persona}"),
            Message(role="user", content=QUESTIONS[4][0] + "\nA) Yes\nB) No\nAnswer A or B."),
        ]
        start = time.perf_counter()
        result = await backend.score(ScoreRequest(messages=messages, continuations=["A", "B"]))
        times.append(time.perf_counter() - start)
        n_in = result.tokens_in
    times.sort()
    print(
        f"score(): 2 options, {n_in}-token prompt: median {times[len(times) // 2]:.2f} s, "
        f"best {times[0]:.2f} s over {reps} calls"
    )


def logits_all_cost(path: str, n_tokens: int = 200) -> None:
    """Prompt evaluation speed, and the logits array kept, with and without llama_cpp's
    ``logits_all=True`` (which the backend does not use)."""
    llama_cpp = _import_llama_cpp()
    for logits_all in (False, True):
        llm = _new_llama(
            llama_cpp, model_path=path, n_ctx=2048, n_batch=64, logits_all=logits_all, verbose=False
        )
        tokens = llm.tokenize((" ".join(PERSONAS) * 3).encode())[:n_tokens]
        best = float("inf")
        for _ in range(3):
            llm.reset()
            start = time.perf_counter()
            llm.eval(tokens)
            best = min(best, time.perf_counter() - start)
        llm.reset()
        llm.eval(tokens[:1])
        start = time.perf_counter()
        for token in tokens[1:33]:
            llm.eval([token])
        step = (time.perf_counter() - start) / 32
        kept = llm.scores.nbytes / 2**20
        print(
            f"logits_all={logits_all!s:<5}: prompt eval {n_tokens / best:.0f} tokens/s, "
            f"one-token decode {step * 1000:.1f} ms, logits array {kept:.0f} MB"
        )
        llm.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--model", default="smollm2", help="bundled model name or .gguf path")
    parser.add_argument("--n", type=int, default=20, help="number of prompts")
    parser.add_argument("--max-tokens", type=int, default=48)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()

    backend = LlamaCppBackend(args.model, n_threads=args.threads)
    start = time.perf_counter()
    await backend.generate(GenerateRequest(prompt="Hello", max_tokens=1))
    print(f"model {backend.model}: load + first call {time.perf_counter() - start:.2f} s")
    await run_modes(backend, args.n, args.max_tokens)
    await score_latency(backend)
    await backend.aclose()
    logits_all_cost(str(backend.path))


if __name__ == "__main__":
    asyncio.run(main())
