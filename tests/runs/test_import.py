"""Answers made elsewhere, imported as a run: matched to the people's trials by person and
item, scored by the task, stored with stable trial ids (a second import adds nothing, a cut
import resumes), unmatched rows listed with file, row and field."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import behaviorlab as bl
from behaviorlab.data import (
    Action,
    Dataset,
    Episode,
    Observation,
    Option,
    Person,
    Step,
    datasets,
    load_dataset,
)
from behaviorlab.runs import (
    AnswerColumns,
    AnswerImportError,
    ImportSummary,
    import_answers,
)
from behaviorlab.runs import _import as import_module
from behaviorlab.store import ResultStore, StoreLock, StoreLockedError
from behaviorlab.tasks import tasks

DATA = {"source": "synthetic-test"}
VOLATILE = ["created_at", "latency_s", "meta"]


def people_answers() -> dict[tuple[str, str], str]:
    """(person, item) → the person's own answer, from the test survey."""
    ds = load_dataset("synthetic-test")
    return {
        (ep.person_id, str(s.observation.meta["question_id"])): str(s.action.value)
        for ep in ds.episodes
        for s in ep.steps
    }


def other(code: str, item: str) -> str:
    codes = ["0", "1"] if item == "q1" else ["-1", "0", "1"]
    return next(c for c in codes if c != code)


def answers_frame() -> pd.DataFrame:
    """Two labels: ``copy`` gives each person's own answer, ``wrong`` never does."""
    rows: list[dict[str, Any]] = []
    for (person, item), value in sorted(people_answers().items()):
        rows.append({"person_id": person, "item_id": item, "value": value, "simulator": "copy"})
        rows.append(
            {
                "person_id": person,
                "item_id": item,
                "value": other(value, item),
                "simulator": "wrong",
            }
        )
    return pd.DataFrame(rows)


def stable(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.drop(columns=VOLATILE).sort_values("trial_id").reset_index(drop=True)


def test_import_stores_one_simulator_per_label_scored_by_the_task(tmp_path: Path) -> None:
    out = tmp_path / "runs"
    summary = import_answers(answers_frame(), run="ext", data=DATA, out=out)
    assert summary.matched == {"copy": 80, "wrong": 80}
    assert summary.stored == 160 and summary.already_stored == 0 and not summary.unmatched
    assert summary.status == "finished"
    run = bl.open_run("ext", out=out)  # the normal results file, read unchanged
    frame = run.to_pandas()
    assert len(frame) == 160 and frame["trial_id"].is_unique
    by_sim = frame.groupby("simulator")["correct"].mean().to_dict()
    assert by_sim == {"copy": 1.0, "wrong": 0.0}
    assert (frame["answer"] == frame["answer_json"].map(lambda v: v["answer"])).all()
    # the answer's position in the options shown to the person is recorded as for a run
    assert all(r.options[r.answer_position] == r.answer for r in frame.itertuples())
    assert sorted(run.persons()["person_id"]) == sorted(frame["person_id"].unique())
    manifest = run.manifest
    assert manifest["import"]["model_run"] is False
    (source,) = manifest["import"]["sources"]
    assert source["file"] == "<DataFrame>" and len(source["sha256"]) == 64
    assert source["matched"] == {"copy": 80, "wrong": 80}
    assert [s["label"] for s in manifest["simulators"]] == ["copy", "wrong"]
    assert manifest["status"] == "finished" and manifest["trials_planned"] == 160
    on_disk = json.loads((out / "ext" / "manifest.json").read_text())
    assert on_disk["run_id"] == summary.run_id
    report = bl.gap(frame, persons=run.persons(), n_resamples=200)
    acc = {r.simulator: r.estimates["accuracy"] for r in report.rows}
    assert acc["copy"] is not None and acc["copy"].value == 1.0
    assert acc["wrong"] is not None and acc["wrong"].value == 0.0


def test_trial_ids_are_the_runners_own(tmp_path: Path) -> None:
    """An imported trial has the id a run of a simulator with that label would give it."""
    from behaviorlab.runs._planning import trial_id

    summary = import_answers(answers_frame(), run="ids", data=DATA, out=tmp_path)
    frame = summary.run().to_pandas()
    task = tasks.get("survey")()
    keys = {
        (t.person_id, t.item_id): t.key for t in task.trials(load_dataset(DATA["source"]), seed=0)
    }
    for r in frame.head(10).itertuples():
        assert r.trial_id == trial_id(
            "survey", r.simulator, "full", 0, keys[(r.person_id, r.item_id)]
        )


def test_import_twice_adds_nothing_and_a_cut_import_resumes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "answers.csv"
    answers_frame().to_csv(path, index=False)
    whole = import_answers(path, run="a", data=DATA, out=tmp_path / "whole").run().to_pandas()
    again = import_answers(path, run="a", data=DATA, out=tmp_path / "whole")
    assert again.stored == 0 and again.already_stored == 160
    # cut short: a limit, then a crash in the third batch of ten
    first = import_answers(path, run="a", data=DATA, out=tmp_path / "cut", limit=37)
    assert first.stored == 37 and first.status == "partial"
    assert first.run().manifest["status"] == "partial"
    monkeypatch.setattr(import_module, "BATCH", 10)
    real = ResultStore.write_many
    calls = {"n": 0}

    def failing(self: ResultStore, rows: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError("disk went away")
        return real(self, rows)

    monkeypatch.setattr(ResultStore, "write_many", failing)
    with pytest.raises(OSError):
        import_answers(path, run="a", data=DATA, out=tmp_path / "cut")
    assert len(first.run().to_pandas()) == 37 + 20
    monkeypatch.setattr(ResultStore, "write_many", real)
    last = import_answers(path, run="a", data=DATA, out=tmp_path / "cut")
    assert last.stored == 160 - 57 and last.already_stored == 57 and last.status == "finished"
    pd.testing.assert_frame_equal(stable(last.run().to_pandas()), stable(whole))


def test_a_second_process_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "runs" / "ext" / "results.sqlite"
    path.parent.mkdir(parents=True)
    with StoreLock(path), pytest.raises(StoreLockedError, match="one process writes"):
        import_answers(answers_frame(), run="ext", data=DATA, out=tmp_path / "runs")


def test_unmatched_rows_are_counted_and_listed_and_the_rest_stored(tmp_path: Path) -> None:
    path = tmp_path / "answers.csv"
    path.write_text(
        "person_id,item_id,value,simulator\n"
        "p000,q1,0,twin\n"  # line 2: matched
        "nobody,q1,0,twin\n"  # line 3: no such person
        "p001,q9,0,twin\n"  # line 4: no such item
        "p002,q1,7,twin\n"  # line 5: not an option
        "p003,q2,,twin\n"  # line 6: empty value
        '"p004","q1","Candidate Y",twin\n'  # line 7: an option's label is matched to its code
    )
    summary = import_answers(path, run="u", data=DATA, out=tmp_path)
    assert summary.rows == 6 and summary.matched == {"twin": 2}
    found = [(u.row, u.field, u.value) for u in summary.unmatched]
    assert found == [
        ("line 3", "person_id", "nobody"),
        ("line 4", "item_id", "q9"),
        ("line 5", "value", "7"),
        ("line 6", "value", ""),
    ]
    assert str(summary.unmatched[0]) == f"{path}, line 3: person_id: no person 'nobody' in the data"
    assert "'7' is not an option of item 'q1' (its codes: " in summary.unmatched[2].reason
    frame = summary.run().to_pandas().set_index("person_id")
    assert frame.loc["p004", "answer"] == "1"
    assert frame.loc["p004", "meta"]["imported_from"] == f"{path}, line 7"
    assert list(summary.unmatched_frame().columns) == ["file", "row", "field", "value", "reason"]


def test_duplicate_rows_are_an_error_naming_both(tmp_path: Path) -> None:
    path = tmp_path / "answers.csv"
    path.write_text(
        "person_id,item_id,value,simulator\np000,q1,0,twin\np001,q1,0,twin\np000,q1,1,twin\n"
    )
    with pytest.raises(AnswerImportError) as err:
        import_answers(path, run="d", data=DATA, out=tmp_path)
    msg = str(err.value)
    assert str(path) in msg and "line 2 and line 4" in msg
    assert "person 'p000', item 'q1' for simulator 'twin'" in msg
    assert "simulator, person_id, item_id" in msg
    assert not (tmp_path / "d" / "results.sqlite").exists()  # nothing stored


def test_columns_are_configurable_and_a_missing_one_is_named(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    rows = [
        {"pid": p, "q": i, "resp": v, "why": "I said so"}
        for (p, i), v in sorted(people_answers().items())
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    with pytest.raises(AnswerImportError, match=r"a\.jsonl: no person column .*--person-col"):
        import_answers(path, run="c", data=DATA, out=tmp_path, label="twin")
    cols = AnswerColumns(person="pid", item="q", value="resp", rationale="why")
    summary = import_answers(path, run="c", data=DATA, out=tmp_path, columns=cols, label="twin")
    assert summary.matched == {"twin": 80}
    frame = summary.run().to_pandas()
    assert (frame["correct"] == 1.0).all()
    assert frame["meta"].iloc[0]["rationale"] == "I said so"
    assert frame["meta"].iloc[0]["imported_from"].endswith("a.jsonl, line 1")
    with pytest.raises(AnswerImportError, match=r"no column 'nope' \(given for the value\)"):
        import_answers(
            path,
            run="c",
            data=DATA,
            out=tmp_path,
            columns=AnswerColumns(person="pid", item="q", value="nope"),
        )


def test_parquet_rows_and_a_bad_jsonl_line_are_located(tmp_path: Path) -> None:
    frame = answers_frame()
    frame.loc[3, "value"] = "5"
    path = tmp_path / "a.parquet"
    frame.to_parquet(path, index=False)
    summary = import_answers(path, run="p", data=DATA, out=tmp_path)
    assert [(u.row, u.field) for u in summary.unmatched] == [("row 4", "value")]
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"person_id": "p000"}\n\n{"person_id": \n')
    with pytest.raises(AnswerImportError, match=r"bad\.jsonl, line 3: not JSON"):
        import_answers(bad, run="p", data=DATA, out=tmp_path)


def test_a_label_from_another_file_is_refused_and_new_labels_join(tmp_path: Path) -> None:
    frame = answers_frame()
    import_answers(frame, run="m", data=DATA, out=tmp_path)
    changed = frame.assign(value=frame["value"].where(frame.index % 2 == 0, "0"))
    with pytest.raises(
        AnswerImportError,
        match=r"'copy', 'wrong' in condition\(s\) 'full' are already in .*another label",
    ):
        import_answers(changed, run="m", data=DATA, out=tmp_path)
    renamed = changed.assign(simulator=changed["simulator"] + "-2")
    joined = import_answers(renamed, run="m", data=DATA, out=tmp_path)
    assert joined.matched == {"copy-2": 80, "wrong-2": 80}
    run = joined.run()
    assert set(run.to_pandas()["simulator"]) == {"copy", "wrong", "copy-2", "wrong-2"}
    assert run.manifest["trials_planned"] == 320 and run.manifest["status"] == "finished"
    assert len(run.manifest["import"]["sources"]) == 2


def test_nothing_matched_is_an_error_pointing_at_the_data(tmp_path: Path) -> None:
    frame = pd.DataFrame({"person_id": ["x"], "item_id": ["q1"], "value": ["0"]})
    with pytest.raises(AnswerImportError, match="no row matched a trial of task 'survey'"):
        import_answers(frame, run="n", data=DATA, out=tmp_path, label="twin")


def test_the_data_may_be_an_experiment_spec_file(tmp_path: Path) -> None:
    spec = tmp_path / "exp.yaml"
    spec.write_text(
        "name: whatever\ntask: survey\ndata: {source: synthetic-test}\nseeds: [3]\n"
        "simulators: [{name: majority}]\n"
    )
    summary: ImportSummary = import_answers(answers_frame(), run="s", data=spec, out=tmp_path)
    frame = summary.run().to_pandas()
    assert set(frame["seed"]) == {3}
    bad = tmp_path / "bad.yaml"
    bad.write_text("task: survey\ndata:\n  source: synthetic-test\n  targets: q1\n")
    with pytest.raises(AnswerImportError, match=r"bad\.yaml:4: data\.targets: Extra inputs"):
        import_answers(answers_frame(), run="s", data=bad, out=tmp_path)
    bad.write_text("source: synthetic-test\npeople: 1\n")  # a data spec
    with pytest.raises(AnswerImportError, match=r"bad\.yaml:2: people: Input should be greater"):
        import_answers(answers_frame(), run="s", data=bad, out=tmp_path)
    with pytest.raises(ValueError, match="run name 'a b': use letters, digits"):
        import_answers(answers_frame(), run="a b", data=DATA, out=tmp_path)


def test_probabilities_per_row_give_the_distribution_metrics(tmp_path: Path) -> None:
    rows = []
    for (person, item), own in sorted(people_answers().items()):
        codes = ["0", "1"] if item == "q1" else ["-1", "0", "1"]
        probs = {c: (0.7 if c == own else 0.3 / (len(codes) - 1)) for c in codes}
        rows.append({"person_id": person, "item_id": item, "value": own, "probabilities": probs})
    frame = pd.DataFrame(rows)
    frame.loc[0, "probabilities"] = json.dumps({"0": 0.5, "7": 0.5})  # not a code
    frame.loc[1, "probabilities"] = json.dumps({"-1": 0.5, "0": 0.1, "1": 0.1})  # sums to 0.7
    summary = import_answers(frame, run="pr", data=DATA, out=tmp_path, label="twin")
    assert [(u.row, u.field) for u in summary.unmatched] == [
        ("row 1", "probabilities"),
        ("row 2", "probabilities"),
    ]
    assert summary.unmatched[0].reason == "'7' not option codes (codes: 0, 1)"
    assert "sum to 1 (they sum to 0.7)" in summary.unmatched[1].reason
    stored = summary.run().to_pandas()
    row = stored.iloc[-1]
    assert row["probabilities"][row["human_answer"]] == pytest.approx(0.7)
    report = bl.gap(stored, persons=summary.run().persons(), n_resamples=200)
    (gap_row,) = report.rows
    log_loss = gap_row.estimates["log_loss"]
    assert log_loss is not None and log_loss.value == pytest.approx(-np.log(0.7))
    assert gap_row.estimates["js_distance"] is not None


def _waves() -> Dataset:
    """Two waves: every person answered q1 in two episodes."""
    persons = {p: Person(person_id=p, attributes={"age": 30}) for p in ("a", "b", "c")}
    episodes = []
    for wave in ("w1", "w2"):
        for i, p in enumerate(persons):
            obs = Observation(
                kind="question",
                content="Q?",
                options=[Option(code="1", label="yes"), Option(code="2", label="no")],
                meta={"question_id": "q1"},
            )
            step = Step(
                index=0,
                step_id=f"{wave}:{p}:q1",
                observation=obs,
                action=Action(action_type="answer", value=str(1 + (i + (wave == "w2")) % 2)),
            )
            episodes.append(
                Episode(episode_id=f"{wave}:{p}", person_id=p, kind="survey", steps=[step])
            )
    return Dataset(name="waves", version="1", source="tests", persons=persons, episodes=episodes)


def waves_test(**_: object) -> Dataset:
    """Two waves of one question: a person answers the same item in two episodes."""
    return _waves()


if "waves-test" not in datasets:  # registered when collected: keep a description
    datasets.register("waves-test")(waves_test)


def test_an_episode_column_picks_the_wave_when_a_person_answered_an_item_twice(
    tmp_path: Path,
) -> None:
    frame = pd.DataFrame({"person_id": ["a", "a", "b"], "item_id": "q1", "value": ["1", "2", "1"]})
    data = {"source": "waves-test"}
    with pytest.raises(AnswerImportError, match=r"2 trials of item 'q1' \(episodes w1:a, w2:a\)"):
        import_answers(frame.iloc[[0]], run="w", data=data, out=tmp_path, label="t")
    with_episode = frame.assign(episode_id=["w1:a", "w2:a", "w3:b"])
    summary = import_answers(with_episode, run="w", data=data, out=tmp_path, label="e")
    assert summary.matched == {"e": 2}
    (wrong,) = summary.unmatched
    assert (wrong.row, wrong.field, wrong.value) == ("row 3", "episode_id", "w3:b")
    stored = summary.run().to_pandas()
    stored = stored[stored["simulator"] == "e"].set_index("episode_id")
    assert stored["correct"].to_dict() == {"w1:a": 1.0, "w2:a": 1.0}
