"""docs/sensitivity.md's worked example, run as written: the planted temperature effect is
recovered within its interval; the model, with no true effect, has an interval covering 0 and
sits within the seed noise floor, on the answers and on the rationales."""

from __future__ import annotations

from pathlib import Path
from typing import Any

DOC = Path(__file__).resolve().parents[2] / "docs" / "sensitivity.md"


def test_the_worked_example_recovers_the_planted_truth() -> None:
    block = DOC.read_text(encoding="utf-8").split("```python")[1].split("```")[0]
    scope: dict[str, Any] = {}
    exec(compile(block, str(DOC), "exec"), scope)  # the docs' code, as a reader runs it
    result = scope["result"]

    temp = result.effect("temperature", "0.7")
    assert temp.low <= -0.10 <= temp.high  # the planted effect lies in its interval
    assert temp.high < 0 and not temp.within_noise

    model = result.effect("model", "small")
    assert model.low <= 0 <= model.high
    assert model.within_noise
    floor = result.floor("accuracy")
    assert floor is not None and floor.value > 0 and floor.low <= floor.value <= floor.high

    assert result.share("temperature") > 0.5 > result.share("model")
    var = result.variance.loc[result.variance["metric"] == "accuracy"].set_index("factor")
    assert var.loc["temperature", "low"] > var.loc["model", "high"]  # shares, with intervals
    assert (
        abs(result.variance.loc[result.variance["metric"] == "accuracy", "share"].sum() - 1) < 1e-9
    )

    rat = result.rationales.set_index("factor")
    assert rat.loc["temperature", "excess_low"] > 0  # temperature rewrites the rationales
    assert rat.loc["model", "excess_low"] <= 0 <= rat.loc["model", "excess_high"]
    assert rat.loc["model", "low"] <= rat.loc["seed", "value"] <= rat.loc["model", "high"]
