"""``majority`` on an item no training person answered: the overall majority, not "invalid"
(issue 15 §3). Before, such an item gave an invalid answer, so majority's accuracy covered a
different subset of trials than the other rows."""

from __future__ import annotations

import asyncio
from collections import Counter

import pandas as pd

from behaviorlab.data import Dataset
from behaviorlab.families.survey import SurveyTask
from behaviorlab.report._document import Paragraph
from behaviorlab.report._sections import _fallback_notes
from behaviorlab.simulators import MajoritySimulator
from behaviorlab.tasks import split_by_person


def _split(survey: Dataset):  # type: ignore[no-untyped-def]
    trials = SurveyTask().trials(survey, seed=0)
    return split_by_person(trials, {f"p{i:03d}" for i in range(0, 40, 2)})


def test_an_item_no_training_person_answered_gets_the_overall_majority(survey: Dataset) -> None:
    train, test = _split(survey)
    sim = MajoritySimulator(alpha=1.0)
    sim.fit([t for t in train if t.item_id != "q1"])  # nobody in training answered q1
    t = next(x for x in test if x.item_id == "q1")
    ans = asyncio.run(sim.answer(t.input))
    assert ans.ok and ans.error is None
    codes = t.input.observation.option_codes()
    overall = Counter(x.target.value for x in train if x.item_id != "q1")
    top = max(overall[c] for c in codes)
    assert ans.choice == sorted(c for c in codes if overall[c] == top)[0]
    total = sum(overall[c] for c in codes) + len(codes)
    assert ans.probabilities == {c: (overall[c] + 1) / total for c in codes}
    assert ans.meta == {"majority_fallback": True} and "overall majority" in ans.raw
    seen = asyncio.run(sim.answer(next(x for x in test if x.item_id == "q2").input))
    assert not seen.meta  # an item with training answers is answered as before


def test_ties_go_to_the_first_code_in_sorted_order(survey: Dataset) -> None:
    train, test = _split(survey)
    t = next(x for x in test if x.item_id == "q1")
    codes = t.input.observation.option_codes()
    first, second = sorted(codes)[:2]
    tied = [x for x in train if x.target.value in (first, second) and x.item_id != "q1"]
    by_code = {c: [x for x in tied if x.target.value == c] for c in (first, second)}
    n = min(len(v) for v in by_code.values())
    sim = MajoritySimulator()
    sim.fit(by_code[second][:n] + by_code[first][:n])
    assert asyncio.run(sim.answer(t.input)).choice == first


def test_with_no_training_answers_at_all_it_says_so(survey: Dataset) -> None:
    _, test = _split(survey)
    sim = MajoritySimulator()
    sim.fit([])
    ans = asyncio.run(sim.answer(test[0].input))
    assert ans.error_kind == "invalid" and "no training answers" in (ans.error or "")


def test_the_report_names_the_fallback() -> None:
    frame = pd.DataFrame(
        {
            "simulator": ["majority"] * 3 + ["llm"],
            "condition": ["full"] * 4,
            "item_id": ["q1", "q1", "q2", "q1"],
            "meta": [{"majority_fallback": True}, {"majority_fallback": True}, {}, {}],
        }
    )
    (note,) = _fallback_notes(frame)
    assert isinstance(note, Paragraph)
    assert note.text.startswith("majority · full: 2 trials of 3 (on 1 item no training")
    assert "ties go to the option first in sorted order" in note.text
    assert _fallback_notes(frame.assign(meta=pd.Series([{}] * 4))) == []


def test_training_people_with_no_known_answer_make_majority_and_knn_not_applicable(
    survey: Dataset,
) -> None:
    """Data holding only whether each person was right (no chosen option): no training
    answer is known, so the answer-copying baselines do not apply (not an invalid row)."""
    from behaviorlab.data import Action
    from behaviorlab.simulators import KnnPersonaSimulator

    train, test = _split(survey)
    unknown = [t.model_copy(update={"target": Action(action_type="answer")}) for t in train]
    for sim in (MajoritySimulator(), KnnPersonaSimulator()):
        sim.fit(unknown)
        ans = asyncio.run(sim.answer(test[0].input))
        assert ans.error is None and ans.meta.get("not_applicable") is True, sim.label
