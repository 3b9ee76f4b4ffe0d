"""The ``survey`` task: answer one survey question as a specific person would.

Each question a person answered becomes a trial: their persona, the question, and the
options in an order shuffled per trial with a recorded seed (so that position bias cannot pass
for fidelity). The answer is one option code; it is scored against the person's own answer.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from behaviorlab.data._records import Dataset, Episode, Observation, Step, stable_hash
from behaviorlab.families.survey._values import (
    NUMERIC,
    answer_type,
    choice_of_number,
    correctness_meta,
    numeric_schema,
    numeric_scores,
    option_extras,
    value_meta,
    value_range,
)
from behaviorlab.models._base import Message
from behaviorlab.simulators._prompts import (
    PERSONA_HEADER,
    Prompting,
    StructuredPrompt,
    persona_text,
    reply_format,
    survey_system,
)
from behaviorlab.tasks._base import Trial, TrialInput, task, trial_key

if TYPE_CHECKING:
    from behaviorlab.simulators._base import Answer

SURVEY = "survey"
"""The family's and its task's name (defined here only)."""


class SurveyPrompting(Prompting):
    """Survey questions get the survey framing (which says whether a person is simulated),
    whatever the task's instructions; a numeric question asks for a number in its range."""

    def option_system(self, trial: TrialInput, persona: str | None) -> str:
        return survey_system(persona)

    def structured_prompt(self, trial: TrialInput) -> StructuredPrompt:
        """A numeric question: the survey framing and persona, the question, the range."""
        persona = persona_text(trial)
        scale = value_range(trial.observation.meta)
        ask = f"Answer with a number from {scale[0]:g} to {scale[1]:g}." if scale else ""
        user = (f"{PERSONA_HEADER}\n{persona}\n\n" if persona else "") + (
            f"Question: {trial.observation.content}\n{ask}\n\n{reply_format(trial.answer_schema)}"
        )
        return StructuredPrompt(
            [
                Message(role="system", content=survey_system(persona)),
                Message(role="user", content=user),
            ]
        )

    def choice_of(self, value: Mapping[str, Any]) -> str:
        """A numeric answer is stored as its number (``"3.5"``)."""
        number = choice_of_number(value)
        return number if number is not None else super().choice_of(value)


SURVEY_INSTRUCTIONS = (
    "You are answering a survey question. Answer as the person described would answer it."
)


def answer_schema(codes: list[str]) -> dict[str, Any]:
    """JSON schema of a survey answer: one of the option codes."""
    return {
        "type": "object",
        "properties": {"answer": {"type": "string", "enum": codes}},
        "required": ["answer"],
    }


@task(SURVEY)
class SurveyTask:
    """Survey questions: predict each person's own answer; options shuffled per trial."""

    name = SURVEY
    prompting: Prompting = SurveyPrompting()

    def __init__(self, shuffle_options: bool = True, instructions: str = SURVEY_INSTRUCTIONS):
        self.shuffle_options = shuffle_options
        self.instructions = instructions

    def check_step(self, step: Step, episode_id: str) -> None:
        """Refuse a step this task cannot ask (a survey step needs options, unless its
        question is numeric)."""
        if not step.observation.options and answer_type(step.observation) != NUMERIC:
            raise ValueError(
                f"{self.name} task: step {step.step_id!r} of episode {episode_id!r} has "
                "no answer options; the survey task needs questions with options, or numeric "
                "questions (type: numeric in the survey mapping)"
            )

    def item_id(self, step: Step) -> str:
        """The question shared across people (what ``majority`` counts answers per)."""
        return str(step.observation.meta.get("question_id", step.step_id))

    def trial_meta(self, step: Step, order_seed: str, codes: list[str]) -> dict[str, Any]:
        """What the stored result keeps about the trial (the shuffle's seed at least)."""
        return {"option_order_seed": order_seed}

    def trials(self, dataset: Dataset, *, seed: int) -> list[Trial]:
        """One trial per answered question (every episode's :meth:`iter_trials`)."""
        made = self.iter_trials(dataset, seed=seed, episodes=dataset.episodes)
        return [t for episode in made for t in episode]

    def count_trials(self, dataset: Dataset, episode: Episode) -> int:
        """How many trials :meth:`iter_trials` makes of ``episode`` (one per step, each step
        checked), whatever the seed: the runner counts a plan without making its trials."""
        for step in episode.steps:
            self.check_step(step, episode.episode_id)
        return len(episode.steps)

    def iter_trials(
        self, dataset: Dataset, *, seed: int, episodes: Iterable[Episode]
    ) -> Iterator[list[Trial]]:
        """The trials of each episode given, one list per episode, in order (the runner
        makes a plan's chains this way, one episode at a time). Built for a million trials
        in bounded memory: what trials have in common is one object, not a copy per trial
        (the person, the question shown in one option order, the answer schema of one
        order), and the trial models are assembled from values already checked (the
        dataset's records) without a second validation, which would copy every dict and
        list."""
        shown: dict[tuple[int, tuple[str, ...]], tuple[Observation, Observation]] = {}
        schemas: dict[tuple[str, ...], dict[str, Any]] = {}
        for ep in episodes:
            out: list[Trial] = []
            person = dataset.persons[ep.person_id]
            for step in ep.steps:
                self.check_step(step, ep.episode_id)
                obs = step.observation
                options = list(obs.options or [])
                order_seed = stable_hash("option-order", seed, ep.episode_id, step.step_id)
                if self.shuffle_options:
                    random.Random(order_seed).shuffle(options)
                codes = [o.code for o in options]
                numeric = answer_type(obs) == NUMERIC
                # a numeric question is shown as it is, with the schema of its range
                order = (
                    ("\0numeric", *map(str, obs.meta["range"] or ())) if numeric else tuple(codes)
                )
                # keyed by the question object (kept alive by the cache) and the order
                seen = shown.get((id(obs), order))
                if seen is None:
                    seen = shown[(id(obs), order)] = (
                        obs,
                        obs if numeric else obs.model_copy(update={"options": options}),
                    )
                schema = schemas.get(order)
                if schema is None:
                    schema = schemas[order] = (
                        numeric_schema(value_range(obs.meta)) if numeric else answer_schema(codes)
                    )
                meta = self.trial_meta(step, order_seed, codes)
                extra = value_meta(obs) | correctness_meta(step.action)
                trial_input = TrialInput.model_construct(
                    task=self.name,
                    item_id=self.item_id(step),
                    person_id=person.person_id,
                    persona=person,
                    history=[],
                    observation=seen[1],
                    answer_schema=schema,
                    instructions=self.instructions,
                    meta=meta | extra if extra else meta,
                )
                out.append(
                    Trial.model_construct(
                        key=trial_key(self.name, ep.episode_id, step.step_id, seed),
                        episode_id=ep.episode_id,
                        step_index=step.index,
                        input=trial_input,
                        target=step.action,
                        target_rationale=step.rationale,
                        person=person,
                    )
                )
            yield out

    def score(self, trial: Trial, answer: Answer) -> dict[str, float]:
        """Exact match of the option code (``correct``); a numeric question's accuracy
        ``1 − |h − s| / range`` and ``abs_error`` instead; an ordered or keyed question adds
        ``scale_accuracy`` or ``key_correct`` / ``human_correct`` (see ``_values``). A step of
        correctness-only data (no chosen option, the person's correctness in the target's
        attributes) has no ``correct``: only ``key_correct`` and ``human_correct``."""
        if answer.meta.get("not_applicable"):  # a baseline that does not answer this item
            return {}
        meta = trial.input.observation.meta
        if meta.get("answer_type") == NUMERIC:
            given = answer.choice if answer.choice is not None else answer.value
            return numeric_scores(trial.target.value, given, value_range(meta))
        extras = option_extras(meta, trial.target, answer.choice)
        if trial.target.value is None:  # correctness-only data: no option of the person's
            return extras
        scores = {"correct": float(answer.choice == trial.target.value)}
        return scores | extras if extras else scores

    def human_answer(self, trial: Trial) -> str | None:
        return trial.target.value
