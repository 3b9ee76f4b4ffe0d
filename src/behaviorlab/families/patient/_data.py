"""The ``patient_models`` dataset: cognitive models as people, their sessions, and
transcripts with planted statements for checking the judge.

A ``Person`` is one cognitive model: its ``description`` is the persona text (the model and
its conversational style, what an LLM patient is told; a chat with a twin can use it as is),
its ``attributes`` the known labels (``core_beliefs``, ``emotions``, ``style``, ``name``,
``model_id``) and its ``meta["cognitive_model"]`` the whole model. Every interval of the
family clusters by it.

Options (``data.options``):

- ``models`` (default 12): how many cognitive models to generate (seeded by ``seed``: the
  same seed gives the same models), or ``path``: a JSON file in the PATIENT-Ψ shape instead
  (``/work/shared/data/patient-psi/profiles.json`` holds three);
- ``sessions`` (default 2): sessions per model (two or more give the consistency between
  sessions of the same model);
- ``style``: one conversational style for every model (default: each model's own, drawn
  from its ``type`` list with the seed);
- ``planted`` (default 0): transcripts with planted statements per level (explicit,
  paraphrased, implicit), each from one of the models, for the judge check;
- ``planted_turns`` (default 4): the length of a planted transcript.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any, cast

from behaviorlab.data._records import (
    Action,
    Dataset,
    Episode,
    Observation,
    Person,
    Step,
    stable_hash,
)
from behaviorlab.data._sources import dataset
from behaviorlab.families.patient._lexicon import (
    COPING,
    CORE_BELIEFS,
    FILLER,
    HISTORIES,
    INTERMEDIATE,
    LEVELS,
    NAMES,
    PLANTED,
    SITUATIONS,
    STYLE_LINES,
    THERAPIST_PROMPTS,
)
from behaviorlab.families.patient._model import (
    EMOTION_GROUPS,
    EMOTIONS,
    STYLE_TEXT,
    STYLES,
    CognitiveModel,
    Style,
    load_cognitive_models,
    persona_text,
)

DATASET = "patient_models"
SESSION, PLANTED_KIND = "patient_session", "planted_transcript"


def generate_models(n: int, seed: int = 0) -> list[CognitiveModel]:
    """``n`` varied cognitive models (1-2 core-belief categories, 1-3 emotions), the same
    for the same seed."""
    if n < 1:
        raise ValueError(f"{DATASET}: models ({n}) must be at least 1")
    out: list[CognitiveModel] = []
    for i in range(n):
        rng = random.Random(stable_hash("patient-model", seed, i))
        cats = sorted(rng.sample(list(CORE_BELIEFS), 1 if rng.random() < 0.6 else 2))
        beliefs = {c: rng.sample(CORE_BELIEFS[c], rng.choice((1, 2))) for c in cats}
        emotions = rng.sample(list(EMOTIONS), rng.choice((1, 2, 3)))
        first = cats[0]
        situation, thought, behavior = rng.choice(SITUATIONS)
        name = NAMES[i % len(NAMES)] + ("" if i < len(NAMES) else f" {i // len(NAMES) + 1}")
        out.append(
            CognitiveModel(
                name=name,
                id=f"gen-{seed}-{i:03d}",
                type=cast("list[Style]", list(STYLES)),
                history=rng.choice(HISTORIES),
                helpless_belief=beliefs.get("helpless", []),
                unlovable_belief=beliefs.get("unlovable", []),
                worthless_belief=beliefs.get("worthless", []),
                intermediate_belief=INTERMEDIATE[first][0],
                intermediate_belief_depression=INTERMEDIATE[first][1],
                coping_strategies=COPING[first],
                situation=situation,
                auto_thought=thought,
                emotion=[EMOTION_GROUPS[e] for e in sorted(emotions, key=EMOTIONS.index)],
                behavior=behavior,
            )
        )
    return out


def full_persona(model: CognitiveModel, style: str) -> str:
    """The persona text of a model played in ``style``."""
    return f"{persona_text(model)}\nConversational style ({style}): {STYLE_TEXT[style]}"


def labels_of(model: CognitiveModel, style: str) -> dict[str, Any]:
    return {"core_beliefs": model.core_categories, "emotions": model.emotions, "style": style}


def planted_transcript(
    model: CognitiveModel, style: str, level: str, turns: int, seed: int
) -> list[dict[str, str]]:
    """A session transcript whose patient states each of the model's labels once, at
    ``level``, between filler lines, in the style's manner."""
    rng = random.Random(stable_hash("planted", model.id, level, seed))
    labels = [*model.core_categories, *model.emotions]
    statements = [rng.choice(PLANTED[label][level]) for label in labels]
    slots: list[list[str]] = [[] for _ in range(max(turns, 1))]
    for k, text in enumerate(statements):
        slots[k % len(slots)].append(text)
    out: list[dict[str, str]] = []
    for t, said in enumerate(slots):
        out.append({"role": "therapist", "text": THERAPIST_PROMPTS[t % len(THERAPIST_PROMPTS)]})
        words = " ".join(said) if said else rng.choice(FILLER)
        out.append({"role": "patient", "text": words + STYLE_LINES[style]})
    return out


def _style(model: CognitiveModel, style: str | None, seed: int) -> str:
    if style is not None:
        if style not in STYLES:
            raise ValueError(f"{DATASET}: style {style!r} is not one of {', '.join(STYLES)}")
        return style
    allowed: list[str] = list(model.type)  # never empty (the model refuses it)
    return random.Random(stable_hash("patient-style", seed, model.id)).choice(allowed)


def _episode(pid: str, eid: str, kind: str, setup: dict[str, Any]) -> Episode:
    step = Step(
        index=0,
        step_id=kind,
        observation=Observation(kind=kind, content="", meta=setup),
        action=Action(action_type=kind),
    )
    return Episode(episode_id=eid, person_id=pid, kind=kind, steps=[step], meta=setup)


@dataset(DATASET)
def patient_models(
    models: int = 12,
    path: str | None = None,
    sessions: int = 2,
    style: str | None = None,
    planted: int = 0,
    planted_turns: int = 4,
    seed: int = 0,
) -> Dataset:
    """Cognitive models as people, with sessions and planted transcripts (module docstring)."""
    if sessions < 1 or planted < 0 or planted_turns < 1:
        raise ValueError(
            f"{DATASET}: sessions ({sessions}) and planted_turns ({planted_turns}) must be at "
            f"least 1, planted ({planted}) at least 0"
        )
    chosen: Sequence[CognitiveModel] = (
        load_cognitive_models(path) if path is not None else generate_models(models, seed)
    )
    persons: dict[str, Person] = {}
    episodes: list[Episode] = []
    for model in chosen:
        played = _style(model, style, seed)
        pid = f"cm-{model.id}"
        labels = labels_of(model, played)
        persons[pid] = Person(
            person_id=pid,
            description=full_persona(model, played),
            attributes={"name": model.name, "model_id": model.id, **labels},
            meta={"cognitive_model": model.model_dump(mode="json")},
        )
        for k in range(sessions):
            setup = {"model": model.model_dump(mode="json"), "style": played, "session": k}
            episodes.append(_episode(pid, f"{pid}-s{k}", SESSION, setup))
    for level in LEVELS:
        for i in range(planted):
            model = chosen[i % len(chosen)]
            played = _style(model, style, seed)
            pid = f"cm-{model.id}"
            setup = {
                "model": model.model_dump(mode="json"),
                "style": played,
                "level": level,
                "transcript": planted_transcript(model, played, level, planted_turns, seed + i),
            }
            episodes.append(_episode(pid, f"{pid}-planted-{level}-{i}", PLANTED_KIND, setup))
    return Dataset(
        name=DATASET,
        source=str(path) if path is not None else "behaviorlab (generated cognitive models)",
        persons=persons,
        episodes=episodes,
        meta={"models": len(chosen), "sessions": sessions, "planted": planted, "seed": seed},
    )
