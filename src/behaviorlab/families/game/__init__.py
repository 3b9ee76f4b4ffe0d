"""The game family: repeated games where the next question depends on the last answer.

It brings generated games (dataset ``games``: rock-paper-scissors and the iterated prisoner's
dilemma against scripted partners), the interactive ``game`` task, the players
``best_responder``, ``random_move``, ``first_move`` and ``scripted_partner`` (a scripted
partner as a party of a two-party game), theory-of-mind metrics and learning
curves, its report blocks and ``behaviorlab demo game`` (docs/game.md).
"""

from behaviorlab.families.game import _data, _metrics, _players  # noqa: F401  (register)
from behaviorlab.families.game._family import FAMILY
from behaviorlab.families.game._metrics import (
    GAME_METRICS,
    game_failures,
    game_rounds,
    learning_curves,
)
from behaviorlab.families.game._players import (
    BestResponder,
    FirstMove,
    RandomMove,
    ScriptedPartner,
)
from behaviorlab.families.game._task import GAME, GameTask

__all__ = [
    "FAMILY",
    "GAME",
    "GAME_METRICS",
    "BestResponder",
    "FirstMove",
    "GameTask",
    "RandomMove",
    "ScriptedPartner",
    "game_failures",
    "game_rounds",
    "learning_curves",
]
