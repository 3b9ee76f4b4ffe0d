"""History conditions for next_action: no history, no rationales, the last k steps."""

from __future__ import annotations

from pathlib import Path

import pytest

from behaviorlab.data import load_opera, make_synthetic_opera
from behaviorlab.families.next_action import NextActionTask
from behaviorlab.families.next_action._conditions import history_k
from behaviorlab.runs import condition, conditions
from behaviorlab.tasks import Trial


@pytest.fixture(scope="module")
def trials(tmp_path_factory: pytest.TempPathFactory) -> list[Trial]:
    root: Path = make_synthetic_opera(
        tmp_path_factory.mktemp("opera"), users=3, sessions_per_user=1, rationale_rate=0.6
    )
    return NextActionTask(budget=None).trials(load_opera(root).dataset, seed=0)


def _same_but_history(a: Trial, b: Trial) -> None:
    assert a.target == b.target and a.person == b.person and a.key == b.key
    assert a.input.observation == b.input.observation  # the page is not re-rendered
    assert a.input.persona == b.input.persona


def test_registered() -> None:
    described = {e.name: e.description for e in conditions.entries()}
    for name in ("no_history", "no_rationale_history", "history_k1", "history_k3", "history_k5"):
        assert described[name]


def test_no_history_and_no_rationale_history(trials: list[Trial]) -> None:
    none = conditions.get("no_history")(trials, seed=0)
    assert all(t.input.history == [] for t in none)
    assert {t.input.meta["history_condition"] for t in none} == {"none"}
    plain = conditions.get("no_rationale_history")(trials, seed=0)
    assert any(s.rationale is not None for t in trials for s in t.input.history)
    assert all(s.rationale is None for t in plain for s in t.input.history)
    for before, a, b in zip(trials, none, plain, strict=True):
        _same_but_history(before, a)
        _same_but_history(before, b)
        assert [s.action for s in b.input.history] == [s.action for s in before.input.history]


def test_last_k(trials: list[Trial]) -> None:
    three = conditions.get("history_k3")(trials, seed=0)
    for before, after in zip(trials, three, strict=True):
        _same_but_history(before, after)
        assert after.input.history == before.input.history[-3:]
    assert max(len(t.input.history) for t in three) == 3
    assert all(len(t.input.history) <= 1 for t in conditions.get("history_k1")(trials, seed=0))
    assert all(t.input.history == [] for t in history_k(0)(trials, seed=0))
    if "history_k7" not in conditions:
        condition("history_k7")(history_k(7))
    assert max(len(t.input.history) for t in conditions.get("history_k7")(trials, seed=0)) == 7
    with pytest.raises(ValueError, match="k must be"):
        history_k(-1)
