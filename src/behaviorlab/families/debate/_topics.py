"""Debate topics and their attitude scales, and the ``debate_topics`` dataset.

A topic is a statement with a fixed attitude scale (integer points ``min..max``, labels for
some or all of them). The dataset makes one record per (topic, line-up of identities,
repeat): a debate setup, the unit every interval clusters over (its ``person_id``, opaque).

Options (``data.options``):

- ``topics``: a list of ``{id, statement, scale: {min, max, labels}[, paraphrases]}``
  (default: two built-in topics on a 1-7 agreement scale, one paraphrase each). A topic
  without a scale is refused, naming it; ``paraphrases`` (other wordings) are what the
  ``paraphrased_topic`` control debates.
- ``identities``: a list of line-ups, each a list of short identities (``"a Democrat"``), one
  per agent role in order, or a mapping role → identity (default: one line-up,
  ``["a Democrat", "a Republican"]``). The task checks each line-up against its roles.
- ``respondents``: real survey respondents as identities, one per agent, with their own
  persona and their own answer on the topic (instead of ``identities``; see
  :mod:`._respondents`).
- ``repeats``: debates per (topic, line-up).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

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

AGREEMENT = {
    1: "strongly disagree",
    2: "disagree",
    3: "somewhat disagree",
    4: "neither agree nor disagree",
    5: "somewhat agree",
    6: "agree",
    7: "strongly agree",
}
BUILTIN_TOPICS: tuple[dict[str, Any], ...] = (
    {
        "id": "gun_control",
        "statement": "The government should pass stricter gun control laws.",
        "scale": {"min": 1, "max": 7, "labels": AGREEMENT},
        "paraphrases": ["Gun laws in this country ought to be made stricter by the government."],
    },
    {
        "id": "minimum_wage",
        "statement": "The federal minimum wage should be raised to 15 dollars an hour.",
        "scale": {"min": 1, "max": 7, "labels": AGREEMENT},
        "paraphrases": ["The national minimum wage ought to go up to $15 per hour."],
    },
)
DEFAULT_LINEUPS: tuple[tuple[str, ...], ...] = (("a Democrat", "a Republican"),)


class Scale(BaseModel):
    """A fixed attitude scale: integer points ``min..max``, with labels for some of them."""

    model_config = ConfigDict(extra="forbid")

    min: int = 1
    max: int = 7
    labels: dict[int, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check(self) -> Scale:
        if self.max <= self.min:
            raise ValueError(f"scale max ({self.max}) must be above min ({self.min})")
        outside = sorted(k for k in self.labels if not self.min <= k <= self.max)
        if outside:
            raise ValueError(f"scale labels {outside} are outside {self.min}..{self.max}")
        return self

    @property
    def points(self) -> list[int]:
        return list(range(self.min, self.max + 1))

    @property
    def mid(self) -> float:
        return (self.min + self.max) / 2

    def text(self) -> str:
        """``1 = strongly disagree, 2 = disagree, ...`` (unlabelled points as numbers)."""
        return ", ".join(
            f"{p} = {self.labels[p]}" if p in self.labels else str(p) for p in self.points
        )

    def read(self, value: Any) -> float | None:
        """The attitude ``value`` as a number on the scale (a number in range, a numeric text,
        or a label); None when it is not one."""
        if isinstance(value, bool):
            return None
        if isinstance(value, str):
            text = value.strip()
            by_label = {v.strip().lower(): k for k, v in self.labels.items()}
            if text.lower() in by_label:
                return float(by_label[text.lower()])
            try:
                value = float(text)
            except ValueError:
                return None
        if isinstance(value, int | float) and math.isfinite(value):
            x = float(value)
            return x if self.min <= x <= self.max else None
        return None

    def clip(self, x: float) -> float:
        return min(float(self.max), max(float(self.min), x))


class Topic(BaseModel):
    """A debate topic: a statement and its attitude scale."""

    model_config = ConfigDict(extra="forbid")

    id: str
    statement: str
    scale: Scale
    paraphrases: list[str] = Field(default_factory=list)
    """Other wordings of ``statement`` with the same meaning (the ``paraphrased_topic`` control
    debates one of them, beside the model's default asked in the same wording)."""


def parse_topic(raw: Any, index: int) -> Topic:
    """A topic from ``data.options.topics[index]``; what is missing is named."""
    where = f"debate_topics: data.options.topics[{index}]"
    if not isinstance(raw, Mapping):
        raise ValueError(f"{where} must be a mapping {{id, statement, scale}}, not {raw!r}")
    name = raw.get("id", f"#{index}")
    missing = [k for k in ("id", "statement", "scale") if not raw.get(k)]
    if missing:
        hint = " (e.g. scale: {min: 1, max: 7, labels: {1: strongly disagree, ...}})"
        raise ValueError(
            f"{where} ({name!r}) has no {', '.join(missing)}{hint if 'scale' in missing else ''}"
        )
    try:
        return Topic.model_validate(dict(raw))
    except ValueError as exc:
        raise ValueError(f"{where} ({name!r}): {exc}") from None


def _lineup(raw: Any, index: int) -> list[str] | dict[str, str]:
    where = f"debate_topics: data.options.identities[{index}]"
    if isinstance(raw, Mapping):
        return {str(k): str(v) for k, v in raw.items()}
    if isinstance(raw, str) or not isinstance(raw, Sequence) or not raw:
        raise ValueError(
            f"{where} must be a list of identities (one per agent) or a mapping role -> "
            f"identity, not {raw!r}"
        )
    return [str(x) for x in raw]


@dataset("debate_topics")
def debate_topics(
    topics: Sequence[Mapping[str, Any]] | None = None,
    identities: Sequence[Any] | None = None,
    repeats: int = 1,
    seed: int = 0,
    respondents: Mapping[str, Any] | None = None,
) -> Dataset:
    """One debate setup per (topic, line-up, repeat); see the module docstring."""
    from behaviorlab.families.debate._respondents import respondent_lineups

    chosen = [parse_topic(t, i) for i, t in enumerate(topics or BUILTIN_TOPICS)]
    ids = [t.id for t in chosen]
    if len(set(ids)) != len(ids):
        raise ValueError(f"debate_topics: topic ids repeat: {ids}")
    lineups: list[list[str] | dict[str, str]]
    people = None
    if respondents is not None:
        if identities:
            raise ValueError("debate_topics: give data.options.identities or respondents, not both")
        people = respondent_lineups(respondents, ids, {t.id: t.scale.points for t in chosen})
        lineups = list(people.lineups)
        if people.dropped:
            warnings.warn(
                f"debate_topics: {people.dropped} respondents left out (no answer to "
                f"{respondents['question']!r}, or fewer than per_debate left for a last "
                "line-up)",
                UserWarning,
                stacklevel=2,
            )
        if people.no_answer:
            warnings.warn(
                f"debate_topics: {people.no_answer} respondents' own answers dropped (their "
                f"code for {respondents['question']!r} is mapped to null in points): they "
                "hold an identity but are left out of identity fidelity",
                UserWarning,
                stacklevel=2,
            )
    else:
        lineups = [_lineup(x, i) for i, x in enumerate(identities or DEFAULT_LINEUPS)]
    if repeats < 1:
        raise ValueError(f"debate_topics: repeats ({repeats}) must be at least 1")
    persons: dict[str, Person] = {}
    episodes: list[Episode] = []
    for topic in chosen:
        for i, lineup in enumerate(lineups):
            for r in range(repeats):
                pid = f"debate-{stable_hash('debate', topic.id, i, r, length=10)}"
                persons[pid] = Person(person_id=pid, attributes={"topic": topic.id})
                setup: dict[str, Any] = {
                    "topic": topic.model_dump(mode="json"),
                    "identities": lineup,
                    "lineup": i,
                    "repeat": r,
                }
                target = Action(action_type="debate")
                if people is not None:
                    held = list(lineup.values()) if isinstance(lineup, Mapping) else lineup
                    setup["personas"] = {x: people.personas[x] for x in held}
                    if topic.id == people.topic:  # the respondents' own answers: target only
                        own = {x: people.own[x] for x in held if x in people.own}
                        target = Action(action_type="debate", attributes={"own_answers": own})
                step = Step(
                    index=0,
                    step_id="debate",
                    observation=Observation(kind="debate", content=topic.statement, meta=setup),
                    action=target,
                )
                episodes.append(
                    Episode(episode_id=pid, person_id=pid, kind="debate", steps=[step], meta=setup)
                )
    return Dataset(
        name="debate_topics",
        source="behaviorlab (built-in debate setups)",
        persons=persons,
        episodes=episodes,
        meta={"topics": ids, "lineups": len(lineups), "repeats": repeats},
    )
