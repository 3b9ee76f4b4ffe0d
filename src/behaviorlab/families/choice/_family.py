"""The choice family: what it tells the core."""

from __future__ import annotations

from behaviorlab.families.choice._report import choice_blocks
from behaviorlab.families.choice._task import CHOICE
from behaviorlab.families.survey import SURVEY
from behaviorlab.plugins._family import Family, family, packaged_demo

FAMILY = family(
    Family(
        name=CHOICE,
        summary="People's own choices between described options (travel mode, products).",
        tasks=(CHOICE,),
        builds_on=(SURVEY,),
        report_blocks=choice_blocks,
        demos=(
            packaged_demo(
                "choice",
                "travel mode choice (statsmodels modechoice) with the bundled SmolLM2",
                __package__ or "behaviorlab.families.choice",
            ),
        ),
        docs="docs/choice.md",
    )
)
