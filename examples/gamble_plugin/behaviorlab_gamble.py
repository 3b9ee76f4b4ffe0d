"""A behaviorlab task family in one file: risky choices between a sure amount and a gamble.

Installed (``pip install .`` here), its entry point (``[project.entry-points.behaviorlab]``
in ``pyproject.toml``) makes behaviorlab import this module on the first registry lookup, and
importing it registers, through behaviorlab's public API only:

- a dataset ``gamble_synthetic``: people with a stated attitude to risk, each choosing in 8
  situations between a sure amount and a 50% chance of a larger one (simulated from a
  constant-relative-risk-aversion utility with noise, so the data carry a real pattern);
- a task ``gamble``: one trial per situation, the two options in a seeded random order;
- a metric ``risk_share_gap``: |simulated − human| share of gambles taken, pooled over people,
  with a person-clustered (basic bootstrap) interval;
- the family itself: a report block (the share of gambles per simulator next to the people's)
  and a demo, ``behaviorlab demo gamble``.

See docs/plugins.md in behaviorlab's repository for what each piece is.
"""

from __future__ import annotations

import math
import random
from typing import Any

import numpy as np
import pandas as pd

from behaviorlab.analysis import ClusterStats, metric
from behaviorlab.data import (
    Action,
    Dataset,
    Episode,
    Observation,
    Option,
    Person,
    Step,
    dataset,
    stable_hash,
)
from behaviorlab.plugins import Demo, DemoPlan, DemoRequest, Family, family
from behaviorlab.report import Block, Heading, RunData, Table
from behaviorlab.simulators import Answer
from behaviorlab.tasks import Trial, TrialInput, task, trial_key

GAMBLE = "gamble"
SURE, RISKY = "A", "B"
SITUATIONS = [(sure, sure * ratio) for sure in (20, 50) for ratio in (1.6, 2.0, 2.5, 3.2)]
"""(sure amount, prize of the 50% gamble) in dollars; the gamble's expected value is
0.8–1.6 times the sure amount."""
ATTITUDES = {"cautious": 0.9, "balanced": 0.5, "bold": 0.1}
"""Stated attitude → relative risk aversion of the utility ``x ** (1 − r)``."""


@dataset("gamble_synthetic")
def gamble_synthetic(people: int | None = None, seed: int = 0) -> Dataset:
    """``people`` simulated people (default 60), 8 choices each; ``seed`` fixes who they are."""
    rng = random.Random(stable_hash("gamble", seed))
    persons: dict[str, Person] = {}
    episodes: list[Episode] = []
    for i in range(people or 60):
        attitude = rng.choice(sorted(ATTITUDES))
        age = rng.randint(19, 78)
        pid = f"p{i:03d}"
        persons[pid] = Person(
            person_id=pid,
            attributes={"age": age, "attitude": attitude},
            description=f"A {age}-year-old who describes themselves as {attitude} with money.",
        )
        steps = []
        for j, (sure, prize) in enumerate(SITUATIONS):
            r = ATTITUDES[attitude] + rng.gauss(0.0, 0.15)
            u_sure, u_gamble = sure ** (1 - r), 0.5 * prize ** (1 - r)
            p_gamble = 1 / (1 + math.exp(-4.0 * (u_gamble - u_sure) / max(u_sure, 1e-9)))
            chose = RISKY if rng.random() < p_gamble else SURE
            question = f"Choose: ${sure:g} for sure, or a 50% chance of ${prize:g} (else $0)."
            steps.append(
                Step(
                    index=j,
                    step_id=f"s{j}",
                    observation=Observation(
                        kind="question",
                        content=question,
                        options=[
                            Option(code=SURE, label=f"${sure:g} for sure"),
                            Option(code=RISKY, label=f"50% chance of ${prize:g}"),
                        ],
                        meta={"question_id": f"g{sure:g}x{prize / sure:g}"},
                    ),
                    action=Action(action_type="answer", value=chose),
                )
            )
        episodes.append(
            Episode(episode_id=f"{pid}-gambles", person_id=pid, kind=GAMBLE, steps=steps)
        )
    return Dataset(
        name="gamble_synthetic",
        source="behaviorlab-gamble (simulated)",
        license="CC0-1.0",
        persons=persons,
        episodes=episodes,
    )


def _schema(codes: list[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {"answer": {"type": "string", "enum": codes}},
        "required": ["answer"],
    }


@task(GAMBLE)
class GambleTask:
    """Predict whether each person took the sure amount or the gamble."""

    name = GAMBLE
    instructions = "Choose the option the person described would choose."

    def __init__(self, shuffle_options: bool = True) -> None:
        self.shuffle_options = shuffle_options

    def trials(self, dataset: Dataset, *, seed: int) -> list[Trial]:
        out: list[Trial] = []
        for ep in dataset.episodes:
            person = dataset.persons[ep.person_id]
            for step in ep.steps:
                options = list(step.observation.options or [])
                order_seed = stable_hash("gamble-order", seed, ep.episode_id, step.step_id)
                if self.shuffle_options:
                    random.Random(order_seed).shuffle(options)
                codes = [o.code for o in options]
                shown = step.observation.model_copy(update={"options": options})
                out.append(
                    Trial(
                        key=trial_key(self.name, ep.episode_id, step.step_id, seed),
                        episode_id=ep.episode_id,
                        step_index=step.index,
                        input=TrialInput(
                            task=self.name,
                            item_id=str(step.observation.meta["question_id"]),
                            person_id=person.person_id,
                            persona=person,
                            observation=shown,
                            answer_schema=_schema(codes),
                            instructions=self.instructions,
                            meta={"shown_order": codes},
                        ),
                        target=step.action,
                        person=person,
                    )
                )
        return out

    def score(self, trial: Trial, answer: Answer) -> dict[str, float]:
        return {"correct": float(answer.choice == trial.target.value)}

    def human_answer(self, trial: Trial) -> str | None:
        return trial.target.value


@metric("risk_share_gap")
class RiskShareGap:
    """|simulated − human| share of gambles taken, pooled over the people of an arm."""

    higher_is_better = False
    requires = "answers and the person's own choice (A or B)"
    tasks = (GAMBLE,)  # a column of gamble tables only
    interval = "basic"  # an absolute gap is biased upward, like a distance
    bounds = (0.0, 1.0)

    def applicable(self, frame: pd.DataFrame) -> bool:
        return {"answer", "human_answer"} <= set(frame.columns) and not frame.empty

    def stats(self, frame: pd.DataFrame) -> ClusterStats:
        rows = np.column_stack(
            [
                (frame["answer"].astype(str) == RISKY).to_numpy(float),
                (frame["human_answer"].astype(str) == RISKY).to_numpy(float),
                np.ones(len(frame)),
            ]
        )
        return ClusterStats.from_rows(frame["person_id"].to_numpy(), rows)

    def value(self, agg: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            gap: np.ndarray = np.abs(agg[..., 0] - agg[..., 1]) / agg[..., 2]
        return gap


def gamble_blocks(data: RunData) -> list[Block]:
    """The share of gambles each simulator took, next to the share the same people took."""
    frame = data.frame
    if frame.empty or not (frame["task"].astype(str) == GAMBLE).any():
        return []
    ok = frame[(frame["task"].astype(str) == GAMBLE) & frame["error"].isna()]
    rows = []
    for (sim, cond), arm in ok.groupby(["simulator", "condition"], sort=True):
        simulated = float((arm["answer"].astype(str) == RISKY).mean())
        human = float((arm["human_answer"].astype(str) == RISKY).mean())
        rows.append((str(sim), str(cond), f"{human:.2f}", f"{simulated:.2f}", str(len(arm))))
    return [
        Heading("Gambles taken: people against simulated"),
        Table(
            columns=("simulator", "condition", "people", "simulated", "trials"),
            rows=tuple(rows),
            numeric=frozenset({2, 3, 4}),
            caption="Share of trials where the gamble (B) was chosen, on the same trials.",
        ),
    ]


def _demo(request: DemoRequest) -> DemoPlan:
    """``behaviorlab demo gamble``: the bundled SmolLM2 (or ``--backend``) against majority."""
    llm: dict[str, Any] = {"name": "llm", "backend": request.backend}
    if request.backend == "llamacpp":
        llm.update(model="smollm2", answer="score")
    spec = {
        "name": "gamble-demo"
        if request.backend == "llamacpp"
        else f"gamble-demo-{request.backend}",
        "task": GAMBLE,
        "data": {
            "source": "gamble_synthetic",
            "people": request.people or 60,
            "split": {"test": 0.5, "seed": 0},
        },
        "simulators": [llm, {"name": "majority"}],
        "conditions": ["full", "no_persona"],
        "seeds": [0],
    }
    return DemoPlan(spec, intro=[f"[bold]behaviorlab demo gamble[/]: results in {request.out}"])


FAMILY = family(
    Family(
        name=GAMBLE,
        summary="Risky choices between a sure amount and a gamble (example plugin).",
        tasks=(GAMBLE,),
        report_blocks=gamble_blocks,
        demos=(Demo(GAMBLE, "sure amount or gamble, 60 simulated people", _demo),),
        docs="docs/plugins.md",
    )
)
