"""The report's scenario tables: the always-first reference row, counts, the licence notice."""

from __future__ import annotations

from pathlib import Path

import behaviorlab as bl
from behaviorlab.analysis import gap
from behaviorlab.families.scenario._metrics import FIRST_OPTION
from behaviorlab.families.scenario._report import scenario_blocks
from behaviorlab.report import write_report
from behaviorlab.report._collect import RunData
from behaviorlab.report._document import Paragraph, Table


def _run(tmp_path: Path, source: str, options: dict[str, object], items: str = "all") -> bl.Run:
    spec = {
        "name": f"rep-{source}",
        "task": "scenario",
        "task_options": {"items": items},
        "data": {"source": source, "options": options, "split": {"test": 0.9}},
        "simulators": [
            {"name": "llm", "backend": "mock", "answer": "generate"},
            {"name": "first_option", "conditions": ["full"]},
        ],
        "n_resamples": 100,
    }
    return bl.run(spec, out=tmp_path, progress=False)


def _blocks(run: bl.Run) -> list[object]:
    frame = run.to_pandas()
    data = RunData(
        name="x",
        run=run,
        manifest=run.manifest,
        status="finished",
        created_at="",
        frame=frame,
        persons=None,
        report=gap(frame, n_resamples=100, n_flips=100),
    )
    return list(scenario_blocks(data))


def _tables(blocks: list[object]) -> list[Table]:
    return [b for b in blocks if isinstance(b, Table)]


def test_html_report_has_scenario_table_with_first_option_row(tmp_path: Path) -> None:
    run = _run(tmp_path, "scenario_examples", {})
    html = write_report(run, n_resamples=100).html.read_text()
    assert "Scenarios: P-Score" in html and FIRST_OPTION in html
    assert "stored but not scored" in html  # the open-ended items without a judge


def test_pacifaist_and_diffaware_tables(
    tmp_path: Path, pacifaist_dir: Path, diffaware_dir: Path
) -> None:
    blocks = _blocks(_run(tmp_path, "pacifaist", {"path": str(pacifaist_dir), "limit": 12}))
    notes = [b.text for b in blocks if isinstance(b, Paragraph)]
    assert any("NON-COMMERCIAL" in n for n in notes)
    (table,) = _tables(blocks)
    sims = [row[0] for row in table.rows]
    groups = {row[2] for row in table.rows}
    assert {"EP1", "EP2", "EP3", "all"} <= groups
    # an always-first reference row for every subcategory (one condition here)
    assert sims.count(FIRST_OPTION) == len(groups)
    blocks = _blocks(
        _run(
            tmp_path,
            "diffaware",
            {"path": str(diffaware_dir), "benchmarks": ["D3"], "limit": 10},
            items="choice",
        )
    )
    _, aware = _tables(blocks)
    assert "DiffAware" in aware.columns and "CtxtAware" in aware.columns
    assert [row[0] for row in aware.rows].count(FIRST_OPTION) == 1
