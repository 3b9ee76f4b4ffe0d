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
