"""answer_key_agreement and read_correctness (issue 16 §2): per-person kappa checked against
the textbook formula, accuracies and item table by hand, people without a kappa counted, a
correctness-only file read (errors name file, line and column), and a keyed survey run end to
end (scores, terminal table, report block)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from rich.console import Console

import behaviorlab as bl
from behaviorlab.analysis import answer_key_agreement, read_correctness
from behaviorlab.analysis._answer_key import CorrectnessError
from behaviorlab.report import write_report
from behaviorlab.report._outcomes import answer_key_lines, render_answer_key


def _trials(human: np.ndarray, model: np.ndarray) -> pd.DataFrame:
    people, items = human.shape
    return pd.DataFrame(
        [
            {
                "task": "quiz",
                "simulator": "llm",
                "condition": "full",
                "person_id": f"p{i}",
                "item_id": f"q{j}",
                "error": None,
                "scores": {"key_correct": float(model[i, j]), "human_correct": float(human[i, j])},
            }
            for i in range(people)
            for j in range(items)
        ]
    )


def _kappa(a: np.ndarray, b: np.ndarray) -> float:
    """Cohen's kappa of two raters' right/wrong, as the textbook writes it."""
    po = np.mean(a == b)
    pe = a.mean() * b.mean() + (1 - a.mean()) * (1 - b.mean())
    return float((po - pe) / (1 - pe))


def test_kappa_accuracy_and_items_are_what_cohen_and_numpy_say() -> None:
    rng = np.random.default_rng(1)
    human = rng.random((40, 8)) < np.linspace(0.3, 0.8, 8)
    model = np.where(rng.random((40, 8)) < 0.6, human, rng.random((40, 8)) < 0.5)
    human[0] = model[0] = True  # p0 and the model in their place right on every item: no kappa
    human[1] = True  # p1 right on every item, the model not: kappa 0 (Cohen's definition)
    report = answer_key_agreement(_trials(human, model), n_resamples=200)
    kappas = [_kappa(human[i], model[i]) for i in range(1, 40)]
    kappa = report.value("kappa")
    assert kappa.value == pytest.approx(np.mean(kappas))
    assert kappa.low < kappa.value < kappa.high and kappa.n_clusters == 39
    note = report.summary.set_index("measure").loc["kappa", "note"]
    assert "1 of 40 people have no kappa" in str(note)
    assert report.value("human_accuracy").value == pytest.approx(human.mean())
    assert report.value("model_accuracy").value == pytest.approx(model.mean())
    items = report.items.set_index("item_id")
    assert items.loc["q3", "human_accuracy"] == pytest.approx(human[:, 3].mean())
    assert items.loc["q3", "agreement"] == pytest.approx((human[:, 3] == model[:, 3]).mean())
    gaps = (model.mean(axis=0) - human.mean(axis=0))[
        np.argsort(-np.abs(model.mean(0) - human.mean(0)))
    ]
    assert report.disagreements(2)["difference"].tolist() == pytest.approx(gaps[:2].tolist())
    r = np.corrcoef(human.mean(axis=0), model.mean(axis=0))[0, 1]
    assert report.value("difficulty_pearson").value == pytest.approx(r)
    # pooled: one 2x2 table over every person-item pair, p0 included
    pooled = report.value("kappa_pooled")
    assert pooled.value == pytest.approx(_kappa(human.ravel(), model.ravel()))
    assert pooled.low < pooled.value < pooled.high and pooled.n_clusters == 40
    lines = answer_key_lines(report, markup=False)
    assert lines[0] == f"llm (full): error-pattern κ: {note!s}"
    assert lines[1].startswith("llm (full): pooled κ: Cohen's kappa of every person-item pair")


def test_the_item_difficulty_interval_needs_eight_items() -> None:
    """Over 5 items a bootstrap over items is degenerate: the value, no interval, a note."""
    rng = np.random.default_rng(2)
    human = rng.random((60, 5)) < np.linspace(0.2, 0.9, 5)
    model = np.where(rng.random((60, 5)) < 0.5, human, rng.random((60, 5)) < 0.5)
    report = answer_key_agreement(_trials(human, model), n_resamples=100)
    r = report.value("difficulty_pearson")
    assert r.value == pytest.approx(np.corrcoef(human.mean(0), model.mean(0))[0, 1])
    assert np.isnan(r.low) and np.isnan(r.high)
    note = report.summary.set_index("measure").loc["difficulty_spearman"].to_dict()["note"]
    assert note == "no interval over 5 items (a bootstrap over items needs at least 8)"
    console = Console(width=200, record=True)
    console.print(render_answer_key(report))
    assert "item difficulty r" in console.export_text()
    wide = answer_key_agreement(
        _trials(human[:, [0, 1, 2, 3, 4] * 2], model[:, [0, 1, 2, 3, 4] * 2]), n_resamples=100
    )  # ten items: an interval
    assert wide.value("difficulty_pearson").low < wide.value("difficulty_pearson").high


def test_a_correctness_only_file_joins_the_model_by_person_and_item(tmp_path: Path) -> None:
    path = tmp_path / "scored.csv"
    path.write_text("who,item_id,ok\na,q1,yes\na,q2,0\nb,q1,TRUE\nb,q2,\nc,q1,wrong\n")
    table = read_correctness(path, person="who", correct="ok")
    assert table.to_dict(orient="list") == {
        "person_id": ["a", "a", "b", "c"],
        "item_id": ["q1", "q2", "q1", "q1"],
        "human_correct": [1.0, 0.0, 1.0, 0.0],
    }
    model = pd.DataFrame(
        {
            "task": "quiz",
            "simulator": "llm",
            "condition": "full",
            "person_id": ["a", "a", "b", "c", "z"],
            "item_id": ["q1", "q2", "q1", "q1", "q1"],
            "error": None,
            "key_correct": [1.0, 1.0, 0.0, 0.0, 1.0],
        }
    )
    extra = pd.DataFrame({"person_id": ["d"], "item_id": ["q9"], "human_correct": [1.0]})
    report = answer_key_agreement(model, human=pd.concat([table, extra]), n_resamples=50)
    assert report.value("human_accuracy").value == pytest.approx(0.5)  # z has no person row
    assert report.value("model_accuracy").value == pytest.approx(0.5)
    # what the join left out is counted and named, not dropped silently
    note = report.summary.set_index("measure").loc["human_accuracy"].to_dict()["note"]
    assert note == (
        "1 of the arm's 5 keyed trials have no row in the correctness table (e.g. z/q1) and "
        "are left out; 1 of the correctness table's 5 rows match no trial (e.g. d/q9) and are "
        "left out"
    )
    lines = answer_key_lines(report, markup=False)
    assert any(line.startswith("llm (full): people's accuracy: 1 of the arm's") for line in lines)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("person_id,item,correct\na,q1,1\n", ":1: no item column 'item_id'"),
        (
            "person_id,item_id,correct\na,q1,1\na,q1,0\n",
            ":3: person 'a' and item 'q1' appear twice",
        ),
        ("person_id,item_id,correct\na,q1,maybe\n", ":2: column 'correct' is 'maybe'"),
        ("person_id,item_id,correct\n,q1,1\n", ":2: column 'person_id' is empty"),
        # the file's own line numbers: a quoted line break and a blank line count
        ('person_id,item_id,correct\n"a\nb",q1,1\n\nc,q1,maybe\n', ":5: column 'correct'"),
    ],
)
def test_a_bad_correctness_file_names_file_line_and_column(
    tmp_path: Path, content: str, expected: str
) -> None:
    path = tmp_path / "scored.csv"
    path.write_text(content)
    with pytest.raises(CorrectnessError) as info:
        read_correctness(path)
    assert f"{path}{expected}" in str(info.value), info.value


def test_a_keyed_survey_runs_end_to_end(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    people = 30
    frame = pd.DataFrame({"pid": [f"p{i}" for i in range(people)]})
    for j in range(4):
        frame[f"q{j}"] = rng.choice(["a", "b", "c"], people)
    frame.to_csv(tmp_path / "test.csv", index=False)
    (tmp_path / "key.csv").write_text("question,answer\nq0,a\nq1,b\nq2,c\nq3,a\n")
    options = {"a": "first", "b": "second", "c": "third"}
    mapping = {
        "name": "quiz",
        "id_column": "pid",
        "answer_key": "key.csv",
        "questions": [
            {"column": f"q{j}", "text": f"Item {j}?", "options": options} for j in range(4)
        ],
    }
    (tmp_path / "mapping.yaml").write_text(yaml.safe_dump(mapping))
    spec = {
        "name": "quiz",
        "data": {"source": str(tmp_path / "test.csv"), "mapping": str(tmp_path / "mapping.yaml")},
        "simulators": [{"name": "llm", "backend": "mock", "answer": "score"}],
    }
    run = bl.run(spec, out=tmp_path / "runs", progress=False)
    results = run.to_pandas()
    key = {"q0": "a", "q1": "b", "q2": "c", "q3": "a"}
    for r in results.to_dict(orient="records"):
        assert r["scores"]["key_correct"] == float(r["answer"] == key[r["item_id"]])
        assert r["scores"]["human_correct"] == float(r["human_answer"] == key[r["item_id"]])
    report = answer_key_agreement(results, n_resamples=100)
    truth = np.mean([r["human_answer"] == key[r["item_id"]] for r in results.to_dict("records")])
    assert report.value("human_accuracy").value == pytest.approx(truth)
    console = Console(width=160, record=True)
    console.print(render_answer_key(report))
    assert "Items where they disagree most" in console.export_text()
    html = Path(write_report(run, n_resamples=100).html).read_text(encoding="utf-8")
    assert "Answer key: people against the model" in html
