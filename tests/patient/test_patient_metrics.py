"""Fidelity metrics (issue 20 §2) on judgements with a known truth: per-label F1 and Jaccard
against the true model, the permutation chance line, intervals clustered by cognitive
model, and the consistency between two sessions of the same model."""

from __future__ import annotations

import math
import random
from typing import Any

import pandas as pd

from behaviorlab.families.patient import (
    CORE_CATEGORIES,
    EMOTIONS,
    consistency,
    fidelity,
    generate_models,
    permutation_chance,
)


def _table(judged: str, models: int = 24, sessions: int = 2, seed: int = 0) -> pd.DataFrame:
    """Judgements of ``sessions`` sessions per generated model: ``perfect`` (the truth),
    ``random`` (labels drawn at random) or ``constant`` (always helpless, sad, plain)."""
    rng = random.Random(seed)
    rows: list[dict[str, Any]] = []
    for m in generate_models(models, seed=seed):
        truth = {"core_beliefs": m.core_categories, "emotions": m.emotions, "style": ["plain"]}
        for s in range(sessions):
            if judged == "perfect":
                got = truth
            elif judged == "constant":
                got = {"core_beliefs": ["helpless"], "emotions": ["sad"], "style": ["plain"]}
            else:
                got = {
                    "core_beliefs": rng.sample(CORE_CATEGORIES, rng.choice((1, 2))),
                    "emotions": rng.sample(EMOTIONS, rng.choice((1, 2))),
                    "style": ["plain"],
                }
            rows.append(
                {
                    "person_id": m.id,
                    "episode_id": f"{m.id}-s{s}",
                    "trial_id": f"t-{m.id}-s{s}",
                    **{f"true_{k}": list(v) for k, v in truth.items()},
                    **{f"judged_{k}": list(v) for k, v in got.items()},
                }
            )
    return pd.DataFrame(rows)


def test_a_perfect_judge_scores_one_well_above_its_chance_line() -> None:
    fid = fidelity(_table("perfect"), "emotions", n_resamples=200, permutations=200)
    assert fid["jaccard"].value == 1.0 and fid["macro_f1"].value == 1.0
    assert all(est.value == 1.0 for est in fid["per_label"].values())
    assert fid["chance"]["q95"] < 0.5 and fid["chance"]["p"] < 0.01
    assert fid["models"] == 24 and fid["jaccard"].n_clusters == 24


def test_a_random_judge_sits_on_its_chance_line() -> None:
    fid = fidelity(_table("random", models=40), "core_beliefs", n_resamples=200)
    chance = fid["chance"]
    assert abs(fid["jaccard"].value - chance["mean"]) < 0.1 and chance["p"] > 0.05
    assert fid["jaccard"].low < chance["mean"] < fid["jaccard"].high


def test_per_label_f1_counts_hits_misses_and_false_alarms() -> None:
    table = _table("constant", models=30)
    fid = fidelity(table, "emotions", n_resamples=100)
    sad = table["true_emotions"].map(lambda e: "sad" in e)
    expected = 2 * sad.sum() / (2 * sad.sum() + (~sad).sum() + 0)  # FP: sessions without sad
    assert abs(fid["per_label"]["sad"].value - expected) < 1e-12
    assert fid["per_label"]["anxious"].value == 0.0  # never named: no true positive


def test_intervals_cluster_by_cognitive_model() -> None:
    one = fidelity(_table("random", sessions=1, seed=3), "emotions", n_resamples=400)
    # the same sessions twice over: the same models, so no narrower an interval
    doubled = _table("random", sessions=1, seed=3)
    doubled = pd.concat([doubled, doubled.assign(episode_id=doubled["episode_id"] + "b")])
    two = fidelity(doubled, "emotions", n_resamples=400)
    assert two["jaccard"].n_clusters == one["jaccard"].n_clusters == 24
    assert (
        abs((two["jaccard"].high - two["jaccard"].low) - (one["jaccard"].high - one["jaccard"].low))
        < 0.02
    )


def test_permutation_keeps_a_models_sessions_together_and_is_seeded() -> None:
    table = _table("perfect", models=10)
    assert permutation_chance(table, "emotions", seed=1) == permutation_chance(
        table, "emotions", seed=1
    )
    assert permutation_chance(table, "emotions", permutations=50)["p"] <= 1 / 50 + 0.03


def test_consistency_of_two_sessions_of_the_same_model() -> None:
    same = consistency(_table("perfect"), n_resamples=100)
    assert same["same"].value == 1.0 and same["different"] < 0.5 and same["models"] == 24
    noisy = consistency(_table("random", seed=2), n_resamples=100)
    assert noisy["same"].value < 0.7 and abs(noisy["same"].value - noisy["different"]) < 0.15
    assert consistency(_table("perfect", sessions=1), n_resamples=10)["models"] == 0


def test_the_report_flags_a_judge_that_reads_the_same_labels_everywhere() -> None:
    from behaviorlab.families.patient._report import _constant

    constant = _table("constant").assign(judge="c")
    varied = _table("random", seed=1).assign(judge="v")
    both = pd.concat([constant, varied]).assign(trial_id=lambda t: t["episode_id"] + t["judge"])
    from behaviorlab.report import Paragraph

    (warning,) = _constant(both)
    assert isinstance(warning, Paragraph) and warning.tone == "warning"
    assert warning.text.startswith("Judge c gave the same reading for 48 of 48 transcripts")


def test_a_session_with_nothing_true_to_read_scores_nan_not_one() -> None:
    from behaviorlab.families.patient._task import jaccard

    assert math.isnan(jaccard([], [])) and jaccard(["sad"], ["sad", "hurt"]) == 0.5
    rows = pd.DataFrame(
        [
            {"person_id": "a", "true_emotions": ["sad"], "judged_emotions": []},
            {"person_id": "b", "true_emotions": [], "judged_emotions": []},  # nothing to read
        ]
    )
    fid = fidelity(rows, "emotions", n_resamples=20, permutations=10)
    assert fid["jaccard"].value == 0.0 and fid["sessions"] == 1


def test_consistency_keeps_one_session_read_under_two_seeds_apart() -> None:
    """With seeds [0, 1] one session (one episode) is two trials: two readings, not one."""
    one = _table("random", sessions=1, seed=3)
    two = pd.concat([one, one.assign(trial_id=one["trial_id"] + "-seed1")], ignore_index=True)
    got = consistency(two, n_resamples=20)
    assert got["models"] == 24 and got["same"].value == 1.0  # each reading equals its twin
