"""The ``choice`` task: predict which option a person chose in their own choice situation.

Each choice situation of a person (a step of their ``choice`` episode: the offered options,
described in words, and the one they chose) becomes a trial: their persona, the question and
the options in an order shuffled per trial with a recorded seed (``meta["option_order_seed"]``
and ``meta["shown_order"]``), so that a simulator's position bias shows as such rather than
passing for fidelity. The answer is one option code, scored against the person's choice.

Options differ between people (each traveller has their own times and costs), so the item
(``item_id``, shared by the ``majority`` baseline) is the choice set's question id, not the
situation; the situation id is in ``meta["situation_id"]``.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from behaviorlab.data._records import Dataset, stable_hash
from behaviorlab.tasks._base import Trial, TrialInput, task
from behaviorlab.tasks._survey import answer_schema

if TYPE_CHECKING:
    from behaviorlab.simulators._base import Answer

CHOICE = "choice"
CHOICE_INSTRUCTIONS = (
    "You are choosing between options. Choose the one the person described would choose."
)


@task(CHOICE)
class ChoiceTask:
    """People's own choices between options: predict each person's choice; options shuffled
    per trial."""

    name = CHOICE

    def __init__(self, shuffle_options: bool = True, instructions: str = CHOICE_INSTRUCTIONS):
        self.shuffle_options = shuffle_options
        self.instructions = instructions

    def trials(self, dataset: Dataset, *, seed: int) -> list[Trial]:
        out: list[Trial] = []
        for ep in dataset.episodes:
            person = dataset.persons[ep.person_id]
            for step in ep.steps:
                obs = step.observation
                if not obs.options or len(obs.options) < 2:
                    raise ValueError(
                        f"choice task: step {step.step_id!r} of episode {ep.episode_id!r} "
                        "offers fewer than two options; load choice data with the choice "
                        "loader (dataset 'choice_file' or 'modechoice')"
                    )
                options = list(obs.options)
                order_seed = stable_hash("option-order", seed, ep.episode_id, step.step_id)
                if self.shuffle_options:
                    random.Random(order_seed).shuffle(options)
                codes = [o.code for o in options]
                trial_input = TrialInput(
                    task=self.name,
                    item_id=str(obs.meta.get("question_id", CHOICE)),
                    person_id=person.person_id,
                    persona=person,
                    history=[],
                    observation=obs.model_copy(update={"options": options}),
                    answer_schema=answer_schema(codes),
                    instructions=self.instructions,
                    meta={
                        "option_order_seed": order_seed,
                        "shown_order": codes,
                        "situation_id": str(obs.meta.get("situation_id", step.step_id)),
                    },
                )
                out.append(
                    Trial(
                        key=stable_hash(self.name, ep.episode_id, step.step_id, seed),
                        episode_id=ep.episode_id,
                        step_index=step.index,
                        input=trial_input,
                        target=step.action,
                        target_rationale=step.rationale,
                        person=person,
                    )
                )
        return out

    def score(self, trial: Trial, answer: Answer) -> dict[str, float]:
        return {"correct": float(answer.choice == trial.target.value)}

    def human_answer(self, trial: Trial) -> str | None:
        return trial.target.value
