"""``train_mean``: the training people's mean answer to a numeric or ordered question;
``train_correctness``: right on the keyed items most training people got right.

The yardstick the numeric metrics need beside every twin (random answers already score about
0.63 on 1 − |h − s| / range): each item's mean over the training people's answers; on an
ordered question, the option code nearest to that mean. An item none of them answered is left
unanswered (not applicable, so unscored): a mean over other items would mix their scales.
Items that are not numeric or ordered are left unanswered (``meta["not_applicable"]``), as
the option baselines leave items without options. Each
answer's row keeps the exact mean in ``meta["training_mean"]`` (and ``training_n``): the
``people_mean`` baseline of :func:`behaviorlab.analysis.numeric_outcomes`.

``train_correctness`` is the yardstick of an answer key (a keyed question, or correctness-only
data): on each keyed item it answers the key when at least half the training people were right
on it and a wrong option otherwise, the same for everyone, so its per-item accuracy follows the
items' difficulty and nothing of the person. A twin's error-pattern kappa is worth reading
beside it. Unkeyed items and items no training person answered are left unanswered.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from behaviorlab.data._correctness import HUMAN_CORRECT
from behaviorlab.data._mapping import normalise_code
from behaviorlab.families.survey._values import (
    ANSWER_KEY,
    NUMERIC,
    ORDERED,
    TRAINING_MEAN,
    as_number,
)
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


NOT_KEYED = "not applicable: train_correctness answers keyed items only"


@simulator("train_correctness")
class TrainCorrectnessSimulator:
    """The key on items most training people got right, a wrong option on the others."""

    learns_from_people = True
    """Fit on training people: refused by a split that leaves none."""

    def __init__(self, label: str | None = None) -> None:
        self.label = label or "train_correctness"
        self.items: dict[str, tuple[str, float, int]] = {}

    def fit(self, train: Sequence[Trial]) -> None:
        counts: dict[str, tuple[str, float, int]] = {}
        for t in train:
            key = t.target.attributes.get(ANSWER_KEY)
            if key is None:
                continue
            given = t.target.attributes.get(HUMAN_CORRECT)
            if t.target.value is not None:
                right = float(t.target.value == key)
            elif given is not None:
                right = float(given)
            else:
                continue
            _, hits, n = counts.get(t.item_id, (key, 0.0, 0))
            counts[t.item_id] = (str(key), hits + right, n + 1)
        self.items = counts

    def identity(self) -> dict[str, Any]:
        return {"simulator": "train_correctness"}

    async def answer(self, trial: TrialInput) -> Answer:
        fitted = self.items.get(trial.item_id)
        if fitted is None:
            return Answer(raw=NOT_KEYED, meta={"not_applicable": True})
        key, hits, n = fitted
        rate = hits / n
        codes = trial.observation.option_codes()
        wrong = [c for c in codes if c != key]
        choice = key if rate >= 0.5 or not wrong else wrong[0]
        raw = f"{hits:g} of {n} training people right: {'the key' if choice == key else 'wrong'}"
        meta = {"training_accuracy": rate, "training_n": n}
        return Answer(choice=choice, value={"answer": choice}, raw=raw, meta=meta)
