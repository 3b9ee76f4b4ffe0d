"""Transcript experiments end to end through the runner: the mock LLM and the baselines, the
stored per-choice records, the pooled metrics (sums over participants), the report block, and
both shared experiments in full."""

from __future__ import annotations

import asyncio
import math
from pathlib import Path
from typing import Any

import pytest

from behaviorlab.analysis import estimate
from behaviorlab.families.transcript import transcript_table
from behaviorlab.families.transcript._report import transcript_blocks
from behaviorlab.report._collect import collect
from behaviorlab.runs import open_run, run_async

SIMULATORS: list[dict[str, Any]] = [
    {"name": "llm", "backend": "mock", "answer": "score"},
    {"name": "position_frequency"},
    {"name": "repeat_last"},
    {"name": "transcript_logit"},
]


def _spec(name: str, path: str | Path, **task_options: Any) -> dict[str, Any]:
    return {
        "name": name,
        "task": "transcript",
        "task_options": task_options,
        "data": {"source": "psych101", "options": {"path": str(path)}, "split": {"test": 0.5}},
        "simulators": SIMULATORS,
        "conditions": ["full"],
        "cache": False,
    }


def test_run_metrics_and_report(tmp_path: Path, runs_dir: Path, make: Any) -> None:
    path = make.write(tmp_path / "prompts.jsonl", make.lines(people=10, rounds=6))
    result = asyncio.run(run_async(_spec("bandit", path), out=runs_dir))
    assert result.planned == 20 and result.completed == 20  # 5 test people x 4 simulators
    frame = open_run("bandit", out=runs_dir).to_pandas()
    assert frame["error"].isna().all() and frame["person_id"].nunique() == 5
    llm = frame[frame["simulator"] == "llm:mock-1"]
    choices = llm.iloc[0]["answer_json"]["choices"]
    assert len(choices) == 7 and choices[-1]["free_text_nll"] is not None
    # the pooled NLL is sum over people / choices over people, not a mean of means
    for sim, g in frame.groupby("simulator"):
        nll = estimate(g, "choice_nll", n_resamples=100)
        assert nll is not None
        sums = [s["nll_sum"] for s in g["scores"]]
        counts = [s["n_choices"] for s in g["scores"]]
        assert nll.value == pytest.approx(sum(sums) / sum(counts)), sim
        chance = estimate(g, "chance_nll", n_resamples=100)
        assert chance is not None and chance.value == pytest.approx(math.log(2))
    table = transcript_table(frame, n_resamples=100)
    row = table[(table["simulator"] == "repeat_last") & (table["metric"] == "choice_nll")]
    assert len(row) == 1 and row.iloc[0]["choices"] == 30 and row.iloc[0]["participants"] == 5
    assert row.iloc[0]["low"] <= row.iloc[0]["value"] <= row.iloc[0]["high"]
    blocks = transcript_blocks(collect(open_run("bandit", out=runs_dir), n_resamples=100))
    assert [type(b).__name__ for b in blocks] == ["Heading", "Paragraph", "Table"]


def test_shared_experiments_in_full(shared_data: Path, runs_dir: Path) -> None:
    """Both shared experiments, every test participant, the mock LLM and the three baselines."""
    result = asyncio.run(run_async(_spec("psych201", shared_data), out=runs_dir))
    frame = open_run("psych201", out=runs_dir).to_pandas()
    assert result.completed == len(frame) == 4 * 300  # the test half of 601 people x 4
    assert frame["error"].isna().all()
    per = frame[frame["simulator"] == "repeat_last"].groupby("item_id")["person_id"].nunique()
    assert per.sum() == 300 and set(per.index) == {"zhu2024games", "Thoma_et_al_2025_risky_choice"}
    table = transcript_table(frame, n_resamples=200)
    nll = table[table["metric"] == "choice_nll"].set_index(["simulator", "experiment"])
    games = nll.loc[("position_frequency", "zhu2024games")]
    assert games["choices"] == 20 * games["participants"]
    risky = nll.loc[("position_frequency", "Thoma_et_al_2025_risky_choice")]
    # the risky-choice participants mostly predict the seven-object letter (position 1 by
    # meaning, whichever letter is written first): the position baseline beats chance there
    assert risky["high"] < math.log(2)
    assert {"(pooled)", "zhu2024games", "Thoma_et_al_2025_risky_choice"} <= set(table["experiment"])
