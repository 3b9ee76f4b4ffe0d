"""How one debate is played: who sees what, in which order, and what is recorded.

Before the first round and after every round each agent reports its attitude (a structured
answer ``{attitude, reason}``); in each round the agents speak in the stated order, each
seeing the topic, the scale, who takes part, the speeches so far and the attitude reports
(every agent's when ``public_attitudes``, else only its own). The reports after a round are
made at the same time: each agent sees the reports up to the previous round only. A view is
its shared part first and the new question last, so a party's prompt only grows at its end.

Arms (``trial.input.meta["arm"]``, set by the family's conditions):

- ``debate`` (condition ``full``) and ``same_identity``: speeches and reports as above;
- ``retest``: the same agents asked again after each "round" without any debate (their own
  earlier reports only), which separates drift from noise and regression to the mean;
- ``model_default``: no identity, no debate: every role is asked the round-0 question
  ``default_asks`` times, each in a fresh context (the model's own default on the topic).

The controls (``shuffled_identities``, ``reversed_order``, ``paraphrased_topic``) are debates
whose trial carries other identities, ``reverse_order`` (the last speaker opens) or another
wording of the topic.

An attitude that is not a point of the scale is a failed turn (``invalid``) keeping its raw
text; it is counted, and the others see "(no valid answer)". Where the answer gives a
probability per scale point (option scoring, or samples), the attitude is the expected point
and the report also stores the distribution (``probabilities``), its most likely point
(``mode``) and its standard deviation (``sd``); other reports have none of the three.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from behaviorlab.data._records import Observation, Option, Person
from behaviorlab.families.debate._topics import Topic

if TYPE_CHECKING:
    from behaviorlab.families.debate._task import DebateTask
    from behaviorlab.simulators._base import Answer, Simulator
    from behaviorlab.simulators._parties import TurnLog
    from behaviorlab.tasks._base import Trial, TrialInput

SPEECH_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"speech": {"type": "string"}},
    "required": ["speech"],
}


def attitude_schema(topic: Topic) -> dict[str, Any]:
    """``{attitude: one of the scale's points, reason: text}``."""
    return {
        "type": "object",
        "properties": {
            "attitude": {"type": "integer", "enum": topic.scale.points},
            "reason": {"type": "string"},
        },
        "required": ["attitude", "reason"],
    }


def _scale_point(topic: Topic, value: Any) -> int | None:
    """``value`` read as a report's attitude is (``Scale.read``: a number in range, a numeric
    text, a label), when that is a point of the scale; else None."""
    x = topic.scale.read(value)
    return int(x) if x is not None and x.is_integer() else None


def _point_probabilities(answer: Answer, topic: Topic) -> dict[str, float] | None:
    """The answer's probability per scale point (option scoring or samples), when it gives
    one over the scale's points; else None. Option codes and samples are read as a report's
    attitude is (``" 3"``, ``"3.0"`` and ``3`` are one point; a label is its point); samples
    that are no point of the scale are left out, and option codes that are not make the
    distribution None."""
    mass: dict[int, float] = {}
    if answer.probabilities is not None:
        for code, q in answer.probabilities.items():
            point = _scale_point(topic, code)
            if point is None:
                return None
            mass[point] = mass.get(point, 0.0) + float(q)
    elif answer.samples:
        for sample in answer.samples:
            point = _scale_point(topic, sample)
            if point is not None:
                mass[point] = mass.get(point, 0.0) + 1.0
    total = sum(mass.values())
    if not mass or not total > 0:
        return None
    return {str(p): q / total for p, q in sorted(mass.items())}


def _mode_and_sd(probs: Mapping[str, float]) -> tuple[int, float]:
    """The most likely point of a per-point distribution (the lowest of tied ones) and its
    standard deviation."""
    points = [(int(p), q) for p, q in probs.items()]
    mode = max(points, key=lambda pq: (pq[1], -pq[0]))[0]
    mean = sum(p * q for p, q in points)
    return mode, math.sqrt(max(0.0, sum(q * (p - mean) ** 2 for p, q in points)))


@dataclass
class _Debate:
    task: DebateTask
    trial: Trial
    topic: Topic
    identities: dict[str, str | None]
    log: TurnLog
    lines: dict[str, list[str]] = field(default_factory=dict)
    reports: list[dict[str, Any]] = field(default_factory=list)
    speeches: list[dict[str, Any]] = field(default_factory=list)
    last: dict[str, float | None] = field(default_factory=dict)
    order: tuple[str, ...] = ()
    personas: dict[str, str] = field(default_factory=dict)
    own: dict[str, float] = field(default_factory=dict)

    def header(self, role: str, *, debate: bool) -> list[str]:
        out = [
            f"Topic: {self.topic.statement}",
            f"Attitude scale: {self.topic.scale.text()}",
        ]
        if debate:
            who = "; ".join(f"{r} ({self.identities[r]})" for r in self.order)
            out.append(f"Participants, in speaking order: {who}")
            out.append(f"You are {role}.")
        return out

    def view(
        self, role: str, question: str, kind: str, rnd: int, *, debate: bool, ask: int = 0
    ) -> TrialInput:
        identity = self.identities.get(role)
        text = "\n".join([*self.header(role, debate=debate), *self.lines[role], question])
        others = {r: a for r, a in self.last.items() if r != role}
        state = {
            "question": kind,
            "round": rnd,
            "rounds": self.task.rounds,
            "identity": identity,
            "scale": {"min": self.topic.scale.min, "max": self.topic.scale.max},
            "others": others if self.task.public_attitudes else {},
            "public_attitudes": self.task.public_attitudes,
            "heard": len(self.speeches),
            "ask": ask,
        }
        template = self.trial.input
        schema = attitude_schema(self.topic) if kind == "attitude" else SPEECH_SCHEMA
        options = None
        if kind == "attitude" and self.task.attitude_options:
            scale = self.topic.scale
            options = [Option(code=str(p), label=scale.labels.get(p, str(p))) for p in scale.points]
        return template.model_copy(
            update={
                "persona": None
                if identity is None
                else Person(
                    person_id=role,
                    description=self.personas.get(identity) or f"You are {identity}.",
                ),
                "observation": Observation(kind="debate", content=text, options=options),
                "answer_schema": schema,
                "meta": {**template.meta, "debate": state, "draw_key": self.trial.key},
            }
        )

    async def report(self, rnd: int, *, debate: bool) -> None:
        """Every agent's attitude after round ``rnd`` (0: before the first), at once."""
        scale = self.topic.scale
        if rnd == 0:
            q = "Before the debate" if debate else "To begin"
        else:
            q = f"After round {rnd} of {self.task.rounds}" if debate else f"Asked again ({rnd})"
        question = (
            f"{q}: where do you stand on the statement? Answer with your attitude, a number "
            f"from {scale.min} to {scale.max}, and a one-sentence reason."
        )
        new: dict[str, float | None] = {}
        for role in self.task.roles:
            answer = await self.log.ask(
                role, self.view(role, question, "attitude", rnd, debate=debate)
            )
            new[role] = self.record(role, rnd, answer)
        for role, value in new.items():
            reason = next((r["reason"] for r in reversed(self.reports) if r["role"] == role), "")
            said = "(no valid answer)" if value is None else f"{value:g}: {reason}"
            for seer in self.task.roles:
                if seer == role:
                    self.lines[seer].append(f"[{q}] you rated {said}")
                elif self.task.public_attitudes and debate:
                    self.lines[seer].append(f"[{q}] {role} rated {said}")
        self.last.update(new)

    def record(self, role: str, rnd: int, answer: Answer, ask: int = 0) -> float | None:
        turn = len(self.log.turns) - 1
        value = answer.value or {}
        probs = _point_probabilities(answer, self.topic) if answer.ok else None
        if probs is not None:  # option scoring: the expected point of the distribution
            attitude: float | None = sum(float(p) * q for p, q in probs.items())
        else:
            said = value.get("attitude", answer.choice)
            attitude = self.topic.scale.read(said) if answer.ok else None
        error = answer.error
        if answer.ok and attitude is None:
            error = (
                f"attitude {value.get('attitude')!r} is not a point of the scale "
                f"{self.topic.scale.min}..{self.topic.scale.max}"
            )
            self.log.fail(turn, error)
        before = self.last.get(role)
        identity = self.identities.get(role)
        own = self.own.get(identity) if identity is not None and rnd == 0 else None
        if attitude is not None:
            scores = {"attitude": attitude}
            if before is not None:
                scores["change"] = attitude - before
            if own is not None:
                scores["own_answer_error"] = abs(attitude - own)
            self.log.score(turn, **scores)
        self.reports.append(
            {
                "round": rnd,
                "ask": ask,
                "role": role,
                "identity": self.identities.get(role),
                "attitude": attitude,
                "reason": str(value.get("reason", ""))[:500] if attitude is not None else "",
                "raw": None if attitude is not None else (answer.raw or json.dumps(value))[:500],
                "error": error if attitude is None else None,
                **({"own_answer": own} if own is not None else {}),
                **(self.scored(probs) if probs is not None else {}),
            }
        )
        return attitude

    @staticmethod
    def scored(probs: dict[str, float]) -> dict[str, Any]:
        """What an option-scored report stores beside its expected point: the distribution,
        its most likely point (``mode``) and its standard deviation (``sd``)."""
        mode, sd = _mode_and_sd(probs)
        return {"probabilities": probs, "mode": mode, "sd": sd}

    async def speak(self, rnd: int) -> None:
        for role in self.order:
            question = (
                f"Round {rnd} of {self.task.rounds}, your turn to speak: argue your view "
                "in two or three sentences."
            )
            answer = await self.log.ask(role, self.view(role, question, "speech", rnd, debate=True))
            text = str((answer.value or {}).get("speech", "")).strip() if answer.ok else ""
            if answer.ok and not text:
                self.log.fail(len(self.log.turns) - 1, "an empty speech")
            self.speeches.append({"round": rnd, "role": role, "speech": text[:2000]})
            line = f"Round {rnd}, {role}: {text or '(no answer)'}"
            for seer in self.task.roles:
                self.lines[seer].append(line)


async def play_debate(task: DebateTask, trial: Trial, parties: Mapping[str, Simulator]) -> Answer:
    """Play one trial of any arm (see the module docstring)."""
    from behaviorlab.simulators._parties import TurnLog

    meta = trial.input.meta
    topic = Topic.model_validate(meta["topic"])
    arm = str(meta.get("arm", "debate"))
    identities: dict[str, str | None] = dict(meta["identities"])
    if arm == "model_default":
        identities = dict.fromkeys(task.roles)
    game = _Debate(task, trial, topic, identities, TurnLog(parties))
    game.lines = {r: [] for r in task.roles}
    game.order = tuple(reversed(task.order)) if meta.get("reverse_order") else task.order
    game.personas = {str(k): str(v) for k, v in dict(meta.get("personas") or {}).items()}
    if arm != "model_default":  # the respondents' own answers (the target; never shown)
        own = trial.target.attributes.get("own_answers")
        game.own = {str(k): float(v) for k, v in dict(own or {}).items()}
    if arm == "model_default":
        question = (
            f"Where do you stand on the statement? Answer with your attitude, a number from "
            f"{topic.scale.min} to {topic.scale.max}, and a one-sentence reason."
        )
        for k in range(task.default_asks):
            for role in task.roles:
                asked = game.view(role, question, "attitude", 0, debate=False, ask=k)
                game.record(role, 0, await game.log.ask(role, asked), ask=k)
    else:
        debate = arm != "retest"
        await game.report(0, debate=debate)
        for rnd in range(1, task.rounds + 1):
            if debate:
                await game.speak(rnd)
            await game.report(rnd, debate=debate)
    invalid = sum(r["attitude"] is None for r in game.reports)
    valid = [r["attitude"] for r in game.reports if r["attitude"] is not None]
    return game.log.answer(
        value={
            "arm": arm,
            "topic": topic.id,
            "statement": topic.statement,
            "scale": {"min": topic.scale.min, "max": topic.scale.max},
            "identities": identities,
            "order": list(game.order),
            "rounds": task.rounds if arm != "model_default" else 0,
            "public_attitudes": task.public_attitudes,
            "role_simulators": {r: parties[r].label for r in task.roles},
            "reports": game.reports,
            "speeches": game.speeches,
        },
        raw=" ".join(f"{x:g}" for x in valid),
        meta={"arm": arm, "topic": topic.id, "invalid_reports": invalid},
    )
