"""Builders of small results frames for the analysis tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

from behaviorlab.store import COLUMNS

DEFAULTS: dict[str, Any] = {
    "run_id": "run",
    "task": "survey",
    "simulator": "llm:mock",
    "condition": "full",
    "seed": 0,
    "episode_id": "ep",
    "step_index": 0,
    "raw_output": "",
    "scores": {},
    "latency_s": 0.0,
    "tokens_in": 0,
    "tokens_out": 0,
    "calls": 1,
    "cache_hits": 0,
    "meta": {},
}

FrameBuilder = Callable[[list[dict[str, Any]]], pd.DataFrame]


def build_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """A results frame with exactly the schema columns; ``correct`` is derived from ``answer``
    and ``human_answer`` unless given, and is None for rows with an error."""
    records = []
    for i, given in enumerate(rows):
        rec = {c: None for c in COLUMNS} | DEFAULTS | given
        rec.setdefault("trial_id", None)
        rec["trial_id"] = rec["trial_id"] or f"t{i}"
        if "correct" not in given:
            ok = rec["error"] is None and rec["answer"] is not None
            rec["correct"] = float(rec["answer"] == rec["human_answer"]) if ok else None
        if rec["episode_id"] == "ep":
            rec["episode_id"] = f"{rec['person_id']}-{rec['item_id']}"
        records.append(rec)
    return pd.DataFrame.from_records(records, columns=list(COLUMNS))


@pytest.fixture
def frame_of() -> FrameBuilder:
    return build_frame


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)


def synthetic_results(n_people: int = 30, n_items: int = 4, seed: int = 0) -> pd.DataFrame:
    """A small experiment: ``llm:probs`` (option probabilities, three conditions),
    ``llm:argmax`` (answers only) and the ``majority`` baseline, with a few failed trials."""
    rng = np.random.default_rng(seed)
    codes = ["a", "b", "c"]
    truth = rng.dirichlet([2.0, 2.0, 2.0], size=n_items)
    rows: list[dict[str, Any]] = []
    for p in range(n_people):
        for i in range(n_items):
            human = str(rng.choice(codes, p=truth[i]))
            shown = [str(c) for c in rng.permutation(codes)]
            base = {"person_id": f"p{p:02d}", "item_id": f"q{i}", "human_answer": human}
            base["options"] = shown
            arms = [("llm:probs", c) for c in ("full", "shuffled_persona", "no_persona")]
            arms += [("llm:argmax", "full"), ("majority", "full")]
            for sim, cond in arms:
                if sim == "majority":
                    probs = dict(zip(codes, truth[i].tolist(), strict=True))
                else:
                    sharp = 3.0 if cond == "full" else 1.0
                    weights = np.where(np.array(codes) == human, sharp, 1.0)
                    probs = dict(zip(codes, rng.dirichlet(weights).tolist(), strict=True))
                answer = max(probs, key=lambda k: probs[k])
                row = base | {"simulator": sim, "condition": cond, "answer": answer}
                row["answer_position"] = shown.index(answer)
                if sim != "llm:argmax":
                    row["probabilities"] = probs
                draw = rng.random()
                if sim.startswith("llm") and draw < 0.04:
                    kind = ["backend", "timeout", "invalid"][int(draw * 75) % 3]
                    row |= {"error": "failed", "error_kind": kind, "answer": None}
                    row |= {"probabilities": None, "answer_position": None}
                rows.append(row)
    return build_frame(rows)


@pytest.fixture(scope="session")
def results() -> pd.DataFrame:
    return synthetic_results()
