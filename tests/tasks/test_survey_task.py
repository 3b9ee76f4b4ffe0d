from __future__ import annotations

from behaviorlab.data import Dataset
from behaviorlab.families.survey import SurveyTask
from behaviorlab.simulators import Answer
from behaviorlab.tasks import split_by_person


def test_trials_hide_the_answer_and_shuffle_options_reproducibly(survey: Dataset) -> None:
    task = SurveyTask()
    trials = task.trials(survey, seed=0)
    assert len(trials) == 2 * len(survey.persons)
    t = trials[0]
    assert "target" not in t.input.model_dump()  # the simulator never sees the human answer
    assert t.input.history == []
    again = task.trials(survey, seed=0)
    assert [x.input.observation.option_codes() for x in again] == [
        x.input.observation.option_codes() for x in trials
    ]
    other_seed = task.trials(survey, seed=1)
    orders = [x.input.observation.option_codes() for x in trials]
    assert orders != [x.input.observation.option_codes() for x in other_seed]
    # every order is a permutation of the item's codes, and more than one order occurs
    q2 = [tuple(o) for o, x in zip(orders, trials, strict=True) if x.item_id == "q2"]
    assert all(sorted(o) == ["-1", "0", "1"] for o in q2)
    assert len(set(q2)) > 1
    assert t.input.answer_schema["properties"]["answer"]["enum"] == orders[0]


def test_unshuffled_keeps_data_order(survey: Dataset) -> None:
    trials = SurveyTask(shuffle_options=False).trials(survey, seed=0)
    assert all(
        x.input.observation.option_codes() == ["-1", "0", "1"] for x in trials if x.item_id == "q2"
    )


def test_score_against_own_answer(survey: Dataset) -> None:
    task = SurveyTask()
    t = task.trials(survey, seed=0)[0]
    assert task.score(t, Answer(choice=t.target.value)) == {"correct": 1.0}
    wrong = next(c for c in t.input.observation.option_codes() if c != t.target.value)
    assert task.score(t, Answer(choice=wrong)) == {"correct": 0.0}
    assert task.human_answer(t) == t.target.value


def test_split_by_person_never_shares_people(survey: Dataset) -> None:
    trials = SurveyTask().trials(survey, seed=0)
    test_ids = {f"p{i:03d}" for i in range(0, 40, 3)}
    train, test = split_by_person(trials, test_ids)
    assert {t.person_id for t in test} == test_ids
    assert not {t.person_id for t in train} & test_ids
    assert len(train) + len(test) == len(trials)
