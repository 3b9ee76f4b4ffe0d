"""Patient specs shared by the patient tests (fixture `make_spec`) and the PATIENT-Ψ examples
(fixture `psi_file`, skipped when ../shared/data is absent)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

PSI = Path(__file__).resolve().parents[3] / "shared" / "data" / "patient-psi" / "profiles.json"
THERAPIST = {
    "name": "script",
    "cycle": True,
    "lines": ["What brings you here today?", "How did you feel?", "What did you do then?"],
}


def patient_spec(
    patient: dict[str, Any],
    *,
    models: int = 6,
    sessions: int = 2,
    planted: int = 0,
    turns: int = 3,
    judges: list[dict[str, Any]] | None = None,
    conditions: list[str] | None = None,
    name: str = "patient-test",
) -> dict[str, Any]:
    """A spec with one parties entry: the scripted therapist and ``patient``."""
    return {
        "name": name,
        "task": "patient_session",
        "task_options": {"turns": turns, "judges": judges or [{"kind": "keywords"}]},
        "data": {
            "source": "patient_models",
            "options": {"models": models, "sessions": sessions, "planted": planted},
            "split": {"test": 1.0},
        },
        "parties": [{"label": "p", "roles": {"therapist": THERAPIST, "patient": patient}}],
        "conditions": conditions or ["full"],
        "cache": False,
    }


@pytest.fixture(scope="session")
def make_spec() -> Callable[..., dict[str, Any]]:
    return patient_spec


@pytest.fixture(scope="session")
def psi_file() -> Path:
    if not PSI.exists():
        pytest.skip(f"the PATIENT-Ψ examples are not here ({PSI}): ../shared/data is absent")
    return PSI
