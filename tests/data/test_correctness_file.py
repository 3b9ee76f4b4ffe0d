"""Correctness-only data (person, item, correct) with an item table: the ``correctness_file``
dataset, the survey task's scores on its steps, its errors, and the docs' worked example."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml

from behaviorlab.data import CorrectnessFileError, correctness_file, load_dataset
from behaviorlab.families.survey import SurveyTask
from behaviorlab.simulators._base import Answer

DOC = Path(__file__).resolve().parents[2] / "docs" / "outcomes.md"


def _items(folder: Path, **extra: Any) -> Path:
    mapping: dict[str, Any] = {
        "name": "quiz",
        "questions": [
            {"column": "q1", "text": "2 + 2?", "options": {"a": "3", "b": "4"}, "answer": "b"},
            {
                "column": "q2",
                "text": "Capital of France?",
                "options": {"a": "Paris", "b": "Rome", "c": "Oslo"},
                "answer": "a",
            },
        ],
    } | extra
    path = folder / "items.yaml"
    path.write_text(yaml.safe_dump(mapping, sort_keys=False))
    return path


def _scored(folder: Path, text: str) -> Path:
    path = folder / "scored.csv"
    path.write_text(text)
    return path


GOOD = "person_id,item_id,correct\np1,q1,1\np1,q2,0\np2,q1,no\np2,q2,TRUE\np3,q2,\n"


def test_each_person_is_an_episode_of_their_answered_items_with_a_hidden_key(
    tmp_path: Path,
) -> None:
    data = correctness_file(_scored(tmp_path, GOOD), items=_items(tmp_path))
    # p3's only row is empty: no answered item, no episode
    assert [ep.person_id for ep in data.episodes] == ["p1", "p2"]
    assert data.meta["dropped_people"] == 1 and data.meta["correctness_only"] is True
    steps = {s.step_id: s for ep in data.episodes for s in ep.steps}
    assert list(steps) == ["p1:q1", "p1:q2", "p2:q1", "p2:q2"]
    target = steps["p2:q2"].action
    assert target.value is None  # no chosen option is known
    assert target.attributes == {"answer_key": "a", "human_correct": 1.0}
    assert steps["p2:q1"].action.attributes["human_correct"] == 0.0
    obs = steps["p1:q2"].observation
    assert obs.content == "Capital of France?" and [o.code for o in obs.options or []] == [
        "a",
        "b",
        "c",
    ]
    assert "answer_key" not in obs.meta  # the key is not in what a simulator is shown


def test_the_survey_task_scores_the_key_and_the_persons_correctness_not_a_match(
    tmp_path: Path,
) -> None:
    data = correctness_file(_scored(tmp_path, GOOD), items=_items(tmp_path))
    task = SurveyTask()
    trials = {t.input.item_id + "/" + t.person_id: t for t in task.trials(data, seed=0)}
    wrong_person = trials["q2/p1"]  # p1 was wrong on q2, whose key is a
    assert wrong_person.input.meta["correctness_only"] is True
    assert "answer_key" not in str(wrong_person.input.model_dump())
    assert task.score(wrong_person, Answer(choice="a")) == {
        "key_correct": 1.0,
        "human_correct": 0.0,
    }
    assert task.score(trials["q2/p2"], Answer(choice="c")) == {
        "key_correct": 0.0,
        "human_correct": 1.0,
    }
    assert task.human_answer(wrong_person) is None


def test_a_spec_names_it_with_a_persona_table(tmp_path: Path) -> None:
    items = _items(
        tmp_path,
        id_column="person_id",
        persona=[{"column": "age", "template": "You are {value} years old."}],
    )
    (tmp_path / "people.csv").write_text("person_id,age\np1,30\np2,41\n")
    data = load_dataset(
        "correctness_file",
        path=str(_scored(tmp_path, GOOD)),
        mapping=str(items),
        persons=str(tmp_path / "people.csv"),
        target=["q2"],
        seed=0,
    )
    assert data.persons["p2"].description == "You are 41 years old."
    assert [s.step_id for ep in data.episodes for s in ep.steps] == ["p1:q2", "p2:q2"]


@pytest.mark.parametrize(
    ("rows", "extra", "words"),
    [
        ("p1,q9,1\n", {}, r"scored\.csv:2: column 'item_id' is 'q9', not an item"),
        ("p1,q1,1\np1,q2,maybe\n", {}, r"scored\.csv:3: column 'correct' is 'maybe'"),
        ("p1,q1,1\np2,q1,0\np1,q1,0\n", {}, r"scored\.csv:4: person 'p1' and item 'q1' appear tw"),
        (",q1,1\n", {}, r"scored\.csv:2: column 'person_id' is empty"),
        ("p1,q1\n", {}, r"scored\.csv:2: fewer fields where the header has 3"),
        ("p1,q1,1,extra\n", {}, r"scored\.csv:2: 4 fields where the header has 3"),
        (
            "p1,q1,1\n",
            {"questions": [{"column": "q1", "text": "?", "options": {"a": "x", "b": "y"}}]},
            r"items\.yaml: questions\[0\] \(item 'q1'\) has no key",
        ),
        (
            "p1,q1,1\n",
            {"id_column": "person_id", "persona": [{"column": "age", "template": "{value}"}]},
            r"no persons table is given",
        ),
    ],
)
def test_a_bad_file_names_file_line_and_column(
    tmp_path: Path, rows: str, extra: dict[str, Any], words: str
) -> None:
    scored = _scored(tmp_path, "person_id,item_id,correct\n" + rows)
    with pytest.raises(CorrectnessFileError, match=words):
        correctness_file(scored, items=_items(tmp_path, **extra))


def test_a_person_missing_from_the_persons_table_is_named(tmp_path: Path) -> None:
    items = _items(
        tmp_path,
        id_column="person_id",
        persona=[{"column": "age", "template": "You are {value} years old."}],
    )
    (tmp_path / "people.csv").write_text("person_id,age\np1,30\n")
    with pytest.raises(CorrectnessFileError, match=r"people\.csv' has no row for person\(s\) 'p2'"):
        correctness_file(_scored(tmp_path, GOOD), items=items, persons=tmp_path / "people.csv")
    with pytest.raises(CorrectnessFileError, match="give the item table once"):
        correctness_file(_scored(tmp_path, GOOD))
    (tmp_path / "people.csv").write_text("person_id,age\np1,30\np2,31\np1,40\n")
    with pytest.raises(CorrectnessFileError, match=r"person id 'p1' .* appears twice"):
        correctness_file(_scored(tmp_path, GOOD), items=items, persons=tmp_path / "people.csv")


def test_the_docs_worked_example_runs_end_to_end_and_recovers_the_planted_rates(
    capsys: pytest.CaptureFixture[str],
) -> None:
    text = DOC.read_text(encoding="utf-8")
    section = text.split("### Correctness-only data as a dataset", 1)
    assert len(section) == 2, f"{DOC} has no 'Correctness-only data as a dataset' section"
    blocks = re.findall(r"```python\n(.*?)```", section[1].split("\n## ", 1)[0], flags=re.S)
    assert blocks, "the section has no python block"
    namespace: dict[str, object] = {"__name__": "correctness_doc"}
    for block in blocks:
        exec(compile(block, str(DOC), "exec"), namespace)
    out = capsys.readouterr().out
    assert "kappa_pooled" in out and "human_accuracy" in out


def test_a_run_of_it_has_no_match_score_and_the_report_says_why(tmp_path: Path) -> None:
    import behaviorlab as bl
    from behaviorlab.families.survey._report import key_blocks
    from behaviorlab.report._document import Paragraph

    scored = _scored(
        tmp_path,
        "person_id,item_id,correct\n"
        + "".join(f"p{i},q{j},{(i + j) % 2}\n" for i in range(6) for j in (1, 2)),
    )
    spec = {
        "name": "quiz",
        "task": "survey",
        "data": {
            "source": "correctness_file",
            "mapping": str(_items(tmp_path)),
            "options": {"path": str(scored)},
            "split": {"test": 0.5, "seed": 0},
        },
        "simulators": [{"name": "llm", "backend": "mock"}],
        "conditions": ["full"],
    }
    frame = bl.run(spec, out=tmp_path / "runs", progress=False).to_pandas()
    assert len(frame) == 6 and frame["error"].isna().all()
    assert frame["correct"].isna().all()  # unscored against an option nobody knows, not 0
    assert all(set(s) == {"key_correct", "human_correct"} for s in frame["scores"])
    data = SimpleNamespace(frame=frame, report=SimpleNamespace(seed=0, n_resamples=50))
    notes = [b.text for b in key_blocks(data) if isinstance(b, Paragraph)]  # type: ignore[arg-type]
    assert any(n.startswith("6 trials come from correctness-only data") for n in notes), notes


def test_answers_made_elsewhere_import_against_it_and_are_scored_by_the_key(
    tmp_path: Path,
) -> None:
    from behaviorlab.runs import import_answers, open_run

    data = {
        "source": "correctness_file",
        "mapping": str(_items(tmp_path)),
        "options": {"path": str(_scored(tmp_path, GOOD))},
    }
    answers = tmp_path / "answers.csv"
    answers.write_text(
        "person_id,item_id,answer,simulator\np1,q1,b,paper\np1,q2,c,paper\np2,q2,a,paper\n"
    )
    summary = import_answers(answers, run="imported", data=data, out=tmp_path / "runs")
    assert summary.stored == 3 and summary.unmatched == []
    frame = open_run(tmp_path / "runs" / "imported").to_pandas().sort_values("trial_id")
    got = {(r.person_id, r.item_id): r.scores for r in frame.itertuples()}
    assert got == {
        ("p1", "q1"): {"key_correct": 1.0, "human_correct": 1.0},
        ("p1", "q2"): {"key_correct": 0.0, "human_correct": 0.0},
        ("p2", "q2"): {"key_correct": 1.0, "human_correct": 1.0},
    }


def test_the_train_correctness_baseline_is_right_where_most_training_people_were(
    tmp_path: Path,
) -> None:
    import behaviorlab as bl
    from behaviorlab.analysis import answer_key_agreement

    rates = {"q1": 1, "q2": 3, "q3": 7, "q4": 9}  # in tenths: q1 hard ... q4 easy
    questions = [
        {"column": q, "text": f"{q}?", "options": {"a": "x", "b": "y", "c": "z"}, "answer": "c"}
        for q in rates
    ]
    rows = "".join(f"p{i},{q},{int(i % 10 < r)}\n" for i in range(40) for q, r in rates.items())
    spec = {
        "name": "quiz",
        "task": "survey",
        "data": {
            "source": "correctness_file",
            "mapping": str(_items(tmp_path, questions=questions)),
            "options": {"path": str(_scored(tmp_path, "person_id,item_id,correct\n" + rows))},
            "split": {"test": 0.5, "seed": 0},
        },
        "simulators": [{"name": "train_correctness"}],
        "conditions": ["full"],
    }
    frame = bl.run(spec, out=tmp_path / "runs", progress=False).to_pandas()
    assert frame["error"].isna().all()
    items = answer_key_agreement(frame, n_resamples=50).items.set_index("item_id")
    assert items["model_accuracy"].to_dict() == {"q1": 0.0, "q2": 0.0, "q3": 1.0, "q4": 1.0}
    assert set(frame.loc[frame["item_id"] == "q1", "answer"]) <= {"a", "b"}  # never the key


def test_train_correctness_learns_from_chosen_options_of_a_keyed_survey_too() -> None:
    import asyncio

    import pandas as pd

    from behaviorlab.data import survey_from_frame
    from behaviorlab.simulators._base import simulators

    mapping = {
        "name": "quiz",
        "questions": [
            {"column": "q1", "text": "?", "options": {"a": "x", "b": "y"}, "answer": "b"},
            {"column": "q2", "text": "?", "options": {"a": "x", "b": "y"}},
        ],
    }
    frame = pd.DataFrame({"q1": ["a", "a", "b"], "q2": ["a", "b", "b"]})  # q1: 1 of 3 right
    trials = SurveyTask().trials(survey_from_frame(frame, mapping), seed=0)
    baseline = simulators.get("train_correctness")()
    baseline.fit(trials)
    by_item = {t.item_id: t for t in trials}
    answered = asyncio.run(baseline.answer(by_item["q1"].input))
    assert answered.choice == "a" and answered.meta["training_accuracy"] == pytest.approx(1 / 3)
    assert asyncio.run(baseline.answer(by_item["q2"].input)).meta["not_applicable"] is True


def test_people_samples_reproducibly_among_those_who_answered(tmp_path: Path) -> None:
    rows = "".join(f"p{i},q1,{i % 2}\n" for i in range(10))
    scored = _scored(tmp_path, "person_id,item_id,correct\n" + rows)
    one = correctness_file(scored, items=_items(tmp_path), people=4, seed=3)
    again = correctness_file(scored, items=_items(tmp_path), people=4, seed=3)
    assert [e.person_id for e in one.episodes] == [e.person_id for e in again.episodes]
    assert len(one.episodes) == 4 and one.meta["people_available"] == 10
    with pytest.raises(CorrectnessFileError, match="people=11 but 10 people"):
        correctness_file(scored, items=_items(tmp_path), people=11)
