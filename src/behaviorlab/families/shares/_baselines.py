"""The ``train_shares`` baseline: the training items' average distribution.

Fit on the training side of a split by item: per option code, the mean of the training units'
shares (a unit without the code counts 0 for it). A test item gets those means over its own
options, renormalised; options no training unit had get ``alpha`` before renormalising (0
by default: then an item none of whose options were seen gets the uniform distribution,
marked ``meta["train_shares_fallback"]``). With groups, the average is per group when
``by_group`` (default) and the group was seen in training, else over every training unit.
The uniform baseline needs no simulator: :func:`share_scores` always computes it (and
``random_option`` gives it as probabilities).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from behaviorlab.simulators._base import Answer, simulator
from behaviorlab.tasks._base import Trial, TrialInput


@simulator("train_shares")
class TrainSharesSimulator:
    """The training items' average distribution over the item's options."""

    learns_from_people = True

    def __init__(self, alpha: float = 0.0, by_group: bool = True, label: str | None = None):
        self.alpha = float(alpha)
        self.by_group = by_group
        self.label = label or "train_shares"
        self._sums: dict[str, dict[str, float]] = {}
        self._units: dict[str, int] = {}

    def identity(self) -> dict[str, Any]:
        return {"simulator": "train_shares", "alpha": self.alpha, "by_group": self.by_group}

    @staticmethod
    def _group(persona: Any) -> str:
        return "" if persona is None else repr(sorted(persona.attributes.items()))

    def fit(self, train: Sequence[Trial]) -> None:
        sums: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        units: dict[str, int] = defaultdict(int)
        for t in train:
            shares = t.target.attributes.get("shares")
            if not isinstance(shares, dict):
                continue
            keys = {"*"}
            if self.by_group and t.target.attributes.get("group"):
                keys.add(repr(sorted(t.target.attributes["group"].items())))
            for key in keys:
                units[key] += 1
                for code, share in shares.items():
                    sums[key][str(code)] += float(share)
        self._sums = {k: dict(v) for k, v in sums.items()}
        self._units = dict(units)

    async def answer(self, trial: TrialInput) -> Answer:
        codes = trial.observation.option_codes()
        if not self._units:
            return Answer(error="train_shares: no training items to average", error_kind="invalid")
        key = self._group(trial.persona)
        if not (self.by_group and key in self._units):
            key = "*"
        sums, count = self._sums.get(key, {}), self._units[key]
        mass = {c: sums.get(c, 0.0) / count + self.alpha for c in codes}
        total = sum(mass.values())
        meta: dict[str, Any] = {}
        if total <= 0:
            mass, total = {c: 1.0 for c in codes}, float(len(codes))
            meta["train_shares_fallback"] = True
        probs = {c: m / total for c, m in mass.items()}
        choice = max(codes, key=lambda c: probs[c])
        return Answer(
            choice=choice,
            value={"answer": choice},
            probabilities=probs,
            raw=f"average of {count} training units",
            meta=meta,
        )
