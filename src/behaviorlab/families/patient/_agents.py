"""``scripted_patient``: a patient with a known truth, for tests and the demo's yardstick.

It reads the persona it is shown (``trial.persona.attributes``: ``core_beliefs``,
``emotions``, ``style``; what the ``patient_models`` dataset puts there) and states each of
its labels (core-belief categories first, then emotions) once over the session's T turns
(on turn k the labels k, k + T, ...) at ``level`` (explicit, paraphrased or implicit:
:data:`._lexicon.PLANTED`), in its style's manner; a turn with no label left is filler.
Shown only a name and a style (the baseline condition) or no persona, it has nothing to
express and speaks filler only.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from behaviorlab.data._records import stable_hash
from behaviorlab.families.patient._lexicon import FILLER, LEVELS, PLANTED, STYLE_LINES
from behaviorlab.simulators._base import Answer, simulator
from behaviorlab.tasks._base import Trial, TrialInput


@simulator("scripted_patient")
class ScriptedPatient:
    """States its persona's labels one per turn (module docstring)."""

    def __init__(self, level: str = "explicit", seed: int = 0, label: str | None = None) -> None:
        if level not in LEVELS:
            raise ValueError(
                f"scripted_patient: level is one of {', '.join(LEVELS)}, not {level!r}"
            )
        self.level = level
        self.seed = seed
        self.label = label or f"scripted:{level}"

    def fit(self, train: Sequence[Trial]) -> None:
        """Nothing to learn."""

    def identity(self) -> dict[str, Any]:
        return {"simulator": "scripted_patient", "level": self.level, "seed": self.seed}

    async def answer(self, trial: TrialInput) -> Answer:
        attrs = trial.persona.attributes if trial.persona is not None else {}
        labels = [*attrs.get("core_beliefs", []), *attrs.get("emotions", [])]
        style = str(attrs.get("style") or "plain")
        k = int(trial.meta.get("role_turn", 0))
        turns = int((trial.meta.get("session") or {}).get("turns", len(labels) or 1))
        rng = random.Random(
            stable_hash("scripted-patient", self.seed, trial.meta.get("draw_key"), k)
        )
        mine = [x for x in labels[k :: max(turns, 1)] if x in PLANTED]
        said = [rng.choice(PLANTED[x][self.level]) for x in mine] or [rng.choice(FILLER)]
        text = " ".join(said) + STYLE_LINES.get(style, "")
        return Answer(value={"utterance": text}, raw=text)
