"""The transcript family: what it tells the core."""

from __future__ import annotations

from behaviorlab.families.transcript._report import transcript_blocks
from behaviorlab.families.transcript._task import TRANSCRIPT
from behaviorlab.plugins._family import Demo, DemoPlan, DemoRequest, Family, family, packaged_demo

_PACKAGE = __package__ or "behaviorlab.families.transcript"
OUTRO = (
    "The shared Psych-201 experiments in full, estimated from bench/transcript_pass.py (bundled "
    "SmolLM2, n_ctx 8192, 2 cores): risky choice, 301 participants, 191,613 transcript tokens, "
    "about 0.4 h in one pass; 2x2 games, 300 participants, 1,044,850 tokens, about 2.3 h. Per "
    "choice from scratch reads 5.9x and 10.5x those tokens. Run: data: {source: psych101, "
    "options: {path: ../shared/data/psych201}} with backend_options: {n_ctx: 8192}."
)


def _demo(request: DemoRequest) -> DemoPlan:
    made = packaged_demo("transcript", "", _PACKAGE).build(request)
    return DemoPlan(made.spec, intro=made.intro, outro=[OUTRO])


FAMILY = family(
    Family(
        name=TRANSCRIPT,
        summary="Psych-101 transcripts: predict a participant's every response given the "
        "transcript so far (per-choice likelihood, each transcript read once).",
        tasks=(TRANSCRIPT,),
        report_blocks=transcript_blocks,
        splits=("person", "data"),
        demos=(
            Demo(
                "transcript",
                "a SYNTHETIC two-armed bandit (scripted learners, Psych-101 format) with the "
                "bundled SmolLM2, the baselines and the history controls",
                _demo,
            ),
        ),
        docs="docs/transcript.md",
    )
)
