"""Fixtures shaped like Psych-101 files: the project's own transcripts (letters shuffled per
participant, long sessions, free-text answers, missing optional fields, odd characters), and
the shared real data (skipped when ``../shared`` is absent)."""

from __future__ import annotations

import json
import random
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "psych201"
INTRO = (
    "Welcome — “Bandit” study ✓. You will play {n} rounds.\tIn each round, choose a machine; "
    "a score of 3 < 5 > 2 means nothing here. Paths like C:\\temp and 'quotes' are text.\n"
)
PAIRS = [("K", "X"), ("F", "J"), ("B", "U")]


def bandit_line(pid: Any, n: int, seed: int, **extra: Any) -> dict[str, Any]:
    """One participant of a two-armed bandit written like a Psych-101 transcript: the letters
    are drawn per participant; the last trial asks a free-text question."""
    rng = random.Random(seed)
    a, b = rng.choice(PAIRS)
    if rng.random() < 0.5:
        a, b = b, a
    parts = [INTRO.format(n=n)]
    for t in range(n):
        choice = a if rng.random() < 0.7 else b
        reward = rng.randint(0, 9)
        parts.append(
            f"Round {t + 1}: you can choose machine {a} or machine {b}. You press <<{choice}>>. "
            f"You win {reward} points.\n"
        )
    parts.append("In one word, how did you decide? You write <<by feel—mostly>>.\nThank you!")
    return {"text": "".join(parts), "experiment": "fixture_bandit", "participant": pid, **extra}


def write_jsonl(path: Path, lines: list[dict[str, Any] | str]) -> Path:
    path.write_text(
        "".join(
            (x if isinstance(x, str) else json.dumps(x, ensure_ascii=False)) + "\n" for x in lines
        ),
        encoding="utf-8",
    )
    return path


def bandit_lines(people: int = 6, rounds: int = 5) -> list[dict[str, Any] | str]:
    lines: list[dict[str, Any] | str] = []
    for i in range(people):
        extra: dict[str, Any] = {}
        if i % 2 == 0:
            extra = {"age": f"{20 + i}.0", "gender": "female" if i % 4 else "male"}
        if i % 3 == 0:
            extra["RTs"] = [1000.0 + j for j in range(rounds + 1)]
        pid: Any = i if i % 2 else str(i)  # int and str ids, as in the real files
        lines.append(bandit_line(pid, rounds, seed=i, **extra))
    return lines


class Maker:
    """The helpers above, for tests (pytest imports test modules by path, so a fixture hands
    them over)."""

    line = staticmethod(bandit_line)
    lines = staticmethod(bandit_lines)
    write = staticmethod(write_jsonl)


@pytest.fixture
def make() -> Maker:
    return Maker()


@pytest.fixture
def bandit_file(tmp_path: Path) -> Path:
    """Six participants, five rounds and one free-text answer each."""
    return write_jsonl(tmp_path / "prompts.jsonl", bandit_lines())


@pytest.fixture
def make_zip(tmp_path: Path) -> Callable[[str, list[dict[str, Any] | str]], Path]:
    def make(name: str, lines: list[dict[str, Any] | str]) -> Path:
        plain = write_jsonl(tmp_path / f"{name}-prompts.jsonl", lines)
        out = tmp_path / f"{name}.jsonl.zip"
        with zipfile.ZipFile(out, "w") as z:
            z.write(plain, "prompts.jsonl")
        plain.unlink()
        return out

    return make


@pytest.fixture
def shared_data() -> Path:
    if not (SHARED / "zhu2024games_300.jsonl.zip").is_file():
        pytest.skip(f"the shared Psych-201 data is not at {SHARED} (../shared absent)")
    return SHARED
