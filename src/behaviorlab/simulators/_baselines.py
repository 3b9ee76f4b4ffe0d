"""Non-LLM baselines, reported next to every LLM simulator.

- ``majority``: the most common answer to the item among training respondents; its
  distribution is the training answer shares (Laplace-smoothed with ``alpha``). An item no
  training respondent answered gets the **overall majority**: the item's option chosen most
  often over all training answers to all items (its distribution: those pooled shares), marked
  ``meta["majority_fallback"]`` and named in the report. Ties go to the code first in sorted
  order (``"1"`` before ``"2"``, ``"A"`` before ``"B"``).
- ``knn_persona``: the answers of the ``k`` training respondents most similar by persona
  attributes (numeric attributes z-scored, categorical ones one-hot; Euclidean distance). Under
  ``no_persona`` it has nothing to match on and falls back to the majority answer.
- ``first_option``: always the first option *as shown*. With options shuffled per trial it
  lands on a desired option about 1/k of the time (k options); without shuffling on
  PacifAIst it scores 328/351 = 93.4%, above every published model. Always report it.
- ``random_option``: a uniformly random option (seeded by item and trial), with the uniform
  distribution as its probabilities.

All four leave items without options (a numeric question, say) unanswered
(``meta["not_applicable"]``), which reports show as not applicable rather than as failures.
"""

from __future__ import annotations

import math
import random
from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np

from behaviorlab.data._records import stable_hash
from behaviorlab.simulators._base import Answer, simulator
from behaviorlab.tasks._base import Trial, TrialInput


def _shares(counts: Counter[str], codes: Sequence[str], alpha: float) -> dict[str, float]:
    total = sum(counts[c] for c in codes) + alpha * len(codes)
    if total == 0:
        return {c: 1.0 / len(codes) for c in codes}
    return {c: (counts[c] + alpha) / total for c in codes}


def _mode(counts: Counter[str], codes: Sequence[str]) -> str:
    """Most frequent code; ties go to the code that comes first in the item's code order."""
    order = sorted(codes)
    return max(order, key=lambda c: (counts[c], -order.index(c)))


NOT_APPLICABLE = "not applicable: this baseline only answers items with options"


NO_KNOWN_ANSWERS = (
    "not applicable: no training person's chosen option is known (e.g. data holding only "
    "whether each person was right)"
)


def _not_applicable(why: str = NOT_APPLICABLE) -> Answer:
    return Answer(raw=why, meta={"not_applicable": True})


class _ItemCounts:
    def __init__(self) -> None:
        self.counts: dict[str, Counter[str]] = defaultdict(Counter)
        self.overall: Counter[str] = Counter()
        """Every training answer, pooled over items (the fallback of an unseen item)."""
        self.trials = 0

    @property
    def unknown(self) -> bool:
        """Training people were seen but none of their answers is known (data holding only
        whether each was right): the answer-copying baselines do not apply."""
        return self.trials > 0 and not self.overall

    def fit(self, train: Sequence[Trial]) -> None:
        self.counts.clear()
        self.overall.clear()
        self.trials = len(train)
        for t in train:
            if t.target.value is not None:
                self.counts[t.item_id][t.target.value] += 1
                self.overall[t.target.value] += 1


@simulator("majority")
class MajoritySimulator:
    """Most common answer among training respondents (distribution: their answer shares)."""

    learns_from_people = True
    """Fit on training people: refused by a split that leaves none."""

    def __init__(self, alpha: float = 1.0, label: str | None = None) -> None:
        self.alpha = alpha
        self.label = label or "majority"
        self._items = _ItemCounts()

    def fit(self, train: Sequence[Trial]) -> None:
        self._items.fit(train)

    def identity(self) -> dict[str, Any]:
        return {"simulator": "majority", "alpha": self.alpha}

    async def answer(self, trial: TrialInput) -> Answer:
        codes = trial.observation.option_codes()
        if not codes:
            return _not_applicable()
        counts = self._items.counts.get(trial.item_id, Counter())
        if not counts:
            return self._overall(trial.item_id, codes)
        choice = _mode(counts, codes)
        return Answer(
            choice=choice,
            value={"answer": choice},
            probabilities=_shares(counts, codes, self.alpha),
            raw=f"majority of {sum(counts.values())} training answers",
        )

    def _overall(self, item_id: str, codes: Sequence[str]) -> Answer:
        """An item no training person answered: the overall majority among its options."""
        if self._items.unknown:
            return _not_applicable(NO_KNOWN_ANSWERS)
        if not codes or not self._items.overall:
            return Answer(error=f"no training answers for item {item_id!r}", error_kind="invalid")
        choice = _mode(self._items.overall, codes)
        return Answer(
            choice=choice,
            value={"answer": choice},
            probabilities=_shares(self._items.overall, codes, self.alpha),
            raw=f"no training answers for item {item_id!r}: the overall majority of "
            f"{sum(self._items.overall.values())} training answers",
            meta={"majority_fallback": True},
        )


class _PersonaSpace:
    """Encodes persona attributes as vectors: z-scored numbers, one-hot categories."""

    def __init__(self, people: Sequence[dict[str, Any]]) -> None:
        keys = sorted({k for p in people for k in p})
        self.numeric: list[str] = []
        self.categorical: dict[str, list[str]] = {}
        for k in keys:
            values = [p.get(k) for p in people if p.get(k) is not None]
            if values and all(
                isinstance(v, int | float) and not isinstance(v, bool) for v in values
            ):
                self.numeric.append(k)
            else:
                self.categorical[k] = sorted({str(v) for v in values})
        raw = np.array([[self._num(p, k) for k in self.numeric] for p in people], dtype=float)
        self.mean = np.nanmean(raw, axis=0) if len(people) and self.numeric else np.zeros(0)
        std = np.nanstd(raw, axis=0) if len(people) and self.numeric else np.zeros(0)
        self.std = np.where(std > 0, std, 1.0)

    @staticmethod
    def _num(person: dict[str, Any], key: str) -> float:
        v = person.get(key)
        return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else math.nan

    def encode(self, person: dict[str, Any]) -> np.ndarray:
        nums = np.array([self._num(person, k) for k in self.numeric], dtype=float)
        z = np.where(np.isnan(nums), 0.0, (nums - self.mean) / self.std)  # missing → mean
        cats = [
            1.0 if str(person.get(k)) == level else 0.0
            for k, levels in self.categorical.items()
            for level in levels
        ]
        return np.concatenate([z, np.array(cats)])


@simulator("knn_persona")
class KnnPersonaSimulator:
    """Answers of the k training respondents most similar by persona attributes."""

    learns_from_people = True
    """Fit on training people: refused by a split that leaves none."""

    def __init__(self, k: int = 15, alpha: float = 1.0, label: str | None = None) -> None:
        if k < 1:
            raise ValueError(f"knn_persona: k must be at least 1, not {k}")
        self.k = k
        self.alpha = alpha
        self.label = label or "knn_persona"
        self._items = _ItemCounts()
        self._by_item: dict[str, tuple[np.ndarray, list[str]]] = {}
        self._space: _PersonaSpace | None = None

    def fit(self, train: Sequence[Trial]) -> None:
        self._items.fit(train)
        people = {t.person.person_id: t.person.attributes for t in train}
        self._space = _PersonaSpace(list(people.values()))
        rows: dict[str, tuple[list[np.ndarray], list[str]]] = defaultdict(lambda: ([], []))
        for t in train:
            if t.target.value is not None:
                vecs, answers = rows[t.item_id]
                vecs.append(self._space.encode(t.person.attributes))
                answers.append(t.target.value)
        self._by_item = {item: (np.vstack(v), a) for item, (v, a) in rows.items()}

    def identity(self) -> dict[str, Any]:
        return {"simulator": "knn_persona", "k": self.k, "alpha": self.alpha}

    async def answer(self, trial: TrialInput) -> Answer:
        codes = trial.observation.option_codes()
        if not codes:
            return _not_applicable()
        counts = self._items.counts.get(trial.item_id, Counter())
        if self._items.unknown:
            return _not_applicable(NO_KNOWN_ANSWERS)
        if self._space is None or trial.item_id not in self._by_item:
            return Answer(
                error=f"no training answers for item {trial.item_id!r}", error_kind="invalid"
            )
        if trial.persona is None:  # nothing to match on: the majority answer
            return Answer(
                choice=_mode(counts, codes),
                value={"answer": _mode(counts, codes)},
                probabilities=_shares(counts, codes, self.alpha),
                raw="no persona: majority of training answers",
            )
        vecs, answers = self._by_item[trial.item_id]
        dist = np.linalg.norm(vecs - self._space.encode(trial.persona.attributes), axis=1)
        nearest = np.argsort(dist, kind="stable")[: self.k]
        near = Counter(answers[i] for i in nearest)
        top = max(near.values())
        tied = [c for c in codes if near[c] == top]
        # ties between neighbours' answers are broken by the overall majority
        choice = max(tied, key=lambda c: counts[c]) if len(tied) > 1 else tied[0]
        return Answer(
            choice=choice,
            value={"answer": choice},
            probabilities=_shares(near, codes, self.alpha),
            raw=f"{len(nearest)} nearest training respondents: {dict(near)}",
        )


# -- position and chance references for any task with options --------------------------


@simulator("first_option")
class FirstOptionSimulator:
    """Always the first option as shown (the position-bias reference)."""

    def __init__(self, label: str | None = None) -> None:
        self.label = label or "first_option"

    def fit(self, train: Sequence[Trial]) -> None:
        """Learns nothing."""

    def identity(self) -> dict[str, Any]:
        return {"simulator": "first_option"}

    async def answer(self, trial: TrialInput) -> Answer:
        codes = trial.observation.option_codes()
        if not codes:
            return _not_applicable()
        return Answer(
            choice=codes[0],
            value={"answer": codes[0]},
            raw="the first option shown",
        )


@simulator("random_option")
class RandomOptionSimulator:
    """A uniformly random option, seeded by (seed, item, trial); uniform probabilities."""

    def __init__(self, seed: int = 0, label: str | None = None) -> None:
        self.seed = seed
        self.label = label or "random_option"

    def fit(self, train: Sequence[Trial]) -> None:
        """Learns nothing."""

    def identity(self) -> dict[str, Any]:
        return {"simulator": "random_option", "seed": self.seed}

    async def answer(self, trial: TrialInput) -> Answer:
        codes = trial.observation.option_codes()
        if not codes:
            return _not_applicable()
        key = stable_hash("random-option", self.seed, trial.item_id, trial.meta)
        choice = random.Random(key).choice(codes)
        return Answer(
            choice=choice,
            value={"answer": choice},
            probabilities={c: 1.0 / len(codes) for c in codes},
            raw="a uniformly random option",
        )
