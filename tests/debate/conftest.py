"""Debate specs shared by the debate tests (fixture `make_spec`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

LINEUP = ["a Democrat", "a Republican", "a Democrat", "a Republican"]
START = {"a Democrat": 2.0, "a Republican": 6.0}


def debate_spec(
    roles: dict[str, dict[str, Any]] | dict[str, Any],
    *,
    agents: int = 4,
    rounds: int = 5,
    repeats: int = 2,
    lineup: list[str] | None = None,
    conditions: list[str] | None = None,
    **task_options: Any,
) -> dict[str, Any]:
    """A spec with one parties entry; ``roles`` is one simulator spec for every role or a
    mapping role -> simulator spec."""
    if "name" in roles:
        roles = {f"agent_{i}": dict(roles) for i in range(1, agents + 1)}
    return {
        "name": "debate-test",
        "task": "debate",
        "task_options": {"agents": agents, "rounds": rounds, **task_options},
        "data": {
            "source": "debate_topics",
            "options": {
                "identities": [lineup or LINEUP[:agents]],
                "repeats": repeats,
                "topics": [
                    {
                        "id": "t",
                        "statement": "Cities should ban cars from their centres.",
                        "scale": {"min": 1, "max": 7, "labels": {1: "no", 7: "yes"}},
                    }
                ],
            },
            "split": {"test": 1.0},
        },
        "parties": [{"label": "agents", "roles": roles}],
        "conditions": conditions or ["full"],
        "cache": False,
    }


@pytest.fixture(scope="session")
def make_spec() -> Callable[..., dict[str, Any]]:
    return debate_spec
