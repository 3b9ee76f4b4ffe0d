"""docs/parties.md's spec is a valid spec whose plan assigns every role (no model is called:
the llama.cpp simulators are swapped for the mock before planning)."""

from __future__ import annotations

from pathlib import Path

import yaml

import behaviorlab as bl
from behaviorlab.runs import plan

DOC = Path(__file__).resolve().parents[2] / "docs" / "parties.md"


def test_the_docs_spec_plans_every_assignment() -> None:
    block = DOC.read_text().split("```yaml")[1].split("```")[0]
    spec = yaml.safe_load(block)
    for entry in spec["parties"]:
        for role in entry["roles"].values():
            if role.get("backend") == "llamacpp":
                role.update(backend="mock", answer="score")
    spec["data"]["options"]["repeats"] = 2
    p = plan(bl.load_spec(spec), None)
    labels = [s.label for s in p.simulators]
    assert labels == ["smollm2-vs-gemma", "smollm2-self-play", "smollm2-vs-tft"]
    assert len(p.jobs) == 3 * 2
    roles = {s.label: sorted(s.parties) for s in p.simulators}  # type: ignore[attr-defined]
    assert set(map(tuple, roles.values())) == {("player_1", "player_2")}
