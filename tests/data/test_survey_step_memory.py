"""The survey loader's steps are compact (issue 21 §4: a million-trial survey holds two million
steps): the question, the answer and the set of fields a step sets are shared, not copied."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

from bl_survey import write_survey

from behaviorlab.data._survey import load_survey_file


def test_a_survey_step_costs_under_800_bytes(tmp_path: Path) -> None:
    people, questions = 2000, 10
    write_survey(tmp_path, people, questions, name="mem")
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
