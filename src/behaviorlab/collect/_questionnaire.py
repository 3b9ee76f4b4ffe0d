"""The persona questionnaire: questions in YAML, answers checked, stored the OPeRA way.

A questionnaire is sections of questions (``choice``, ``multi``, ``text``, ``number``,
``likert``). Answers become OPeRA's two user-table columns: ``survey``, organised as
section title → question text → answer (option labels, numbers; Likert items that name a
``trait`` also give ``"<trait>"`` scores, the mean of the section's items, reverse-keyed
items flipped), and ``raw_survey``, the submission as sent (question id → text or list),
with PII masked in every string of it (list elements, dict keys and values), each string
checked against the question's ``max_length``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from behaviorlab.collect._events import FieldProblem
from behaviorlab.collect._pii import PiiMasker

QuestionKind = Literal["choice", "multi", "text", "number", "likert"]


class Question(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    text: str
    kind: QuestionKind = "choice"
    options: tuple[str, ...] = ()
    required: bool = True
    scale: tuple[str, ...] = ()
    """Likert labels, lowest first (answers are 1..len(scale))."""
    trait: str | None = None
    reverse: bool = False
    min: float | None = None
    max: float | None = None
    max_length: int = 2000

    @model_validator(mode="after")
    def _check(self) -> Question:
        if self.kind in ("choice", "multi") and not self.options:
            raise ValueError(f"question {self.id!r} ({self.kind}) needs options")
        if self.kind == "likert" and len(self.scale) < 2:
            raise ValueError(f"likert question {self.id!r} needs a scale of 2+ labels")
        return self


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    title: str
    intro: str = ""
    questions: tuple[Question, ...]


class Questionnaire(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str
    intro: str = ""
    sections: tuple[Section, ...]

    @model_validator(mode="after")
    def _unique(self) -> Questionnaire:
        seen: set[str] = set()
        for q in self.questions():
            if q.id in seen:
                raise ValueError(f"question id {q.id!r} is used twice")
            seen.add(q.id)
        return self

    def questions(self) -> list[Question]:
        return [q for s in self.sections for q in s.questions]


class AnswersError(ValueError):
    """Answers that do not fit the questionnaire; ``problems`` names each question."""

    def __init__(self, problems: list[FieldProblem]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{p.location}: {p.problem}" for p in problems))


def load_questionnaire(source: str | Path = "default") -> Questionnaire:
    """A questionnaire from a YAML file, or ``"default"`` (the bundled OPeRA-like one)."""
    if str(source) == "default":
        text = (
            resources.files("behaviorlab.collect")
            .joinpath("questionnaires/default.yaml")
            .read_text(encoding="utf-8")
        )
        where = "the bundled questionnaires/default.yaml"
    else:
        path = Path(source)
        if not path.is_file():
            raise FileNotFoundError(f"questionnaire file {str(path)!r} does not exist")
        text, where = path.read_text(encoding="utf-8"), str(path)
    try:
        return Questionnaire.model_validate(yaml.safe_load(text))
    except ValidationError as err:
        first = err.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        raise ValueError(f"questionnaire {where}: {loc}: {first['msg']}") from None


def _strings(value: Any) -> list[str]:
    """Every string in a nested answer: list elements, dict keys and values."""
    found: list[str] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            found.append(item)
        elif isinstance(item, dict):
            found.extend(str(k) for k in item)
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return found


def _check_lengths(value: Any, limit: int) -> None:
    """Every string in the answer (not only a list's first) within the question's limit."""
    if any(len(text) > limit for text in _strings(value)):
        raise ValueError(f"longer than {limit} characters")


def _masked(value: Any, masker: PiiMasker) -> Any:
    """``value`` with PII masked in every string, dict keys included (``raw_survey`` keeps
    what was sent, lists and dicts too, never unmasked)."""
    if isinstance(value, str):
        return masker.text(value)
    if isinstance(value, dict):
        return {masker.text(str(k)): _masked(v, masker) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_masked(v, masker) for v in value]
    return value


def _one(value: Any) -> Any:
    if isinstance(value, list):
        return value[0] if value else None
    return value


def check_answers(
    questionnaire: Questionnaire, answers: Mapping[str, Any], masker: PiiMasker | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(survey, raw_survey)`` for ``answers`` (question id → value); :class:`AnswersError`
    naming every question that is missing or wrong. Free text is PII-masked."""
    masker = masker or PiiMasker()
    problems: list[FieldProblem] = []
    known = {q.id for q in questionnaire.questions()}
    for key in answers:
        if key not in known:
            problems.append(FieldProblem(location=f"answers.{key}", problem="unknown question"))
    survey: dict[str, Any] = {}
    raw: dict[str, Any] = {}
    for section in questionnaire.sections:
        part: dict[str, Any] = {}
        traits: dict[str, list[float]] = {}
        for q in section.questions:
            value = answers.get(q.id)
            empty = value is None or value == "" or value == []
            if empty:
                if q.required:
                    problems.append(FieldProblem(location=f"answers.{q.id}", problem="required"))
                continue
            try:
                _check_lengths(value, q.max_length)
                parsed = _parse(q, value, masker)
            except ValueError as err:
                problems.append(FieldProblem(location=f"answers.{q.id}", problem=str(err)))
                continue
            raw[q.id] = _masked(value, masker)
            part[q.text] = parsed
            if q.kind == "likert" and q.trait:
                score = len(q.scale) + 1 - parsed if q.reverse else parsed
                traits.setdefault(q.trait, []).append(float(score))
        for trait, scores in traits.items():
            part[trait] = round(sum(scores) / len(scores), 3)
        if part:
            survey[section.title] = part
    if problems:
        raise AnswersError(problems)
    return survey, raw


def _parse(q: Question, value: Any, masker: PiiMasker) -> Any:
    if q.kind == "multi":
        values = value if isinstance(value, list) else [value]
        bad = [v for v in values if v not in q.options]
        if bad:
            raise ValueError(f"{bad[0]!r} is not one of the options")
        return [o for o in q.options if o in values]
    value = _one(value)
    if q.kind == "choice":
        if value not in q.options:
            raise ValueError(f"{value!r} is not one of the options")
        return value
    if q.kind == "likert":
        try:
            n = int(value)
        except (TypeError, ValueError):
            raise ValueError(f"{value!r} is not a number from 1 to {len(q.scale)}") from None
        if not 1 <= n <= len(q.scale):
            raise ValueError(f"{n} is not from 1 to {len(q.scale)}")
        return n
    if q.kind == "number":
        try:
            x = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"{value!r} is not a number") from None
        if not math.isfinite(x):
            raise ValueError(f"{value!r} is not a finite number")
        if (q.min is not None and x < q.min) or (q.max is not None and x > q.max):
            raise ValueError(
                f"{x:g} is outside {q.min:g}..{q.max:g}"
                if q.min is not None and q.max is not None
                else f"{x:g} is out of range"
            )
        return int(x) if x.is_integer() else x
    text = str(value).strip()
    if len(text) > q.max_length:
        raise ValueError(f"longer than {q.max_length} characters")
    return masker.text(text)
