from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from behaviorlab.data import Dataset, Person
from behaviorlab.families.survey import SurveyTask
from behaviorlab.runs import conditions, derangement


@given(st.integers(min_value=2, max_value=60), st.integers(min_value=0, max_value=10_000))
def test_derangement_has_no_fixed_point(n: int, seed: int) -> None:
    ids = [f"p{i}" for i in range(n)]
    mapping = derangement(ids, seed)
    assert sorted(mapping.values()) == sorted(ids)
    assert all(k != v for k, v in mapping.items())
    assert derangement(ids, seed) == mapping


def test_derangement_needs_two_people() -> None:
    with pytest.raises(ValueError, match="at least two"):
        derangement(["only"], 0)


def test_builtin_conditions(survey: Dataset) -> None:
    trials = SurveyTask().trials(survey, seed=0)
    assert conditions.get("full")(trials, seed=0) == trials
    assert all(t.input.persona is None for t in conditions.get("no_persona")(trials, seed=0))
    shuffled = conditions.get("shuffled_persona")(trials, seed=0)
    for before, after in zip(trials, shuffled, strict=True):
        assert after.input.persona is not None
        assert after.input.persona.person_id != before.person_id
        assert after.person_id == before.person_id  # still scored against the real person
        assert after.target == before.target
    para = conditions.get("paraphrase")(trials, seed=0)
    for before, after in zip(trials, para, strict=True):
        assert after.input.observation.content in before.input.observation.alternatives
        assert after.input.meta["wording"] in (1, 2)
    assert {t.input.meta["wording"] for t in para} == {1, 2}


def test_paraphrase_without_alternatives_names_the_item(survey: Dataset) -> None:
    trials = SurveyTask().trials(survey, seed=0)
    bare = [
        t.model_copy(
            update={
                "input": t.input.model_copy(
                    update={
                        "observation": t.input.observation.model_copy(update={"alternatives": []})
                    }
                )
            }
        )
        for t in trials
    ]
    with pytest.raises(ValueError, match="item 'q1' has no alternative wordings"):
        conditions.get("paraphrase")(bare, seed=0)


def test_shuffled_persona_hands_over_the_shown_persona_only(survey: Dataset) -> None:
    trials = SurveyTask().trials(survey, seed=0)
    # a task that shows less than the person's record (e.g. no interview text, no hidden
    # attributes): the donor's shown persona is what moves, never its whole record
    shown = [
        t.model_copy(
            update={
                "input": t.input.model_copy(
                    update={"persona": Person(person_id=t.person_id, description="shown")}
                )
            }
        )
        for t in trials
    ]
    for before, after in zip(shown, conditions.get("shuffled_persona")(shown, seed=0), strict=True):
        persona = after.input.persona
        assert persona is not None and persona.description == "shown"
        assert persona.attributes == {} and persona.person_id != before.person_id
        assert persona.person_id == after.input.meta["persona_of"]
    hidden = [
        t.model_copy(update={"input": t.input.model_copy(update={"persona": None})}) for t in trials
    ]
    with pytest.raises(ValueError, match="survey task's trials show no persona"):
        conditions.get("shuffled_persona")(hidden, seed=0)
