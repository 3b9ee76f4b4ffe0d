"""The ``next_action`` task (OPeRA): predict a shopper's next web action, step by step.

One trial per click, input or terminate of each session (in the full version, scrolls,
navigations and tab switches appear in the history only). The subject sees the persona, the
steps before this one (never this step or a later one; window ``history``, rationales
optional) and the current page rendered as compact text (:mod:`._page`) and cut to a token
budget (:mod:`._budget`); the raw HTML is not passed. The answer is a JSON object
(:func:`._web_actions.action_schema`) whose ``semantic_id`` is an enum of the ids left on the
page. Scores (docs/next-action.md):

* ``correct``: exact match: same action type and same target; for an input, the typed texts
  also match after :func:`normalize_text`; a terminate matches a terminate;
* ``action_type_correct``; ``click_type_correct`` (human clicks only); ``target_correct``
  (human clicks and inputs: the same semantic id);
* ``target_in_view`` (human clicks and inputs: the target survived the cut) and ``reachable``
  (every step: 1 for a terminate, else ``target_in_view``): the ceiling on ``correct``.

Keys that do not apply to a step are left out.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from behaviorlab.data._records import Action, Dataset, Observation, Person, Step
from behaviorlab.families.next_action._actions import (
    ACTION_TYPES,
    action_schema,
    compact_action,
    history_lines,
    normalize_text,
    parse_compact,
)
from behaviorlab.families.next_action._budget import fit_budget
from behaviorlab.families.next_action._page import render_page
from behaviorlab.families.next_action._persona import (
    PERSONA_FLOOR,
    PERSONA_SHARE,
    PersonaCut,
    condense_persona,
    persona_limit,
    persona_text,
)
from behaviorlab.families.next_action._prompting import NextActionPrompting
from behaviorlab.families.next_action._survival import (
    Survival,
    in_view,
    measure_survival,
    warn_if_cut,
)
from behaviorlab.tasks._base import Trial, TrialInput, task, trial_key
from behaviorlab.tasks._tokens import TokenCounter, char_counter

if TYPE_CHECKING:
    from behaviorlab.simulators._base import Answer

NEXT_ACTION = "next_action"
"""The family's and its task's name (defined here only)."""

NEXT_ACTION_INSTRUCTIONS = (
    "You are simulating one specific person shopping online. Given who they are, what they "
    "did so far in this session and the page they see now, predict their next action: click "
    "an element, type text into an input, or terminate (leave the session). Name the element "
    "by the id in square brackets, exactly as it is written on the page."
)
PROMPT_RESERVE = 180
"""Tokens kept for the prompt's own wording (headers, the reply format line)."""


_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


def _title_only(seen: Observation) -> Observation:
    """A page that is never shown (before a scroll or a navigation): its title and URL only."""
    found = _TITLE.search(seen.content)
    title = html.unescape(" ".join(found.group(1).split())) if found else ""
    return Observation(kind="page", content="", url=seen.url, meta={"title": title})


@task(NEXT_ACTION)
class NextActionTask:
    """OPeRA next action: persona + earlier steps + the page now → click / input / terminate."""

    name = NEXT_ACTION
    prompting = NextActionPrompting()

    def __init__(
        self,
        splits: str | list[str] | None = None,
        max_steps: int | None = None,
        history: int | None = None,
        rationales: bool = True,
        budget: int | None = 1500,
        chars_per_token: float = 3.0,
        keep_recent: int = 3,
        history_chunk: int = 4,
        interview: bool = False,
        persona_share: float | None = PERSONA_SHARE,
        persona_floor: int = PERSONA_FLOOR,
        instructions: str = NEXT_ACTION_INSTRUCTIONS,
        reserve: int = PROMPT_RESERVE,
        count_tokens: TokenCounter | None = None,
    ) -> None:
        """
        Args:
            splits: which sessions become trials, by their split in the data
                (``Episode.meta["split"]``: ``"train"``, ``"test"``); None: all.
            max_steps: at most this many trials per session (its first steps).
            history: window k: at most the k steps before the current one (None: all).
            rationales: show the earlier steps' rationales.
            budget: tokens for instructions + persona + history + page (None: no cut).
            chars_per_token: tokens counted as ``ceil(characters / chars_per_token)``, unless
                ``count_tokens`` is given (3.0: SmolLM2's tokenizer gives about 2.7
                characters per token on rendered pages, 3.5 on persona prose).
            keep_recent: history steps kept until the page's elements are cut.
            history_chunk: history is cut in multiples of this many oldest lines, so
                consecutive steps usually cut the same lines and share a prompt prefix
                (:mod:`._budget`; 1: line by line).
            interview: add the processed interview (``Person.text``) to the persona.
            persona_share: the persona takes at most this share of ``budget``; a longer one
                is condensed (:mod:`._persona`), never looking at the target (None: never).
            persona_floor: ...but it may always take this many tokens (at most half the
                budget), so short personas stay whole at small budgets.
            reserve: tokens counted for the prompt's own wording.
            count_tokens: a real tokenizer's counting function (Python only).
        """
        wanted = [splits] if isinstance(splits, str) else splits
        self.splits = None if wanted is None else frozenset(wanted)
        if max_steps is not None and max_steps < 1:
            raise ValueError(f"next_action: max_steps must be at least 1, not {max_steps}")
        if history is not None and history < 0:
            raise ValueError(f"next_action: history must be >= 0, not {history}")
        self.max_steps, self.history, self.rationales = max_steps, history, rationales
        if history_chunk < 1:
            raise ValueError(f"next_action: history_chunk must be at least 1, not {history_chunk}")
        self.budget, self.keep_recent, self.interview = budget, keep_recent, interview
        self.history_chunk = history_chunk
        if persona_share is not None and not 0 < persona_share <= 1:
            raise ValueError(
                f"next_action: persona_share must be in (0, 1] or null, not {persona_share}"
            )
        if persona_floor < 0:
            raise ValueError(f"next_action: persona_floor must be >= 0, not {persona_floor}")
        self.persona_share, self.persona_floor = persona_share, persona_floor
        self.instructions, self.reserve = instructions, reserve
        self.count: TokenCounter = count_tokens or char_counter(chars_per_token)
        self.count_description = (
            "a tokenizer's count" if count_tokens else f"characters / {chars_per_token:g}"
        )

    # --- trials -------------------------------------------------------------------------

    def _persona(self, person: Person) -> PersonaCut:
        """The person's persona as every trial of theirs shows it: the interview only with
        ``interview``, condensed to its share of the budget (the same for all their steps)."""
        shown = person if self.interview else person.model_copy(update={"text": None})
        limit = persona_limit(self.budget, self.persona_share, self.persona_floor)
        return condense_persona(shown, limit, self.count)

    def trials(self, dataset: Dataset, *, seed: int) -> list[Trial]:
        out = self._trials(dataset, seed=seed)
        warn_if_cut(measure_survival(out, self.budget))
        return out

    def plan_info(self, trials: Sequence[Trial]) -> dict[str, Any]:
        """The target survival of the trials a run answers, stored in its manifest
        (``task_info.target_survival``)."""
        s = measure_survival(trials, self.budget)
        share = s.share
        return {
            "target_survival": {
                "budget": s.budget,
                "targets": s.targeted,
                "in_view": s.in_view,
                "cut": s.cut,
                "share": None if share != share else round(share, 6),
                "by_click_type": {k: round(v, 6) for k, v in s.by_click_type.items()},
                "people_condensed": s.people_condensed,
                "people": s.people,
            }
        }

    def _trials(self, dataset: Dataset, *, seed: int) -> list[Trial]:
        out: list[Trial] = []
        personas: dict[str, PersonaCut] = {}
        for ep in dataset.episodes:
            split = ep.meta.get("split")
            if self.splits is not None and split not in self.splits:
                continue
            person = dataset.persons[ep.person_id]
            if person.person_id not in personas:
                personas[person.person_id] = self._persona(person)
            persona_cut = personas[person.person_id]
            persona = persona_cut.person
            fixed = self.count(self.instructions) + self.count(persona_text(persona))
            shown: list[Step] = []  # each earlier step as the subject saw it (page cut)
            made = 0
            for step in ep.steps:
                if self.max_steps is not None and made >= self.max_steps:
                    break
                if step.action.action_type not in ACTION_TYPES:  # full version: scrolls, ...
                    shown.append(self._as_history(step, _title_only(step.observation)))
                    continue
                made += 1
                window = len(shown) if self.history is None else self.history
                before = shown[len(shown) - min(window, len(shown)) :]
                page = render_page(step.observation.content, step.observation.url)
                cut = fit_budget(
                    page,
                    history_lines(before),
                    fixed_tokens=fixed + self.reserve,
                    budget=self.budget,
                    count=self.count,
                    keep_recent=self.keep_recent,
                    history_chunk=self.history_chunk,
                )
                kept = before[len(before) - cut.history_kept :] if cut.history_kept else []
                observation = Observation(
                    kind="page",
                    content=cut.page.text(),
                    url=step.observation.url,
                    meta={
                        "title": page.title,
                        "elements": [
                            {"id": e.semantic_id, "role": e.role, "product": e.product}
                            for e in cut.page.elements
                        ],
                    },
                )
                trial_input = TrialInput(
                    task=self.name,
                    item_id=step.step_id,
                    person_id=person.person_id,
                    persona=persona,
                    history=kept,
                    observation=observation,
                    answer_schema=action_schema(cut.semantic_ids()),
                    instructions=self.instructions,
                    meta={
                        "split": split,
                        "session_start": ep.started_at.isoformat() if ep.started_at else None,
                        "cut": {**cut.report.as_meta(), **persona_cut.as_meta()},
                    },
                )
                out.append(
                    Trial(
                        key=trial_key(self.name, ep.episode_id, step.step_id, seed),
                        episode_id=ep.episode_id,
                        step_index=step.index,
                        input=trial_input,
                        target=step.action,
                        target_rationale=step.rationale,
                        person=person,
                    )
                )
                shown.append(self._as_history(step, observation))
        return out

    def _as_history(self, step: Step, seen: Observation) -> Step:
        """A past step as later trials carry it: the page as it was shown, the action without
        its recorded extras (only ``click_type``), the rationale if rationales are on."""
        kind = step.action.attributes.get("click_type")
        action = Action(
            action_type=step.action.action_type,
            target=step.action.target,
            value=step.action.value,
            attributes={"click_type": kind} if kind else {},
        )
        return Step(
            index=step.index,
            step_id=step.step_id,
            timestamp=step.timestamp,
            observation=seen,
            action=action,
            rationale=step.rationale if self.rationales else None,
        )

    # --- scoring ------------------------------------------------------------------------

    def score(self, trial: Trial, answer: Answer) -> dict[str, float]:
        value: dict[str, Any] = dict(answer.value or parse_compact(answer.choice or "") or {})
        return score_action(trial, value)

    def human_answer(self, trial: Trial) -> str | None:
        return compact_action(trial.target)

    def result_meta(self, trial: Trial) -> dict[str, Any]:
        """Stored in the result row's meta: the person's click type (per-type tables)."""
        kind = trial.target.attributes.get("click_type")
        return {} if kind is None else {"human_click_type": kind}


def score_action(trial: Trial, value: dict[str, Any]) -> dict[str, float]:
    """The next-action scores of a parsed answer (see the module docstring)."""
    human = trial.target
    kind = str(value.get("action_type", ""))
    same_type = kind == human.action_type
    scores = {"action_type_correct": float(same_type)}
    seen = in_view(trial)
    if human.action_type == "terminate":
        scores["correct"] = float(same_type)
        scores["reachable"] = 1.0
        return scores
    same_target = str(value.get("semantic_id", "")) == (human.target or "")
    correct = same_type and same_target
    if human.action_type == "input":
        typed = normalize_text(str(value.get("input_text", "")))
        correct = correct and typed == normalize_text(human.value or "")
    if human.action_type == "click":
        same_click = str(value.get("click_type", "")) == human.attributes.get("click_type")
        scores["click_type_correct"] = float(same_type and same_click)
    scores["correct"] = float(correct)
    scores["target_correct"] = float(same_target)
    scores["target_in_view"] = float(bool(seen))
    scores["reachable"] = float(bool(seen))
    return scores


def target_survival(
    dataset: Dataset, budget: int | None, *, seed: int = 0, **options: Any
) -> Survival:
    """How many human targets survive the cut at ``budget`` (other options as the task's)."""
    task = NextActionTask(budget=budget, **options)
    return measure_survival(task._trials(dataset, seed=seed), budget)
