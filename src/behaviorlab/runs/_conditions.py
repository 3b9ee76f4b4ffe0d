"""Conditions: interventions applied to the test trials before a simulator sees them.

Built in:

- ``full``: the trial as the task made it.
- ``no_persona``: no persona at all.
- ``shuffled_persona``: each person gets another real person's persona (a derangement of
  the test people, seeded), the control showing whether *this* person's persona matters rather
  than any persona-shaped text.
- ``paraphrase``: the question in another wording (one of the item's ``alternatives``, chosen
  per trial by a seeded hash); measures sensitivity to wording.

Users add their own with ``@condition("name")`` on a function
``(trials: list[Trial], *, seed: int) -> list[Trial]``.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Protocol, TypeVar

from behaviorlab._registry import Registry
from behaviorlab.data._records import Person, stable_hash
from behaviorlab.tasks._base import Trial


class Condition(Protocol):
    def __call__(self, trials: list[Trial], *, seed: int) -> list[Trial]: ...


CondT = TypeVar("CondT", bound=Condition)

conditions: Registry[Condition] = Registry("condition")


def condition(name: str, *, replace: bool = False) -> Callable[[CondT], CondT]:
    """Register a condition under ``name``."""
    return conditions.register(name, replace=replace)  # type: ignore[return-value]


def _with_input(trial: Trial, **update: object) -> Trial:
    return trial.model_copy(update={"input": trial.input.model_copy(update=update)})


@condition("full")
def full(trials: list[Trial], *, seed: int) -> list[Trial]:
    """The trial as the task made it (persona, history, wording)."""
    return list(trials)


@condition("no_persona")
def no_persona(trials: list[Trial], *, seed: int) -> list[Trial]:
    """No persona: the subject answers without knowing who it is."""
    return [_with_input(t, persona=None) for t in trials]


def derangement(ids: list[str], seed: int) -> dict[str, str]:
    """A seeded permutation of ``ids`` with no fixed point (Sattolo's algorithm: one cycle)."""
    order = sorted(ids)
    if len(order) < 2:
        raise ValueError("shuffled_persona needs at least two people in the test split")
    perm = list(order)
    rng = random.Random(stable_hash("derangement", seed))
    for i in range(len(perm) - 1, 0, -1):
        j = rng.randrange(i)
        perm[i], perm[j] = perm[j], perm[i]
    return dict(zip(order, perm, strict=True))


@condition("shuffled_persona")
def shuffled_persona(trials: list[Trial], *, seed: int) -> list[Trial]:
    """Each person gets another real person's persona (seeded derangement): the persona the
    donor's own trials *show*, never the donor's whole record (which may hold what the task
    hides, such as a game's partner)."""
    shown: dict[str, Person | None] = {}
    for t in trials:
        if shown.get(t.person_id) is None:
            shown[t.person_id] = t.input.persona
    if trials and all(p is None for p in shown.values()):
        raise ValueError(
            f"shuffled_persona: the {trials[0].input.task} task's trials show no persona, so "
            "there is none to shuffle; give the task a persona (task_options) or drop this "
            "condition"
        )
    mapping = derangement(list(shown), seed)
    out = []
    for t in trials:
        donor_id = mapping[t.person_id]
        meta = {**t.input.meta, "persona_of": donor_id}
        out.append(_with_input(t, persona=shown[donor_id], meta=meta))
    return out


@condition("paraphrase")
def paraphrase(trials: list[Trial], *, seed: int) -> list[Trial]:
    """The question in another wording (one of its alternatives, chosen per trial)."""
    out = []
    for t in trials:
        obs = t.input.observation
        if not obs.alternatives:
            raise ValueError(
                f"paraphrase condition: item {t.item_id!r} has no alternative wordings; add "
                "'paraphrases' to its question in the data mapping, or drop this condition"
            )
        pick = int(stable_hash("paraphrase", seed, t.key), 16) % len(obs.alternatives)
        meta = {**t.input.meta, "wording": pick + 1}
        new_obs = obs.model_copy(update={"content": obs.alternatives[pick]})
        out.append(_with_input(t, observation=new_obs, meta=meta))
    return out
