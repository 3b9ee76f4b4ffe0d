"""docs/persuasion.md's worked example runs as written: the pandas reshape of a table with
Anthropic/persuasion's columns, the mapping and the spec (the LLM on the mock backend)."""

from __future__ import annotations

import os
import random
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml

import behaviorlab as bl
from behaviorlab.families.persuasion import persuasion_table
from behaviorlab.families.persuasion._report import yardstick_text

ROOT = Path(__file__).resolve().parents[2]
TEXT = (ROOT / "docs" / "persuasion.md").read_text()


def _block(lang: str, marker: str) -> str:
    return next(b for b in re.findall(rf"```{lang}\n(.*?)```", TEXT, re.S) if marker in b)


def _published_shape(path: Path) -> pd.DataFrame:
    """A small table with the published columns (ratings written as the card's labels)."""
    rng = random.Random(0)
    labels = {
        1: "1 - Strongly oppose",
        4: "4 - Neither oppose nor support",
        7: "7 - Strongly support",
    }
    rows = []
    for w in range(24):
        for c in range(2):
            start = rng.randint(1, 6)
            end = min(start + (rng.random() < 0.4), 7)
            rows.append(
                {
                    "worker_id": f"w{w}",
                    "claim": f"Claim number {c}.",
                    "argument": f"An argument for claim {c}, version {w % 3}.",
                    "source": "Human",
                    "prompt_type": "Expert Writer Rhetorics",
                    "rating_initial": labels.get(start, str(start)),
                    "rating_final": labels.get(end, str(end)),
                }
            )
    frame = pd.DataFrame(rows)
    frame.to_csv(path, index=False)
    return frame


def test_worked_example_loads_and_runs_as_written(tmp_path: Path) -> None:
    raw = _published_shape(tmp_path / "persuasion.csv")
    (tmp_path / "anthropic-persuasion.yaml").write_text(_block("yaml", "anthropic_persuasion"))
    spec = yaml.safe_load(_block("yaml", "source: persuasion_file"))
    for sim in spec["simulators"]:
        if sim["name"] == "llm":
            sim.update(backend="mock")
            sim.pop("model")
    here = Path.cwd()
    os.chdir(tmp_path)
    try:
        exec(compile(_block("python", "persuasion-long.csv"), "docs/persuasion.md", "exec"), {})
        run = bl.run(spec, out=tmp_path / "runs", progress=False)
    finally:
        os.chdir(here)
    frame = run.to_pandas()
    table = persuasion_table(frame, n_resamples=200).set_index(["simulator", "condition"])
    stay = table.loc[("no_change", "full")]
    tested = raw["worker_id"].isin(set(frame["person_id"]))
    first, last = (
        raw.loc[tested, c].str.extract(r"(\d)")[0] for c in ("rating_initial", "rating_final")
    )
    assert stay["n"] == 24 and stay["n_people"] == 12  # half the 24 workers, 2 claims each
    assert stay["human_change_rate"].value == pytest.approx((first != last).mean())
    assert stay["change_accuracy"].value == pytest.approx(1 - (first != last).mean())
    assert {"llm:mock-1", "persuasion_logit"} <= set(frame["simulator"])
    assert "no test–retest agreement" in yardstick_text(run.manifest.get("task_info", {}))
    # no strength in this data: the strength correlation does not apply
    assert table.loc[("persuasion_logit", "full"), "strength_change_r"] is None
