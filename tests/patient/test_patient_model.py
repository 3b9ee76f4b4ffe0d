"""Personas (issue 20 §1): cognitive models in the PATIENT-Ψ shape, read from a file with
errors that name the field and the file, and the project's own generated set."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from behaviorlab.data import load_dataset
from behaviorlab.families.patient import (
    CORE_CATEGORIES,
    EMOTIONS,
    CognitiveModelError,
    generate_models,
    load_cognitive_models,
    persona_text,
    planted_transcript,
)


def test_the_patient_psi_examples_load_with_their_labels(psi_file: Path) -> None:
    models = load_cognitive_models(psi_file)
    assert [m.id for m in models] == ["1-1", "1-2", "1-3"]
    abe = models[0]
    assert abe.name == "Abe" and abe.core_categories == ["helpless"]
    assert abe.emotions == ["anxious"] and models[1].emotions == ["sad"]
    assert "[during depression]" not in abe.intermediate_belief
    assert abe.intermediate_belief_depression.startswith("(1) If I avoid challenges")
    assert "I am incompetent." in persona_text(abe)
    data = load_dataset("patient_models", path=str(psi_file), sessions=1)
    person = data.persons["cm-1-1"]
    assert person.description is not None and "Thinking about bills." in person.description
    assert person.attributes["core_beliefs"] == ["helpless"]


def _write(tmp_path: Path, change: dict[str, object], drop: str | None = None) -> Path:
    model = generate_models(1)[0].model_dump(mode="json")
    model["intermediate_belief"] += " [during depression] " + model.pop(
        "intermediate_belief_depression"
    )
    model.update(change)
    if drop:
        del model[drop]
    path = tmp_path / "models.json"
    path.write_text(json.dumps([model]), encoding="utf-8")
    return path


def test_a_missing_field_is_named_with_the_file(tmp_path: Path) -> None:
    path = _write(tmp_path, {}, drop="auto_thought")
    with pytest.raises(CognitiveModelError) as err:
        load_cognitive_models(path)
    assert str(path) in str(err.value) and "field 'auto_thought' is missing" in str(err.value)


def test_an_unknown_field_is_named_with_the_file(tmp_path: Path) -> None:
    path = _write(tmp_path, {"automatic_thought": "x"})
    with pytest.raises(CognitiveModelError) as err:
        load_cognitive_models(path)
    text = str(err.value)
    assert str(path) in text and "'automatic_thought' is not a field" in text
    assert "auto_thought" in text  # the fields it may have are listed


def test_an_unknown_emotion_or_style_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CognitiveModelError, match=r"emotion.*'bored' is not one of"):
        load_cognitive_models(_write(tmp_path, {"emotion": ["bored"]}))
    with pytest.raises(CognitiveModelError, match="type"):
        load_cognitive_models(_write(tmp_path, {"type": ["chatty"]}))


def test_the_generated_models_are_seeded_and_varied() -> None:
    a, b, other = generate_models(40, seed=1), generate_models(40, seed=1), generate_models(40)
    assert a == b and a != other
    cats = [tuple(m.core_categories) for m in a]
    assert {c for cs in cats for c in cs} == set(CORE_CATEGORIES)
    assert {len(c) for c in cats} == {1, 2}
    emotions = {e for m in a for e in m.emotions}
    assert len(emotions) >= 8 and emotions <= set(EMOTIONS)
    assert len({m.situation for m in a}) > 3 and len({m.id for m in a}) == 40


def test_the_dataset_people_carry_the_persona_and_known_labels() -> None:
    data = load_dataset("patient_models", models=5, sessions=2, planted=2, seed=3)
    assert len(data.persons) == 5
    sessions = [e for e in data.episodes if e.kind == "patient_session"]
    planted = [e for e in data.episodes if e.kind == "planted_transcript"]
    assert len(sessions) == 10 and len(planted) == 6  # 2 per level
    for person in data.persons.values():
        assert person.description and "Core beliefs:" in person.description
        assert "Conversational style" in person.description
        assert set(person.attributes) >= {"core_beliefs", "emotions", "style", "name"}


@pytest.mark.parametrize("level", ["explicit", "paraphrased", "implicit"])
def test_a_planted_transcript_states_every_label_once(level: str) -> None:
    from behaviorlab.families.patient._lexicon import PLANTED

    model = generate_models(3, seed=2)[2]
    turns = planted_transcript(model, "plain", level, turns=3, seed=0)
    said = " ".join(t["text"] for t in turns if t["role"] == "patient")
    assert [t["role"] for t in turns] == ["therapist", "patient"] * 3
    for label in [*model.core_categories, *model.emotions]:
        assert sum(s in said for s in PLANTED[label][level]) == 1


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_no_persona_names_a_core_belief_category(seed: int) -> None:
    """The categories are the judge's labels: a persona holding them lets a patient score by
    repeating the label. The statements are there, the category names are not."""
    from behaviorlab.families.patient import STYLES
    from behaviorlab.families.patient._data import full_persona

    label = re.compile(rf"\b({'|'.join(CORE_CATEGORIES)})\b", re.IGNORECASE)
    for model in generate_models(60, seed=seed):
        for style in STYLES:
            text = full_persona(model, style)
            assert label.search(text) is None, (model.id, label.findall(text))
        for category in model.core_categories:
            assert all(f"- {b}" in persona_text(model) for b in model.beliefs(category))


def test_a_file_holding_no_models_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "empty.json"
    path.write_text("[]", encoding="utf-8")
    with pytest.raises(CognitiveModelError, match=rf"^{re.escape(str(path))}: holds no cognitive"):
        load_cognitive_models(path)
    with pytest.raises(CognitiveModelError, match="holds no cognitive models"):
        load_dataset("patient_models", path=str(path), planted=1)


def test_a_model_without_an_emotion_or_a_core_belief_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, {"emotion": []})
    with pytest.raises(CognitiveModelError) as err:
        load_cognitive_models(path)
    assert str(path) in str(err.value) and "field 'emotion': " in str(err.value)
    assert "at least one of PATIENT-Ψ's emotion groups" in str(err.value)
    empty: dict[str, object] = {f"{c}_belief": [] for c in CORE_CATEGORIES}
    path = _write(tmp_path, empty)
    with pytest.raises(CognitiveModelError) as err:
        load_cognitive_models(path)
    text = str(err.value)
    assert text.startswith(f"{path}, model 0 (id 'gen-0-000'): fields 'helpless_belief', ")
    assert "at least one core-belief statement" in text and "Value error" not in text


def test_a_blank_belief_statement_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, {"helpless_belief": ["I am weak.", "  "]})
    with pytest.raises(CognitiveModelError) as err:
        load_cognitive_models(path)
    text = str(err.value)
    assert str(path) in text and "field 'helpless_belief': " in text
    assert "statement 1 is blank" in text


def test_intermediate_belief_depression_is_not_a_file_field(tmp_path: Path) -> None:
    """PATIENT-Ψ writes that part in intermediate_belief after [during depression]."""
    path = _write(tmp_path, {"intermediate_belief_depression": "If I try, I fail."})
    with pytest.raises(CognitiveModelError) as err:
        load_cognitive_models(path)
    text = str(err.value)
    assert str(path) in text and "'intermediate_belief_depression' is not a field" in text
    assert "after '[during depression]'" in text
    model = load_cognitive_models(_write(tmp_path, {}))[0]
    assert model == generate_models(1)[0]  # the [during depression] part is read apart


def test_styles_are_read_whatever_their_case_and_an_empty_type_is_refused(
    tmp_path: Path,
) -> None:
    (model,) = load_cognitive_models(_write(tmp_path, {"type": ["Plain", " RESERVED"]}))
    assert model.type == ["plain", "reserved"]
    (sad,) = load_cognitive_models(_write(tmp_path, {"emotion": ["SAD, down, lonely, unhappy"]}))
    assert sad.emotions == ["sad"]  # as emotions already were
    path = _write(tmp_path, {"type": []})
    with pytest.raises(CognitiveModelError) as err:
        load_cognitive_models(path)
    text = str(err.value)
    assert str(path) in text and "field 'type': " in text and "is empty" in text
