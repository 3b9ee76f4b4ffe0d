"""The survey family: what it tells the core (its task, its demo)."""

from __future__ import annotations

from behaviorlab.families.survey._report import survey_blocks
from behaviorlab.families.survey._task import SURVEY
from behaviorlab.plugins._family import (
    Demo,
    DemoPlan,
    DemoRequest,
    Family,
    family,
    read_packaged_spec,
)

DEMO_PEOPLE = 200


def _demo(request: DemoRequest) -> DemoPlan:
    """ANES 1996 vote: the bundled SmolLM2 (option scoring) against two baselines."""
    spec = read_packaged_spec(__package__ or "behaviorlab.families.survey")
    people = request.people if request.people is not None else DEMO_PEOPLE
    spec["data"]["people"] = people
    if request.backend != "llamacpp":
        spec["simulators"][0] = {"name": "llm", "backend": request.backend, "answer": "score"}
        spec["name"] = f"{spec['name']}-{request.backend}"
    intro = (
        "[bold]behaviorlab demo[/]: ANES 1996 (statsmodels), presidential vote, "
        f"{people} respondents split in half by person; LLM backend: {request.backend}"
    )
    return DemoPlan(spec, intro=[intro])


FAMILY = family(
    Family(
        name=SURVEY,
        summary="Survey questions: predict each person's own answer to held-out questions.",
        tasks=(SURVEY,),
        report_blocks=survey_blocks,
        demos=(
            Demo(
                "survey",
                "ANES 1996 vote of 100 real respondents with the bundled SmolLM2 (default)",
                _demo,
                default=True,
            ),
        ),
        splits=("person",),
        default=True,
        docs="docs/own-survey.md",
    )
)
