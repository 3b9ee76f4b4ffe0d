"""The ``llm`` simulator: an LLM answers as the person, in one of three answer modes.

- ``generate``: one answer at temperature 0, constrained to the JSON schema (the single most
  likely option); gives no distribution.
- ``sample``: ``n`` answers at ``temperature`` (seeds ``seed .. seed+n-1``); the choice is the
  most frequent sample and the distribution is the share of samples per option.
- ``score``: the log-likelihood of every option after the prompt (option scoring), turned into
  a probability per option by a softmax; ``length_norm="mean"`` divides each option's summed
  log-probability by its token count first (recorded in the manifest). Works with base models.
  A question without options is refused, or written greedily with ``open_answers:
  generate`` (a chat model; e.g. a debate's speeches beside scored attitude reports).

Trials without options (``observation.options is None``, e.g. ``next_action``) take the
structured path: a prompt of persona, history and observation (the task's
:class:`~behaviorlab.simulators._prompts.Prompting`), output constrained by the trial's
``answer_schema``, parsed into ``Answer.value`` when it fits the task's validation schema
(``jsonschema``); the choice is the task's compact string of the answer (next_action:
``click:<id>``). ``generate``
and ``sample`` work there; ``score`` ranks options and is refused with a clear error (unless
``open_answers: generate``).
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Sequence
from typing import Any, Literal

from behaviorlab.models._base import (
    Backend,
    BackendError,
    GenerateRequest,
    Pricing,
    ScoreRequest,
    backends,
)
from behaviorlab.models._cache import CachedBackend, CallCache
from behaviorlab.simulators._base import Answer, simulator
from behaviorlab.simulators._prompts import (
    AnswerMode,
    OptionPrompt,
    Prompting,
    ScoreOn,
    StructuredPrompt,
    letter_schema,
    option_prompt,
    prompting_of,
    schema_problem,
    structured_template_hash,
    template_hash,
)
from behaviorlab.tasks._base import Trial, TrialInput

OPTION_MAX_TOKENS = 24
STRUCTURED_MAX_TOKENS = 256
_NO_SCORE = (
    "llm simulator: answer mode 'score' ranks a question's options, and these trials have "
    "none (a structured answer such as a next web action); use answer: generate or answer: "
    "sample (or open_answers: generate to score where there are options and write the rest)"
)


def softmax(values: Sequence[float]) -> list[float]:
    top = max(values)
    exps = [math.exp(v - top) for v in values]
    total = sum(exps)
    return [e / total for e in exps]


def parse_letter(text: str, prompt: OptionPrompt) -> str | None:
    """The option code named by a JSON answer ``{"answer": "B"}``; None when invalid."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("answer"), str):
        return None
    return prompt.code_of_letter(data["answer"])


def parse_structured(
    text: str, schema: dict[str, Any], prompting: Prompting | None = None
) -> dict[str, Any] | None:
    """The JSON object of a structured answer if it fits the validation schema of ``schema``
    (the task's ``prompting`` decides it; default: ``schema`` itself); None when invalid."""
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        return None
    check = prompting.validation_schema(schema) if prompting is not None else schema
    if not isinstance(data, dict) or schema_problem(data, check) is not None:
        return None
    return data


def merge_meta(metas: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """``Generation.meta`` of one call as is; of n calls, per-call values as lists (``parse``,
    ``structured``) and ``retries`` summed."""
    if len(metas) == 1:
        return dict(metas[0])
    merged: dict[str, Any] = {}
    for key in sorted({k for m in metas for k in m}):
        values = [m.get(key) for m in metas]
        merged[key] = sum(v or 0 for v in values) if key == "retries" else values
    return merged


@simulator("llm")
class LLMSimulator:
    """An LLM answers as the person (answer modes: generate, sample, score)."""

    def __init__(
        self,
        backend: Backend | str = "llamacpp",
        model: str | None = None,
        *,
        answer: AnswerMode = "score",
        n: int = 10,
        temperature: float = 1.0,
        score_on: ScoreOn = "label",
        length_norm: Literal["sum", "mean"] = "mean",
        max_tokens: int | None = None,
        seed: int = 0,
        label: str | None = None,
        backend_options: dict[str, Any] | None = None,
        cache: CallCache | None = None,
        open_answers: Literal["refuse", "generate"] = "refuse",
    ) -> None:
        if answer not in ("generate", "sample", "score"):
            raise ValueError(
                f"llm simulator: answer must be generate, sample or score, not {answer!r}"
            )
        if open_answers not in ("refuse", "generate"):
            raise ValueError(
                f"llm simulator: open_answers must be refuse or generate, not {open_answers!r}"
            )
        if isinstance(backend, str):
            opts = dict(backend_options or {})
            if model is not None:
                opts["model"] = model
            backend = backends.get(backend)(**opts)
        if answer != "score" and "chat" not in backend.capabilities:
            raise ValueError(
                f"llm simulator: model {model or backend.name!r} is a base model without a chat "
                f"template; it can only score options: use answer: score (not {answer!r})"
            )
        if answer == "score" and open_answers == "generate" and "chat" not in backend.capabilities:
            raise ValueError(
                "llm simulator: open_answers: generate needs a chat model; "
                f"{model or backend.name!r} is a base model without a chat template"
            )
        if answer == "score" and "score" not in backend.capabilities:
            raise ValueError(
                f"llm simulator: backend {backend.name!r} cannot score options; "
                "use answer: generate or answer: sample"
            )
        self.backend: Backend = CachedBackend(backend, cache) if cache is not None else backend
        self.answer_mode: AnswerMode = answer
        self.open_answers = open_answers
        """With ``answer: score``: a question without options (a structured answer, e.g. a
        debate's speech) is refused (``refuse``, the default) or generated greedily
        (``generate``), so one party can score the options where a question has them and
        write the rest."""
        self.n = n
        self.temperature = temperature
        self.score_on: ScoreOn = score_on
        self.length_norm = length_norm
        self.max_tokens = max_tokens
        self.seed = seed
        model_name = model or getattr(backend, "model", None) or backend.name
        self.label = label or f"llm:{model_name}"

    def fit(self, train: Sequence[Trial]) -> None:
        """LLM simulators learn nothing from other people; this only checks, before a run
        starts, that the answer mode suits the trials."""
        if (
            self.answer_mode == "score"
            and self.open_answers == "refuse"
            and any(t.input.observation.options is None for t in train)
        ):
            raise ValueError(_NO_SCORE)

    def identity(self) -> dict[str, Any]:
        return {
            "simulator": "llm",
            "model": self.backend.identity().model_dump(mode="json"),
            "answer": self.answer_mode,
            "n": self.n if self.answer_mode == "sample" else None,
            "temperature": self.temperature if self.answer_mode == "sample" else 0.0,
            "score_on": self.score_on if self.answer_mode == "score" else None,
            "length_norm": self.length_norm if self.answer_mode == "score" else None,
            "seed": self.seed,
            **({"open_answers": self.open_answers} if self.open_answers != "refuse" else {}),
            "prompt_template_hash": template_hash(),
            "structured_template_hash": structured_template_hash(),
        }

    async def answer(self, trial: TrialInput) -> Answer:
        if trial.observation.options is None:
            return await self._structured(trial)
        prompt = option_prompt(trial, mode=self.answer_mode, score_on=self.score_on)
        base = {"prompt_hash": prompt.hash()}
        try:
            if self.answer_mode == "score":
                return await self._score(prompt, base)
            return await self._generate(prompt, base)
        except BackendError as exc:
            return Answer(error=str(exc), error_kind="backend", **base)

    @property
    def pricing(self) -> Pricing | None:
        """The model's token prices, read at each call: a spec's ``pricing:`` (set on the
        backend after this simulator is built) counts."""
        return self.backend.pricing

    def _cost(self, tokens_in: int, tokens_out: int, cached: bool) -> float:
        """What a call cost (nothing when the cache answered it or no prices are set)."""
        if cached or self.pricing is None:
            return 0.0
        return self.pricing.cost(tokens_in, tokens_out)

    def _use_chat(self) -> bool:
        return "chat" in self.backend.capabilities

    async def _score(self, prompt: OptionPrompt, base: dict[str, Any]) -> Answer:
        continuations = list(prompt.labels if self.score_on == "label" else prompt.letters)
        if not self._use_chat():  # base model: raw text prompt, continuation after "Answer:"
            continuations = [" " + c for c in continuations]
            request = ScoreRequest(prompt=prompt.raw, continuations=continuations)
        else:
            request = ScoreRequest(messages=prompt.messages, continuations=continuations)
        result = await self.backend.score(request)
        logps = list(result.logprobs)
        if self.length_norm == "mean":
            logps = [lp / max(1, n) for lp, n in zip(logps, result.n_tokens, strict=True)]
        probs = softmax(logps)
        best = max(range(len(probs)), key=lambda i: probs[i])
        return Answer(
            choice=prompt.codes[best],
            value={"answer": prompt.codes[best]},
            probabilities=dict(zip(prompt.codes, probs, strict=True)),
            raw=json.dumps({"logprobs": dict(zip(prompt.letters, result.logprobs, strict=True))}),
            tokens_in=result.tokens_in,
            calls=1,
            cache_hits=int(result.cached),
            cost=self._cost(result.tokens_in, 0, result.cached),
            **base,
        )

    async def _generate(self, prompt: OptionPrompt, base: dict[str, Any]) -> Answer:
        sampling = self.answer_mode == "sample"
        n = self.n if sampling else 1
        schema = letter_schema(prompt.letters)
        raws: list[str] = []
        codes: list[str | None] = []
        metas: list[dict[str, Any]] = []
        tokens_in = tokens_out = hits = 0
        cost = 0.0
        for i in range(n):
            request = GenerateRequest(
                messages=prompt.messages,
                json_schema=schema,
                temperature=self.temperature if sampling else 0.0,
                max_tokens=self.max_tokens or OPTION_MAX_TOKENS,
                seed=self.seed + i,
            )
            try:
                gen = await self.backend.generate(request)
            except BackendError as exc:  # keep what the calls already made used and cost
                return Answer(
                    error=str(exc),
                    error_kind="backend",
                    tokens_in=tokens_in,
                    tokens_out=tokens_out,
                    calls=i + 1,
                    cache_hits=hits,
                    cost=cost,
                    **base,
                )
            raws.append(gen.text)
            codes.append(parse_letter(gen.text, prompt))
            metas.append(gen.meta)
            tokens_in += gen.tokens_in
            tokens_out += gen.tokens_out
            hits += int(gen.cached)
            cost += self._cost(gen.tokens_in, gen.tokens_out, gen.cached)
        usage: dict[str, Any] = {
            "tokens_in": tokens_in,
            "tokens_out": tokens_out,
            "calls": n,
            "cache_hits": hits,
            "cost": cost,
            "meta": merge_meta(metas),
        }
        raw = raws[0] if n == 1 else json.dumps(raws)
        valid = [c for c in codes if c is not None]
        if not valid:
            return Answer(
                raw=raw,
                error=f"no answer among the options in {n} output(s): {raws[0][:200]!r}",
                error_kind="invalid",
                **usage,
                **base,
            )
        counts = Counter(valid)
        choice = max(counts, key=lambda c: (counts[c], -valid.index(c)))
        answer = Answer(choice=choice, value={"answer": choice}, raw=raw, **usage, **base)
        if sampling:
            answer.samples = valid
            answer.meta["invalid_samples"] = n - len(valid)
        return answer

    async def _structured(self, trial: TrialInput) -> Answer:
        if self.answer_mode == "score" and self.open_answers == "refuse":
            return Answer(error=_NO_SCORE, error_kind="invalid")
        prompting = prompting_of(trial.task)
        prompt: StructuredPrompt = prompting.structured_prompt(trial)
        base: dict[str, Any] = {"prompt_hash": prompt.hash()}
        sampling = self.answer_mode == "sample"  # score with open_answers: generate is greedy
        n = self.n if sampling else 1
        raws: list[str] = []
        values: list[dict[str, Any] | None] = []
        metas: list[dict[str, Any]] = []
        usage: dict[str, Any] = {
            "tokens_in": 0,
            "tokens_out": 0,
            "calls": n,
            "cache_hits": 0,
            "cost": 0.0,
        }
        try:
            for i in range(n):
                gen = await self.backend.generate(
                    GenerateRequest(
                        messages=prompt.messages,
                        json_schema=trial.answer_schema,
                        temperature=self.temperature if sampling else 0.0,
                        max_tokens=self.max_tokens or STRUCTURED_MAX_TOKENS,
                        seed=self.seed + i,
                    )
                )
                raws.append(gen.text)
                values.append(parse_structured(gen.text, trial.answer_schema, prompting))
                usage["tokens_in"] += gen.tokens_in
                usage["tokens_out"] += gen.tokens_out
                usage["cache_hits"] += int(gen.cached)
                usage["cost"] += self._cost(gen.tokens_in, gen.tokens_out, gen.cached)
                metas.append(gen.meta)
        except BackendError as exc:  # keep what the calls already made used and cost
            usage["calls"] = len(raws) + 1
            return Answer(error=str(exc), error_kind="backend", **usage, **base)
        usage["meta"] = merge_meta(metas)
        raw = raws[0] if n == 1 else json.dumps(raws)
        valid = [v for v in values if v is not None]
        if not valid:
            return Answer(
                raw=raw,
                error=f"no answer fitting the schema in {n} output(s): {raws[0][:200]!r}",
                error_kind="invalid",
                **usage,
                **base,
            )
        choices = [prompting.choice_of(v) for v in valid]
        counts = Counter(choices)
        choice = max(counts, key=lambda c: (counts[c], -choices.index(c)))
        answer = Answer(choice=choice, value=valid[choices.index(choice)], raw=raw, **usage, **base)
        if sampling:
            answer.samples = choices
            answer.meta["invalid_samples"] = n - len(valid)
        return answer
