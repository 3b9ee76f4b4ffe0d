"""Every demo's gap table reads at 80 columns: no estimate cut, no line wider than the
terminal (issue 15 §2). Before, the narrow layout's four columns left the estimate two
characters (``0…``) on ``behaviorlab demo opera``."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from behaviorlab.analysis import Estimate, GapReport, gap
from behaviorlab.cli import app
from behaviorlab.plugins import demos
from behaviorlab.report._terminal import format_estimate, metric_labels, render_gap

NUM = r"[+−]?\d+\.\d\d"
CI = re.compile(rf"{NUM} \[{NUM}, {NUM}\]")
TABLE_ROW = re.compile(r"^[│┃]")


def _demo_output(which: str, workdir: Path) -> str:
    workdir.mkdir(parents=True, exist_ok=True)
    here = Path.cwd()
    os.chdir(workdir)
    try:
        res = CliRunner().invoke(
            app,
            ["demo", which, "--backend", "mock", "--out", "runs"],
            env={"COLUMNS": "80", "LINES": "50", "TERM": "dumb"},
        )
    finally:
        os.chdir(here)
    assert res.exit_code == 0, res.output
    return res.output


@pytest.mark.parametrize("which", [d.name for d in demos()])
def test_every_demo_table_reads_at_80_columns(which: str, tmp_path: Path) -> None:
    text = _demo_output(which, tmp_path)
    table = [ln for ln in text.splitlines() if TABLE_ROW.match(ln)]
    assert table, f"demo {which}: no table in the output"
    assert max(len(ln) for ln in table) <= 80
    cells = [c.strip() for ln in table for c in re.split(r"[│┃]", ln) if c.strip()]
    assert not [c for c in cells if "…" in c], f"demo {which}: a cell was cut"
    estimates = [ln for ln in table if CI.search(ln)]
    assert estimates, f"demo {which}: no estimate written whole on one line"
    if which == "opera":
        assert any("exact match ↑" in ln for ln in table)
        assert not any("│ accuracy ↑" in ln for ln in table)
        assert "exact match is the metric accuracy" in re.sub(r"\s+", " ", text)


def _wide_report() -> GapReport:
    """A report whose names and estimates are as long as they come."""
    import pandas as pd

    rows = []
    for person in range(12):
        for item in range(4):
            for sim, cond in (("a_very_long_simulator_name", "no_rationale_history"), ("b", "x")):
                rows.append(
                    {
                        "task": "survey",
                        "simulator": sim,
                        "condition": cond,
                        "person_id": f"p{person}",
                        "item_id": f"q{item}",
                        "trial_id": f"{sim}-{cond}-{person}-{item}",
                        "seed": 0,
                        "correct": (person + item) % 3 == 0,
                        "answer": "A",
                        "target": "A" if (person + item) % 3 == 0 else "B",
                        "valid": True,
                        "error": None,
                        "probabilities": None,
                    }
                )
    return gap(pd.DataFrame(rows), n_resamples=50, metrics=["accuracy", "macro_f1"])


def test_the_narrow_layout_never_shrinks_the_estimate() -> None:
    report = _wide_report()
    console = Console(width=40, record=True, color_system=None)
    console.print(render_gap(report))
    text = console.export_text()
    for row in report.rows:
        for est in row.estimates.values():
            full = format_estimate(est)
            assert full in text, full
    assert "a_very_long_simulator_name" in text and "no_rationale_history" in text


def test_a_family_label_is_shown_where_every_family_agrees() -> None:
    assert metric_labels(["next_action"]) == {"accuracy": "exact match"}
    assert metric_labels(["survey"]) == {}
    assert metric_labels(["next_action", "survey"]) == {"accuracy": "exact match"}
    assert format_estimate(Estimate(0.5, 0.4, 0.6, 5, 10, "b")) == "0.50 [0.40, 0.60]"
