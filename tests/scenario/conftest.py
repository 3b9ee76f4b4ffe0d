"""Paths of the shared benchmark data (present on the project's machine, not in a user's clone)."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"


@pytest.fixture
def pacifaist_dir() -> Path:
    path = SHARED / "pacifaist"
    if not (path / "PacifAIst_dataset.csv").exists():
        pytest.skip("needs ../shared/data/pacifaist (not in a user's clone)")
    return path


@pytest.fixture
def diffaware_dir() -> Path:
    path = SHARED / "diffaware"
    if not (path / "D3.jsonl").exists():
        pytest.skip("needs ../shared/data/diffaware (not in a user's clone)")
    return path
