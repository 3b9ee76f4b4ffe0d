"""`behaviorlab demo opera`, `behaviorlab plan`, and OPeRA directories through `behaviorlab run`."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from behaviorlab.cli import app
from behaviorlab.data import make_synthetic_opera
from behaviorlab.runs import open_run

runner = CliRunner()


def test_demo_opera_on_mock_backend(runs_dir: Path) -> None:
    res = runner.invoke(app, ["demo", "opera", "--backend", "mock", "--out", str(runs_dir)])
    assert res.exit_code == 0, res.output
    out = res.output
    assert out.count("SYNTHETIC DATA") >= 2
    assert (runs_dir / "opera-demo-data" / "README.txt").read_text().startswith("SYNTHETIC")
    assert "estimate (this spec):" in out  # printed before the run starts
    assert "estimate for opera-demo-mock (full test split)" in out
    assert "real OPeRA (filtered test split, 992 action rows)" in out
    frame = open_run("opera-demo-mock", out=runs_dir).to_pandas()
    sims = set(frame["simulator"])
    assert sims == {
        "llm:mock-1",
        "majority_action",
        "markov",
        "markov_user",
        "nearest_step",
        "first_product_link",
    }
    llm = frame[frame["simulator"] == "llm:mock-1"]
    counts = llm.groupby("condition").size().to_dict()
    assert set(counts) == {
        "full",
        "no_persona",
        "shuffled_persona",
        "no_rationale_history",
        "no_history",
    }
    assert counts["full"] == counts["no_persona"] <= 25
    assert counts["no_history"] < counts["full"]
    assert llm["person_id"].nunique() == 2
    base = frame[frame["simulator"] == "markov"]
    assert len(base) > counts["full"]  # baselines answer the whole test split
    # deterministic data: a second demo resumes the same run
    again = runner.invoke(app, ["demo", "opera", "--backend", "mock", "--out", str(runs_dir)])
    assert again.exit_code == 0, again.output
    assert f"0 trials answered now, {len(frame)} already stored" in again.output


def test_unknown_demo(tmp_path: Path) -> None:
    res = runner.invoke(app, ["demo", "poker", "--out", str(tmp_path)])
    assert res.exit_code == 2 and "use one of: survey, " in res.output and "opera" in res.output


def _spec(path: Path, data_dir: Path, delay: float = 0.0) -> Path:
    path.write_text(
        "name: op\n"
        "task: next_action\n"
        "task_options: {budget: 800, max_steps: 3}\n"
        f"data: {{source: opera, options: {{path: '{data_dir}', version: filtered}}, "
        "split: {by: data}}\n"
        "simulators:\n"
        "  - {name: llm, backend: mock, answer: generate, "
        f"backend_options: {{delay_s: {delay}}}}}\n"
        "  - {name: markov, conditions: [full]}\n"
        "conditions: [full, no_persona]\n"
    )
    return path


def test_plan_command_measures_and_extrapolates(tmp_path: Path) -> None:
    data_dir = make_synthetic_opera(tmp_path / "data", users=4, sessions_per_user=2)
    spec = _spec(tmp_path / "op.yaml", data_dir, delay=0.02)
    out = str(tmp_path / "runs")
    res = runner.invoke(app, ["plan", str(spec), "--out", out, "--measure", "2"])
    assert res.exit_code == 0, res.output
    text = res.output
    assert "estimate for op (this spec)" in text
    assert "estimate for op (full test split)" in text  # max_steps removed
    assert "measured: 2 trials on mock/mock-1 without the cache" in text
    assert "time not measured" not in text
    # from a stored run
    ran = runner.invoke(app, ["run", str(spec), "--out", out])
    assert ran.exit_code == 0, ran.output
    res = runner.invoke(app, ["plan", str(spec), "--out", out, "--from", "op"])
    assert res.exit_code == 0, res.output
    assert "from run op-" in res.output


def test_run_on_malformed_opera_directory_is_a_clear_error(tmp_path: Path) -> None:
    data_dir = make_synthetic_opera(tmp_path / "data", users=4, sessions_per_user=2)
    shard = sorted((data_dir / "OPeRA_filtered" / "action").glob("train*.parquet"))[0]
    table = pd.read_parquet(shard)
    row = int((table["action_type"] == "click").to_numpy().nonzero()[0][0])
    table.loc[row, "click_type"] = "banana"
    table.to_parquet(shard, index=False)
    spec = _spec(tmp_path / "op.yaml", data_dir)
    res = runner.invoke(app, ["run", str(spec), "--out", str(tmp_path / "runs")])
    assert res.exit_code == 2, res.output
    text = " ".join(res.output.split())
    assert "action table" in text and "'click_type'" in text and f"row {row}" in text
    assert "banana" in text


def test_run_split_by_data_on_a_survey_names_the_fix(tmp_path: Path) -> None:
    spec = tmp_path / "s.yaml"
    spec.write_text(
        "name: s\ndata: {source: synthetic-test, split: {by: data}}\n"
        "simulators: [{name: majority}]\n"
    )
    res = runner.invoke(app, ["run", str(spec), "--out", str(tmp_path / "runs")])
    assert res.exit_code == 2
    assert "this dataset records no split; use split: {by: person}" in " ".join(res.output.split())
