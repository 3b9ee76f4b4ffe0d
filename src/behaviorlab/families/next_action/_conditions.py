"""Conditions for tasks with a history (``next_action``): what the subject remembers.

- ``no_history``: no earlier steps at all.
- ``no_rationale_history``: the earlier steps without their rationales.
- ``history_k1``, ``history_k3``, ``history_k5``: only the last k earlier steps. Other
  lengths: ``condition("history_k10")(history_k(10))``.

They remove information from the trial as the task made it and do not re-render the page, so
the page is the same in every condition and a paired difference measures the history alone.
"""

from __future__ import annotations

from behaviorlab.data._records import Step
from behaviorlab.runs._conditions import Condition, condition
from behaviorlab.tasks._base import Trial


def _history(trial: Trial, history: list[Step], label: str) -> Trial:
    meta = {**trial.input.meta, "history_condition": label}
    new_input = trial.input.model_copy(update={"history": history, "meta": meta})
    return trial.model_copy(update={"input": new_input})


@condition("no_history")
def no_history(trials: list[Trial], *, seed: int) -> list[Trial]:
    """No history: the subject sees the persona and the page only."""
    return [_history(t, [], "none") for t in trials]


@condition("no_rationale_history")
def no_rationale_history(trials: list[Trial], *, seed: int) -> list[Trial]:
    """The earlier steps without their rationales."""
    return [
        _history(
            t, [s.model_copy(update={"rationale": None}) for s in t.input.history], "no_rationale"
        )
        for t in trials
    ]


def history_k(k: int) -> Condition:
    """A condition keeping only the last ``k`` earlier steps (register it under a name)."""
    if k < 0:
        raise ValueError(f"history_k: k must be >= 0, not {k}")

    def last_k(trials: list[Trial], *, seed: int) -> list[Trial]:
        return [_history(t, t.input.history[-k:] if k else [], f"last_{k}") for t in trials]

    last_k.__doc__ = f"Only the last {k} earlier step(s) of the history."
    last_k.__name__ = f"history_k{k}"
    return last_k


for _k in (1, 3, 5):
    condition(f"history_k{_k}")(history_k(_k))
