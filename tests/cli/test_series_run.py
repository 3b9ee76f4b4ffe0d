"""``behaviorlab series`` reads a run (its folder or results.sqlite) as well as a table
(issue 23: captured studies and runs feed the methods directly): the run's trial rows, with
``scores.KEY`` / ``meta.KEY`` and ``arm`` columns, averaged per step with ``--mean``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from behaviorlab.cli._timeseries import series_app
from behaviorlab.runs._spec import load_spec
from behaviorlab.store import ResultStore
from behaviorlab.store._schema import TrialResult

runner = CliRunner()


def slowing_run(folder: Path) -> Path:
    """Two arms of 4 people over 300 steps: the fidelity score is a shared AR(1) whose
    coefficient rises from 0.2 to 0.95 in ``twin:drift`` and stays 0.2 in ``twin:steady``."""
    spec = load_spec(
        {
            "name": "twin-over-time",
            "task": "survey",
            "data": {"source": "synthetic-test"},
            "simulators": [{"name": "majority"}],
        }
    )
    rid = spec.run_id()
    rng = np.random.default_rng(0)
    rows = []
    for arm, rising in (("twin:drift", True), ("twin:steady", False)):
        x = 0.0
        for t in range(300):
            x = (0.2 + (0.75 * t / 300 if rising else 0.0)) * x + rng.normal(0.0, 0.05)
            for u in range(4):
                rows.append(
                    TrialResult(
                        run_id=rid,
                        trial_id=f"{arm}-p{u}-{t}",
                        task="survey",
                        simulator=arm,
                        condition="full",
                        seed=0,
                        person_id=f"p{u}",
                        item_id=f"q{t}",
                        episode_id=f"p{u}",
                        step_index=t,
                        answer="1",
                        human_answer="1",
                        options=["1", "2"],
                        correct=1.0,
                        scores={"fidelity": 0.7 + x + rng.normal(0.0, 0.02)},
                    )
                )
    folder.mkdir(parents=True)
    with ResultStore(folder / "results.sqlite") as store:
        store.start_run(rid, spec.name, spec.model_dump(mode="json"))
        store.set_manifest(rid, {"run_id": rid, "spec": spec.model_dump(mode="json")})
        store.write_many(rows)
        store.finish_run(rid, "finished")
    return folder


def test_a_run_folder_is_read_as_one_series_per_arm(tmp_path: Path) -> None:
    run = slowing_run(tmp_path / "runs" / "twin")
    out = tmp_path / "ews.json"
    args = ["early-warning", run, "--value", "scores.fidelity", "--time", "step_index"]
    args += ["--unit", "arm", "--mean", "--surrogates", "99", "--json", out]
    res = runner.invoke(series_app, [str(a) for a in args])
    assert res.exit_code == 0, res.output
    got = json.loads(out.read_text())["series"]
    assert got["twin:drift · full"]["warns"] is True
    assert got["twin:steady · full"]["warns"] is False
    # one point per step: the indicators start at the window's end (0.25 x 300 = 75)
    assert len(got["twin:drift · full"]["indicators"]["variance"]) == 300 - 75 + 1
    # the results file itself is read the same way; without --mean, four people per step
    # are two rows for one time, and the message says what to do
    args = ["early-warning", run / "results.sqlite", "--value", "scores.fidelity"]
    res = runner.invoke(series_app, [str(a) for a in [*args, "--time", "step_index"]])
    assert res.exit_code == 2
    assert "has two rows" in res.output and "aggregate" in res.output


def test_a_missing_run_or_column_is_named(tmp_path: Path) -> None:
    run = slowing_run(tmp_path / "twin")
    args = ["early-warning", run, "--value", "scores.nope", "--time", "step_index"]
    res = runner.invoke(series_app, [str(a) for a in args])
    assert res.exit_code == 2 and "scores.nope" in res.output and "scores.fidelity" in res.output
    res = runner.invoke(series_app, ["early-warning", str(tmp_path / "none.sqlite")])
    assert res.exit_code == 2 and "no such run" in res.output
