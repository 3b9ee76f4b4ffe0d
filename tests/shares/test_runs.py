"""Shares through the runner: groups nested in their item on one side of the split, the
group as persona (removed by no_persona), the training average per group, and the demo on the
mock backend with its report block."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

import behaviorlab as bl
from behaviorlab.cli import app
from behaviorlab.families.shares import share_effects, share_scores
from behaviorlab.runs import open_run


def test_groups_stay_with_their_item(tmp_path: Path) -> None:
    spec = {
        "name": "shares-groups",
        "task": "shares",
        "data": {
            "source": "shares_synthetic",
            "options": {"items": 12, "near_uniform": 0, "groups": ["young", "old"]},
            "split": {"test": 0.5, "seed": 1},  # also the data seed (data.options.seed)
        },
        "simulators": [
            {"name": "planted_shares", "mix": 0.0, "items": 12, "near_uniform": 0, "data_seed": 1},
            {"name": "train_shares"},
        ],
        "conditions": ["full", "no_persona"],
    }
    frame = bl.run(spec, out=tmp_path, progress=False).to_pandas()
    planted = frame[(frame["simulator"] == "planted:0") & (frame["condition"] == "full")]
    assert len(planted) == 12  # 6 test items x 2 groups
    per_item = planted.groupby("person_id")["item_id"].apply(sorted).to_dict()
    assert all(units == [f"{i} | old", f"{i} | young"] for i, units in per_item.items())
    assert {m["group"]["group"] for m in planted["meta"]} == {"young", "old"}
    scores = share_scores(frame, n_resamples=300).set_index(["simulator", "condition"])
    exact = scores.loc[("planted:0", "full")]
    assert exact["n_units"] == 12 and exact["n_items"] == 6
    # mix 0 answers the population itself: at the people's noise, not above it
    assert exact["share_tv_low"] <= exact["share_tv_floor"] * 1.5
    # ... where the interval is a one-sided bound from 0, not one above the truth
    assert bool(exact["share_tv_at_floor"]) and exact["share_tv_low"] == 0.0
    assert exact["share_tv_high"] >= exact["share_tv"] * 0.5
    assert exact["share_tv"] < 0.1 and exact["simbench_score"] > 60
    by_group = frame[frame["simulator"] == "train_shares"]
    full = by_group[by_group["condition"] == "full"]["probabilities"].tolist()
    pooled = by_group[by_group["condition"] == "no_persona"]["probabilities"].tolist()
    assert full != pooled  # per group with the persona, pooled without it
    effects = share_effects(frame, n_resamples=300).set_index("simulator")
    assert effects.loc["planted:0", "share_tv_difference"] == 0.0  # it ignores the persona
    assert effects.loc["train_shares", "control"] == "no_persona"


def test_demo_on_mock_backend_reports_the_shares_block(tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["demo", "shares", "--backend", "mock", "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    # the generic metrics are named for what they compare with here: the people's mode
    assert "modal match" in res.output and "JS to mode" in res.output
    assert "SimBench score" in res.output and "│ accuracy" not in res.output
    run = open_run("shares-demo-mock", out=tmp_path)
    assert set(run.to_pandas()["simulator"]) == {"llm:mock-1", "train_shares", "planted:0.3"}
    # the demo writes the report too
    text = (tmp_path / "shares-demo-mock" / "report.md").read_text()
    block = text.split("### Shares: distributions per item")[1]
    assert "| uniform | full | 12 −1 |" in block
    assert "- q24 (TV to uniform" in block  # the near-uniform test item, listed


def test_samples_count_and_a_single_answer_does_not(tmp_path: Path) -> None:
    spec = {
        "name": "shares-modes",
        "task": "shares",
        "data": {
            "source": "shares_synthetic",
            "options": {"items": 6, "near_uniform": 0},
            "split": {"test": 0.5, "seed": 0},
        },
        "simulators": [
            {"name": "llm", "backend": "mock", "answer": "sample", "n": 4, "label": "llm:s"},
            {"name": "llm", "backend": "mock", "answer": "generate", "label": "llm:g"},
        ],
    }
    frame = bl.run(spec, out=tmp_path, progress=False).to_pandas()
    scores = share_scores(frame, n_resamples=100).set_index("simulator")
    sampled = frame[frame["simulator"] == "llm:s"]
    assert sampled["samples"].map(len).eq(4).all()
    assert scores.loc["llm:s", "n_units"] == 3 and scores.loc["llm:s", "n_no_distribution"] == 0
    # a generated answer is no distribution: no row, never a one-hot stand-in
    assert "llm:g" not in scores.index
    from behaviorlab.families.shares._report import _without_distribution

    assert _without_distribution(frame) == ["llm:g (full): 3 of 3"]
