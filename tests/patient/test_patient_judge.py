"""The judge (issue 20 §2) reads the transcript only, records its prompt and model, and is
checked on planted statements whose labels are known."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from behaviorlab.families.patient import (
    KeywordJudge,
    LLMJudge,
    generate_models,
    persona_text,
    planted_transcript,
)
from behaviorlab.models import GenerateRequest, MockBackend

TURNS = [
    {"role": "therapist", "text": "How have you been?"},
    {"role": "patient", "text": "I feel so helpless and I'm anxious all the time."},
]


def test_the_llm_judge_sees_the_transcript_and_never_the_cognitive_model() -> None:
    model = generate_models(1, seed=5)[0]
    turns = planted_transcript(model, "plain", "paraphrased", turns=2, seed=0)
    seen: list[GenerateRequest] = []

    def reply(request: GenerateRequest) -> str:
        seen.append(request)
        return json.dumps(
            {"core_beliefs": ["helpless", "nonsense"], "emotions": ["sad"], "style": "Plain"}
        )

    judge = LLMJudge(MockBackend(script=reply), label="j")
    got = asyncio.run(judge.judge(turns, {"backend": "mock", "model": "mock-1"}))
    prompt = "\n".join(m.content for m in seen[0].messages or [])
    for turn in turns:
        assert turn["text"] in prompt
    secret = [
        model.history,
        model.situation,
        model.auto_thought,
        *model.beliefs(model.core_categories[0]),
    ]
    assert not [s for s in secret if s in prompt], "the judge saw the cognitive model"
    assert persona_text(model) not in prompt
    assert got.core_beliefs == ["helpless"] and got.emotions == ["sad"] and got.style == "plain"
    assert got.model is not None and got.model["backend"] == "mock"
    assert got.same_model_as_patient is True
    assert got.prompt[1]["content"] == seen[0].messages[1].content  # type: ignore[index]
    assert got.prompt_hash and got.template_hash and seen[0].temperature == 0.0


def test_an_off_format_reply_or_a_backend_failure_is_recorded_not_raised() -> None:
    bad = asyncio.run(LLMJudge(MockBackend(script=["not json"])).judge(TURNS, None))
    assert bad.error == "the judge's reply is not a JSON object" and bad.core_beliefs is None
    from behaviorlab.models import BackendError

    down = asyncio.run(LLMJudge(MockBackend(script=[BackendError("down")])).judge(TURNS, None))
    assert down.error is not None and "down" in down.error
    other = asyncio.run(
        LLMJudge(MockBackend(model="other", script=["{}"])).judge(
            TURNS, {"backend": "mock", "model": "mock-1"}
        )
    )
    assert other.same_model_as_patient is False and other.core_beliefs == []


def test_the_keyword_judge_reads_the_patient_only() -> None:
    turns = [{"role": "therapist", "text": "Do you feel worthless or guilty?"}, *TURNS[1:]]
    got = asyncio.run(KeywordJudge().judge(turns, None))
    assert got.core_beliefs == ["helpless"] and got.emotions == ["anxious"]
    assert got.style == "plain"


@pytest.mark.parametrize(
    ("level", "least", "most"),
    [("explicit", 1.0, 1.0), ("paraphrased", 0.0, 0.0), ("implicit", 0.0, 0.0)],
)
def test_the_keyword_yardstick_reads_explicit_statements_only(
    level: str, least: float, most: float
) -> None:
    judge = KeywordJudge()
    hits = []
    for model in generate_models(30, seed=4):
        turns = planted_transcript(model, "plain", level, turns=3, seed=1)
        got = asyncio.run(judge.judge(turns, None))
        truth = set(model.core_categories) | set(model.emotions)
        found = set(got.core_beliefs or []) | set(got.emotions or [])
        hits.append(len(found & truth) / len(found | truth))
    assert least <= min(hits) and max(hits) <= most


class _BaseModelMock(MockBackend):
    capabilities = frozenset({"generate", "json_schema", "score"})


def test_a_base_model_judge_reads_one_raw_prompt() -> None:
    seen: list[GenerateRequest] = []

    def reply(request: GenerateRequest) -> str:
        seen.append(request)
        return json.dumps({"core_beliefs": ["worthless"], "emotions": [], "style": "upset"})

    got = asyncio.run(LLMJudge(_BaseModelMock(script=reply)).judge(TURNS, None))
    assert seen[0].messages is None and seen[0].prompt is not None
    assert TURNS[1]["text"] in seen[0].prompt and seen[0].prompt.endswith("Answer (JSON):")
    assert got.prompt == [{"role": "user", "content": seen[0].prompt}]
    assert got.core_beliefs == ["worthless"] and got.style == "upset"


def test_an_llm_judges_calls_go_through_the_call_cache(tmp_path: Path) -> None:
    from behaviorlab.families.patient._judge import make_judge

    judge = make_judge({"backend": "mock", "cache": str(tmp_path / "calls.sqlite")}, 0)
    first = asyncio.run(judge.judge(TURNS, None))
    again = asyncio.run(judge.judge(TURNS, None))
    assert first.core_beliefs == again.core_beliefs and first.raw == again.raw
    assert judge.backend.inner.calls == 1  # type: ignore[union-attr]
    plain = make_judge({"backend": "mock", "cache": False}, 1)
    asyncio.run(plain.judge(TURNS, None))
    asyncio.run(plain.judge(TURNS, None))
    assert plain.backend.calls == 2  # type: ignore[union-attr]
