"""A game experiment end to end on the mock backend: run with a limit, resume, no duplicates;
the stored rows carry the per-round records and the report shows the games blocks."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from behaviorlab.families.game._report import game_blocks
from behaviorlab.report._collect import collect
from behaviorlab.runs import open_run, run_async


def _spec() -> dict[str, Any]:
    return {
        "name": "games",
        "task": "game",
        "data": {
            "source": "games",
            "options": {"partners": ["fixed", "tit_for_tat", "biased"], "rounds": 4},
            "split": {"test": 0.7},
        },
        "simulators": [
            {"name": "llm", "backend": "mock", "answer": "score"},
            {"name": "best_responder"},
            {"name": "random_move"},
        ],
        "conditions": ["full", "no_persona"],
        "cache": False,
    }


def test_run_resume_and_report(runs_dir: Path) -> None:
    first = asyncio.run(run_async(_spec(), out=runs_dir, limit=5))
    assert first.completed == 5 and first.planned == 24  # 4 test games x 3 players x 2 conditions
    second = asyncio.run(run_async(_spec(), out=runs_dir))
    assert second.already_done == 5 and second.completed == 19
    frame = open_run("games", out=runs_dir).to_pandas()
    assert len(frame) == 24 and frame["trial_id"].is_unique
    assert frame["error"].isna().all()
    llm = frame[frame["simulator"] == "llm:mock-1"]
    assert (llm["calls"] == 8).all()  # 4 rounds x (prediction + move)
    assert llm["person_id"].nunique() == 4
    rounds = llm.iloc[0]["answer_json"]["rounds"]
    assert [r["round"] for r in rounds] == [1, 2, 3, 4]
    assert {"prediction", "move", "partner_move", "payoff", "br_payoff"} <= set(rounds[0])
    meta = llm.iloc[0]["meta"]
    assert meta["partner_kind"] in ("fixed", "tit_for_tat", "biased") and meta["rounds"] == 4
    # a rerun of the finished run answers nothing
    third = asyncio.run(run_async(_spec(), out=runs_dir))
    assert third.completed == 0 and third.already_done == 24
    # the best responder's stored payoff equals the payoff recomputed from its rounds
    br = frame[frame["simulator"] == "best_responder"]
    for _, row in br.iterrows():
        pay = [r["payoff"] for r in row["answer_json"]["rounds"]]
        assert row["scores"]["payoff"] == sum(pay) / len(pay)
    data = collect(open_run("games", out=runs_dir), n_resamples=200)
    blocks = game_blocks(data)
    kinds = [type(b).__name__ for b in blocks]
    assert kinds[0] == "Heading" and "Plot" in kinds
    tables = [b for b in blocks if type(b).__name__ == "Table"]
    captions = " ".join(t.caption for t in tables)  # type: ignore[attr-defined]
    assert "rock-paper-scissors" in captions and "prisoner's dilemma" in captions
    failures = tables[-1]
    assert failures.columns[-2:] == ("failed moves", "failed predictions")  # type: ignore[attr-defined]
    assert all(row[4] == "0 of 16" for row in failures.rows)  # type: ignore[attr-defined]
