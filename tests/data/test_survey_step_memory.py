"""The survey loader's steps are compact (issue 21 §4: a million-trial survey holds two million
steps): the question, the answer and the set of fields a step sets are shared, not copied."""

from __future__ import annotations

import csv
import tracemalloc
from pathlib import Path

import yaml

from behaviorlab.data._survey import load_survey_file


def test_a_survey_step_costs_under_800_bytes(tmp_path: Path) -> None:
    people, questions = 2000, 10
    qcols = [f"q{i}" for i in range(questions)]
    with (tmp_path / "s.csv").open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["rid", "age", *qcols])
        for i in range(people):
            out.writerow([f"r{i}", 20 + i % 50, *[1 + (i * 7 + j) % 3 for j in range(questions)]])
    mapping = {
        "name": "mem",
        "id_column": "rid",
        "persona": [{"column": "age", "template": "You are {value} years old."}],
        "questions": [
            {"column": c, "text": f"{c}?", "options": {1: "yes", 2: "no", 3: "maybe"}}
            for c in qcols
        ],
    }
    (tmp_path / "m.yaml").write_text(yaml.safe_dump(mapping), encoding="utf-8")
    tracemalloc.start()
    try:
        ds = load_survey_file(tmp_path / "s.csv", tmp_path / "m.yaml")
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    steps = [s for ep in ds.episodes for s in ep.steps]
    assert len(steps) == people * questions
    # one set of fields for every step (it was one set each: ~890 bytes a step)
    assert len({id(s.__pydantic_fields_set__) for s in steps}) == 1
    assert steps[0].model_fields_set == {"index", "step_id", "observation", "action"}
    assert held / len(steps) < 800, held / len(steps)
