"""``behaviorlab import``: docs/import.md's worked example run as written (a planted twin
that equals the people on 70% of trials is recovered by ``behaviorlab gap`` within its
interval), unmatched rows listed, errors naming the file, row and field, a second process
refused."""

from __future__ import annotations

import io
import re
import shlex
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from behaviorlab.cli import app
from behaviorlab.store import StoreLock

DOC = Path(__file__).resolve().parents[2] / "docs" / "import.md"
runner = CliRunner()


def doc_blocks() -> tuple[str, list[str], str, list[str]]:
    """The example's Python block, the import command, and what the doc says they print."""
    text = DOC.read_text()
    example = text.split("## A worked example", 1)[1]
    python = example.split("```python\n", 1)[1].split("```", 1)[0]
    console = example.split("```console\n", 1)[1].split("```", 1)[0].splitlines()
    command = shlex.split(console[0].removeprefix("$ "))
    gap_at = next(i for i, line in enumerate(console) if line.startswith("$ behaviorlab gap"))
    return python, command[1:], "\n".join(console[1:gap_at]), console[gap_at + 1 :]


def accuracy(output: str, label: str) -> tuple[float, float, float]:
    block = output.split(f"{label} · full:", 1)[1]
    m = re.search(r"accuracy ↑\s*│\s*([\d.]+) \[([\d.]+), ([\d.]+)\]", block)
    assert m is not None, output
    return float(m[1]), float(m[2]), float(m[3])


def test_the_docs_example_recovers_the_planted_accuracy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    python, args, said, gap_lines = doc_blocks()
    exec(compile(python, str(DOC), "exec"), {})
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    assert res.output.strip() == said.strip()  # the doc shows what the command prints
    gap = runner.invoke(app, ["gap", "imported"])
    assert gap.exit_code == 0, gap.output
    for line in gap_lines:
        assert line in gap.output, line
    # the planted share: twin equals the person on 70% of trials
    value, low, high = accuracy(gap.output, "twin")
    assert low <= 0.70 <= high
    answers = pd.read_csv("answers.csv", dtype=str)
    people = pd.read_csv("people.csv", dtype=str).set_index("respondent")
    twin = answers[answers["simulator"] == "twin"]
    own = [people.loc[p, q] for p, q in zip(twin["person_id"], twin["item_id"], strict=True)]
    assert value == round(float((twin["value"] == own).mean()), 2)
    again = runner.invoke(app, args)
    assert again.exit_code == 0 and "0 stored now, 2400 already stored" in again.output


def write_small(tmp_path: Path) -> tuple[Path, Path]:
    (tmp_path / "people.csv").write_text("id,age,q1\na,30,1\nb,40,2\nc,50,1\n")
    (tmp_path / "data.yaml").write_text(
        "source: people.csv\nmapping:\n  name: small\n  id_column: id\n"
        "  persona: [{column: age, template: 'You are {value}.'}]\n"
        "  questions: [{column: q1, text: 'Q?', options: {1: 'Yes', 2: 'No'}}]\n"
    )
    answers = tmp_path / "answers.csv"
    answers.write_text(
        "person,question,answer,model\na,q1,1,m\nb,q1,yes,m\nzz,q1,1,m\nc,q1,3,m\nc,q2,1,m\n"
    )
    return answers, tmp_path / "data.yaml"


def test_unmatched_rows_are_listed_and_the_rest_stored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    answers, data = write_small(tmp_path)
    res = runner.invoke(
        app, ["import", str(answers), "--run", "small", "--data", str(data), "--unmatched", "u.csv"]
    )
    assert res.exit_code == 0, res.output
    assert "5 rows; 2 matched a trial, for m (2)" in res.output
    assert "3 rows matched no trial and were left out:" in res.output
    assert f"{answers}, line 4: person: no person 'zz' in the data" in res.output
    assert f"{answers}, line 5: answer: '3' is not an option of item 'q1' (its codes: 1, 2)" in (
        res.output
    )
    assert f"{answers}, line 6: question: no item 'q2' in the data" in res.output
    listed = pd.read_csv(tmp_path / "u.csv", dtype=str)
    assert listed["row"].tolist() == ["line 4", "line 5", "line 6"]
    table = runner.invoke(app, ["results", "small", "--format", "csv"])
    stored = pd.read_csv(io.StringIO(table.output), dtype=str)
    assert sorted(zip(stored["person_id"], stored["answer"], strict=True)) == [
        ("a", "1"),
        ("b", "1"),
    ]
    report = runner.invoke(app, ["report", "small"])  # the report reads the imported run
    assert report.exit_code == 0, report.output
    assert (tmp_path / "runs" / "small" / "report.html").exists()
    # a data file without its mapping is refused by the loader, naming it
    res = runner.invoke(app, ["import", str(answers), "--run", "x", "--data", "people.csv"])
    assert res.exit_code == 2 and "'people.csv' is a survey file: pass mapping=" in res.output


def test_errors_name_the_file_row_and_field_and_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    answers, data = write_small(tmp_path)
    answers.write_text("person,question,answer,model\na,q1,1,m\nb,q1,1,m\na,q1,2,m\n")
    res = runner.invoke(app, ["import", str(answers), "--run", "e", "--data", str(data)])
    assert res.exit_code == 2
    assert (
        f"{answers}: 1 duplicate answer(s) (fields model, person, question): line 2 and line 4"
        in (" ".join(res.output.split()))
    )
    res = runner.invoke(
        app, ["import", str(answers), "--run", "e", "--data", str(data), "--value-col", "v"]
    )
    assert res.exit_code == 2 and "no column 'v' (given for the value)" in res.output
    res = runner.invoke(app, ["import", str(answers), "--run", "e", "--data", "missing.yaml"])
    assert res.exit_code == 2 and "data spec 'missing.yaml' not found" in res.output


def test_a_second_process_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    answers, data = write_small(tmp_path)
    results = tmp_path / "runs" / "locked" / "results.sqlite"
    results.parent.mkdir(parents=True)
    with StoreLock(results):
        res = runner.invoke(app, ["import", str(answers), "--run", "locked", "--data", str(data)])
    assert res.exit_code == 2
    assert "one process writes a results file at a time" in " ".join(res.output.split())
    assert not results.exists()
