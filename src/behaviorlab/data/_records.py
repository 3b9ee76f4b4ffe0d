"""Human behavior records.

Designed from the multi-step case: an OPeRA shopping session is an :class:`Episode` of many
:class:`Step` s, each holding the page the person saw (:class:`Observation`), what they did
(:class:`Action`) and sometimes why (:class:`Rationale`). A survey sitting is the same shape:
an episode whose steps are questions (observation kind ``"question"`` with its options) and
whose actions are answers (``action_type="answer"``, ``value`` = the option code).

All records are frozen pydantic models carrying ``SCHEMA_VERSION`` so that stored records can
be migrated when the schema changes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

SCHEMA_VERSION = 1
"""Version of the record schema. Bump it and add a migration when a stored field changes."""

JSONScalar = str | int | float | bool | None


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Person(_Record):
    """One real person (or a synthetic one): id and persona."""

    schema_version: int = SCHEMA_VERSION
    person_id: str
    attributes: dict[str, Any] = Field(
        default_factory=dict,
        description="Raw persona attributes (survey answers, demographics), as codes or values; "
        "used by baselines, subgroup analysis and persona rendering.",
    )
    description: str | None = Field(
        default=None,
        description="Readable persona built from the attributes ('You are a 45-year-old ...').",
    )
    text: str | None = Field(
        default=None, description="Free text about the person, e.g. an interview transcript."
    )
    meta: dict[str, Any] = Field(default_factory=dict)


class Option(_Record):
    """One answer option of a question: the code stored in the data and its wording."""

    code: str
    label: str


class Observation(_Record):
    """What the person saw before acting: a web page, a survey question, a message."""

    kind: Literal["page", "question", "message", "scene"] | str
    content: str = Field(description="Simplified HTML of a page, the wording of a question, ...")
    url: str | None = None
    options: list[Option] | None = Field(
        default=None, description="Answer options, for observations that are questions."
    )
    alternatives: list[str] = Field(
        default_factory=list,
        description="Other wordings of the same content (paraphrases), used by conditions "
        "that measure sensitivity to wording.",
    )
    meta: dict[str, Any] = Field(default_factory=dict)

    def option_codes(self) -> list[str]:
        return [o.code for o in self.options or []]


class Action(_Record):
    """What the person did.

    ``action_type`` is ``click`` / ``input`` / ``terminate`` (OPeRA's filtered actions; the
    full version adds ``scroll``, ``navigation``, ``tab_activate``) or ``answer`` for a survey
    question. ``target`` is the acted-on element (OPeRA's ``semantic_id``); ``value`` is the
    typed text or the chosen option code. Task-specific fields (``click_type``,
    ``mouse_position``, ``element_meta``, ``products`` ...) go in ``attributes``.
    """

    action_type: str
    target: str | None = None
    value: str | None = None
    attributes: dict[str, Any] = Field(default_factory=dict)


class Rationale(_Record):
    """Why the person acted, in their words (self-reported) or as annotated."""

    text: str
    source: Literal["self_report", "annotation", "model"] = "self_report"


class Step(_Record):
    """One observation → action pair (with an optional rationale) inside an episode."""

    index: int = Field(ge=0, description="Position within the episode, 0-based.")
    step_id: str
    timestamp: datetime | None = None
    observation: Observation
    action: Action
    rationale: Rationale | None = None
    meta: dict[str, Any] = Field(default_factory=dict)


class Episode(_Record):
    """One session of one person: a shopping session, a questionnaire sitting, a game."""

    schema_version: int = SCHEMA_VERSION
    episode_id: str
    person_id: str
    kind: str = Field(description="'survey', 'shopping_session', ...")
    started_at: datetime | None = None
    ended_at: datetime | None = None
    steps: list[Step] = Field(default_factory=list)
    meta: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _steps_in_order(self) -> Episode:
        for i, step in enumerate(self.steps):
            if step.index != i:
                raise ValueError(
                    f"episode {self.episode_id!r}: step {step.step_id!r} has index {step.index}, "
                    f"expected {i} (steps must be stored in order, 0-based)"
                )
        return self

    def history(self, index: int) -> list[Step]:
        """The steps strictly before ``index``: never the step itself or anything after."""
        return list(self.steps[:index])


class Dataset(_Record):
    """People and their episodes from one source, with provenance for run manifests."""

    schema_version: int = SCHEMA_VERSION
    name: str
    version: str = ""
    source: str = Field(default="", description="Where the data came from (package, URL, path).")
    license: str = ""
    persons: dict[str, Person]
    episodes: list[Episode]
    meta: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _episodes_name_people(self) -> Dataset:
        for ep in self.episodes:
            if ep.person_id not in self.persons:
                raise ValueError(
                    f"dataset {self.name!r}: episode {ep.episode_id!r} names person "
                    f"{ep.person_id!r}, who is not in the dataset's persons"
                )
        return self

    def episodes_of(self, person_id: str) -> Iterator[Episode]:
        return (e for e in self.episodes if e.person_id == person_id)

    def content_hash(self) -> str:
        """SHA-256 of the canonical JSON of every person and episode (for run manifests)."""
        h = hashlib.sha256()
        for pid in sorted(self.persons):
            h.update(self.persons[pid].model_dump_json().encode())
        for ep in sorted(self.episodes, key=lambda e: e.episode_id):
            h.update(ep.model_dump_json().encode())
        return h.hexdigest()


def stable_hash(*parts: object, length: int = 16) -> str:
    """Short deterministic hash of JSON-serialisable parts (ids, seeds)."""
    payload = json.dumps(parts, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()[:length]


def iter_steps(episodes: Iterable[Episode]) -> Iterator[tuple[Episode, Step]]:
    for ep in episodes:
        for step in ep.steps:
            yield ep, step
