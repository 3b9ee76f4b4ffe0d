"""Judges of a session: they read the transcript only (never the cognitive model) and name
the core-belief categories, the emotions and the conversational style the patient showed.

- ``llm``: a model behind any registered backend answers a JSON verdict (a chat model gets
  the system and user messages; a base model such as the bundled Gemma 3 270M the same text as
  one raw prompt); every judgement records the judge's model identity, its messages as sent,
  their hash and the template hash.
- ``keywords``: a rule-based yardstick that finds the explicit words of :mod:`._lexicon` in
  the patient's lines (it knows no paraphrase; see the module docstring there).

A task option ``judges:`` lists them, each ``{label, kind, ...}`` (``kind: llm`` takes
``backend``, ``model``, ``max_tokens``, ``cache``, ``pricing`` and backend options). An LLM
judge's calls go through the call cache (``cache: true``, the default:
``$BEHAVIORLAB_CACHE_DIR``; a path; or ``false``), so a session replayed after a kill does not
pay its judges twice. Each judgement
records its calls, cache hits, tokens and cost (the backend's ``pricing``, e.g. the
``openai`` backend's option; calls the cache answered cost nothing); the task adds them to the
trial's totals.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from behaviorlab.families.patient._lexicon import KEYWORDS, STYLE_CUES
from behaviorlab.families.patient._model import CORE_CATEGORIES, EMOTION_GROUPS, EMOTIONS, STYLES
from behaviorlab.models._base import (
    Backend,
    BackendError,
    GenerateRequest,
    Message,
    Pricing,
    backends,
)
from behaviorlab.models._cache import CachedBackend, CallCache

JUDGE_SYSTEM = (
    "You rate transcripts of simulated therapy sessions for research. Read what the patient "
    "says and name what it shows; do not guess beyond the transcript."
)
JUDGE_TEMPLATE = (
    "Transcript:\n{transcript}\n\n"
    "Which core-belief categories does the patient show (helpless: incompetent, weak, a "
    "failure; unlovable: unwanted, bound to be rejected or alone; worthless: a burden, bad, "
    "useless)? Which emotions does the patient show ({emotions})? Which conversational "
    "style does the patient have (plain, verbose, tangent: drifts off the topic, upset, "
    "reserved, pleasing)? Reply in JSON as "
    '{{"core_beliefs": [...], "emotions": [...], "style": "..."}}, using only these labels.'
)
MAX_EMOTIONS = 4
"""At most this many emotions per reading: a small model constrained by the grammar otherwise
repeats labels until it runs out of tokens (seen with the bundled SmolLM2 and Gemma 3 270M)."""
RAW_SUFFIX = "\nAnswer (JSON):"
"""What ends a base model's raw prompt (its messages joined)."""
JUDGE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "core_beliefs": {
            "type": "array",
            "items": {"type": "string", "enum": list(CORE_CATEGORIES)},
            "maxItems": len(CORE_CATEGORIES),
        },
        "emotions": {
            "type": "array",
            "items": {"type": "string", "enum": list(EMOTIONS)},
            "maxItems": MAX_EMOTIONS,
        },
        "style": {"type": "string", "enum": list(STYLES)},
    },
    "required": ["core_beliefs", "emotions", "style"],
}


def judge_template_hash() -> str:
    """Changes when the judge's wording or labels change."""
    parts = [JUDGE_SYSTEM, JUDGE_TEMPLATE, JUDGE_SCHEMA, RAW_SUFFIX, "v1"]
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]


def transcript_text(turns: Sequence[Mapping[str, Any]]) -> str:
    """``Therapist: ...`` / ``Patient: ...`` lines, one per turn."""
    return "\n".join(f"{str(t['role']).capitalize()}: {t['text']}" for t in turns)


class Judgement(BaseModel):
    """One judge's reading of one transcript (stored in the answer's ``judgements``)."""

    model_config = ConfigDict(extra="forbid")

    judge: str = Field(description="The judge's label (task option judges[].label).")
    kind: Literal["llm", "keywords"]
    core_beliefs: list[str] | None = Field(default=None, description="None: no reading.")
    emotions: list[str] | None = None
    style: str | None = None
    model: dict[str, Any] | None = Field(default=None, description="The judge model's identity.")
    same_model_as_patient: bool | None = Field(
        default=None, description="The judge runs the patient's model (None: not an LLM pair)."
    )
    template_hash: str = ""
    prompt_hash: str | None = None
    prompt: list[dict[str, Any]] = Field(default_factory=list, description="Messages as sent.")
    raw: str = ""
    error: str | None = None
    calls: int = Field(default=0, description="Model calls made for this reading (cached too).")
    cache_hits: int = Field(default=0, description="Of those, answered by the call cache.")
    tokens_in: int = 0
    tokens_out: int = 0
    cost: float = Field(
        default=0.0, description="Cost of the calls not served from the cache (judge pricing)."
    )


def _known(values: Any, labels: Sequence[str]) -> list[str]:
    if not isinstance(values, list):
        return []
    return [v for v in dict.fromkeys(str(x).strip().lower() for x in values) if v in labels]


class LLMJudge:
    """A model names the labels a transcript shows (JSON answer, temperature 0)."""

    kind: Literal["llm"] = "llm"

    def __init__(self, backend: Backend, *, label: str = "llm", max_tokens: int = 128) -> None:
        if "generate" not in backend.capabilities or "json_schema" not in backend.capabilities:
            raise ValueError(
                f"patient judge {label!r}: backend {backend.name!r} cannot generate JSON answers"
            )
        self.backend = backend
        self.chat = "chat" in backend.capabilities
        """A base model (no chat template) reads one raw prompt: system, user, ``Answer:``."""
        self.label = label
        self.max_tokens = max_tokens

    def describe(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "kind": self.kind,
            "model": self.backend.identity().model_dump(mode="json"),
            "chat": self.chat,
            "template_hash": judge_template_hash(),
            "system": JUDGE_SYSTEM,
            "template": JUDGE_TEMPLATE,
        }

    def messages(self, transcript: str) -> list[Message]:
        user = JUDGE_TEMPLATE.format(transcript=transcript, emotions=", ".join(EMOTIONS))
        return [Message(role="system", content=JUDGE_SYSTEM), Message(role="user", content=user)]

    async def judge(
        self, turns: Sequence[Mapping[str, Any]], patient_model: Mapping[str, Any] | None
    ) -> Judgement:
        """The reading of one transcript; a backend failure or an off-format reply is kept in
        ``error`` (the session then counts as unread by this judge), never raised."""
        messages = self.messages(transcript_text(turns))
        identity = self.backend.identity().model_dump(mode="json")
        same = None
        if patient_model is not None:
            same = (identity["backend"], identity["model"]) == (
                patient_model.get("backend"),
                patient_model.get("model"),
            )
        sent = messages if self.chat else [Message(role="user", content=raw_prompt(messages))]
        base: dict[str, Any] = {
            "judge": self.label,
            "kind": self.kind,
            "model": identity,
            "same_model_as_patient": same,
            "template_hash": judge_template_hash(),
            "prompt": [m.model_dump(mode="json") for m in sent],
            "prompt_hash": hashlib.sha256(
                json.dumps([m.model_dump() for m in sent]).encode()
            ).hexdigest()[:16],
        }
        request = GenerateRequest(
            messages=messages if self.chat else None,
            prompt=None if self.chat else raw_prompt(messages),
            json_schema=JUDGE_SCHEMA,
            temperature=0.0,
            max_tokens=self.max_tokens,
        )
        base["calls"] = 1
        try:
            gen = await self.backend.generate(request)
        except BackendError as exc:
            return Judgement(error=f"judge backend failed: {exc}", **base)
        pricing = self.backend.pricing
        base |= {
            "cache_hits": int(gen.cached),
            "tokens_in": gen.tokens_in,
            "tokens_out": gen.tokens_out,
            "cost": 0.0
            if gen.cached or pricing is None
            else pricing.cost(gen.tokens_in, gen.tokens_out),
        }
        try:
            data = json.loads(gen.text)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            return Judgement(
                raw=gen.text[:2000], error="the judge's reply is not a JSON object", **base
            )
        style = str(data.get("style", "")).strip().lower()
        return Judgement(
            core_beliefs=_known(data.get("core_beliefs"), CORE_CATEGORIES),
            emotions=_known(data.get("emotions"), EMOTIONS),
            style=style if style in STYLES else None,
            raw=gen.text[:2000],
            **base,
        )

    async def aclose(self) -> None:
        await self.backend.aclose()


def raw_prompt(messages: Sequence[Message]) -> str:
    """The judge's messages as one text prompt for a base model (no chat template)."""
    return "\n\n".join(m.content for m in messages) + RAW_SUFFIX


def _has(text: str, words: Sequence[str]) -> bool:
    return any(re.search(rf"\b{re.escape(w)}\b", text) for w in words)


class KeywordJudge:
    """Finds the explicit words of each label in the patient's lines (a yardstick)."""

    kind: Literal["keywords"] = "keywords"

    def __init__(self, *, label: str = "keywords") -> None:
        self.label = label

    def describe(self) -> dict[str, Any]:
        return {"label": self.label, "kind": self.kind, "keywords": stable_keywords()}

    async def judge(
        self, turns: Sequence[Mapping[str, Any]], patient_model: Mapping[str, Any] | None
    ) -> Judgement:
        said = " ".join(str(t["text"]) for t in turns if t["role"] == "patient").lower()
        styles = [s for s, cues in STYLE_CUES.items() if any(c in said for c in cues)]
        return Judgement(
            judge=self.label,
            kind=self.kind,
            core_beliefs=[c for c in CORE_CATEGORIES if _has(said, KEYWORDS[c])],
            emotions=[e for e in EMOTION_GROUPS if _has(said, KEYWORDS[e])],
            style=styles[0] if len(styles) == 1 else "plain" if not styles else None,
            template_hash=stable_keywords(),
        )

    async def aclose(self) -> None:
        """Nothing to release."""


def stable_keywords() -> str:
    blob = json.dumps([KEYWORDS, STYLE_CUES], sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


Judge = LLMJudge | KeywordJudge


def make_judge(options: Mapping[str, Any], index: int) -> Judge:
    """A judge from one entry of the task option ``judges:`` (see the module docstring)."""
    opts = dict(options)
    where = f"patient task: judges[{index}]"
    kind = opts.pop("kind", "llm")
    label = str(opts.pop("label", kind if kind == "keywords" else f"judge-{index}"))
    if kind == "keywords":
        if opts:
            raise ValueError(f"{where} ({label!r}): a keywords judge takes no {', '.join(opts)}")
        return KeywordJudge(label=label)
    if kind != "llm":
        raise ValueError(f"{where} ({label!r}): kind is llm or keywords, not {kind!r}")
    name = opts.pop("backend", None)
    if not isinstance(name, str):
        raise ValueError(
            f"{where} ({label!r}) needs a backend, e.g. {{label: other, backend: llamacpp, "
            "model: gemma3-270m}"
        )
    max_tokens = int(opts.pop("max_tokens", 128))
    cache = opts.pop("cache", True)
    pricing = opts.pop("pricing", None)
    backend: Backend = backends.get(name)(**opts)
    if pricing is not None:
        try:
            backend.pricing = pricing if isinstance(pricing, Pricing) else Pricing(**pricing)
        except (TypeError, ValidationError) as exc:
            raise ValueError(
                f"{where} ({label!r}): pricing is {{input_per_mtok: ..., output_per_mtok: ..., "
                f"currency: USD}} ({exc})"
            ) from None
    if cache is not False:
        backend = CachedBackend(backend, CallCache(None if cache is True else str(cache)))
    return LLMJudge(backend, label=label, max_tokens=max_tokens)
