"""The choice docs' mapping and the example spec are usable as written."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import yaml

from behaviorlab.families.choice._loader import choice_from_frame
from behaviorlab.runs import load_spec

ROOT = Path(__file__).resolve().parents[2]


def test_docs_mapping_reads_the_documented_row() -> None:
    text = (ROOT / "docs" / "choice.md").read_text()
    block = next(b for b in re.findall(r"```yaml\n(.*?)```", text, re.S) if "format: long" in b)
    mapping = yaml.safe_load(block)
    frame = pd.DataFrame(
        {
            "pid": ["x", "x"],
            "trip": [1, 1],
            "mode": [1, 2],
            "picked": [1, 0],
            "time": [372, 30],
            "wait": [35, 0],
            "cost": [28, 4],
            "gc": [60, 10],
            "inc": [40, 40],
        }
    )
    data = choice_from_frame(frame, mapping)
    label = (data.episodes[0].steps[0].observation.options or [])[0].label
    assert label == "Train: 6 h 12 min in the vehicle, 35 min waiting, costs $28"
    assert label in text.replace("\n", " ")


def test_example_spec_validates() -> None:
    spec = load_spec(ROOT / "experiments" / "modechoice.yaml")
    assert spec.task == "choice" and [s.name for s in spec.simulators] == [
        "llm",
        "majority",
        "logit",
    ]


def test_accuracy_is_documented_as_trial_weighted() -> None:
    from behaviorlab.analysis import estimate

    def row(person: str, answer: str) -> dict[str, object]:
        return {
            "task": "choice",
            "simulator": "s",
            "condition": "full",
            "person_id": person,
            "item_id": "mode",
            "human_answer": "a",
            "answer": answer,
            "options": ["a", "b"],
            "error": None,
            "error_kind": None,
            "correct": float(answer == "a"),
        }

    # p1: 3 of 3 right, p2: 0 of 1: trial-weighted 3/4, a mean of per-person accuracies 1/2
    rows = [row("p1", "a"), row("p1", "a"), row("p1", "a"), row("p2", "b")]
    acc = estimate(pd.DataFrame(rows), "accuracy", n_resamples=100)
    assert acc is not None and acc.value == 0.75
    text = (ROOT / "docs" / "choice.md").read_text()
    line = next(x for x in text.splitlines() if x.startswith("| `accuracy` |"))
    assert "trial-weighted" in line and "per-person accuracy" not in text.lower()
