"""Non-LLM baselines for the ``next_action`` task: yardsticks next to every LLM simulator.

Each sees what an LLM sees, the trial input (persona, the history as shown, the page as cut:
its text and ``observation.meta["elements"]``), plus the training trials (other people's
steps under the runner's split by person; also the person's earlier sessions under a split by
session). None reads the raw HTML or the human's action. Targets are always chosen among the
elements on the page as shown. (docs/next-action.md has the details.)

- ``majority_action``: the most common (action type, click type, target) among training steps
  whose target is on the page (a terminate always is); ``on_page=False``: the single most
  common one, whatever the page.
- ``markov``: a Markov chain over (action type, click type): the most likely next state given
  the state of the last step in the history (``start`` when there is none). The target is the
  element on the page most often acted on with that state in training; a state with no such
  element gives way to the next most likely. ``per_user=True`` adds this person's own
  transitions and targets (from the history shown and from training sessions that started
  earlier), backed off to the global chain: a state's score is the person's count plus the
  global probability.
- ``nearest_step``: the action taken at the most similar earlier observation of the same
  person (earlier steps in the history shown, training steps of their earlier sessions); if
  none reaches ``min_similarity``, the most similar step of anyone's (training steps and
  the person's own). Similarity: ``0.5 * Jaccard(page words) + 0.5 * Jaccard(element ids)``.
  A step whose target is not on the current page is passed over.
- ``first_product_link``: click the first product link on the page (a link in a product card,
  or an element whose id ends in ``product_title`` / ``product_image`` / ``product_link``),
  preferring the title link of that card; terminate when there is none.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from behaviorlab.data._records import Action
from behaviorlab.families.next_action._actions import ACTION_TYPES, compact, page_words
from behaviorlab.families.next_action._page import PRODUCT_LINK_PARTS
from behaviorlab.simulators._base import Answer, simulator
from behaviorlab.tasks._base import Trial, TrialInput

State = tuple[str, str]
"""(action type, click type or "")."""
START: State = ("start", "")
TERMINATE: State = ("terminate", "")


def _state(action: Action) -> State:
    return (action.action_type, str(action.attributes.get("click_type") or ""))


def _elements(trial: TrialInput) -> list[dict[str, Any]]:
    elements: list[dict[str, Any]] = trial.observation.meta.get("elements", [])
    return elements


def _ids(trial: TrialInput) -> list[str]:
    return [str(e["id"]) for e in _elements(trial)]


def _reply(
    action_type: str,
    click_type: str = "",
    target: str = "",
    text: str = "",
    why: str = "",
) -> Answer:
    value = {
        "action_type": action_type,
        "click_type": click_type,
        "semantic_id": target,
        "input_text": text,
        "rationale": "",
    }
    return Answer(choice=compact(action_type, target, text), value=value, raw=why)


def _earlier(a: str | None, b: str | None) -> bool:
    """Whether a session starting at ``a`` started before one starting at ``b``."""
    return a is not None and b is not None and a < b


def _best(allowed: Iterable[str], *counts: Counter[str]) -> str | None:
    """The allowed key counted most often: by the first counter, ties by the next, then by
    the key itself; None when no counter holds any allowed key."""
    present = [x for x in allowed if any(c[x] > 0 for c in counts)]
    return max(present, key=lambda x: (*(c[x] for c in counts), x)) if present else None


@simulator("majority_action")
class MajorityActionSimulator:
    """The most common (action type, click type, target) among training steps on the page."""

    learns_from_people = True
    """Fit on training people: refused by a split that leaves none."""

    def __init__(self, on_page: bool = True, label: str | None = None) -> None:
        self.on_page = on_page
        self.label = label or "majority_action"
        self.counts: Counter[tuple[str, str, str]] = Counter()
        self.texts: dict[str, Counter[str]] = defaultdict(Counter)

    def fit(self, train: Sequence[Trial]) -> None:
        self.counts.clear()
        self.texts.clear()
        for t in train:
            kind, click = _state(t.target)
            self.counts[(kind, click, t.target.target or "")] += 1
            if kind == "input" and t.target.value is not None:
                self.texts[t.target.target or ""][t.target.value] += 1

    def identity(self) -> dict[str, Any]:
        return {"simulator": "majority_action", "on_page": self.on_page}

    async def answer(self, trial: TrialInput) -> Answer:
        ids = set(_ids(trial))
        ranked = sorted(self.counts.items(), key=lambda kv: (-kv[1], kv[0]))
        for (kind, click, target), n in ranked:
            if kind == "terminate" or not self.on_page or target in ids:
                typed = self.texts.get(target)
                text = typed.most_common(1)[0][0] if typed else ""
                return _reply(kind, click, target, text, f"seen {n} times in training")
        return _reply("terminate", why="no training step fits this page")


@dataclass
class _Chain:
    """Transition counts between states and target counts per state."""

    moves: dict[State, Counter[State]]
    targets: dict[State, Counter[str]]
    texts: dict[str, Counter[str]]

    @classmethod
    def empty(cls) -> _Chain:
        return cls(defaultdict(Counter), defaultdict(Counter), defaultdict(Counter))

    def add(self, before: State, action: Action) -> None:
        now = _state(action)
        self.moves[before][now] += 1
        if action.target:
            self.targets[now][action.target] += 1
        if action.action_type == "input" and action.value is not None:
            self.texts[action.target or ""][action.value] += 1


def _sessions(train: Sequence[Trial]) -> dict[str, list[Trial]]:
    by_episode: dict[str, list[Trial]] = defaultdict(list)
    for t in train:
        by_episode[t.episode_id].append(t)
    return {k: sorted(v, key=lambda t: t.step_index) for k, v in by_episode.items()}


@simulator("markov")
class MarkovSimulator:
    """Markov chain over (action type, click type); targets by training frequency on the page."""

    learns_from_people = True
    """Fit on training people: refused by a split that leaves none."""

    def __init__(self, per_user: bool = False, label: str | None = None) -> None:
        self.per_user = per_user
        self.label = label or ("markov_user" if per_user else "markov")
        self.chain = _Chain.empty()
        self.own: dict[str, list[tuple[str | None, State, Action]]] = defaultdict(list)

    def fit(self, train: Sequence[Trial]) -> None:
        self.chain = _Chain.empty()
        self.own.clear()
        for steps in _sessions(train).values():
            for prev, t in zip([None, *steps[:-1]], steps, strict=True):
                if prev is None and t.step_index != 0:
                    continue  # the step before is unknown
                before = START if prev is None else _state(prev.target)
                self.chain.add(before, t.target)
                self.own[t.person_id].append((t.input.meta.get("session_start"), before, t.target))

    def identity(self) -> dict[str, Any]:
        return {"simulator": "markov", "per_user": self.per_user}

    def _personal(self, trial: TrialInput) -> _Chain:
        mine = _Chain.empty()
        start = trial.meta.get("session_start")
        for when, before, action in self.own.get(trial.person_id, []):
            if _earlier(when, start):
                mine.add(before, action)
        steps = [s for s in trial.history if s.action.action_type in ACTION_TYPES]
        for i, step in enumerate(steps):
            if i == 0 and step.index != 0:
                continue
            mine.add(START if i == 0 else _state(steps[i - 1].action), step.action)
        return mine

    async def answer(self, trial: TrialInput) -> Answer:
        steps = [s for s in trial.history if s.action.action_type in ACTION_TYPES]
        before = _state(steps[-1].action) if steps else START
        row = self.chain.moves.get(before) or Counter(
            s for c in self.chain.moves.values() for s in c.elements()
        )
        total = sum(row.values()) or 1
        score: dict[State, float] = {s: n / total for s, n in row.items()}
        mine = self._personal(trial) if self.per_user else None
        if mine is not None:
            for s, n in mine.moves.get(before, Counter()).items():
                score[s] = score.get(s, 0.0) + n
        ids = _ids(trial)
        for state in sorted(score, key=lambda s: (-score[s], s)):
            kind, click = state
            if state == TERMINATE:
                return _reply("terminate", why=f"after {before}: terminate")
            everyone = self.chain.targets.get(state, Counter())
            # the person's own targets first, then everyone's
            own = mine.targets.get(state, Counter()) if mine is not None else Counter()
            target = _best(ids, own, everyone)
            if target is None:
                continue
            typed = mine.texts.get(target) if mine is not None else None
            texts = typed or self.chain.texts.get(target, Counter())
            text = texts.most_common(1)[0][0] if texts else ""
            return _reply(kind, click, target, text, f"after {before}: {state}")
        return _reply("terminate", why=f"after {before}: no state with a target on this page")


@dataclass(frozen=True)
class _Seen:
    person_id: str
    session_start: str | None
    words: frozenset[str]
    ids: frozenset[str]
    action: Action


def _similarity(a_words: frozenset[str], a_ids: frozenset[str], b: _Seen) -> float:
    def jaccard(x: frozenset[str], y: frozenset[str]) -> float:
        union = len(x) + len(y) - len(x & y)
        return len(x & y) / union if union else 0.0

    return 0.5 * jaccard(a_words, b.words) + 0.5 * jaccard(a_ids, b.ids)


@simulator("nearest_step")
class NearestStepSimulator:
    """The action at the most similar earlier observation: the person's own, then anyone's."""

    learns_from_people = True
    """Fit on training people: refused by a split that leaves none."""

    def __init__(self, min_similarity: float = 0.5, label: str | None = None) -> None:
        self.min_similarity = min_similarity
        self.label = label or "nearest_step"
        self.seen: list[_Seen] = []

    @staticmethod
    def _features(trial: TrialInput) -> tuple[frozenset[str], frozenset[str]]:
        return page_words(trial.observation.content), frozenset(_ids(trial))

    def fit(self, train: Sequence[Trial]) -> None:
        self.seen = []
        for t in train:
            words, ids = self._features(t.input)
            start = t.input.meta.get("session_start")
            self.seen.append(_Seen(t.person_id, start, words, ids, t.target))

    def identity(self) -> dict[str, Any]:
        return {"simulator": "nearest_step", "min_similarity": self.min_similarity}

    async def answer(self, trial: TrialInput) -> Answer:
        words, ids = self._features(trial)
        start = trial.meta.get("session_start")
        own = [
            s
            for s in self.seen
            if s.person_id == trial.person_id and _earlier(s.session_start, start)
        ]
        for step in trial.history:
            if step.action.action_type in ACTION_TYPES:
                elements = step.observation.meta.get("elements", [])
                own.append(
                    _Seen(
                        trial.person_id,
                        start,
                        page_words(step.observation.content),
                        frozenset(str(e["id"]) for e in elements),
                        step.action,
                    )
                )
        others = [s for s in self.seen if s.person_id != trial.person_id]
        for pool, who in ((own, "own"), (own + others, "any")):
            # the most similar first; among equals the most recent (own steps are in time order)
            ranked = sorted(
                ((_similarity(words, ids, s), i, s) for i, s in enumerate(pool)),
                key=lambda r: (-r[0], -r[1]),
            )
            for sim, _, s in ranked:
                if who == "own" and sim < self.min_similarity:
                    break
                a = s.action
                if a.action_type == "terminate" or (a.target and a.target in ids):
                    return _reply(
                        a.action_type,
                        str(a.attributes.get("click_type") or ""),
                        a.target or "",
                        a.value or "",
                        f"{who} step, similarity {sim:.3f}",
                    )
        return _reply("terminate", why="no earlier step with a target on this page")


def product_link(element: dict[str, Any]) -> bool:
    """A link in a product card, or an element whose id ends in a product-link part."""
    last = str(element["id"]).rsplit(".", 1)[-1]
    return last in PRODUCT_LINK_PARTS or (
        bool(element.get("product")) and element.get("role") == "link"
    )


@simulator("first_product_link")
class FirstProductLinkSimulator:
    """Click the first product link on the page (its card's title link if it has one)."""

    def __init__(self, label: str | None = None) -> None:
        self.label = label or "first_product_link"

    def fit(self, train: Sequence[Trial]) -> None:
        """A fixed rule: nothing to learn."""

    def identity(self) -> dict[str, Any]:
        return {"simulator": "first_product_link"}

    async def answer(self, trial: TrialInput) -> Answer:
        links = [str(e["id"]) for e in _elements(trial) if product_link(e)]
        if not links:
            return _reply("terminate", why="no product link on this page")
        card = links[0].rsplit(".", 1)[0]
        title = f"{card}.product_title"
        target = title if title in links else links[0]
        return _reply("click", "product_link", target, why="first product link")
