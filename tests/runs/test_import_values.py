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
