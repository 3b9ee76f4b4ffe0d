"""The persuasion controls, beside the shared ``shuffled_persona`` (another test person's
persona by a seeded derangement; the prior stance shown stays the person's own):

- ``no_arguments``: the arguments withheld. The twin sees its persona and the person's own
  earlier stance and is asked again with nothing shown; it is still scored against what the
  person answered after reading the arguments. The argument counts in the trial's meta are
  zeroed too, so a baseline that reads them (``toward_majority``, ``persuasion_logit``) sees
  no arguments either. Movement the twin shows here is not caused by the arguments.

Applies to ``persuasion`` trials only (anything else is refused, naming the trial).
"""

from __future__ import annotations

from behaviorlab.families.persuasion._task import (
    ARM_WITHHELD,
    PERSUASION,
    scale_of,
    situation_text,
)
from behaviorlab.runs._conditions import condition
from behaviorlab.tasks._base import Trial

NO_ARGUMENTS = "no_arguments"


@condition(NO_ARGUMENTS)
def no_arguments(trials: list[Trial], *, seed: int) -> list[Trial]:
    """The stance asked again with nothing shown (the arguments withheld)."""
    out: list[Trial] = []
    for t in trials:
        if t.input.task != PERSUASION:
            raise ValueError(
                f"condition {NO_ARGUMENTS!r} applies to persuasion trials only; trial {t.key} "
                f"is of task {t.input.task!r}"
            )
        obs, meta = t.input.observation, t.input.meta
        scale = scale_of(meta)
        prior = scale.label(str(meta["prior_stance"]), meta.get("prior_strength"))
        text = situation_text(
            str(obs.meta.get("claim", "")), str(obs.meta.get("question", "")), prior, None
        )
        new_meta = {
            **meta,
            "arm": ARM_WITHHELD,
            "argument_ids": [],
            "sides": [],
            "n_supports": 0,
            "n_attacks": 0,
            "majority_side": 0,
        }
        new_input = t.input.model_copy(
            update={"observation": obs.model_copy(update={"content": text}), "meta": new_meta}
        )
        out.append(t.model_copy(update={"input": new_input}))
    return out
