"""An arm with stored trials but no human answer to compare with (agents debating, a patient
session) gets one line instead of a row of dashes in the terminal gap table."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd
from rich.console import Console
from typer.testing import CliRunner

from behaviorlab.analysis import gap
from behaviorlab.cli import app
from behaviorlab.report._terminal import gap_summary_lines, render_gap, unscored_lines


def _row(sim: str, person: str, item: str, human: str | None, answer: str) -> dict[str, Any]:
    correct = None if human is None else float(human == answer)
    return {
        "task": "survey",
        "simulator": sim,
        "condition": "full",
        "person_id": person,
        "item_id": item,
        "human_answer": human,
        "answer": answer,
        "correct": correct,
        "error": None,
    }


def _frame() -> pd.DataFrame:
    rows = [_row("scored", f"p{i}", "q", "a" if i % 2 else "b", "a") for i in range(10)]
    rows += [_row("agents", f"p{i}", "q", None, "a") for i in range(3)]
    return pd.DataFrame(rows)


def test_an_arm_without_a_human_answer_is_one_line_not_a_row_of_dashes() -> None:
    report = gap(_frame(), n_resamples=100)
    assert unscored_lines(report) == ["agents · full: 3 trials, no human answer to compare with"]
    for width in (80, 200):  # the narrow layout and the wide table
        console = Console(width=width, record=True)
        console.print(render_gap(report))
        text = console.export_text()
        assert "scored" in text and "agents" not in text, text
    assert not any("agents" in line for line in gap_summary_lines(report))


def test_the_debate_demo_says_its_arms_have_no_human_answer(tmp_path: Path) -> None:
    here = Path.cwd()
    os.chdir(tmp_path)
    try:
        res = CliRunner().invoke(
            app,
            ["demo", "debate", "--backend", "mock", "--out", "runs"],
            env={"COLUMNS": "80", "LINES": "50", "TERM": "dumb"},
        )
    finally:
        os.chdir(here)
    assert res.exit_code == 0, res.output
    text = " ".join(res.output.split())
    assert "degroot · full: 2 trials, no human answer to compare with (per-role results" in text
    assert "0 trials (0 failed, 0 invalid)" not in text
    assert "no valid trials" not in text
    assert "Per role" in text
