"""docs/outcomes.md runs: its ``python`` blocks, in order and in one namespace, on the data
they generate with known answers (a planted correlation, std ratio and shift; an answer key),
and each checks with ``assert`` that the metrics recover them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "outcomes.md"
BLOCKS = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)


def test_the_worked_examples_run_and_recover_what_was_planted(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert BLOCKS, f"{DOC} has no python block"
    namespace: dict[str, object] = {"__name__": "outcomes_doc"}
    for block in BLOCKS:
        exec(compile(block, str(DOC), "exec"), namespace)
    assert "correlation" in capsys.readouterr().out
