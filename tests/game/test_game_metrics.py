"""Game metrics on tiny hand-made results frames: per-game means clustered by game, learning
curves per round, failure counts, and which tables show them."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from behaviorlab.analysis import estimate, gap
from behaviorlab.families.game._metrics import game_failures, game_rounds, learning_curves


def _row(
    sim: str, pid: str, payoffs: list[float], hits: list[bool], **extra: Any
) -> dict[str, Any]:
    br = [1.0] * len(payoffs)
    n = len(payoffs)
    rounds = [
        {
            "round": i + 1,
            "payoff": p,
            "br_payoff": b,
            "prediction_correct": h,
            "best_reply": p == b,
            "forfeit": False,
        }
        for i, (p, b, h) in enumerate(zip(payoffs, br, hits, strict=True))
    ]
    scores = {
        "payoff": sum(payoffs) / n,
        "regret": (sum(br) - sum(payoffs)) / n,
        "prediction_accuracy": sum(hits) / n,
        "correct": sum(hits) / n,
    }
    return {
        "task": "game",
        "simulator": sim,
        "condition": "full",
        "person_id": pid,
        "item_id": pid[:6],
        "seed": 0,
        "error": None,
        "error_kind": None,
        "correct": scores["correct"],
        "scores": scores,
        "answer_json": {"game": "rps", "rounds": rounds},
        "meta": {"game": "rps", "partner_kind": "fixed", "rounds_played": n, "failed_moves": 0},
        "human_answer": None,
        "answer": None,
        **extra,
    }


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame(
        [
            _row("a", "rps-01-0", [1, -1, 1, 1], [True, False, True, True]),
            _row("a", "rps-02-0", [0, 0, 1, 1], [False, False, True, True]),
            _row("a", "rps-03-0", [-1, 0, 0, 1], [False, True, False, True]),
            _row("b", "rps-01-0", [1, 1, 1, 1], [True, True, True, True]),
        ]
    )


def test_per_game_means(frame: pd.DataFrame) -> None:
    a = frame[frame["simulator"] == "a"]
    pay = estimate(a, "mean_payoff")
    assert pay is not None and pay.value == pytest.approx((0.5 + 0.5 + 0.0) / 3)
    assert pay.n_clusters == 3 and pay.method == "cluster-t-cr2"
    assert pay.low < pay.value < pay.high
    reg = estimate(a, "regret")
    assert reg is not None and reg.value == pytest.approx((0.5 + 0.5 + 1.0) / 3)
    acc = estimate(a, "prediction_accuracy")
    assert acc is not None and acc.value == pytest.approx((0.75 + 0.5 + 0.5) / 3)


def test_game_metrics_stay_out_of_other_tasks(frame: pd.DataFrame) -> None:
    survey = frame.assign(task="survey")
    assert estimate(survey, "mean_payoff") is None
    rep = gap(survey, n_resamples=100)
    assert "mean_payoff" not in rep.metrics and "regret" not in rep.metrics
    rep = gap(frame, n_resamples=100)
    assert {"mean_payoff", "regret", "prediction_accuracy"} <= set(rep.metrics)
    assert rep.higher_is_better["regret"] is False
    row = rep.row("a", "full", "game")
    est = row.estimates["mean_payoff"]
    assert est is not None and est.value == pytest.approx(1 / 3)


def test_learning_curves_per_round(frame: pd.DataFrame) -> None:
    rounds = game_rounds(frame)
    assert len(rounds) == 16 and set(rounds["round"]) == {1, 2, 3, 4}
    curve = learning_curves(frame, "payoff")
    a = curve[curve["simulator"] == "a"].set_index("round")
    assert a["value"].tolist() == pytest.approx([0.0, -1 / 3, 2 / 3, 1.0])
    assert a["n_games"].tolist() == [3, 3, 3, 3]
    assert a.loc[4, "low"] == a.loc[4, "high"] == 1.0  # no variation between games
    assert a.loc[1, "low"] < 0.0 < a.loc[1, "high"]
    hits = learning_curves(frame, "prediction_correct", by=("simulator",))
    assert hits[hits["simulator"] == "b"]["value"].tolist() == [1.0] * 4
    with pytest.raises(ValueError, match="must be one of"):
        learning_curves(frame, "score")


def test_failure_counts(frame: pd.DataFrame) -> None:
    bad = _row("b", "rps-02-0", [-1, -1], [False, False])
    bad.update(error="every move of the 2 rounds failed", error_kind="invalid", correct=None)
    bad["meta"] = {**bad["meta"], "failed_moves": 2, "failed_predictions": 1}
    f = game_failures(pd.concat([frame, pd.DataFrame([bad])], ignore_index=True))
    b = f[f["simulator"] == "b"].iloc[0]
    assert (b["games"], b["failed_games"], b["invalid_games"]) == (2, 0, 1)
    assert (b["rounds"], b["failed_moves"], b["failed_predictions"]) == (6, 2, 1)
    # the failed game is not in the curves
    assert len(game_rounds(pd.concat([frame, pd.DataFrame([bad])]))) == 16
