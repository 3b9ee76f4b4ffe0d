"""The debate arms beyond the debate itself, as conditions (so the gap table, the per-role
table and the report show each arm apart):

- ``same_identity``: for every distinct identity of a line-up, the same debate with every
  agent holding that identity. Averaging dynamics predict no movement there, so movement
  toward the default is the model's pull.
- ``retest``: the same agents asked R+1 times without any debate (no speeches; each sees its
  own earlier reports only): drift against noise and regression to the mean.
- ``model_default``: the model's own default on the topic: no identity, asked the same way,
  ``default_asks`` times per role, in the same run. Drift is measured toward it.

Each applies to ``debate`` trials only (anything else is refused, naming the trial).
"""

from __future__ import annotations

from behaviorlab.data._records import stable_hash
from behaviorlab.families.debate._task import DEBATE, DebateConfigError
from behaviorlab.runs._conditions import condition
from behaviorlab.tasks._base import Trial

SAME_IDENTITY, RETEST, MODEL_DEFAULT = "same_identity", "retest", "model_default"


def _check(trials: list[Trial], name: str) -> None:
    for t in trials:
        if t.input.task != DEBATE:
            raise DebateConfigError(
                f"condition {name!r} applies to debate trials only; trial {t.key} is of task "
                f"{t.input.task!r}"
            )


def _arm(trial: Trial, arm: str, key: str, **meta: object) -> Trial:
    return trial.model_copy(
        update={
            "key": key,
            "input": trial.input.model_copy(
                update={"meta": {**trial.input.meta, "arm": arm, **meta}}
            ),
        }
    )


@condition(SAME_IDENTITY)
def same_identity(trials: list[Trial], *, seed: int) -> list[Trial]:
    """Every agent holds the same identity: one trial per distinct identity of the line-up."""
    _check(trials, SAME_IDENTITY)
    out: list[Trial] = []
    for t in trials:
        held = dict(t.input.meta["identities"])
        for identity in sorted(set(held.values())):
            key = stable_hash(t.key, SAME_IDENTITY, identity)
            out.append(_arm(t, SAME_IDENTITY, key, identities=dict.fromkeys(held, identity)))
    return out


@condition(RETEST)
def retest(trials: list[Trial], *, seed: int) -> list[Trial]:
    """The same agents asked again after every round, without any debate."""
    _check(trials, RETEST)
    return [_arm(t, RETEST, t.key) for t in trials]


@condition(MODEL_DEFAULT)
def model_default(trials: list[Trial], *, seed: int) -> list[Trial]:
    """The model's default on the topic: no identity, no debate (one trial per setup)."""
    _check(trials, MODEL_DEFAULT)
    return [_arm(t, MODEL_DEFAULT, t.key) for t in trials]
