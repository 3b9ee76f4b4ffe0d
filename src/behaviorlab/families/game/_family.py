"""The game family: what it tells the core."""

from __future__ import annotations

from behaviorlab.families.game._report import game_blocks
from behaviorlab.families.game._task import GAME
from behaviorlab.plugins._family import Family, family, packaged_demo

FAMILY = family(
    Family(
        name=GAME,
        summary="Repeated games (rock-paper-scissors, the iterated prisoner's dilemma) against "
        "scripted partners.",
        tasks=(GAME,),
        report_blocks=game_blocks,
        demos=(
            packaged_demo(
                "game",
                "repeated games against scripted partners with the bundled SmolLM2",
                __package__ or "behaviorlab.families.game",
            ),
        ),
        docs="docs/game.md",
    )
)
