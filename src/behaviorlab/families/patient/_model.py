"""A simulated patient's persona: a CBT cognitive model and a conversational style.

The cognitive model has the fields of the PATIENT-Ψ shape (Wang et al. 2024): ``name``,
``id``, ``type`` (the conversational styles the model may be played in), ``history``, the
core beliefs by category (``helpless_belief``, ``unlovable_belief``, ``worthless_belief``:
lists of statements, empty when the category does not apply, at least one not empty),
``intermediate_belief`` (in a file, with a ``[during depression]`` part, kept apart here as
``intermediate_belief_depression``), ``coping_strategies``, ``situation``, ``auto_thought``,
``emotion`` (a non-empty list of PATIENT-Ψ's emotion groups, e.g.
``"sad, down, lonely, unhappy"``)
and ``behavior``.

:func:`load_cognitive_models` reads a JSON file of such models (a list, or one object); a
model with a missing or unknown field is refused naming the field, the model and the file.

This is a training and research simulator, not a clinical tool (docs/patient.md).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

Style = Literal["plain", "verbose", "tangent", "upset", "reserved", "pleasing"]
STYLES: tuple[str, ...] = get_args(Style)
CoreCategory = Literal["helpless", "unlovable", "worthless"]
CORE_CATEGORIES: tuple[str, ...] = get_args(CoreCategory)
EMOTION_GROUPS: dict[str, str] = {
    "anxious": "anxious, worried, fearful, scared, tense",
    "sad": "sad, down, lonely, unhappy",
    "angry": "angry, mad, irritated, annoyed",
    "ashamed": "ashamed, humiliated, embarrassed",
    "disappointed": "disappointed",
    "jealous": "jealous, envious",
    "guilty": "guilty",
    "hurt": "hurt",
    "suspicious": "suspicious",
}
"""PATIENT-Ψ's emotion groups, by the short label the judge and the metrics use."""
EMOTIONS: tuple[str, ...] = tuple(EMOTION_GROUPS)
STYLE_TEXT: dict[str, str] = {
    "plain": "You answer directly and plainly, in a few sentences.",
    "verbose": "You talk a lot: long answers with many details, often more than was asked.",
    "tangent": "You often drift off the topic onto other things before coming back, if ever.",
    "upset": "You are upset and irritable; you may push back against the therapist.",
    "reserved": "You are reserved: short, guarded answers; you share little unless pressed.",
    "pleasing": "You try to please the therapist, agree readily and hide disagreement.",
}
DEPRESSION_MARK = "[during depression]"


class CognitiveModel(BaseModel):
    """One CBT cognitive model in the PATIENT-Ψ shape (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    id: str
    type: list[Style] = Field(description="The conversational styles it may be played in.")
    history: str
    helpless_belief: list[str]
    unlovable_belief: list[str]
    worthless_belief: list[str]
    intermediate_belief: str
    intermediate_belief_depression: str = ""
    coping_strategies: str
    situation: str
    auto_thought: str
    emotion: list[str] = Field(description="PATIENT-Ψ emotion groups (EMOTION_GROUPS values).")
    behavior: str

    @field_validator("type", mode="before")
    @classmethod
    def _styles(cls, value: Any) -> Any:
        """Styles read as emotions are, whatever their case; at least one."""
        if isinstance(value, list):
            if not value:
                raise ValueError(
                    "is empty: list the conversational styles the model may be played in "
                    f"(one or more of {', '.join(STYLES)})"
                )
            return [v.strip().lower() if isinstance(v, str) else v for v in value]
        return value

    @field_validator("helpless_belief", "unlovable_belief", "worthless_belief")
    @classmethod
    def _no_blank_statement(cls, value: list[str]) -> list[str]:
        blank = [i for i, v in enumerate(value) if not v.strip()]
        if blank:
            raise ValueError(
                f"statement {blank[0]} is blank: write the belief or remove it (an empty list "
                "says the category does not apply)"
            )
        return value

    @field_validator("emotion")
    @classmethod
    def _known_emotions(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError(
                "is empty: a cognitive model shows at least one of PATIENT-Ψ's emotion groups"
            )
        known = {v.lower(): v for v in EMOTION_GROUPS.values()} | {k: k for k in EMOTION_GROUPS}
        bad = [v for v in value if v.strip().lower() not in known]
        if bad:
            raise ValueError(
                f"{bad[0]!r} is not one of PATIENT-Ψ's emotion groups: "
                + "; ".join(EMOTION_GROUPS.values())
            )
        return value

    @model_validator(mode="after")
    def _holds_a_core_belief(self) -> CognitiveModel:
        if not self.core_categories:
            raise ValueError(
                "fields 'helpless_belief', 'unlovable_belief' and 'worthless_belief' are all "
                "empty: a cognitive model holds at least one core-belief statement"
            )
        return self

    @property
    def core_categories(self) -> list[str]:
        """The core-belief categories this model holds (a non-empty belief list)."""
        held = (self.helpless_belief, self.unlovable_belief, self.worthless_belief)
        return [c for c, beliefs in zip(CORE_CATEGORIES, held, strict=True) if beliefs]

    @property
    def emotions(self) -> list[str]:
        """The emotion labels (keys of :data:`EMOTION_GROUPS`), in the model's order."""
        by_group = {v.lower(): k for k, v in EMOTION_GROUPS.items()}
        out = [by_group.get(e.strip().lower(), e.strip().lower()) for e in self.emotion]
        return list(dict.fromkeys(out))

    def beliefs(self, category: str) -> list[str]:
        return list(getattr(self, f"{category}_belief"))


def persona_text(model: CognitiveModel) -> str:
    """The cognitive model as the patient's persona (what an LLM patient is told about
    itself; the judge never sees it). The core beliefs are listed as statements without
    their category names (as in PATIENT-Ψ's prompt): the categories are the judge's labels,
    so a patient told them could score by repeating a label."""
    core = [f"- {b}" for c in CORE_CATEGORIES for b in model.beliefs(c)]
    lines = [
        f"Name: {model.name}",
        f"Relevant history: {model.history}",
        "Core beliefs:",
        *core,
        f"Intermediate beliefs: {model.intermediate_belief}",
    ]
    if model.intermediate_belief_depression:
        lines.append(
            f"Intermediate beliefs during depression: {model.intermediate_belief_depression}"
        )
    lines += [
        f"Coping strategies: {model.coping_strategies}",
        f"A recent situation: {model.situation}",
        f"Automatic thoughts: {model.auto_thought}",
        f"Emotions: {'; '.join(model.emotion)}",
        f"Behaviors: {model.behavior}",
    ]
    return "\n".join(lines)


def _split_depression(raw: dict[str, Any]) -> dict[str, Any]:
    text = raw.get("intermediate_belief")
    if isinstance(text, str) and DEPRESSION_MARK in text:
        before, after = text.split(DEPRESSION_MARK, 1)
        raw = {
            **raw,
            "intermediate_belief": before.strip(),
            "intermediate_belief_depression": after.strip(),
        }
    return raw


class CognitiveModelError(ValueError):
    """A cognitive-model file that cannot be read (the message names the file, the model and
    the field)."""


def _problem(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        field = ".".join(str(x) for x in err["loc"]) or "(the model)"
        if err["type"] == "missing":
            parts.append(f"field {field!r} is missing")
        elif err["type"] == "extra_forbidden":
            known = ", ".join(
                n for n in CognitiveModel.model_fields if n != "intermediate_belief_depression"
            )
            parts.append(f"field {field!r} is not a field of a cognitive model (fields: {known})")
        elif not err["loc"]:  # the model as a whole (the message names the fields)
            parts.append(str(err["msg"]).removeprefix("Value error, "))
        else:
            parts.append(f"field {field!r}: {err['msg']}")
    return "; ".join(parts)


def parse_cognitive_model(raw: Any, where: str) -> CognitiveModel:
    """One model from a mapping in the PATIENT-Ψ shape (``intermediate_belief`` holds the
    ``[during depression]`` part; ``intermediate_belief_depression`` is this class's field,
    not the file's, and is refused); ``where`` names it in errors."""
    if not isinstance(raw, Mapping):
        raise CognitiveModelError(f"{where} is not an object with the cognitive model's fields")
    if "intermediate_belief_depression" in raw:  # ours, not PATIENT-Ψ's
        raise CognitiveModelError(
            f"{where}: field 'intermediate_belief_depression' is not a field of a PATIENT-Ψ "
            f"cognitive model: write that part in 'intermediate_belief' after "
            f"'{DEPRESSION_MARK}'"
        )
    try:
        return CognitiveModel.model_validate(_split_depression(dict(raw)))
    except ValidationError as exc:
        raise CognitiveModelError(f"{where}: {_problem(exc)}") from None


def load_cognitive_models(path: str | Path) -> list[CognitiveModel]:
    """Every cognitive model of a JSON file in the PATIENT-Ψ shape (a list of objects, or
    one); an unreadable or empty file, a missing or unknown field is an error naming it."""
    file = Path(path)
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CognitiveModelError(f"cognitive models: no file {file}") from None
    except json.JSONDecodeError as exc:
        raise CognitiveModelError(f"{file}: not JSON ({exc})") from None
    items = data if isinstance(data, list) else [data]
    if not items:
        raise CognitiveModelError(f"{file}: holds no cognitive models")
    out: list[CognitiveModel] = []
    for i, raw in enumerate(items):
        name = raw.get("id", "?") if isinstance(raw, Mapping) else "?"
        out.append(parse_cognitive_model(raw, f"{file}, model {i} (id {name!r})"))
    ids = [m.id for m in out]
    if len(set(ids)) != len(ids):
        dup = next(i for i in ids if ids.count(i) > 1)
        raise CognitiveModelError(f"{file}: the id {dup!r} is used by more than one model")
    return out
