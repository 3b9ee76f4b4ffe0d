"""The debate family: what it tells the core."""

from __future__ import annotations

from behaviorlab.families.debate._report import debate_blocks
from behaviorlab.families.debate._task import DEBATE
from behaviorlab.plugins._family import (
    Demo,
    DemoPlan,
    DemoRequest,
    Family,
    family,
    read_packaged_spec,
    with_backend,
)

_PACKAGE = __package__ or "behaviorlab.families.debate"
OUTRO = (
    "Read the smollm2 rows with care: the bundled SmolLM2 (135M parameters) does not debate. "
    "In this demo (measured once, about 7 minutes on 2 shared cores) it rated every report 1 "
    "whatever its identity, gave empty speeches, and its own default is 1 too, so no agent "
    "has a gap to close and it has no drift row; the report's reading says so. The scripted "
    "rows are the yardsticks: drift-0.25 closes 1 - 0.75**r of the gap by round r (0.25, "
    "0.44), degroot follows its closed form, stubborn closes nothing."
)


def _demo(request: DemoRequest) -> DemoPlan:
    spec = with_backend(read_packaged_spec(_PACKAGE), request.backend)
    intro = [f"[bold]behaviorlab demo debate[/]: {spec.get('description', spec['name'])}"]
    return DemoPlan(spec, intro=intro, outro=[OUTRO])


FAMILY = family(
    Family(
        name=DEBATE,
        summary="Debates between N agents with identities: attitude trajectories and drift "
        "toward the model's own default, with same-identity, retest and reference controls.",
        tasks=(DEBATE,),
        report_blocks=debate_blocks,
        demos=(
            Demo(
                "debate",
                "3 agents debate 2 topics with the bundled SmolLM2 (which does not debate "
                "well), beside scripted drift, DeGroot and stubborn agents",
                _demo,
            ),
        ),
        docs="docs/debate.md",
    )
)
