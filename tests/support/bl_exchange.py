"""A test plugin (spec ``plugins: [bl_exchange]``): a three-party exchange task, and a mock
backend that logs every call it answers to a file, so a test in another process can count
what a run paid for across a kill -9.

Task ``exchange``: one trial per episode; ``rounds`` rounds in which every role in ``roles``
speaks in turn, each seeing the topic, its own identity and the exchange so far. A turn is
scored with ``words`` (its length); the trial with the number of turns and failed turns.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from typing import Any

from behaviorlab.data import Dataset
from behaviorlab.data._records import Observation, Person
from behaviorlab.models import GenerateRequest, Generation, ScoreRequest, ScoreResult, backend
from behaviorlab.models._mock import MockBackend
from behaviorlab.simulators import Answer, Simulator, TurnLog
from behaviorlab.tasks import Trial, TrialInput, task, trial_key

TEXT_SCHEMA = {
    "type": "object",
    "properties": {"text": {"type": "string"}},
    "required": ["text"],
}


@task("exchange")
class Exchange:
    name = "exchange"

    def __init__(
        self,
        roles: Sequence[str] = ("moderator", "debater_a", "debater_b"),
        rounds: int = 2,
        topic: str = "Should cities ban cars from their centres?",
        identities: Mapping[str, str] | None = None,
    ) -> None:
        self.roles = tuple(roles)
        self.rounds = rounds
        self.topic = topic
        self.identities = dict(identities or {})

    def trials(self, dataset: Dataset, *, seed: int) -> list[Trial]:
        out = []
        for ep in dataset.episodes:
            person = dataset.persons[ep.person_id]
            step = ep.steps[0]
            out.append(
                Trial(
                    key=trial_key(self.name, ep.episode_id, None, seed),
                    episode_id=ep.episode_id,
                    step_index=0,
                    input=TrialInput(
                        task=self.name,
                        item_id="topic",
                        person_id=person.person_id,
                        persona=person,
                        observation=Observation(kind="exchange", content=self.topic),
                        answer_schema=TEXT_SCHEMA,
                    ),
                    target=step.action,
                    person=person,
                )
            )
        return out

    async def play_parties(self, trial: Trial, parties: Mapping[str, Simulator]) -> Answer:
        log = TurnLog(parties)
        said: list[str] = []
        for _ in range(self.rounds):
            for role in self.roles:
                identity = self.identities.get(role, f"You are the {role}.")
                seen = "\n".join([f"Topic: {self.topic}", *said, f"{role}, your turn:"])
                asked = trial.input.model_copy(
                    update={
                        "persona": Person(person_id=role, description=identity),
                        "observation": Observation(kind="exchange", content=seen),
                    }
                )
                answer = await log.ask(role, asked)
                text = str((answer.value or {}).get("text", "")) if answer.ok else ""
                log.score(len(log.turns) - 1, words=float(len(text.split())))
                said.append(f"{role}: {text}" if answer.ok else f"{role}: (no answer)")
        return log.answer(value={"transcript": said}, raw="\n".join(said))

    def score(self, trial: Trial, answer: Answer) -> dict[str, float]:
        turns = answer.meta.get("turns", [])
        return {
            "turns": float(len(turns)),
            "failed_turns": float(sum(t["error"] is not None for t in turns)),
        }

    def human_answer(self, trial: Trial) -> str | None:
        return None


@backend("logging_mock")
class LoggingMock(MockBackend):
    """The mock backend, appending one JSON line per answered call to ``log`` (just before
    the answer is returned, so a call cut off by a kill is not logged)."""

    def __init__(self, log: str, **options: Any) -> None:
        super().__init__(**options)
        self.log = log

    def _write(self, kind: str, request: GenerateRequest | ScoreRequest) -> None:
        line = json.dumps({"model": self.model, "kind": kind, "prompt": request.model_dump_json()})
        with open(self.log, "a", encoding="utf-8") as f:
            f.write(line + "\n")

    async def generate(self, request: GenerateRequest) -> Generation:
        result = await super().generate(request)
        self._write("generate", request)
        return result

    async def score(self, request: ScoreRequest) -> ScoreResult:
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        result = await super().score(request)
        self._write("score", request)
        return result
