"""``behaviorlab plan`` and ``behaviorlab sweep design`` count a plan's trials chain by chain
(issue 21 §4): at a million trials they never hold every job at once."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from bl_survey import write_survey
from typer.testing import CliRunner

import behaviorlab.runs as runs_pkg
import behaviorlab.runs._planning as planning
from behaviorlab.cli import app
from behaviorlab.runs._types import Job

runner = CliRunner()


def _sweep_spec(folder: Path, people: int, questions: int) -> Path:
    write_survey(folder, people, questions, name="streams")
    spec = {
        "name": "sw",
        "data": {"source": str(folder / "s.csv"), "mapping": str(folder / "m.yaml")},
        "sweep": {
            "simulator": {"name": "llm", "backend": "mock", "answer": "generate"},
            "factors": {"model": ["a", "b"]},
        },
        "cache": False,
    }
    path = folder / "sweep.yaml"
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    return path


class _Watched:
    """A plan's chains, counting the jobs alive each time a chain is handed out."""

    def __init__(self, inner: Any, peaks: list[int]) -> None:
        self.inner, self.peaks = inner, peaks

    def __iter__(self) -> Iterator[list[Job]]:
        for n, chain in enumerate(self.inner):
            if n % 10 == 0:
                self.peaks.append(sum(1 for o in gc.get_objects() if type(o) is Job))
            yield chain

    def chain(self, key: tuple[str, str, int, str]) -> list[Job]:
        return list(self.inner.chain(key))


@pytest.fixture
def peaks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    seen: list[int] = []
    real = planning.plan

    def watched(*args: Any, **kwargs: Any) -> Any:
        p = real(*args, **kwargs)
        p.chains = _Watched(p.chains, seen)
        return p

    monkeypatch.setattr(planning, "plan", watched)
    monkeypatch.setattr(runs_pkg, "plan", watched)
    return seen


def test_plan_of_a_sweep_counts_its_trials_without_holding_every_job(
    tmp_path: Path, peaks: list[int]
) -> None:
    """150 test people x 4 questions x 2 cells: 1,200 jobs, a chain (4 jobs) alive at once."""
    spec = _sweep_spec(tmp_path, people=300, questions=4)
    res = runner.invoke(app, ["plan", str(spec), "--out", str(tmp_path / "runs")])
    assert res.exit_code == 0, res.output
    assert "sweep: 2 model = 2 cells × 600 trials = 1200 trials" in res.output
    assert peaks and max(peaks) <= 2 * 4, max(peaks)


def test_sweep_design_counts_its_trials_without_holding_every_job(
    tmp_path: Path, peaks: list[int]
) -> None:
    spec = _sweep_spec(tmp_path, people=300, questions=4)
    res = runner.invoke(app, ["sweep", "design", str(spec)])
    assert res.exit_code == 0, res.output
    assert "2 model = 2 cells × 600 trials = 1200 trials" in res.output
    assert peaks and max(peaks) <= 2 * 4, max(peaks)
