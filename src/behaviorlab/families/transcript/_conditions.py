"""The transcript task's controls as conditions, so one run holds them next to ``full``:

- ``shuffled_history``: each participant's earlier responses replaced by another
  participant's of the same experiment (a seeded derangement of the test participants); the
  participant's own responses stay the targets.
- ``instructions_only``: no history: the instructions and the current trial only.

They do what the task options ``history: shuffled`` / ``none`` do, on the trials the task
made with ``history: own``.
"""

from __future__ import annotations

from collections import defaultdict

from behaviorlab.data._records import stable_hash
from behaviorlab.runs._conditions import condition, derangement
from behaviorlab.tasks._base import Trial


def _transcript(trials: list[Trial], name: str) -> None:
    for t in trials:
        if "segments" not in t.input.meta or "responses" not in t.target.attributes:
            raise ValueError(
                f"{name}: trial {t.key!r} is not a transcript trial (task {t.input.task!r}); "
                "this condition belongs to the transcript task"
            )


def _with(trial: Trial, mode: str, shown: list[str], donor: str | None) -> Trial:
    meta = {**trial.input.meta, "history_mode": mode}
    target = trial.target.model_copy(
        update={"attributes": {**trial.target.attributes, "shown": shown, "donor": donor}}
    )
    return trial.model_copy(
        update={"input": trial.input.model_copy(update={"meta": meta}), "target": target}
    )


@condition("shuffled_history")
def shuffled_history(trials: list[Trial], *, seed: int) -> list[Trial]:
    """Another participant's earlier responses in place of the participant's own."""
    _transcript(trials, "shuffled_history")
    by_experiment: dict[str, list[Trial]] = defaultdict(list)
    for t in trials:
        by_experiment[str(t.input.meta.get("experiment", ""))].append(t)
    donors: dict[str, Trial] = {}
    for experiment, group in by_experiment.items():
        if len(group) < 2:
            raise ValueError(
                f"shuffled_history: experiment {experiment!r} has one test participant; it "
                "needs two or more to swap histories"
            )
        ids = {t.person_id: t for t in group}
        mapping = derangement(list(ids), int(stable_hash("history", experiment, seed), 16))
        donors.update({p: ids[d] for p, d in mapping.items()})
    out = []
    for t in trials:
        donor = donors[t.person_id]
        theirs = list(donor.target.attributes["responses"])
        n = len(t.target.attributes["responses"])
        out.append(_with(t, "shuffled", [theirs[i % len(theirs)] for i in range(n)], donor.key))
    return out


@condition("instructions_only")
def instructions_only(trials: list[Trial], *, seed: int) -> list[Trial]:
    """No history: the first segment (instructions) and the current trial only."""
    _transcript(trials, "instructions_only")
    return [_with(t, "none", list(t.target.attributes["responses"]), None) for t in trials]
