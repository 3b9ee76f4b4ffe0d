"""Who sees what in a session: the patient its persona, the therapist (an LLM here) and the
judge never; the baseline patient only its name and style."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from behaviorlab.data import load_dataset
from behaviorlab.families.patient import PatientTask
from behaviorlab.families.patient._conditions import name_and_style
from behaviorlab.models import GenerateRequest, MockBackend
from behaviorlab.simulators import LLMSimulator


def _prompt(request: GenerateRequest) -> str:
    return "\n".join(m.content for m in request.messages or [])


def _play(baseline: bool = False) -> tuple[dict[str, list[str]], str, dict[str, Any]]:
    data = load_dataset("patient_models", models=2, sessions=1)
    task = PatientTask(turns=2, judges=[{"label": "j", "kind": "llm", "backend": "mock"}])
    trials = task.trials(data, seed=0)
    if baseline:
        trials = name_and_style(trials, seed=0)
    trial = trials[0]
    seen: dict[str, list[str]] = {"therapist": [], "patient": []}

    def speaker(role: str) -> Callable[[GenerateRequest], str]:
        def reply(request: GenerateRequest) -> str:
            seen[role].append(_prompt(request))
            return json.dumps({"utterance": f"{role} line {len(seen[role])}"})

        return reply

    parties = {
        role: LLMSimulator(MockBackend(script=speaker(role)), answer="generate")
        for role in ("therapist", "patient")
    }
    judge_seen: list[str] = []

    def judge(request: GenerateRequest) -> str:
        judge_seen.append(_prompt(request))
        return json.dumps({"core_beliefs": [], "emotions": [], "style": "plain"})

    task.judges[0].backend = MockBackend(script=judge)  # type: ignore[union-attr]
    answer = asyncio.run(task.play_parties(trial, parties))
    assert answer.ok and answer.value is not None
    persona = str(trial.input.persona.description if trial.input.persona else "")
    return (
        seen,
        judge_seen[0],
        {"persona": persona, "full": trial.person.description, **answer.value},
    )


def test_only_the_patient_sees_its_persona() -> None:
    seen, judge, value = _play()
    core = str(value["full"]).splitlines()[2:4]  # "Core beliefs:" and the first category
    assert len(seen["therapist"]) == len(seen["patient"]) == 2
    assert all(all(line in p for line in core) for p in seen["patient"])
    assert not [p for p in seen["therapist"] if any(line in p for line in core)]
    assert not any(line in judge for line in core)
    # each party sees the exchange so far, the newest line last
    assert "Therapist: therapist line 1" in seen["patient"][0]
    assert "Patient: patient line 1" in seen["therapist"][1]
    assert [t["role"] for t in value["transcript"]] == ["therapist", "patient"] * 2


def test_the_baseline_patient_sees_only_its_name_and_style() -> None:
    seen, _, value = _play(baseline=True)
    assert value["arm"] == "baseline"
    assert "Core beliefs" not in seen["patient"][0] and "Conversational style" in seen["patient"][0]
    assert str(value["persona"]).startswith("Name: ")
