"""The worked example of docs/shares.md runs as written: a planted simulator's known JS, TV and
score are inside their intervals, and the near-uniform item is left out and listed."""

from __future__ import annotations

from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "shares.md"


def test_worked_example_block_runs(tmp_path: Path) -> None:
    text = DOC.read_text()
    section = text.split("## Worked example")[1]
    block = section.split("```python")[1].split("```")[0]
    assert "assert planted" in block  # the block checks the planted truth itself
    scope: dict[str, object] = {"out": tmp_path}
    exec(compile(block, str(DOC), "exec"), scope)
    scores = scope["scores"]
    # the printed table in the docs is this run's
    assert round(float(scores.loc["planted:0.3", "simbench_score"]), 1) == 40.5  # type: ignore[attr-defined]
    assert round(float(scores.loc["planted:0.3", "share_tv"]), 3) == 0.169  # type: ignore[attr-defined]
