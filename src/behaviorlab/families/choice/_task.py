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

from typing import Any

from behaviorlab.data._records import Step
from behaviorlab.families.survey._task import SurveyTask
from behaviorlab.simulators._prompts import DEFAULT_PROMPTING, Prompting
from behaviorlab.tasks._base import task

CHOICE = "choice"
CHOICE_INSTRUCTIONS = (
    "You are choosing between options. Choose the one the person described would choose."
)


@task(CHOICE)
class ChoiceTask(SurveyTask):
    """People's own choices between options: predict each person's choice; options shuffled
    per trial (the survey task's trials, with a choice situation's checks and meta)."""

    name = CHOICE
    prompting: Prompting = DEFAULT_PROMPTING  # framed by its own instructions, not a survey's

    def __init__(self, shuffle_options: bool = True, instructions: str = CHOICE_INSTRUCTIONS):
        super().__init__(shuffle_options=shuffle_options, instructions=instructions)

    def check_step(self, step: Step, episode_id: str) -> None:
        if not step.observation.options or len(step.observation.options) < 2:
            raise ValueError(
                f"choice task: step {step.step_id!r} of episode {episode_id!r} "
                "offers fewer than two options; load choice data with the choice "
                "loader (dataset 'choice_file' or 'modechoice')"
            )

    def item_id(self, step: Step) -> str:
        return str(step.observation.meta.get("question_id", CHOICE))

    def trial_meta(self, step: Step, order_seed: str, codes: list[str]) -> dict[str, Any]:
        return {
            "option_order_seed": order_seed,
            "shown_order": codes,
            "situation_id": str(step.observation.meta.get("situation_id", step.step_id)),
        }
