"""Baselines for next_action: each a fair yardstick, checked against an independent count."""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from pathlib import Path

import pytest

from behaviorlab.data import Dataset, load_opera, make_synthetic_opera
from behaviorlab.families.next_action import (
    FirstProductLinkSimulator,
    MajorityActionSimulator,
    MarkovSimulator,
    NearestStepSimulator,
    NextActionTask,
    split_by_session,
    validation_schema,
)
from behaviorlab.simulators import Answer, simulators
from behaviorlab.simulators._prompts import schema_problem
from behaviorlab.tasks import Trial, TrialInput, split_by_person


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    root: Path = make_synthetic_opera(
        tmp_path_factory.mktemp("opera"), users=6, sessions_per_user=2
    )
    return load_opera(root).dataset


@pytest.fixture(scope="module")
def trials(shop: Dataset) -> list[Trial]:
    return NextActionTask(budget=None).trials(shop, seed=0)


@pytest.fixture(scope="module")
def by_person(trials: list[Trial]) -> tuple[list[Trial], list[Trial]]:
    people = sorted({t.person_id for t in trials})
    return split_by_person(trials, set(people[::2]))


def ask(sim: object, trial: TrialInput) -> Answer:
    answer: Answer = asyncio.run(sim.answer(trial))  # type: ignore[attr-defined]
    return answer


def ids_on(t: Trial) -> list[str]:
    return [e["id"] for e in t.input.observation.meta["elements"]]


ALL = [
    MajorityActionSimulator,
    MarkovSimulator,
    lambda: MarkovSimulator(per_user=True),
    NearestStepSimulator,
    FirstProductLinkSimulator,
]


@pytest.mark.parametrize("make", ALL)
def test_every_baseline_answers_validly_with_targets_on_the_page(
    make: object, by_person: tuple[list[Trial], list[Trial]]
) -> None:
    train, test = by_person
    sim = make()  # type: ignore[operator]
    sim.fit(train)
    for t in test:
        ans = ask(sim, t.input)
        assert ans.ok and ans.value is not None and ans.choice
        assert schema_problem(ans.value, validation_schema(t.input.answer_schema)) is None
        if ans.value["action_type"] != "terminate":
            assert ans.value["semantic_id"] in ids_on(t)


def test_registered_names() -> None:
    for name in ("majority_action", "markov", "nearest_step", "first_product_link"):
        assert name in simulators
    assert simulators.get("markov")(per_user=True).label == "markov_user"


def test_majority_action_is_the_most_common_training_step_on_the_page(
    by_person: tuple[list[Trial], list[Trial]],
) -> None:
    train, test = by_person
    counts = Counter(
        (t.target.action_type, t.target.attributes.get("click_type") or "", t.target.target or "")
        for t in train
    )
    sim = MajorityActionSimulator()
    sim.fit(train)
    for t in test:
        fits = [(k, n) for k, n in counts.items() if k[0] == "terminate" or k[2] in set(ids_on(t))]
        best = max(n for _, n in fits)
        ans = ask(sim, t.input)
        assert ans.value is not None
        got = (ans.value["action_type"], ans.value["click_type"], ans.value["semantic_id"])
        assert counts[got] == best
    fixed = MajorityActionSimulator(on_page=False)
    fixed.fit(train)
    assert len({ask(fixed, t.input).choice for t in test}) == 1


def test_markov_follows_the_most_likely_transition(
    by_person: tuple[list[Trial], list[Trial]],
) -> None:
    train, test = by_person
    sim = MarkovSimulator()
    sim.fit(train)
    # independent count of the start row: the first step of every training session
    first = Counter(
        (t.target.action_type, t.target.attributes.get("click_type") or "")
        for t in train
        if t.step_index == 0
    )
    # under no history the chain starts over: any step is answered like a first step (the
    # search box it usually starts with is on every page)
    for t in test:
        blank = t.input.model_copy(update={"history": []})
        ans = ask(sim, blank if t.step_index else t.input)
        assert ans.value is not None
        state = (ans.value["action_type"], ans.value["click_type"])
        assert first[state] == max(first.values())


def test_markov_per_user_uses_only_what_the_person_did_before(
    trials: list[Trial],
) -> None:
    train, test = split_by_session(trials)  # a person's earlier sessions are in train
    mine = MarkovSimulator(per_user=True)
    mine.fit(train)
    alone = MarkovSimulator(per_user=True)
    alone.fit([t for t in train if t.person_id != test[0].person_id])
    flat = MarkovSimulator()
    flat.fit(train)
    differs = 0
    for t in test:
        a, b = ask(mine, t.input), ask(flat, t.input)
        differs += a.choice != b.choice
    assert differs > 0  # the person's own habits change some predictions
    # a training session of the same person that started later is never used as theirs: the
    # same steps given to somebody else (same global counts) predict the same
    who = test[0].person_id

    def moved(u: Trial, person_id: str, start: str) -> Trial:
        meta = {**u.input.meta, "session_start": start}
        new = u.input.model_copy(update={"person_id": person_id, "meta": meta})
        return u.model_copy(update={"input": new})

    others = [t for t in train if t.person_id != who]
    own = [t for t in train if t.person_id == who]
    future = MarkovSimulator(per_user=True)
    future.fit(others + [moved(u, who, "9999-01-01") for u in own])
    stranger = MarkovSimulator(per_user=True)
    stranger.fit(others + [moved(u, "somebody-else", "0000-01-01") for u in own])
    past = MarkovSimulator(per_user=True)
    past.fit(others + [moved(u, who, "0000-01-01") for u in own])
    mine_now = [x for x in test if x.person_id == who]
    assert [ask(future, t.input).choice for t in mine_now] == [
        ask(stranger, t.input).choice for t in mine_now
    ]
    assert [ask(past, t.input).choice for t in mine_now] == [
        ask(mine, t.input).choice for t in mine_now
    ]


def test_nearest_step_copies_the_most_similar_earlier_step(trials: list[Trial]) -> None:
    sim = NearestStepSimulator(min_similarity=0.0)
    sim.fit([])  # only the person's own history
    for t in trials:
        if not t.input.history:
            continue
        ans = ask(sim, t.input)
        assert ans.value is not None
        if ans.value["action_type"] == "terminate" and not any(
            s.action.action_type == "terminate" for s in t.input.history
        ):
            assert all(s.action.target not in ids_on(t) for s in t.input.history)
            continue
        copied = [
            s
            for s in t.input.history
            if (s.action.target or "") == ans.value["semantic_id"]
            and s.action.action_type == ans.value["action_type"]
        ]
        assert copied, "the answer is an action from the history"
        assert "own step" in ans.raw


def test_nearest_step_falls_back_to_others_and_never_sees_the_future(
    by_person: tuple[list[Trial], list[Trial]],
) -> None:
    train, test = by_person
    sim = NearestStepSimulator(min_similarity=1.1)  # own steps never good enough
    sim.fit(train)
    first = next(t for t in test if t.step_index == 0)
    ans = ask(sim, first.input)
    assert ans.ok and "any step" in ans.raw
    # the person's own steps from a later session are not used
    own_later = [
        t.model_copy(
            update={
                "person": first.person,
                "input": t.input.model_copy(
                    update={
                        "person_id": first.person_id,
                        "meta": {**t.input.meta, "session_start": "9999"},
                    }
                ),
            }
        )
        for t in train[:40]
    ]
    spy = NearestStepSimulator(min_similarity=0.0)
    spy.fit(own_later)
    got = ask(spy, first.input)
    assert "own step" not in got.raw


def _first_title(html: str) -> str | None:
    match = re.search(r'name="([^"]+\.product_title)"', html)
    return match.group(1) if match else None


def test_first_product_link_matches_the_first_title_link_in_the_html(
    shop: Dataset, trials: list[Trial]
) -> None:
    sim = FirstProductLinkSimulator()
    sim.fit([])
    steps = {(e.episode_id, s.index): s for e in shop.episodes for s in e.steps}
    kinds = Counter()
    for t in trials:
        want = _first_title(steps[(t.episode_id, t.step_index)].observation.content)
        got = ask(sim, t.input)
        assert got.choice == (f"click:{want}" if want else "terminate")
        kinds[got.choice.split(":")[0]] += 1
    assert kinds["click"] and kinds["terminate"]
