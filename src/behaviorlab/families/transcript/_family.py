"""The transcript family: what it tells the core."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.markup import escape

from behaviorlab.families.transcript._estimate import estimate_lines
from behaviorlab.families.transcript._report import transcript_blocks
from behaviorlab.families.transcript._task import TRANSCRIPT
from behaviorlab.plugins._family import Demo, DemoPlan, DemoRequest, Family, family, packaged_demo

if TYPE_CHECKING:
    from behaviorlab.runs import Run

_PACKAGE = __package__ or "behaviorlab.families.transcript"
OUTRO = (
    "To run them: data: {source: psych101, options: {path: ../shared/data/psych201}} with "
    "backend_options: {n_ctx: 8192} (docs/transcript.md)."
)


def _finish(run: Run) -> Sequence[str]:
    """After the demo: the estimate for the shared experiments from the run's own speed."""
    return ["", *(escape(line) for line in estimate_lines(run.to_pandas()))]


def _demo(request: DemoRequest) -> DemoPlan:
    made = packaged_demo("transcript", "", _PACKAGE).build(request)
    return DemoPlan(made.spec, intro=made.intro, outro=[OUTRO], finish=_finish)


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
