"""The scenario family: what it tells the core."""

from __future__ import annotations

from behaviorlab.families.scenario._report import scenario_blocks
from behaviorlab.families.scenario._task import SCENARIO
from behaviorlab.plugins._family import Family, family, packaged_demo

FAMILY = family(
    Family(
        name=SCENARIO,
        summary="Dilemmas and test items answered by the agent itself (PacifAIst, difference "
        "awareness, your own).",
        tasks=(SCENARIO,),
        report_blocks=scenario_blocks,
        demos=(
            packaged_demo(
                "scenario",
                "illustrative dilemmas (not a benchmark) with the bundled SmolLM2",
                __package__ or "behaviorlab.families.scenario",
            ),
        ),
        docs="docs/scenario.md",
    )
)
