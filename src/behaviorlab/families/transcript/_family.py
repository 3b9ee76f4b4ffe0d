"""The transcript family: what it tells the core."""

from __future__ import annotations

from behaviorlab.families.transcript._report import transcript_blocks
from behaviorlab.families.transcript._task import TRANSCRIPT
from behaviorlab.plugins._family import Family, family, packaged_demo

FAMILY = family(
    Family(
        name=TRANSCRIPT,
        summary="Psych-101 transcripts: predict a participant's every response given the "
        "transcript so far (per-choice likelihood, each transcript read once).",
        tasks=(TRANSCRIPT,),
        report_blocks=transcript_blocks,
        splits=("person", "data"),
        demos=(
            packaged_demo(
                "transcript",
                "a SYNTHETIC two-armed bandit (scripted learners, Psych-101 format) with the "
                "bundled SmolLM2, the baselines and the history controls",
                __package__ or "behaviorlab.families.transcript",
            ),
        ),
        docs="docs/transcript.md",
    )
)
