"""Position shares: where the chosen option was shown, against the position-blind share."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import pytest

from behaviorlab.analysis import position_shares

FrameBuilder = Callable[[list[dict[str, Any]]], pd.DataFrame]


def test_shares_and_expected_by_hand(frame_of: FrameBuilder) -> None:
    three, two = ["a", "b", "c"], ["a", "b"]
    shown = [(three, 0), (three, 0), (three, 1), (three, 2), (two, 0), (two, 1)]
    rows = [
        {
            "person_id": f"p{k % 3}",
            "item_id": f"q{k}",
            "human_answer": "a",
            "answer": opts[pos],
            "options": opts,
            "answer_position": pos,
        }
        for k, (opts, pos) in enumerate(shown)
    ]
    rows.append(rows[0] | {"item_id": "failed", "error": "x", "answer_position": 1})
    table = position_shares(frame_of(rows), n_resamples=200)
    assert list(table["position"]) == [0, 1, 2]
    assert list(table["n"]) == [3, 2, 1] and set(table["n_answers"]) == {6}
    assert table["share"].tolist() == pytest.approx([3 / 6, 2 / 6, 1 / 6])
    # position-blind: mean over trials of 1/len(options) where the position exists
    assert table["expected"].tolist() == pytest.approx(
        [(4 / 3 + 1) / 6, (4 / 3 + 1) / 6, 4 / 3 / 6]
    )
    assert (table["share_low"] <= table["share"]).all() and (
        table["share"] <= table["share_high"]
    ).all()


def test_one_row_per_position_per_group(results: pd.DataFrame) -> None:
    table = position_shares(results, n_resamples=50)
    sizes = table.groupby(["simulator", "condition"]).size()
    assert (sizes == 3).all() and len(sizes) == 5
    sums = table.groupby(["simulator", "condition"])["share"].sum()
    assert sums.tolist() == pytest.approx([1.0] * 5)
    assert table["expected"].tolist() == pytest.approx([1 / 3] * len(table))


def test_empty_when_no_positions(frame_of: FrameBuilder) -> None:
    frame = frame_of([{"person_id": "p", "item_id": "q", "human_answer": "a", "answer": "a"}])
    table = position_shares(frame)
    assert table.empty and "expected" in table.columns
