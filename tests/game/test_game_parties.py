"""Two parties play the game (issue 12): an LLM against another LLM or itself from a spec,
scripted players whose payoffs are known, per-role results, and a run killed half-way through
a game that, rerun, pays no call twice."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import behaviorlab as bl
from behaviorlab.analysis import gap
from behaviorlab.families.game import game_rounds
from behaviorlab.runs import plan

SUPPORT = Path(__file__).resolve().parents[1] / "support"


def duel_spec(roles: dict[str, Any], **over: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "name": "duel",
        "task": "game",
        "data": {
            "source": "games",
            "options": {"games": ["ipd"], "partners": ["fixed"], "rounds": 4, "repeats": 6},
            "split": {"test": 1.0},
        },
        "parties": [{"label": "pair", "roles": roles}],
        "cache": False,
    }
    spec.update(over)
    return spec


def test_scripted_players_score_the_payoffs_of_their_moves(tmp_path: Path) -> None:
    roles = {
        "player_1": {"name": "script", "lines": ["defect"], "cycle": True, "label": "d"},
        "player_2": {"name": "script", "lines": ["cooperate", "defect"], "cycle": True},
    }
    spec = duel_spec(roles, task_options={"predict": False})
    run = bl.run(spec, out=tmp_path, progress=False)
    frame = run.to_pandas()
    assert len(frame) == 6 and frame["error"].isna().all()
    scores = frame["scores"].iloc[0]
    # rounds: (D, C) (D, D) (D, C) (D, D): player 1 scores T, P, T, P; player 2 S, P, S, P
    assert scores["payoff_player_1"] == (5 + 1 + 5 + 1) / 4
    assert scores["payoff_player_2"] == (0 + 1 + 0 + 1) / 4
    assert scores["mutual_cooperation"] == 0.0
    assert scores["best_reply_rate_player_1"] == 1.0  # defecting is always the best reply
    rounds = frame["answer_json"].iloc[0]["rounds"]
    assert [r["player_2"]["move"] for r in rounds] == ["cooperate", "defect"] * 2
    per_turn = run.to_pandas(per="turn")
    assert len(per_turn) == 6 * 4 * 2
    p1 = per_turn.loc[per_turn["role"] == "player_1"]
    assert set(p1["role_simulator"]) == {"d"} and p1["payoff"].tolist()[:4] == [5, 1, 5, 1]
    # each player saw the earlier rounds from its own side
    last = per_turn.loc[(per_turn["role"] == "player_2")].iloc[3]["seen"]
    assert "Round 1: you played cooperate, your partner played defect" in last
    roles_table = gap(run, n_resamples=200).roles.set_index(["role", "metric"])
    assert roles_table.loc[("player_1", "payoff"), "value"] == 3.0
    assert roles_table.loc[("player_2", "payoff"), "value"] == 0.5
    assert roles_table.loc[("player_2", "cooperate"), "value"] == 0.5
    assert roles_table.loc[("player_1", "payoff"), "n_people"] == 6
    # the one-party tables of the game family leave two-party games out
    assert game_rounds(frame).empty


@pytest.mark.parametrize(
    ("partner", "expected"),
    [
        ("tit_for_tat", ["cooperate", "defect", "cooperate", "cooperate"]),
        ("wsls", ["cooperate", "defect", "defect", "defect"]),  # loses, then wins twice
        ("cycle:defect,cooperate", ["defect", "cooperate", "defect", "cooperate"]),
    ],
)
def test_a_scripted_partner_plays_as_a_party(
    tmp_path: Path, partner: str, expected: list[str]
) -> None:
    lines = ["defect", "cooperate", "cooperate", "defect"]
    roles = {
        "player_1": {"name": "script", "lines": lines},
        "player_2": {"name": "scripted_partner", "partner": partner},
    }
    spec = duel_spec(roles, task_options={"predict": False})  # a script line per move
    frame = bl.run(spec, out=tmp_path, progress=False).to_pandas()
    for value in frame["answer_json"]:
        assert [r["player_1"]["move"] for r in value["rounds"]] == lines
        assert [r["player_2"]["move"] for r in value["rounds"]] == expected
    turns = frame["meta"].iloc[0]["turns"]
    assert {t["simulator"] for t in turns if t["role"] == "player_2"} == {f"partner:{partner}"}


def test_a_partner_typo_is_refused_before_anything_runs() -> None:
    roles = {
        "player_1": {"name": "script", "lines": ["defect"], "cycle": True},
        "player_2": {"name": "scripted_partner", "partner": "tit_for_tap"},
    }
    with pytest.raises(ValueError, match="unknown partner 'tit_for_tap'; its kind is one of"):
        plan(bl.load_spec(duel_spec(roles)), None)


def test_a_player_that_never_makes_a_move_fails_the_game(tmp_path: Path) -> None:
    # before: the script's lines were no moves, every round was a forfeit, and the game was
    # stored as a success with the other player's payoffs
    roles = {
        "player_1": {"name": "script", "lines": ["defect"], "cycle": True},
        "player_2": {"name": "script", "lines": ["Cooperate!"], "cycle": True, "label": "bad"},
    }
    spec = duel_spec(roles, task_options={"predict": False})
    frame = bl.run(spec, out=tmp_path, progress=False).to_pandas()
    assert frame["error"].notna().all() and (frame["error_kind"] == "invalid").all()
    assert (
        frame["error"]
        .iloc[0]
        .startswith(
            "role 'player_2' (bad) made no valid move in the 4 rounds; the last: script line "
            "'Cooperate!' is not one of the options"
        )
    )
    turns = frame["meta"].iloc[0]["turns"]
    assert all(t["error"] for t in turns if t["role"] == "player_2")
    assert not any(t["error"] for t in turns if t["role"] == "player_1")


def test_a_biased_partners_draws_follow_the_spec_seed(tmp_path: Path) -> None:
    roles = {
        "player_1": {"name": "script", "lines": ["cooperate"], "cycle": True},
        "player_2": {"name": "scripted_partner", "partner": "biased:cooperate=0.5,defect=0.5"},
    }
    spec = duel_spec(roles, task_options={"predict": False}, seeds=[0, 1])
    spec["data"]["options"]["rounds"] = 12
    frame = bl.run(spec, out=tmp_path, progress=False).to_pandas()
    by_seed = {
        seed: [tuple(r["player_2"]["move"] for r in v["rounds"]) for v in rows["answer_json"]]
        for seed, rows in frame.sort_values("trial_id").groupby("seed")
    }
    assert len(by_seed[0]) == len(by_seed[1]) == 6
    # another spec seed, other draws (before: every seed replayed the same games)
    assert sorted(by_seed[0]) != sorted(by_seed[1])


def test_an_llm_plays_another_llm_and_itself(tmp_path: Path) -> None:
    llm = {"name": "llm", "backend": "mock"}
    spec = duel_spec({"player_1": llm, "player_2": {**llm, "model": "mock-other"}})
    spec["parties"].append({"label": "self-play", "roles": {"player_1": llm, "player_2": llm}})
    run = bl.run(spec, out=tmp_path, progress=False)
    frame = run.to_pandas()
    assert sorted(frame["simulator"].unique()) == ["pair", "self-play"]
    assert len(frame) == 12 and frame["error"].isna().all()
    turns = frame["meta"].iloc[0]["turns"]
    # four rounds: each player predicts, then moves; every turn one model call
    assert [t["role"] for t in turns[:4]] == ["player_1", "player_1", "player_2", "player_2"]
    assert len(turns) == 16 and all(t["calls"] == 1 and t["prompt_hash"] for t in turns)
    assert frame["calls"].tolist() == [16] * 12
    scores = frame["scores"].iloc[0]
    assert {"payoff_player_1", "payoff_player_2", "prediction_accuracy_player_2"} <= set(scores)
    roles = gap(run, n_resamples=200).roles
    got = roles.loc[roles["metric"] == "prediction_correct"]
    assert len(got) == 4  # 2 assignments x 2 roles, each with an interval over 6 games
    assert (got["n_turns"] == 24).all() and (got["low"] <= got["value"]).all()


def _logged(path: Path) -> list[str]:
    if not path.exists():
        return []
    lines = [json.loads(line) for line in path.read_text().splitlines() if line]
    return [f"{c['model']} {c['kind']} {c['prompt']}" for c in lines]


def _stored(out: Path) -> pd.DataFrame:
    return bl.open_run("killduel", out=out).to_pandas()


def _duel_with_log(tmp_path: Path, tag: str) -> tuple[dict[str, Any], Path]:
    log = tmp_path / f"calls-{tag}.jsonl"
    llm = {
        "name": "llm",
        "backend": "logging_mock",
        "backend_options": {"log": str(log), "delay_s": 0.03},
    }
    spec = duel_spec(
        {"player_1": llm, "player_2": {**llm, "model": "mock-2"}},
        name="killduel",
        plugins=["bl_exchange"],
        task_options={"predict": False},
        cache=str(tmp_path / f"calls-{tag}.sqlite"),
    )
    return spec, log


def test_kill_9_half_way_through_a_game_then_rerun_pays_no_call_twice(tmp_path: Path) -> None:
    spec, log = _duel_with_log(tmp_path, "killed")
    out = tmp_path / "runs"
    code = (
        "import json, sys, behaviorlab as bl; "
        f"bl.run(json.loads(sys.argv[1]), out={str(out)!r}, progress=False)"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SUPPORT), *sys.path])}
    proc = subprocess.Popen([sys.executable, "-c", code, json.dumps(spec)], env=env)
    deadline = time.monotonic() + 60
    # at most 8 calls a game (fewer when two games ask the same): kill in the third or later
    while len(_logged(log)) < 20 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.01)
    assert proc.poll() is None, "the run ended before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = _logged(log)
    assert len(before) >= 20 and len(_stored(out)) < 6

    bl.run(spec, out=out, progress=False)  # the rerun, in this process
    calls = _logged(log)
    assert len(calls) == len(set(calls)), "a call made before the kill was paid again"
    frame = _stored(out)
    assert len(frame) == 6 and frame["trial_id"].is_unique and frame["error"].isna().all()

    # an uninterrupted run (its own log and cache) makes exactly the same calls, once each
    fresh_spec, fresh_log = _duel_with_log(tmp_path, "fresh")
    fresh = bl.run(fresh_spec, out=tmp_path / "fresh", progress=False).to_pandas()
    assert sorted(_logged(fresh_log)) == sorted(calls)
    # (other trial ids: the log path is a backend option, part of the role assignment)
    cols = ["episode_id", "answer_json", "scores"]
    assert frame[cols].sort_values("episode_id").to_dict("records") == fresh[cols].sort_values(
        "episode_id"
    ).to_dict("records")
    # the game cut off by the kill was replayed from the cache: more hits than a plain run
    assert frame["cache_hits"].sum() > fresh["cache_hits"].sum()


@pytest.mark.parametrize("role", ["player_1", "player_2"])
def test_a_game_spec_must_assign_both_players(role: str) -> None:
    roles = {"player_1": {"name": "llm", "backend": "mock"}, "player_2": {"name": "majority"}}
    roles.pop(role)
    with pytest.raises(bl.SpecError, match=f"leaves the role '{role}' of task 'game'"):
        bl.runs.plan(bl.load_spec(duel_spec(roles)), None)


def test_per_role_rows_show_a_dead_party_and_keep_shares_in_bounds(tmp_path: Path) -> None:
    from behaviorlab.analysis import role_table

    good = {"name": "script", "lines": ["cooperate", "defect", "defect"], "cycle": True}
    roles = {"player_1": good, "player_2": {**good, "lines": ["defect", "cooperate"]}}
    spec = duel_spec(roles, task_options={"predict": False})
    dead = {"name": "script", "lines": ["Cooperate!"], "cycle": True, "label": "bad"}
    spec["parties"].append({"label": "dead", "roles": {"player_1": good, "player_2": dead}})
    frame = bl.run(spec, out=tmp_path, progress=False).to_pandas()
    per_turn = bl.open_run(tmp_path / "duel").to_pandas(per="turn")
    assert per_turn.loc[per_turn["simulator"] == "dead", "trial_error"].notna().all()
    assert per_turn.loc[per_turn["simulator"] == "pair", "trial_error"].isna().all()
    table = (
        role_table(frame, n_resamples=300).set_index(["simulator", "role", "metric"]).sort_index()
    )
    # every 'dead' game failed: valid_turn shows which party never played, the task's
    # scores of those games are not results, and the arm's failed games are counted
    dead_rows = table.loc["dead"]
    assert (dead_rows["failed_trials"] == 6).all()
    assert dead_rows.loc[("player_2", "valid_turn"), "value"] == 0.0
    assert dead_rows.loc[("player_1", "valid_turn"), "value"] == 1.0
    assert dead_rows.loc[("player_2", "valid_turn"), "n_turns"] == 6 * 4
    assert "payoff" not in set(dead_rows.index.get_level_values("metric"))
    assert (table.loc["pair"]["failed_trials"] == 0).all()
    # the games' own scores (each player's payoff, the joint payoff) are there too
    whole = table.loc["pair"].loc["(trial)"]
    assert {"payoff_player_1", "joint_payoff", "mutual_cooperation"} <= set(whole.index)
    assert whole.loc["payoff_player_1", "n_people"] == 6
    assert "(trial)" not in set(role_table(frame.loc[frame["simulator"] == "dead"])["role"])
    # a 0/1 per-turn score, and a rate in [0, 1], are shares: their intervals stay inside
    for row in (("player_1", "cooperate"), ("(trial)", "mutual_cooperation")):
        got = table.loc[("pair", *row)]
        assert 0.0 <= got["low"] <= got["value"] <= got["high"] <= 1.0, row
    assert whole.loc["joint_payoff", "role_simulator"] == "(all)"


def test_a_turn_score_named_like_a_column_keeps_its_own_column() -> None:
    from behaviorlab.tasks._parties import turn_rows

    turns = [{"role": "a", "turn": 0, "role_turn": 0, "scores": {"cost": 9.0, "seed": 1.0}}]
    frame = pd.DataFrame(
        {"trial_id": ["t"], "seed": [0], "error": [None], "meta": [{"turns": turns}]}
    )
    turns[0]["scores"]["valid_turn"] = 0.0
    rows = turn_rows(frame)
    assert rows["score_valid_turn"].tolist() == [0.0] and "valid_turn" not in rows.columns
    assert list(rows.columns).count("cost") == 1 and list(rows.columns).count("seed") == 1
    assert rows["score_cost"].tolist() == [9.0] and rows["score_seed"].tolist() == [1.0]
    assert rows["seed"].tolist() == [0]
