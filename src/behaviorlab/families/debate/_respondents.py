"""Real survey respondents as debate identities (issue 18 §1-2: "a real survey respondent's
persona"; identity fidelity at round 0).

``data.options.respondents`` names any registered dataset or survey file (as a spec's
``data`` does) and one of its questions that is asked on the topic's scale::

    respondents:
      source: anes96                 # or a survey file with its mapping in options
      options: {target: selfLR, people: 8, seed: 0}
      question: selfLR               # the respondents' own answer on the topic
      topic: ideology                # the topic it answers (default: the only topic)
      per_debate: 2                  # respondents per line-up (one per agent)
      points: {"1": 1, "8": null}    # answer code -> scale point, or null: no own answer

Each line-up is ``per_debate`` consecutive respondents (in the dataset's order) who answered
the question; a respondent's identity is the label ``respondent <person_id>`` and the agent
sees that person's persona (``Person.description``, else ``text``) instead of "You are <a
label>". The persona holds what the dataset shows as a persona: the question itself is a
target of the dataset, not a persona field, so it is never shown. The respondents' own
answers go to the trial's target (never its input) and are what the agents' first report is
measured against.

Without ``points`` a code is read as a number. With ``points`` every code the respondents gave
must be in it (a code it does not map is refused, naming the code and the question, so mapped
and raw codes never mix); a code mapped to ``null`` (a "don't know") drops that person's own
answer: the respondent still holds an identity and a persona, but has no answer for identity
fidelity (the dropped answers are counted, ``Respondents.no_answer``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

RESPONDENT = "respondent"


@dataclass
class Respondents:
    """Line-ups of respondents, their personas by label and their own answers by label."""

    lineups: list[list[str]]
    personas: dict[str, str] = field(default_factory=dict)
    own: dict[str, float] = field(default_factory=dict)
    topic: str | None = None
    dropped: int = 0
    no_answer: int = 0
    """Respondents kept whose code ``points`` maps to null (no own answer)."""


def _where(key: str) -> str:
    return f"debate_topics: data.options.respondents.{key}"


def _point(
    code: str, points: dict[str, float | None] | None, person: str, question: str
) -> float | None:
    """The scale point of answer ``code`` (NaN: not a number; None: mapped to null)."""
    if points is None:
        try:
            return float(code)
        except ValueError:
            return math.nan
    if code not in points:
        raise ValueError(
            f"{_where('points')}: person {person!r} answered {question!r} with code {code!r}, "
            f"which points does not map ({len(points)} codes mapped: "
            f"{', '.join(map(repr, sorted(points)))}); add it: points: {{{code!r}: <a scale "
            f"point>}}, or {code!r}: null to keep the person without an own answer"
        )
    return points[code]


def respondent_lineups(
    raw: Mapping[str, Any], topics: list[str], scale_points: dict[str, list[int]]
) -> Respondents:
    """The line-ups of ``raw`` (see the module docstring); what is missing or does not fit
    the topic's scale is named."""
    from behaviorlab.data._sources import load_dataset

    if not isinstance(raw, Mapping):
        raise ValueError(f"{_where('')[:-1]} must be a mapping {{source, question, ...}}")
    missing = [k for k in ("source", "question") if not raw.get(k)]
    if missing:
        raise ValueError(f"debate_topics: data.options.respondents has no {', '.join(missing)}")
    unknown = sorted(set(raw) - {"source", "options", "question", "topic", "per_debate", "points"})
    if unknown:
        raise ValueError(f"debate_topics: data.options.respondents has unknown keys {unknown}")
    topic = str(raw.get("topic") or (topics[0] if len(topics) == 1 else ""))
    if topic not in topics:
        raise ValueError(
            f"{_where('topic')}: give the topic the question answers "
            f"({'not a topic: ' + repr(topic) if topic else 'there are several topics'}; "
            f"topics: {', '.join(topics)})"
        )
    per = int(raw.get("per_debate", 2))
    if per < 1:
        raise ValueError(f"{_where('per_debate')} ({per}) must be at least 1")
    question = str(raw["question"])
    mapped = raw.get("points")
    if mapped is not None and not isinstance(mapped, Mapping):
        raise ValueError(f"{_where('points')} must be a mapping code -> scale point (or null)")
    points: dict[str, float | None] | None = (
        None
        if mapped is None
        else {str(k): None if v is None else float(v) for k, v in mapped.items()}
    )
    data = load_dataset(str(raw["source"]), **dict(raw.get("options") or {}))
    allowed = scale_points[topic]
    labels: list[str] = []
    out = Respondents(lineups=[], topic=topic)
    for ep in data.episodes:
        step = next(
            (
                s
                for s in ep.steps
                if s.observation.meta.get("question_id", s.step_id) == question
                or s.step_id.endswith(f":{question}")
            ),
            None,
        )
        if step is None or step.action.value in (None, ""):
            out.dropped += 1
            continue
        code = str(step.action.value)
        point = _point(code, points, ep.person_id, question)
        if point is not None and not (math.isfinite(point) and point in allowed):
            raise ValueError(
                f"{_where('points')}: person {ep.person_id!r} answered {question!r} with code "
                f"{code!r}, which is not a point of topic {topic!r}'s scale "
                f"{allowed[0]}..{allowed[-1]}; map codes to points (points: {{{code!r}: ...}})"
            )
        person = data.persons[ep.person_id]
        persona = person.description or person.text
        if not persona:
            raise ValueError(
                f"debate_topics: respondent {ep.person_id!r} of {raw['source']!r} has no "
                "persona (no description or text); choose persona fields in its options"
            )
        label = f"{RESPONDENT} {ep.person_id}"
        if label in out.personas:
            continue  # one line per person: a person answers the question once
        out.personas[label] = persona
        if point is None:
            out.no_answer += 1
        else:
            out.own[label] = point
        labels.append(label)
    whole = len(labels) // per * per
    out.dropped += len(labels) - whole
    out.lineups = [labels[i : i + per] for i in range(0, whole, per)]
    if not out.lineups:
        raise ValueError(
            f"debate_topics: data.options.respondents gives {len(labels)} respondents who "
            f"answered {question!r}, fewer than per_debate ({per})"
        )
    return out
