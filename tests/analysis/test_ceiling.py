"""The human ceiling: only from repeated answers of the same person to the same item."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

from behaviorlab.analysis import cr2_interval, human_ceiling
from behaviorlab.analysis._ceiling import NO_REPEATS, ceiling_note

FrameBuilder = Callable[[list[dict[str, Any]]], pd.DataFrame]


def test_no_repeats_no_ceiling(results: pd.DataFrame) -> None:
    assert human_ceiling(results) is None
    assert "no human ceiling" in ceiling_note(None) and ceiling_note(None) == NO_REPEATS


def _retest(
    frame_of: FrameBuilder, rng: np.random.Generator
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """12 people answer 3 items in two waves (the second wave repeats the first answer with
    probability 0.7); one person answers one item in three waves."""
    rows, agree, pairs = [], np.zeros(12), np.zeros(12)
    for p in range(12):
        for i in range(3):
            first = str(rng.choice(["a", "b", "c"]))
            waves = [first, first if rng.random() < 0.7 else str(rng.choice(["a", "b", "c"]))]
            if p == 0 and i == 0:
                waves.append(first)
            answers = np.array(waves)
            for w, human in enumerate(waves):
                for sim, answer in (("llm:x", first), ("majority", "a")):
                    rows.append(
                        {
                            "person_id": f"p{p:02d}",
                            "item_id": f"q{i}",
                            "episode_id": f"p{p:02d}-wave{w}",
                            "simulator": sim,
                            "human_answer": human,
                            "answer": answer,
                        }
                    )
            m = len(waves)
            pairs[p] += m * (m - 1) / 2
            agree[p] += sum(c * (c - 1) / 2 for c in np.unique(answers, return_counts=True)[1])
    return frame_of(rows), {"agree": agree, "pairs": pairs}


def test_consistency_and_share(frame_of: FrameBuilder, rng: np.random.Generator) -> None:
    frame, expected = _retest(frame_of, rng)
    ceiling = human_ceiling(frame, n_resamples=300)
    assert ceiling is not None and ceiling.n_people == 12 and ceiling.n_cells == 36
    est = ceiling.consistency["survey"]
    reference = cr2_interval(
        expected["agree"], expected["pairs"], bounds=(0.0, 1.0), scale="log-odds"
    )
    assert est == reference and est.method == "cluster-t-cr2"
    assert est.value == pytest.approx(expected["agree"].sum() / expected["pairs"].sum())
    table = ceiling.relative
    assert list(table.columns) == [
        "task",
        "simulator",
        "condition",
        "accuracy",
        "ceiling",
        "share",
        "low",
        "high",
        "n_people",
        "n",
    ]
    llm = table[table["simulator"] == "llm:x"].iloc[0]
    arm = frame[frame["simulator"] == "llm:x"]
    assert llm["accuracy"] == pytest.approx(arm["correct"].mean())
    assert llm["share"] == pytest.approx(llm["accuracy"] / est.value)
    assert llm["low"] < llm["share"] < llm["high"] and llm["n"] == len(arm)
    note = ceiling_note(ceiling)
    assert note.startswith("human ceiling: 12 people answered the same item more than once (36")
    json.dumps(ceiling.to_dict(), allow_nan=False)


def test_the_same_episode_twice_is_not_a_repeat(frame_of: FrameBuilder) -> None:
    rows = [
        {"person_id": "p", "item_id": "q", "episode_id": "e", "human_answer": "a", "answer": "a"},
        {
            "person_id": "p",
            "item_id": "q",
            "episode_id": "e",
            "human_answer": "a",
            "answer": "b",
            "condition": "no_persona",
        },
    ]
    assert human_ceiling(frame_of(rows)) is None
