"""`behaviorlab demo scenario`: the packaged scenario demo, on the mock backend (fast) and on
the bundled SmolLM2 (slow, a small slice)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

import behaviorlab as bl
from behaviorlab.cli import app
from behaviorlab.families.scenario._metrics import FIRST_OPTION, scenario_table
from behaviorlab.runs import open_run

runner = CliRunner()


def test_demo_scenario_on_mock_backend(runs_dir: Path) -> None:
    res = runner.invoke(app, ["demo", "scenario", "--backend", "mock", "--out", str(runs_dir)])
    assert res.exit_code == 0, res.output
    said = " ".join(res.output.split())  # the terminal wraps lines
    assert "behaviorlab demo scenario" in said and "not a benchmark" in said
    frame = open_run("scenario-demo-mock", out=runs_dir).to_pandas()
    assert set(frame["simulator"]) == {"llm:mock-1", "first_option", "random_option"}
    llm = frame[frame["simulator"] == "llm:mock-1"]
    assert set(llm["condition"]) == {"full", "no_persona"}
    # all 12 illustrative items are answered (split test: 1.0)
    assert llm.groupby("condition").size().to_dict() == {"full": 12, "no_persona": 12}
    table = scenario_table(frame, by=None, n_resamples=200)
    assert FIRST_OPTION in set(table["simulator"])
    # the demo runs without a judge: its open-ended items are reported as unscored
    full = table[(table["simulator"] == "llm:mock-1") & (table["condition"] == "full")].iloc[0]
    assert full["open_unscored"] == 2
    again = runner.invoke(app, ["demo", "scenario", "--backend", "mock", "--out", str(runs_dir)])
    assert again.exit_code == 0, again.output
    assert f"0 trials answered now, {len(frame)} already stored" in again.output


@pytest.mark.slow
def test_scenario_slice_with_bundled_smollm2(tmp_path: Path) -> None:
    path = resources.files("behaviorlab.families.scenario").joinpath("demo.yaml")
    spec = yaml.safe_load(path.read_text())
    spec["name"] = "scenario-smollm2-slice"
    spec["data"]["options"] = {"limit": 5}  # the first 5 items: all multiple-choice
    spec["data"]["split"] = {"test": 0.8, "seed": 0}
    spec["conditions"] = ["full"]
    frame = bl.run(spec, out=tmp_path, progress=False).to_pandas()
    llm = frame[frame["simulator"] == "llm:smollm2"]
    assert len(llm) == 4
    choice = llm[llm["options"].notna()]
    # every choice row is either a valid option or a counted failure, never a guess
    assert ((choice["answer"].isin(["A", "B", "C", "D"])) | choice["error"].notna()).all()
    assert (choice["meta"].map(lambda m: "option_order_seed" in m)).all()
    assert llm["calls"].sum() >= len(llm) - int(llm["error"].notna().sum())
