"""The ``shares`` task: how would people (or a group of them) spread over an item's options?

One trial per item (and group) of a shares table (:mod:`behaviorlab.families.shares._data`).
The subject is the item, so ``person_id`` is the item: every interval is clustered by item,
and an item's groups stay together (nested in their item). ``item_id`` is the unit: the item,
or ``"item | group"``. The simulator sees the item's wording, its options in an order shuffled
per trial with a recorded seed (``meta["shown_order"]``) and, where the table has groups, the
group as its persona ("About you: group: ..."; the ``no_persona`` condition removes it).

What is compared is a distribution, so the simulator should give one: option scoring
(``llm`` with ``answer: score``: the options' normalised probabilities) or samples (``answer:
sample``: the share of each option among ``n`` samples). A single generated answer has no
distribution; such trials are counted and left out of the share metrics.

The people's distribution and ``n`` are kept in the trial's target and added to each stored
result's ``meta`` (``human_shares``, ``human_n``, ``group``), never to the input. ``human_answer``
is the people's most chosen option and ``correct`` says whether the simulator's top option is
it (so the gap table's accuracy is "modal agreement"; its ``js_distance`` and
``total_variation`` compare with that one option, not the distribution: read the share metrics
``share_js``, ``share_tv`` and ``simbench_score``).
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from behaviorlab.data._records import Dataset, Person, stable_hash
from behaviorlab.simulators._prompts import DEFAULT_PROMPTING, Prompting
from behaviorlab.tasks._base import Trial, TrialInput, task, trial_key

if TYPE_CHECKING:
    from behaviorlab.simulators._base import Answer

SHARES = "shares"
"""The family's and its task's name (defined here only)."""
SHARES_INSTRUCTIONS = (
    "You are answering a survey question. Answer as a typical person would answer it."
)
GROUP_INSTRUCTIONS = (
    "You are answering a survey question. Answer as a typical member of the group described "
    "would answer it."
)


def answer_schema(codes: list[str]) -> dict[str, Any]:
    """JSON schema of an answer: one of the option codes."""
    return {
        "type": "object",
        "properties": {"answer": {"type": "string", "enum": codes}},
        "required": ["answer"],
    }


@task(SHARES)
class SharesTask:
    """Aggregate answer shares: one trial per item (and group), scored by distribution."""

    name = SHARES
    prompting: Prompting = DEFAULT_PROMPTING

    def __init__(
        self,
        shuffle_options: bool = True,
        instructions: str = SHARES_INSTRUCTIONS,
        group_instructions: str = GROUP_INSTRUCTIONS,
    ) -> None:
        self.shuffle_options = shuffle_options
        self.instructions = instructions
        self.group_instructions = group_instructions

    def trials(self, dataset: Dataset, *, seed: int) -> list[Trial]:
        out: list[Trial] = []
        for ep in dataset.episodes:
            item = dataset.persons[ep.person_id]
            group: dict[str, Any] = dict(ep.meta.get("group") or {})
            unit = str(ep.meta.get("unit") or ep.person_id)
            persona = (
                Person(
                    person_id=unit,
                    attributes=group,
                    description=str(ep.meta.get("group_text") or ""),
                )
                if group
                else None
            )
            for step in ep.steps:
                options = list(step.observation.options or [])
                if len(options) < 2:
                    raise ValueError(
                        f"shares task: item {unit!r} has fewer than two options; load shares "
                        "with the shares loader (dataset 'shares_file')"
                    )
                order_seed = stable_hash("option-order", seed, ep.episode_id, step.step_id)
                if self.shuffle_options:
                    random.Random(order_seed).shuffle(options)
                codes = [o.code for o in options]
                out.append(
                    Trial(
                        key=trial_key(self.name, ep.episode_id, step.step_id, seed),
                        episode_id=ep.episode_id,
                        step_index=step.index,
                        input=TrialInput(
                            task=self.name,
                            item_id=unit,
                            person_id=item.person_id,
                            persona=persona,
                            observation=step.observation.model_copy(update={"options": options}),
                            answer_schema=answer_schema(codes),
                            instructions=self.group_instructions if group else self.instructions,
                            meta={"option_order_seed": order_seed, "shown_order": codes},
                        ),
                        target=step.action,
                        person=item,
                    )
                )
        return out

    def score(self, trial: Trial, answer: Answer) -> dict[str, float]:
        return {"correct": float(answer.choice == trial.target.value)}

    def human_answer(self, trial: Trial) -> str | None:
        return trial.target.value

    def result_meta(self, trial: Trial) -> dict[str, Any]:
        """The people's distribution and n (for the share metrics), and the group."""
        attrs = trial.target.attributes
        return {
            "human_shares": dict(attrs["shares"]),
            "human_n": attrs["n"],
            "group": dict(attrs.get("group") or {}),
        }
