"""next_action end to end: synthetic OPeRA → bl.run with the mock LLM and every baseline."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import behaviorlab as bl
from behaviorlab.data import load_opera, make_synthetic_opera

SIMULATORS = ["llm:mock-1", "majority_action", "markov", "nearest_step", "first_product_link"]


def spec(data: Path) -> dict[str, Any]:
    return {
        "name": "opera-next",
        "task": "next_action",
        "task_options": {"budget": None},
        "data": {"source": "opera", "options": {"path": str(data)}},
        "simulators": [
            {"name": "llm", "backend": "mock", "answer": "generate"},
            {"name": "majority_action"},
            {"name": "markov"},
            {"name": "nearest_step"},
            {"name": "first_product_link"},
        ],
        "conditions": ["full", "no_persona", "no_history"],
    }


def test_run_scores_every_trial_and_the_gap_table(tmp_path: Path) -> None:
    data = make_synthetic_opera(tmp_path / "data", users=4, sessions_per_user=2)
    run = bl.run(spec(data), out=tmp_path / "runs", progress=False)
    frame = run.to_pandas()

    shop = load_opera(data).dataset
    test_people = set(frame["person_id"])
    steps = [
        (e.episode_id, s) for e in shop.episodes if e.person_id in test_people for s in e.steps
    ]
    assert 0 < len(test_people) < len(shop.persons)
    assert len(frame) == len(steps) * len(SIMULATORS) * 3  # one row per trial
    assert frame["trial_id"].is_unique
    assert set(frame["simulator"]) == set(SIMULATORS)
    assert frame["error"].isna().all() and frame["correct"].isin([0.0, 1.0]).all()
    assert frame["answer"].str.match(r"^(click:.+|input:.+=.*|terminate)$").all()
    assert (frame["answer_json"].map(lambda v: set(v)) >= {"action_type", "semantic_id"}).all()
    assert frame["meta"].map(lambda m: m["cut"]["elements_dropped"] == 0).all()
    for scores in frame["scores"]:
        assert {"correct", "action_type_correct", "reachable"} <= set(scores)
    # the person's click type and rationale travel with the row (for click-type F1, ROUGE-L)
    by_step = {(e, s.step_id): s for e, s in steps}
    for row in frame.itertuples():
        human = by_step[(row.episode_id, row.item_id)]
        assert row.meta.get("human_click_type") == human.action.attributes.get("click_type")
        expected = human.rationale.text if human.rationale else None
        assert row.meta.get("human_rationale") == expected

    # first_product_link, counted independently from the raw HTML: the first title link,
    # or terminate on a page without one
    hits = 0
    for _, step in steps:
        first = re.search(r'name="([^"]+\.product_title)"', step.observation.content)
        done = step.action.action_type
        if first is None:
            hits += done == "terminate"
        else:
            hits += done == "click" and step.action.target == first.group(1)
    mine = frame[(frame["simulator"] == "first_product_link") & (frame["condition"] == "full")]
    assert len(mine) == len(steps) and hits > 0
    assert mine["correct"].sum() == hits
    assert mine["correct"].mean() == hits / len(steps)

    table = bl.gap(run).to_pandas()
    assert len(table) == len(SIMULATORS) * 3
    row = table[(table["simulator"] == "first_product_link") & (table["condition"] == "full")]
    assert row["accuracy"].iloc[0] == hits / len(steps)
    assert (table["accuracy_low"] <= table["accuracy"]).all()
    assert (table["accuracy"] <= table["accuracy_high"]).all()
    assert set(table.loc[table["baseline"], "simulator"]) >= {"majority_action", "markov"}
