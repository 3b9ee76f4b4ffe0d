"""Numeric, ordered and keyed survey questions (issue 16 §2, §3): the mapping accepts them and
refuses what cannot be one (naming file, question and field), the loader reads continuous
values (errors name file, line, column and question), and the survey task asks for a number in
the range and scores it as 1 − |h − s| / range; plain questions keep their records."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from behaviorlab.data import SurveyMapping, SurveyMappingError, load_survey_file, survey_from_frame
from behaviorlab.families.survey import SurveyTask
from behaviorlab.models import MockBackend
from behaviorlab.simulators import Answer, LLMSimulator


def _mapping(**question: Any) -> dict[str, Any]:
    q = {"column": "temp", "text": "How warm is it, from 0 to 10?"} | question
    return {"name": "t", "id_column": "pid", "questions": [q]}


NUMERIC = _mapping(type="numeric", range=[0, 10])
TABLE = "pid,age,temp,lik,quiz\na,30,3.5,1,x\nb,40,7,5,y\nc,50,10,3,x\n"


def _full() -> dict[str, Any]:
    return {
        "name": "t",
        "id_column": "pid",
        "persona": [{"column": "age", "template": "You are {value} years old."}],
        "questions": [
            {"column": "temp", "text": "How warm?", "type": "numeric", "range": [0, 10]},
            {"column": "lik", "text": "Agree?", "options": dict.fromkeys(range(1, 6), "x")}
            | {"ordered": True},
            {"column": "quiz", "text": "2+2?", "options": {"x": "4", "y": "5"}, "answer": "x"},
        ],
    }


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ({"type": "numeric", "range": [0, 10], "options": {1: "a", 2: "b"}}, "has no options"),
        ({"type": "numeric", "range": [10, 0]}, "finite lo < hi"),
        ({"options": {1: "a", 2: "b"}, "range": [0, 1]}, "range applies to numeric"),
        ({}, "needs options (code: label), or type: numeric"),
        ({"options": {"lo": "a", "hi": "b"}, "ordered": True}, "not numbers: 'hi', 'lo'"),
        ({"options": {"x": "a", "y": "b"}, "answer": "z"}, "answer 'z' is not one of"),
        ({"type": "numeric", "answer": 3}, "applies to questions with options"),
    ],
)
def test_a_question_that_cannot_be_one_names_file_question_and_field(
    tmp_path: Path, question: dict[str, Any], expected: str
) -> None:
    path = tmp_path / "mapping.yaml"
    path.write_text(yaml.safe_dump(_mapping(**question)))
    with pytest.raises(SurveyMappingError) as info:
        SurveyMapping.from_yaml(path)
    message = str(info.value)
    assert str(path) in message and "questions[0]" in message and "'temp'" in message
    assert expected in message, message


def test_a_continuous_value_loads_as_a_number_and_an_option_question_hints_numeric(
    tmp_path: Path,
) -> None:
    data = tmp_path / "survey.csv"
    data.write_text(TABLE)
    ds = load_survey_file(data, NUMERIC)
    assert [ep.steps[0].action.value for ep in ds.episodes] == ["3.5", "7", "10"]
    obs = ds.episodes[0].steps[0].observation
    assert obs.options is None and obs.meta["answer_type"] == "numeric"
    assert obs.meta["range"] == [0.0, 10.0]
    # today's error for the same column read as codes, now with what to do
    coded = _mapping(options={1: "cold", 10: "hot"})
    with pytest.raises(ValueError, match="declare the question type: numeric") as info:
        load_survey_file(data, coded)
    assert f"line 2 of {data}" in str(info.value) and "column 'temp'" in str(info.value)


@pytest.mark.parametrize(("value", "problem"), [("11", "outside"), ("warm", "is not a number")])
def test_a_bad_numeric_value_names_file_line_column_and_question(
    tmp_path: Path, value: str, problem: str
) -> None:
    data = tmp_path / "survey.csv"
    data.write_text(TABLE.replace("b,40,7,", f"b,40,{value},"))
    with pytest.raises(ValueError) as info:
        load_survey_file(data, NUMERIC)
    message = str(info.value)
    assert f"line 3 of {data}" in message and "column 'temp'" in message, message
    assert "numeric question 'temp'" in message and problem in message
    skipped = load_survey_file(data, NUMERIC, on_invalid="skip")
    assert skipped.meta["skipped_values"] == 1 and len(skipped.episodes) == 2


def test_a_numeric_question_without_range_records_where_it_is_defined(tmp_path: Path) -> None:
    path = tmp_path / "mapping.yaml"
    path.write_text(yaml.safe_dump(_mapping(type="numeric")))
    ds = survey_from_frame(pd.DataFrame({"pid": ["a"], "temp": [120.5]}), path)
    meta = ds.episodes[0].steps[0].observation.meta
    assert meta["range"] is None and meta["defined_in"] == str(path)


def test_the_survey_task_asks_for_a_number_and_scores_by_the_range() -> None:
    ds = survey_from_frame(pd.read_csv(io.StringIO(TABLE)), _full())
    task = SurveyTask()
    trials = {(t.person_id, t.item_id): t for t in task.trials(ds, seed=0)}
    numeric = trials["a", "temp"]
    schema = numeric.input.answer_schema["properties"]["answer"]
    assert schema == {
        "type": "number",
        "minimum": 0.0,
        "maximum": 10.0,
        "description": "a number from 0 to 10",
    }
    assert numeric.input.observation.options is None
    assert numeric.input.meta["answer_type"] == "numeric"
    assert task.score(numeric, Answer(choice="5")) == {"abs_error": 1.5, "correct": 0.85}
    assert task.score(numeric, Answer(value={"answer": 0})) == {"abs_error": 3.5, "correct": 0.65}
    assert task.score(numeric, Answer(choice="warm")) == {}
    # a value outside the range (an imported answer) is flagged, its accuracy held to [0, 1]
    assert task.score(numeric, Answer(choice="25")) == {
        "abs_error": 21.5,
        "correct": 0.0,
        "out_of_range": 1.0,
    }
    assert task.score(numeric, Answer(choice="-1"))["correct"] == pytest.approx(0.55)
    ordered = trials["b", "lik"]  # person b answered 5 on a 1..5 scale
    # the row keeps the scale's points: a uniformly random answer is one of them
    assert ordered.input.meta["codes"] == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert "codes" not in numeric.input.meta
    assert task.score(ordered, Answer(choice="4")) == {"correct": 0.0, "scale_accuracy": 0.75}
    keyed = trials["b", "quiz"]  # b answered y, the key is x
    assert "answer_key" not in keyed.input.model_dump_json()  # the subject never sees the key
    assert task.score(keyed, Answer(choice="x")) == {
        "correct": 0.0,
        "key_correct": 1.0,
        "human_correct": 0.0,
    }


def test_an_llm_answers_a_numeric_question_through_the_schema() -> None:
    ds = survey_from_frame(pd.read_csv(io.StringIO(TABLE)), _full(), targets="temp")
    task = SurveyTask()
    trial = task.trials(ds, seed=0)[0]
    llm = LLMSimulator(MockBackend(script=['{"answer": 4.0}', '{"answer": 12}']), answer="generate")
    answer = asyncio.run(llm.answer(trial.input))
    assert answer.ok and answer.choice == "4", answer
    assert task.score(trial, answer) == {"abs_error": 0.5, "correct": 0.95}
    out_of_range = asyncio.run(llm.answer(trial.input))
    assert out_of_range.error_kind == "invalid"  # 12 is outside [0, 10]


def test_a_plain_question_keeps_its_records() -> None:
    mapping = {
        "name": "t",
        "questions": [{"column": "quiz", "text": "2+2?", "options": {"x": "4", "y": "5"}}],
    }
    ds = survey_from_frame(pd.DataFrame({"quiz": ["x", "y"]}), mapping)
    step = ds.episodes[0].steps[0]
    assert step.observation.meta == {"question_id": "quiz"} and step.action.attributes == {}
    assert ds.meta["mapping"]["questions"][0] == {
        "column": "quiz",
        "id": None,
        "text": "2+2?",
        "options": {"x": "4", "y": "5"},
        "paraphrases": [],
    }
    trial = SurveyTask().trials(ds, seed=0)[0]
    assert set(trial.input.meta) == {"option_order_seed"}
    assert SurveyTask().score(trial, Answer(choice="x")) == {"correct": 1.0}


def test_train_mean_answers_numeric_and_ordered_questions_with_the_training_mean() -> None:
    from behaviorlab.simulators import simulators

    ds = survey_from_frame(pd.read_csv(io.StringIO(TABLE)), _full())
    task = SurveyTask()
    trials = task.trials(ds, seed=0)
    baseline = simulators.get("train_mean")()
    train = [t for t in trials if t.person_id != "c"]
    baseline.fit(train)
    asked = {t.item_id: asyncio.run(baseline.answer(t.input)) for t in trials if t.person_id == "c"}
    assert asked["temp"].choice == "5.25"  # (3.5 + 7) / 2
    assert asked["lik"].choice == "3"  # the code nearest (1 + 5) / 2
    # the exact mean travels in the row's meta (numeric_outcomes' people_mean baseline)
    assert asked["temp"].meta == {"training_mean": 5.25, "training_n": 2}
    assert asked["lik"].meta == {"training_mean": 3.0, "training_n": 2}
    assert asked["quiz"].meta == {"not_applicable": True} and asked["quiz"].choice is None
    keyed = next(t for t in trials if t.person_id == "c" and t.item_id == "quiz")
    assert task.score(keyed, asked["quiz"]) == {}  # unscored, not wrong


def test_train_mean_leaves_an_item_no_training_person_answered_unanswered() -> None:
    """No mean over other items (their scales differ): not applicable, hence unscored."""
    from behaviorlab.simulators import simulators

    ds = survey_from_frame(pd.read_csv(io.StringIO(TABLE)), _full())
    task = SurveyTask()
    trials = task.trials(ds, seed=0)
    baseline = simulators.get("train_mean")()
    baseline.fit([t for t in trials if t.person_id != "c" and t.item_id != "temp"])
    temp = next(t for t in trials if t.person_id == "c" and t.item_id == "temp")
    answer = asyncio.run(baseline.answer(temp.input))
    assert answer.error is None and answer.choice is None
    assert answer.meta == {"not_applicable": True} and "no training person" in answer.raw
    assert task.score(temp, answer) == {}
