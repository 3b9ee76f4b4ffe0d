"""The debate family: what it tells the core."""

from __future__ import annotations

from behaviorlab.families.debate._task import DEBATE
from behaviorlab.plugins._family import Family, family

FAMILY = family(
    Family(
        name=DEBATE,
        summary="Debates between N agents with identities: attitude trajectories and drift "
        "toward the model's own default, with same-identity, retest and reference controls.",
        tasks=(DEBATE,),
        docs="docs/debate.md",
    )
)
