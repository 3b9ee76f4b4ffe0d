"""The CLI's wiring of what families and analyses added: numeric outcomes and answer keys in
``behaviorlab gap`` (table and JSON), the cells × trials of a sweep in ``behaviorlab plan``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

import behaviorlab as bl
from behaviorlab.cli import app

runner = CliRunner()


def _survey(tmp_path: Path, *, numeric: bool, keyed: bool) -> dict[str, Any]:
    """A spec of 24 people: a numeric question in [0, 10] and/or three option questions
    with an answer key, answered by the mock model."""
    rng = np.random.default_rng(5)
    people = 24
    table = pd.DataFrame({"pid": [f"p{i}" for i in range(people)]})
    table["age"] = rng.integers(20, 70, people)
    questions: list[dict[str, Any]] = []
    if numeric:
        table["temp"] = np.round(rng.uniform(0, 10, people), 1)
        questions.append({"column": "temp", "text": "How warm?", "type": "numeric"})
        questions[-1]["range"] = [0, 10]
    options = {"a": "first", "b": "second", "c": "third"}
    for j in range(3):
        table[f"q{j}"] = rng.choice(list(options), people)
        questions.append({"column": f"q{j}", "text": f"Item {j}?", "options": options})
    table.to_csv(tmp_path / "survey.csv", index=False)
    mapping: dict[str, Any] = {
        "name": "wiring",
        "id_column": "pid",
        "persona": [{"column": "age", "template": "You are {value} years old."}],
        "questions": questions,
    }
    if keyed:
        (tmp_path / "key.csv").write_text("question,answer\nq0,a\nq1,b\nq2,c\n")
        mapping["answer_key"] = "key.csv"
    (tmp_path / "mapping.yaml").write_text(yaml.safe_dump(mapping))
    return {
        "name": "wiring",
        "data": {"source": str(tmp_path / "survey.csv"), "mapping": str(tmp_path / "mapping.yaml")},
        "simulators": [{"name": "llm", "backend": "mock", "answer": "generate"}],
    }


def _gap(out: Path, *extra: str) -> str:
    res = runner.invoke(app, ["gap", "wiring", "--out", str(out), "--resamples", "100", *extra])
    assert res.exit_code == 0, res.output
    return res.output


@pytest.mark.parametrize(("numeric", "keyed"), [(True, True), (False, False)])
def test_gap_prints_numeric_outcomes_and_answer_keys_only_when_the_run_has_them(
    tmp_path: Path, numeric: bool, keyed: bool
) -> None:
    bl.run(_survey(tmp_path, numeric=numeric, keyed=keyed), out=tmp_path / "runs", progress=False)
    text = _gap(tmp_path / "runs")
    assert ("Numeric outcomes" in text) is numeric
    assert ("uniform over the range" in text) is numeric
    assert ("Answer key: people against the model" in text) is keyed
    assert ("Items where they disagree most" in text) is keyed
    data = json.loads(_gap(tmp_path / "runs", "--format", "json"))
    if numeric:
        metrics = {r["metric"] for r in data["numeric"]["table"]}
        assert {"mae", "accuracy", "correlation"} <= metrics
        assert {r["item_id"] for r in data["numeric"]["items"]} == {"temp"}
        measures = {r["measure"] for r in data["answer_key"]["summary"]}
        assert {"human_accuracy", "model_accuracy", "kappa"} <= measures
        assert {r["item_id"] for r in data["answer_key"]["items"]} == {"q0", "q1", "q2"}
    else:
        assert data["numeric"] is None and data["answer_key"] is None


SWEEP_SPEC = """\
name: sw
data: {source: synthetic-test, people: 20, split: {test: 1.0}}
sweep:
  simulator: {name: llm, backend: mock, answer: sample, n: 2}
  factors:
    model: [a, b]
    seed: [0, 2, 4]
"""


def test_plan_of_a_sweep_says_how_many_cells_and_trials(tmp_path: Path) -> None:
    spec = tmp_path / "sweep.yaml"
    spec.write_text(SWEEP_SPEC, encoding="utf-8")
    res = runner.invoke(app, ["plan", str(spec), "--out", str(tmp_path / "runs")])
    assert res.exit_code == 0, res.output
    assert "sweep: 2 model × 3 seed = 6 cells × 40 trials = 240 trials" in res.output
    plain = tmp_path / "plain.yaml"
    plain.write_text(SWEEP_SPEC.split("sweep:")[0] + "simulators: [{name: first_option}]\n")
    res = runner.invoke(app, ["plan", str(plain), "--out", str(tmp_path / "runs")])
    assert res.exit_code == 0, res.output
    assert "sweep:" not in res.output


def test_a_demo_prints_its_finish_lines_after_the_run_and_before_its_outro(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import behaviorlab.plugins as plugins
    from behaviorlab.plugins import Demo, DemoPlan, DemoRequest
    from behaviorlab.runs import Run

    seen: list[int] = []

    def finish(run: Run) -> list[str]:
        seen.append(len(run.to_pandas()))
        return [f"[bold]finished[/]: {seen[-1]} stored trials"]

    def build(request: DemoRequest) -> DemoPlan:
        spec = {
            "name": "fin",
            "data": {"source": "synthetic-test", "people": 10},
            "simulators": [{"name": "first_option"}],
        }
        return DemoPlan(spec, intro=["intro line"], outro=["outro line"], finish=finish)

    monkeypatch.setattr(plugins, "find_demo", lambda which: Demo("fin", "a test demo", build))
    res = runner.invoke(app, ["demo", "fin", "--out", str(tmp_path / "runs")])
    assert res.exit_code == 0, res.output
    assert seen and seen[0] > 0
    text = res.output
    assert f"finished: {seen[0]} stored trials" in text  # markup rendered, not printed
    assert text.index("Gap to real people") < text.index("finished:") < text.index("outro line")


def test_the_debate_demo_ends_with_its_drift_table_and_controls(tmp_path: Path) -> None:
    res = runner.invoke(
        app,
        ["demo", "debate", "--backend", "mock", "--out", str(tmp_path / "runs")],
        env={"COLUMNS": "80", "LINES": "50", "TERM": "dumb"},
    )
    assert res.exit_code == 0, res.output
    text = res.output
    drift = text.index("Drift toward each model's own default")
    controls = text.index("Controls minus the full debate")
    assert drift < controls < text.index("Read the smollm2 rows")
    block = text[drift : text.index("Read the smollm2 rows")].splitlines()
    assert max(len(line) for line in block) <= 80
    rows = {tuple(line.split()[:2]): line for line in block if line.strip()}
    # the references: stubborn agents close nothing, in the debate and in every control
    assert rows[("stubborn", "debate")].split()[2:] == ["0.00", "[0.00,", "0.00]"] * 2
    for sim in ("degroot", "drift-0.25", "stubborn", "mock"):
        for arm in ("debate", "retest", "same_identity"):
            assert (sim, arm) in rows, (sim, arm)
    assert "round 1" in text and "round 2" in text
    diffs = text[controls:].splitlines()
    assert any(line.startswith("drift-0.25") and "same_identity" in line for line in diffs)
