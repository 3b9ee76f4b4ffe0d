"""The import's path for a task whose answer is a JSON object rather than an option code: the
value is passed to the task as its answer (the object, or its one field, typed by the answer
schema and checked against it), and the task scores it; nothing is special-cased by value."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from behaviorlab.data import Dataset, load_dataset
from behaviorlab.runs import import_answers
from behaviorlab.simulators import Answer
from behaviorlab.tasks import Trial, TrialInput, task, tasks, trial_key

NAME = "import-test-number"
SCHEMA = {
    "type": "object",
    "properties": {"answer": {"type": "number", "minimum": -1, "maximum": 1}},
    "required": ["answer"],
}


class NumberTask:
    """The test survey's answers as numbers in [-1, 1], scored 1 − |h − s| / 2."""

    name = NAME

    def trials(self, dataset: Dataset, *, seed: int) -> list[Trial]:
        out = []
        for ep in dataset.episodes:
            person = dataset.persons[ep.person_id]
            for step in ep.steps:
                inp = TrialInput(
                    task=NAME,
                    item_id=str(step.observation.meta["question_id"]),
                    person_id=person.person_id,
                    persona=person,
                    observation=step.observation.model_copy(update={"options": None}),
                    answer_schema=SCHEMA,
                )
                out.append(
                    Trial(
                        key=trial_key(NAME, ep.episode_id, step.step_id, seed),
                        episode_id=ep.episode_id,
                        step_index=step.index,
                        input=inp,
                        target=step.action,
                        person=person,
                    )
                )
        return out

    def score(self, trial: Trial, answer: Answer) -> dict[str, float]:
        assert answer.value is not None
        given = float(answer.value["answer"])
        return {"correct": 1 - abs(float(str(trial.target.value)) - given) / 2}

    def human_answer(self, trial: Trial) -> str | None:
        return trial.target.value


if NAME not in tasks:
    task(NAME)(NumberTask)


def rows() -> list[dict[str, Any]]:
    ds = load_dataset("synthetic-test")
    return [
        {
            "person_id": ep.person_id,
            "item_id": str(s.observation.meta["question_id"]),
            "value": str(float(str(s.action.value)) / 2),  # half the person's number, as text
        }
        for ep in ds.episodes
        for s in ep.steps
    ]


def test_numbers_are_passed_to_the_task_and_scored(tmp_path: Path) -> None:
    frame = pd.DataFrame(rows())
    frame.loc[0, "value"] = "3"  # outside the schema's range
    frame.loc[1, "value"] = "lots"  # not a number
    frame.loc[2, "value"] = '{"answer": 0.25}'  # the whole answer object
    summary = import_answers(
        frame, run="num", data={"source": "synthetic-test"}, task=NAME, label="half", out=tmp_path
    )
    assert summary.matched == {"half": 78}
    (too_big, not_number) = summary.unmatched
    assert (too_big.row, too_big.field) == ("row 1", "value")
    assert "does not fit the answer of item" in too_big.reason and "maximum" in too_big.reason
    assert (not_number.row, not_number.field) == ("row 2", "value")
    assert "'lots' is not a number" in not_number.reason
    stored = summary.run().to_pandas().set_index(["person_id", "item_id"])
    human = {(r["person_id"], r["item_id"]): float(r["value"]) * 2 for r in rows()}
    for (person, item), row in stored.iterrows():
        s = 0.25 if (person, item) == (rows()[2]["person_id"], rows()[2]["item_id"]) else None
        given = s if s is not None else human[(person, item)] / 2
        assert row["answer_json"] == {"answer": pytest.approx(given)}
        assert row["correct"] == pytest.approx(1 - abs(human[(person, item)] - given) / 2)


def test_a_numeric_survey_question_is_imported_and_scored_by_the_survey_task(
    tmp_path: Path,
) -> None:
    """The survey family's numeric questions (type: numeric, range: [0, 10]): an imported
    number is scored 1 − |h − s| / range by the survey task; outside the range is unmatched."""
    import random

    rng = random.Random(3)
    ids = [f"r{i:02d}" for i in range(30)]
    people = pd.DataFrame({"pid": ids, "age": [rng.randint(20, 70) for _ in ids]})
    people["temp"] = [round(rng.uniform(0, 10), 1) for _ in ids]
    people.to_csv(tmp_path / "people.csv", index=False)
    mapping = {
        "name": "warmth",
        "id_column": "pid",
        "persona": [{"column": "age", "template": "You are {value} years old."}],
        "questions": [{"column": "temp", "text": "How warm?", "type": "numeric", "range": [0, 10]}],
    }
    data = {"source": str(tmp_path / "people.csv"), "mapping": mapping}
    twin = [min(10.0, max(0.0, round(h + rng.gauss(0, 1), 1))) for h in people["temp"]]
    frame = pd.DataFrame({"person_id": ids, "item_id": "temp", "value": twin, "simulator": "twin"})
    frame.loc[0, "value"] = 11.0  # outside the question's range
    summary = import_answers(frame, run="warm", data=data, out=tmp_path)
    assert summary.matched == {"twin": 29}
    (outside,) = summary.unmatched
    assert (outside.row, outside.field, outside.value) == ("row 1", "value", "11")
    assert outside.reason == (
        "does not fit the answer of item 'temp': answer: 11.0 is greater than the maximum of 10.0"
    )
    stored = summary.run().to_pandas().set_index("person_id")
    human = dict(zip(ids, people["temp"], strict=True))
    for pid, row in stored.iterrows():
        s = twin[ids.index(str(pid))]
        assert row["answer_json"] == {"answer": pytest.approx(s)}
        assert row["correct"] == pytest.approx(1 - abs(human[str(pid)] - s) / 10)
        assert row["scores"]["abs_error"] == pytest.approx(abs(human[str(pid)] - s))


def test_a_choice_task_is_imported_like_a_survey(tmp_path: Path) -> None:
    """The choice family's task on its modechoice data: an answer is an alternative's code,
    scored against the traveller's own choice."""
    frame = pd.DataFrame(
        {"person_id": [str(i) for i in range(1, 211)], "item_id": "mode", "value": "car"}
    )
    spec = {"task": "choice", "data": {"source": "modechoice"}}
    summary = import_answers(frame, run="modes", data=spec, out=tmp_path, label="always-car")
    assert summary.matched == {"always-car": 210} and not summary.unmatched
    stored = summary.run().to_pandas()
    assert set(stored["task"]) == {"choice"}
    assert stored["correct"].mean() == pytest.approx((stored["human_answer"] == "car").mean())
    assert 0 < stored["correct"].mean() < 1


def test_numeric_outcomes_apply_to_imported_numbers(tmp_path: Path) -> None:
    """Issue 16 §3's numeric metrics read an imported run as any other: a twin at half the
    people's spread around the middle has correlation 1 and std ratio 0.5."""
    import random

    from behaviorlab.analysis import numeric_outcomes

    rng = random.Random(5)
    ids = [f"r{i:02d}" for i in range(40)]
    people = pd.DataFrame({"pid": ids, "age": 30, "temp": [rng.randint(0, 10) for _ in ids]})
    people.to_csv(tmp_path / "people.csv", index=False)
    question = {"column": "temp", "text": "How warm?", "type": "numeric", "range": [0, 10]}
    mapping = {"name": "w", "id_column": "pid", "questions": [question]}
    data = {"source": str(tmp_path / "people.csv"), "mapping": mapping}
    half = [5 + (h - 5) / 2 for h in people["temp"]]
    frame = pd.DataFrame({"person_id": ids, "item_id": "temp", "value": half})
    summary = import_answers(frame, run="half", data=data, out=tmp_path, label="half")
    out = numeric_outcomes(summary.run().to_pandas(), n_resamples=200)
    assert out.value("correlation") == pytest.approx(1.0)
    assert out.value("std_ratio") == pytest.approx(0.5)
