from __future__ import annotations

import asyncio
from collections import Counter

from behaviorlab.data import Dataset
from behaviorlab.families.survey import SurveyTask
from behaviorlab.simulators import KnnPersonaSimulator, MajoritySimulator
from behaviorlab.tasks import split_by_person


def _split(survey: Dataset):  # type: ignore[no-untyped-def]
    trials = SurveyTask().trials(survey, seed=0)
    return split_by_person(trials, {f"p{i:03d}" for i in range(0, 40, 2)})


def test_majority_answers_training_mode_with_smoothed_shares(survey: Dataset) -> None:
    train, test = _split(survey)
    sim = MajoritySimulator(alpha=1.0)
    sim.fit(train)
    for item in ("q1", "q2"):
        counts = Counter(t.target.value for t in train if t.item_id == item)
        t = next(x for x in test if x.item_id == item)
        ans = asyncio.run(sim.answer(t.input))
        assert ans.choice == counts.most_common(1)[0][0]
        codes = t.input.observation.option_codes()
        total = sum(counts.values()) + len(codes)
        assert ans.probabilities == {c: (counts[c] + 1) / total for c in codes}


def test_knn_with_k_covering_everyone_equals_majority(survey: Dataset) -> None:
    train, test = _split(survey)
    knn, maj = KnnPersonaSimulator(k=10_000), MajoritySimulator()
    knn.fit(train)
    maj.fit(train)
    for t in test:
        assert asyncio.run(knn.answer(t.input)).choice == asyncio.run(maj.answer(t.input)).choice


def test_knn_uses_the_persona_shown(survey: Dataset) -> None:
    train, test = _split(survey)
    knn = KnnPersonaSimulator(k=5)
    knn.fit(train)
    q1 = [t for t in test if t.item_id == "q1"]
    left = next(t for t in q1 if t.person.attributes["party"] == "left")
    right = next(t for t in q1 if t.person.attributes["party"] == "right")
    # in the synthetic data, vote follows party 85% of the time
    assert asyncio.run(knn.answer(left.input)).choice == "0"
    assert asyncio.run(knn.answer(right.input)).choice == "1"
    # swapping the persona swaps the answer: the baseline reads the persona it is given
    swapped = left.input.model_copy(update={"persona": right.person})
    assert asyncio.run(knn.answer(swapped)).choice == "1"
    # without a persona it falls back to the majority
    nop = asyncio.run(knn.answer(left.input.model_copy(update={"persona": None})))
    assert nop.raw.startswith("no persona")


def test_knn_beats_majority_when_persona_predicts(survey: Dataset) -> None:
    train, test = _split(survey)
    knn, maj = KnnPersonaSimulator(k=5), MajoritySimulator()
    knn.fit(train)
    maj.fit(train)
    q1 = [t for t in test if t.item_id == "q1"]
    acc_knn = sum(asyncio.run(knn.answer(t.input)).choice == t.target.value for t in q1) / len(q1)
    acc_maj = sum(asyncio.run(maj.answer(t.input)).choice == t.target.value for t in q1) / len(q1)
    assert acc_knn > acc_maj
