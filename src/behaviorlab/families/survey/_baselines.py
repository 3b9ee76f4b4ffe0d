"""``train_mean``: the training people's mean answer to a numeric or ordered question.

The yardstick the numeric metrics need beside every twin (random answers already score about
0.63 on 1 − |h − s| / range): each item's mean over the training people's answers; on an
ordered question, the option code nearest to that mean. An item none of them answered is left
unanswered (not applicable, so unscored): a mean over other items would mix their scales.
Items that are not numeric or ordered are left unanswered (``meta["not_applicable"]``), as
the option baselines leave items without options. Each
answer's row keeps the exact mean in ``meta["training_mean"]`` (and ``training_n``): the
``people_mean`` baseline of :func:`behaviorlab.analysis.numeric_outcomes`.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from behaviorlab.data._mapping import normalise_code
from behaviorlab.families.survey._values import NUMERIC, ORDERED, TRAINING_MEAN, as_number
from behaviorlab.simulators._base import Answer, simulator
from behaviorlab.tasks._base import Trial, TrialInput

NOT_NUMERIC = "not applicable: train_mean answers numeric and ordered questions only"
NO_TRAINING = "not applicable: no training person answered item {item!r}"


@simulator("train_mean")
class TrainMeanSimulator:
    """The training people's mean answer to the item (nearest option code when ordered)."""

    learns_from_people = True
    """Fit on training people: refused by a split that leaves none."""

    def __init__(self, label: str | None = None) -> None:
        self.label = label or "train_mean"
        self.sums: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])

    def fit(self, train: Sequence[Trial]) -> None:
        self.sums.clear()
        for t in train:
            if t.input.meta.get("answer_type") not in (NUMERIC, ORDERED):
                continue
            x = as_number(t.target.value)
            if x is None:
                continue
            s = self.sums[t.item_id]
            s[0], s[1] = s[0] + x, s[1] + 1.0

    def identity(self) -> dict[str, Any]:
        return {"simulator": "train_mean"}

    async def answer(self, trial: TrialInput) -> Answer:
        kind = trial.meta.get("answer_type")
        if kind not in (NUMERIC, ORDERED):
            return Answer(raw=NOT_NUMERIC, meta={"not_applicable": True})
        total, n = self.sums.get(trial.item_id, (0.0, 0.0))
        if n == 0:  # no training person answered it: no mean of this item's scale to give
            return Answer(raw=NO_TRAINING.format(item=trial.item_id), meta={"not_applicable": True})
        mean = total / n
        raw = f"mean of {int(n)} training answers: {mean:g}"
        # the exact mean travels in the row's meta: numeric_outcomes' people_mean baseline
        meta = {TRAINING_MEAN: mean, "training_n": int(n)}
        if kind == ORDERED:
            codes = [c for c in trial.observation.option_codes() if as_number(c) is not None]
            code = min(codes, key=lambda c: (abs(float(c) - mean), float(c)))
            return Answer(choice=code, value={"answer": code}, raw=raw, meta=meta)
        value = normalise_code(mean) if math.isfinite(mean) else None
        return Answer(choice=value, value={"answer": mean}, raw=raw, meta=meta)
