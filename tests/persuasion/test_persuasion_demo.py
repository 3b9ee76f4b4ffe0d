"""`behaviorlab demo persuasion` on the mock backend: a full run through the runner, the
store and the report, whose persuasion block shows the yardstick, the metrics and the
baselines."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from behaviorlab.cli import app
from behaviorlab.families.persuasion import persuasion_table
from behaviorlab.runs import open_run


def test_demo_persuasion_on_mock_backend(runs_dir: Path) -> None:
    res = CliRunner().invoke(
        app, ["demo", "persuasion", "--backend", "mock", "--out", str(runs_dir)]
    )
    assert res.exit_code == 0, res.output
    assert "behaviorlab demo persuasion" in res.output
    run = open_run("persuasion-demo-mock", out=runs_dir)
    frame = run.to_pandas()
    assert set(frame["simulator"]) == {
        "llm:mock-1",
        "no_change",
        "toward_majority",
        "persuasion_logit",
    }
    retest = run.manifest["task_info"]["retest"]
    assert retest["pairs"] == 120 and retest["people"] == 30  # 30 test people, 4 items each
    table = persuasion_table(frame, n_resamples=200).set_index(["simulator", "condition", "arm"])
    # with the arguments withheld the majority-side baseline has no side to move toward
    at = ("toward_majority", "no_arguments", "arguments")
    assert table.loc[at, "twin_change_rate"].value == 0.0
    assert table.loc[("toward_majority", "full", "arguments"), "twin_change_rate"].value == 1.0
    assert table.loc[("toward_majority", "full", "retest"), "twin_change_rate"].value == 0.0
    assert table.loc[("no_change", "full", "arguments"), "change_over_base"].value == 0.0
    html = (runs_dir / "persuasion-demo-mock" / "report.html").read_text()
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    assert "Persuasion: did the twin change its mind as the person did?" in text
    assert "Yardstick (test–retest): in 120 pairs of answers of 30 test people" in text
    assert "Calibration of the probability of change" in text
    assert "persuasion_logit" in text and "no_arguments" in text


def test_demo_people_sets_how_many_are_generated(runs_dir: Path) -> None:
    res = CliRunner().invoke(
        app, ["demo", "persuasion", "--backend", "mock", "--people", "12", "--out", str(runs_dir)]
    )
    assert res.exit_code == 0, res.output
    frame = open_run("persuasion-demo-mock", out=runs_dir).to_pandas()
    stay = frame.loc[frame["simulator"] == "no_change"]
    # half of 12, 4 items each, a trial with arguments and a retest trial per item
    assert stay["person_id"].nunique() == 6 and len(stay) == 48
