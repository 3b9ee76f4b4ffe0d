"""The persuasion metrics are what their definitions say, from per-person sums, and reach
the analysis package by name (person-clustered intervals)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from behaviorlab.analysis import estimate
from behaviorlab.families.persuasion import calibration_table, persuasion_table


def frame(n: int = 200, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        human = float(rng.random() < 0.3)
        twin = float(rng.random() < 0.5)
        dh, dt = float(rng.integers(-2, 3)), float(rng.integers(-2, 3))
        scores = {
            "correct": float(rng.random() < 0.2),
            "human_changed": human,
            "twin_changed": twin,
            "change_correct": float(human == twin),
            "strength_change_human": dh,
            "strength_change_twin": dt + dh,  # correlated with the person's
            "p_change": float(rng.random()),
        }
        if human:
            scores["direction_correct"] = float(rng.random() < 0.7)
        rows.append(
            {
                "task": "persuasion",
                "simulator": "x",
                "condition": "full",
                "person_id": f"p{i % 50}",
                "item_id": "q",
                "error": None,
                "error_kind": None,
                "correct": scores["correct"],
                "scores": scores,
            }
        )
    return pd.DataFrame(rows)


def col(f: pd.DataFrame, key: str) -> np.ndarray:
    return np.array([s.get(key, np.nan) for s in f["scores"]], dtype=float)


def test_values_match_their_definitions() -> None:
    f = frame()
    acc, changed = col(f, "change_correct"), col(f, "human_changed")
    gain = estimate(f, "change_over_base", n_resamples=200)
    assert gain is not None
    assert gain.value == pytest.approx(acc.mean() - max(changed.mean(), 1 - changed.mean()))
    assert gain.low < gain.value < gain.high and gain.n_clusters == 50
    r = estimate(f, "strength_change_r", n_resamples=200)
    x, y = col(f, "strength_change_twin"), col(f, "strength_change_human")
    assert r is not None and r.value == pytest.approx(np.corrcoef(x, y)[0, 1])
    direction = estimate(f, "direction_accuracy", n_resamples=200)
    assert direction is not None and direction.n == int(changed.sum())
    assert direction.value == pytest.approx(np.nanmean(col(f, "direction_correct")))
    brier = estimate(f, "change_brier", n_resamples=200)
    assert brier is not None
    assert brier.value == pytest.approx(((col(f, "p_change") - changed) ** 2).mean())


def test_metrics_apply_to_persuasion_rows_only() -> None:
    f = frame().assign(task="survey")
    assert estimate(f, "change_accuracy", n_resamples=50) is None
    assert estimate(f, "strength_change_r", n_resamples=50) is None


def test_calibration_bins_hold_the_mean_prediction_and_the_observed_rate() -> None:
    f = frame()
    cal = calibration_table(f, bins=5)
    p, y = col(f, "p_change"), col(f, "human_changed")
    assert cal["n"].sum() == len(f)
    low = cal.loc[cal["bin"] == "0.0–0.2"].iloc[0]
    inside = p < 0.2
    assert low["n"] == inside.sum()
    assert low["predicted"] == pytest.approx(p[inside].mean())
    assert low["observed"] == pytest.approx(y[inside].mean())


def test_the_table_uses_the_analysis_estimator_small_sample_interval_and_bounds() -> None:
    f = frame(n=40)  # 40 people of one trial each: below 100, so the CR2 t interval
    row = persuasion_table(f, n_resamples=200).iloc[0]
    for name in ("change_accuracy", "direction_accuracy", "change_brier"):
        same = estimate(f, name, n_resamples=200)
        assert same is not None and row[name].method == same.method == "cluster-t-cr2"
        assert (row[name].low, row[name].high) == pytest.approx((same.low, same.high))
    changed = col(f, "human_changed")
    rate = row["human_change_rate"]
    assert rate.method == "cluster-t-cr2" and rate.value == pytest.approx(changed.mean())
    assert 0.0 <= rate.low <= rate.high <= 1.0
    # the same rate through the analysis package, as the gap table would give it
    by_hand = estimate(f.assign(correct=changed), "accuracy", n_resamples=200)
    assert by_hand is not None
    assert (rate.low, rate.high) == pytest.approx((by_hand.low, by_hand.high))


def test_direction_among_both_changed_leaves_out_twins_that_stayed() -> None:
    f = frame()
    for s in f["scores"]:
        if "direction_correct" in s and s["twin_changed"]:
            s["direction_both"] = s["direction_correct"]
    both = estimate(f, "direction_both_changed", n_resamples=200)
    moved = col(f, "human_changed") * col(f, "twin_changed")
    assert both is not None and both.n == int(moved.sum())
    assert both.value == pytest.approx(np.nanmean(col(f, "direction_both")))
    row = persuasion_table(f, n_resamples=200).iloc[0]
    assert row["direction_both_changed"].value == pytest.approx(both.value)


def test_score_gives_direction_both_only_when_both_moved() -> None:
    from behaviorlab.data import load_dataset
    from behaviorlab.families.persuasion import PersuasionTask
    from behaviorlab.simulators import Answer

    data = load_dataset("persuasion_synthetic", people=4, items=1, seed=1)
    trial = next(t for t in PersuasionTask().trials(data, seed=0) if not t.input.meta["retest"])
    order = [s["code"] for s in trial.input.meta["scale"]["stances"]]
    prior, k = trial.input.meta["prior_stance"], trial.input.meta["prior_strength"]
    up = order[order.index(prior) + 1]
    moved = trial.model_copy(
        update={"target": trial.target.model_copy(update={"value": f"{up}/{k}"})}
    )
    task = PersuasionTask()
    stayed = task.score(moved, Answer(choice=f"{prior}/{k}"))
    assert stayed["direction_correct"] == 0.0 and "direction_both" not in stayed
    assert task.score(moved, Answer(choice=f"{up}/{k}"))["direction_both"] == 1.0


def test_calibration_bins_carry_person_clustered_intervals() -> None:
    f = frame()
    cal = calibration_table(f, bins=5, n_resamples=200)
    y = col(f, "human_changed")
    p = col(f, "p_change")
    for _, r in cal.iterrows():
        ci = r["observed_ci"]
        assert ci.value == pytest.approx(r["observed"])
        assert 0.0 <= ci.low <= ci.value <= ci.high <= 1.0 and ci.high > ci.low
        assert ci.n_clusters == r["n_people"] <= r["n"]
    low = cal.loc[cal["bin"] == "0.0–0.2"].iloc[0]
    inside = p < 0.2
    same = estimate(f.loc[inside].assign(correct=y[inside]), "accuracy", n_resamples=200)
    assert same is not None
    assert (low["observed_ci"].low, low["observed_ci"].high) == pytest.approx((same.low, same.high))


def test_a_twin_that_never_changes_is_exactly_zero_over_base() -> None:
    f = frame(n=200, seed=3)
    for s in f["scores"]:
        s["twin_changed"], s["change_correct"] = 0.0, 1.0 - s["human_changed"]
    gain = persuasion_table(f, n_resamples=500).iloc[0]["change_over_base"]
    assert (gain.value, gain.low, gain.high) == (0.0, 0.0, 0.0)
