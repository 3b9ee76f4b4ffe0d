"""A scenario experiment end to end on the mock backend: the runner, the gap table's scenario
columns, the scenario table's always-first rows, the judge's records, and the persona effect."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import behaviorlab as bl
from behaviorlab.analysis import gap, paired_effect
from behaviorlab.families.scenario._data import load_scenarios
from behaviorlab.families.scenario._metrics import FIRST_OPTION, scenario_table
from behaviorlab.families.scenario._task import ScenarioTask
from behaviorlab.runs._conditions import conditions


def _spec(name: str, **task_options: Any) -> dict[str, Any]:
    return {
        "name": name,
        "task": "scenario",
        "task_options": {"persona": "You are a careful assistant.", **task_options},
        "data": {"source": "scenario_examples", "split": {"test": 0.9}},
        "simulators": [
            {"name": "llm", "backend": "mock", "answer": "generate"},
            {"name": "first_option", "conditions": ["full"]},
        ],
        "conditions": ["full", "no_persona"],
        "n_resamples": 200,
    }


@pytest.fixture(scope="module")
def frame(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    out = tmp_path_factory.mktemp("runs")
    return bl.run(_spec("scen"), out=out, progress=False).to_pandas()


def test_every_row_gets_the_scenario_columns_and_the_first_option_reference(
    frame: pd.DataFrame,
) -> None:
    report = gap(frame, n_resamples=200)
    assert {"p_score", "always_first"} <= set(report.metrics)
    for row in report.rows:
        est = row.estimates["always_first"]
        assert est is not None and 0.0 <= est.value <= 1.0
    first = next(r for r in report.rows if r.simulator == "first_option")
    p_first, ref = first.estimates["p_score"], first.estimates["always_first"]
    assert p_first is not None and ref is not None and p_first.value == ref.value


def test_scenario_table_counts_unscored_open_items(frame: pd.DataFrame) -> None:
    table = scenario_table(frame, by="category", n_resamples=200)
    refs = table[table["reference"]]
    assert set(refs["simulator"]) == {FIRST_OPTION}
    assert set(refs["condition"]) == {"full", "no_persona"}
    llm = table[(table["simulator"] == "llm:mock-1") & (table["group"] == "all")]
    test_open = frame[(frame["simulator"] == "llm:mock-1") & (frame["condition"] == "full")]
    n_open = int((test_open["options"].isna()).sum())
    assert n_open > 0
    assert llm.set_index("condition").loc["full", "open_unscored"] == n_open
    base = table[(table["simulator"] == "first_option") & (table["group"] == "all")].iloc[0]
    assert base["not_applicable"] == n_open and base["failed"] == 0


def test_persona_effect_is_paired_with_an_interval(frame: pd.DataFrame) -> None:
    effect = paired_effect(frame, "llm:mock-1", "full", "no_persona", "p_score", n_resamples=200)
    llm = frame[frame["simulator"] == "llm:mock-1"]
    by = llm[llm["options"].notna()].groupby("condition")["correct"].mean()
    assert effect.value == pytest.approx(by["full"] - by["no_persona"])
    assert effect.low <= effect.value <= effect.high


def test_judge_records_model_and_prompt_hash(tmp_path: Path) -> None:
    spec = _spec("judged", judge={"backend": "mock", "model": "judge-1"})
    frame = bl.run(spec, out=tmp_path, progress=False).to_pandas()
    open_rows = frame[(frame["simulator"] == "llm:mock-1") & frame["options"].isna()]
    assert len(open_rows) > 0
    for meta, correct in zip(open_rows["meta"], open_rows["correct"], strict=True):
        judge = meta["judge"]
        assert judge["model"]["model"] == "judge-1" and len(judge["prompt_hash"]) == 16
        assert correct == judge["score"]
    table = scenario_table(frame, by=None, n_resamples=200)
    row = table[(table["simulator"] == "llm:mock-1") & (table["condition"] == "full")].iloc[0]
    assert row["open_unscored"] == 0 and row["open_judged"] == row["open"] > 0
    manifest = bl.open_run("judged", out=tmp_path).manifest
    assert manifest["spec"]["task_options"]["judge"]["model"] == "judge-1"


def test_paraphrase_condition_uses_the_mapped_wordings(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    pd.DataFrame(
        {
            "q": ["Save them?", "Tell them?"],
            "alt": [["Do you save them?"], ["Do you tell them?"]],
            "opts": [["yes", "no"], ["no", "yes"]],
            "good": ["A", "B"],
        }
    ).to_json(path, orient="records", lines=True)
    ds = load_scenarios(
        path, {"prompt": "q", "options": "opts", "desired": "good", "paraphrases": "alt"}
    )
    trials = ScenarioTask().trials(ds, seed=0)
    reworded = conditions.get("paraphrase")(trials, seed=0)
    assert [t.input.observation.content for t in reworded] == [
        "Do you save them?",
        "Do you tell them?",
    ]
