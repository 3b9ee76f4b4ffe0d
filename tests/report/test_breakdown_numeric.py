"""The report's confusion matrices read option codes only: a numeric question's answers are
numbers, so its trials are left out (issue 16 §3)."""

from __future__ import annotations

import pandas as pd

from behaviorlab.report._breakdown import _answered


def test_numeric_answers_are_not_option_codes_in_the_confusion_matrices() -> None:
    frame = pd.DataFrame(
        {
            "task": "survey",
            "item_id": ["vote", "vote", "temp", "temp"],
            "human_answer": ["1", "2", "3.5", "7.25"],
            "answer": ["1", "1", "4.0", "6.5"],
            "error": None,
            "error_kind": None,
            "correct": [1.0, 0.0, 0.9, 0.9],
            "meta": [{}, {}, {"answer_type": "numeric"}, {"answer_type": "numeric"}],
        }
    )
    kept = _answered(frame)
    assert list(kept["item_id"]) == ["vote", "vote"]
