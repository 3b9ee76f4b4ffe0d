"""Paired effects: matched trials, the difference of means, the same bootstrap weights."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

from behaviorlab.analysis import paired_effect

FrameBuilder = Callable[[list[dict[str, Any]]], pd.DataFrame]


def _two_arms(frame_of: FrameBuilder, rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    for p in range(25):
        for i in range(6):
            human = str(rng.choice(["a", "b"]))
            for cond, sharp in (("full", 0.75), ("shuffled_persona", 0.55)):
                for seed in (0, 1):
                    hit = rng.random() < sharp
                    answer = human if hit else ("b" if human == "a" else "a")
                    p_right = float(rng.uniform(0.5, 0.9)) if hit else float(rng.uniform(0.1, 0.5))
                    probs = {human: p_right, "b" if human == "a" else "a": 1 - p_right}
                    rows.append(
                        {
                            "person_id": f"p{p}",
                            "item_id": f"q{i}",
                            "condition": cond,
                            "seed": seed,
                            "human_answer": human,
                            "answer": answer,
                            "probabilities": probs,
                        }
                    )
    frame = frame_of(rows)
    # some failures in each arm, and a trial present in one arm only
    frame.loc[frame.index[::37], ["error", "correct", "probabilities"]] = ["boom", None, None]
    return frame.drop(index=frame.index[5])


def _matched(frame: pd.DataFrame, score: pd.Series) -> pd.DataFrame:
    keys = ["person_id", "item_id", "seed"]
    ok = frame["error"].isna() & frame["correct"].notna()
    scored = frame.loc[ok, [*keys, "condition"]].assign(score=score[ok])
    a = scored[scored["condition"] == "full"].drop(columns="condition")
    b = scored[scored["condition"] == "shuffled_persona"].drop(columns="condition")
    return a.merge(b, on=keys, suffixes=("_a", "_b"))


def test_effect_is_the_difference_of_means_on_matched_pairs(
    frame_of: FrameBuilder, rng: np.random.Generator
) -> None:
    frame = _two_arms(frame_of, rng)
    est = paired_effect(frame, "llm:mock", "full", "shuffled_persona", n_resamples=500)
    pairs = _matched(frame, frame["correct"].astype(float))
    assert est.value == pytest.approx(pairs["score_a"].mean() - pairs["score_b"].mean())
    assert est.n == len(pairs) and est.n_clusters == 25
    assert est.low < est.value < est.high
    assert est.low > 0  # a 20-point effect over 300 pairs is clear


def test_log_loss_effect(frame_of: FrameBuilder, rng: np.random.Generator) -> None:
    frame = _two_arms(frame_of, rng)
    est = paired_effect(frame, "llm:mock", "full", "shuffled_persona", "log_loss", n_resamples=300)
    p_human = [
        (pr or {}).get(h, math.nan)
        for pr, h in zip(frame["probabilities"], frame["human_answer"], strict=True)
    ]
    pairs = _matched(frame, -np.log(pd.Series(p_human, index=frame.index)))
    assert est.value == pytest.approx(pairs["score_a"].mean() - pairs["score_b"].mean())
    assert est.high < 0  # the full persona puts more mass on the person's answer


def test_identical_arms_give_exactly_zero(frame_of: FrameBuilder, rng: np.random.Generator) -> None:
    frame = _two_arms(frame_of, rng)
    full = frame[frame["condition"] == "full"]
    frame = pd.concat([full, full.assign(condition="copy")], ignore_index=True)
    est = paired_effect(frame, "llm:mock", "full", "copy", n_resamples=300)
    # the same weights resample both arms, so every replicate difference is zero
    assert (est.value, est.low, est.high) == (0.0, 0.0, 0.0)


def test_no_common_trials_gives_nan(frame_of: FrameBuilder) -> None:
    frame = frame_of(
        [
            {"person_id": "p1", "item_id": "q", "human_answer": "a", "answer": "a"},
            {
                "person_id": "p2",
                "item_id": "q",
                "human_answer": "a",
                "answer": "a",
                "condition": "no_persona",
            },
        ]
    )
    est = paired_effect(frame, "llm:mock", "full", "no_persona")
    assert not est.ok and est.n == 0


def test_duplicate_trials_are_an_error(frame_of: FrameBuilder) -> None:
    row = {"person_id": "p1", "item_id": "q", "human_answer": "a", "answer": "a"}
    frame = frame_of([row, row, row | {"condition": "no_persona"}])
    with pytest.raises(ValueError, match="duplicate"):
        paired_effect(frame, "llm:mock", "full", "no_persona")


def test_needs_a_per_trial_metric(frame_of: FrameBuilder) -> None:
    frame = frame_of([{"person_id": "p1", "item_id": "q", "human_answer": "a", "answer": "a"}])
    with pytest.raises(ValueError, match="per-trial metric"):
        paired_effect(frame, "llm:mock", "full", "no_persona", "macro_f1")


def test_few_people_difference_interval_stays_in_the_metric_range(frame_of: FrameBuilder) -> None:
    """With 3 people the CR2 t interval (2 df) is wide; a difference of accuracies is clipped
    to [-1, 1], never reported as an impossible value."""
    rows = []
    for p, (acc_a, acc_b) in enumerate(((1.0, 0.0), (0.0, 1.0), (1.0, 0.0))):
        for i in range(4):
            for cond, acc in (("full", acc_a), ("shuffled_persona", acc_b)):
                answer = "a" if acc == 1.0 else "b"
                rows.append(
                    {
                        "person_id": f"p{p}",
                        "item_id": f"q{i}",
                        "condition": cond,
                        "human_answer": "a",
                        "answer": answer,
                    }
                )
    est = paired_effect(frame_of(rows), "llm:mock", "full", "shuffled_persona")
    assert est.method.startswith("cluster-t")
    assert est.value == pytest.approx(1 / 3)
    assert -1.0 <= est.low < est.value < est.high <= 1.0
    assert est.low == -1.0 or est.high == 1.0  # the unclipped t interval reaches past the range
