"""The attitude-change loader refuses what it would otherwise read wrongly, silently: a
strength column without its range (or the reverse), arguments with no earlier answer to move
from, and an argument listed twice at one time point."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from behaviorlab.families.persuasion import (
    AttitudeScale,
    PersuasionDataError,
    PersuasionMapping,
    Stance,
)
from behaviorlab.families.persuasion._mapping import as_mapping

STANCES = [{"code": "con", "label": "against"}, {"code": "pro", "label": "for"}]
SCALE = AttitudeScale(stances=[Stance(**s) for s in STANCES], strength=(1, 5))
MAPPING = PersuasionMapping(strength="strength", scale=SCALE, claim_text="Taxes should rise.")
NONE = {"argument_id": None, "argument_text": None, "argument_side": None}


def _arg(
    arg_id: str, side: str = "supports", text: str | None = "It funds schools."
) -> dict[str, Any]:
    return {"argument_id": arg_id, "argument_text": text, "argument_side": side}


def _csv(tmp_path: Path, table: list[dict[str, Any]]) -> Path:
    path = tmp_path / "data.csv"
    pd.DataFrame(table).to_csv(path, index=False)
    return path


def test_strength_column_and_range_are_given_together() -> None:
    with pytest.raises(PersuasionDataError, match=r"strength.*scale\.strength"):
        as_mapping({"scale": {"stances": STANCES, "strength": [1, 5]}})
    with pytest.raises(PersuasionDataError, match=r"strength.*scale\.strength"):
        as_mapping({"strength": "confidence", "scale": {"stances": STANCES}})
    both = as_mapping({"strength": "confidence", "scale": {"stances": STANCES, "strength": [1, 3]}})
    assert both.strength == "confidence"
    assert as_mapping({"scale": {"stances": STANCES}}).strength is None
