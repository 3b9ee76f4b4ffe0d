"""Rules of the repeated games: payoffs, scripted partners, and the best response to them.

Two games, each a payoff table over the moves of both players (the agent's payoff first):

- ``rps``, rock-paper-scissors: win 1, draw 0, loss -1 (configurable: ``win``, ``draw``,
  ``loss``).
- ``ipd``, the iterated prisoner's dilemma: the standard T=5 (temptation: you defect, they
  cooperate), R=3 (reward: both cooperate), P=1 (punishment: both defect), S=0 (sucker: you
  cooperate, they defect); configurable with ``T > R > P > S``.

Scripted partners (written ``kind`` or ``kind:argument``):

- ``fixed[:move]``: always the same move (default: the game's first move, rock / cooperate).
- ``cycle[:m1,m2,...]``: the moves in turn (default: every move in the game's order).
- ``tit_for_tat[:first]``: ``first`` in round 1 (default: the first move), then the agent's
  previous valid move.
- ``wsls[:first]``: win-stay, lose-shift: keeps its move after a win (its payoff above a draw
  in rps, at least R in ipd; a forfeit by the agent counts as a win), otherwise shifts to the
  next move in the game's order (rock → paper → scissors → rock; cooperate ↔ defect).
- ``biased[:move=weight,...]``: draws every move at random with these weights (default: the
  first move 0.6, the others sharing 0.4), from a generator seeded per game: the draws do not
  depend on what the agent plays.

The best response to a partner is the highest total payoff any agent could get against it,
knowing its strategy but not its random draws: for the deterministic partners the optimum
over all move sequences (backward induction over (round, last round's moves), which is all
these partners react to); for ``biased``, always playing the best reply to its weights,
scored on its actual draws.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

GameName = Literal["rps", "ipd"]
GAME_NAMES: tuple[GameName, ...] = ("rps", "ipd")
PARTNER_KINDS = ("fixed", "cycle", "tit_for_tat", "wsls", "biased")
DEFAULT_PAYOFFS: dict[str, dict[str, float]] = {
    "rps": {"win": 1.0, "draw": 0.0, "loss": -1.0},
    "ipd": {"T": 5.0, "R": 3.0, "P": 1.0, "S": 0.0},
}


class GameConfigError(ValueError):
    """A game, partner or payoff setting that cannot be used; the message says which."""


@dataclass(frozen=True)
class Game:
    """A symmetric two-player game: its moves and the agent's payoff table."""

    name: GameName
    moves: tuple[str, ...]
    table: Mapping[tuple[str, str], float]
    """``table[(mine, theirs)]``: my payoff (symmetric: the partner's is the swapped entry)."""
    payoffs: Mapping[str, float]
    """The named payoffs the table was built from (``win``/``draw``/``loss`` or ``T R P S``)."""
    win_threshold: float
    """A payoff at or above this counts as a win for win-stay, lose-shift."""

    def payoff(self, mine: str, theirs: str) -> float:
        return self.table[(mine, theirs)]

    @property
    def worst(self) -> float:
        """The lowest payoff in the table: what a forfeited round scores."""
        return min(self.table.values())

    def best_replies(self, theirs: str) -> list[str]:
        """The moves with the highest payoff against ``theirs`` (in the game's order)."""
        top = max(self.payoff(m, theirs) for m in self.moves)
        return [m for m in self.moves if self.payoff(m, theirs) == top]

    def best_reply(self, theirs: str) -> str:
        return self.best_replies(theirs)[0]

    def next_move(self, move: str) -> str:
        return self.moves[(self.moves.index(move) + 1) % len(self.moves)]

    def rules_text(self, rounds: int) -> str:
        """The rules in words, as shown to the agent."""
        p = self.payoffs
        if self.name == "rps":
            return (
                f"You are playing rock-paper-scissors against the same partner for {rounds} "
                "rounds. Each round you both choose rock, paper or scissors at the same time: "
                "rock beats scissors, scissors beats paper, paper beats rock. You score "
                f"{_n(p['win'])} for a win, {_n(p['draw'])} for a draw and {_n(p['loss'])} "
                "for a loss."
            )
        return (
            f"You are playing a repeated prisoner's dilemma against the same partner for "
            f"{rounds} rounds. Each round you both choose to cooperate or to defect at the same "
            f"time. Both cooperate: you each score {_n(p['R'])}. Both defect: you each score "
            f"{_n(p['P'])}. You defect while your partner cooperates: you score {_n(p['T'])} "
            f"and your partner {_n(p['S'])}. You cooperate while your partner defects: you "
            f"score {_n(p['S'])} and your partner {_n(p['T'])}."
        )


def _n(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def make_game(name: str, payoffs: Mapping[str, float] | None = None) -> Game:
    """The game ``name`` (``rps`` or ``ipd``) with ``payoffs`` overriding the defaults."""
    if name not in GAME_NAMES:
        raise GameConfigError(f"unknown game {name!r}; use one of: {', '.join(GAME_NAMES)}")
    p = dict(DEFAULT_PAYOFFS[name])
    unknown = sorted(set(payoffs or {}) - set(p))
    if unknown:
        raise GameConfigError(
            f"game {name!r}: unknown payoff key(s) {unknown}; the keys are {sorted(p)}"
        )
    p.update({k: float(v) for k, v in (payoffs or {}).items()})
    if name == "rps":
        if not p["win"] > p["draw"] > p["loss"]:
            raise GameConfigError(f"game 'rps': payoffs need win > draw > loss, got {p}")
        beats = {"rock": "scissors", "paper": "rock", "scissors": "paper"}
        moves: tuple[str, ...] = ("rock", "paper", "scissors")
        table = {
            (a, b): p["draw"] if a == b else p["win"] if beats[a] == b else p["loss"]
            for a in moves
            for b in moves
        }
        return Game("rps", moves, table, p, win_threshold=p["win"])
    if not p["T"] > p["R"] > p["P"] > p["S"]:
        raise GameConfigError(
            f"game 'ipd': a prisoner's dilemma needs T > R > P > S, got {p} (fix data.options."
            "payoffs.ipd)"
        )
    c, d = "cooperate", "defect"
    table = {(c, c): p["R"], (c, d): p["S"], (d, c): p["T"], (d, d): p["P"]}
    return Game("ipd", (c, d), table, p, win_threshold=p["R"])


@dataclass(frozen=True)
class Partner:
    """A scripted partner: its kind and arguments, checked against one game."""

    kind: str
    first: str = ""
    """fixed: the move; tit_for_tat / wsls: the first move."""
    sequence: tuple[str, ...] = ()
    """cycle: the moves in turn."""
    weights: tuple[tuple[str, float], ...] = ()
    """biased: (move, weight) pairs, weights summing to one."""
    label: str = field(default="", compare=False)
    """The canonical ``kind:argument`` text (ids, reports)."""

    @property
    def stochastic(self) -> bool:
        return self.kind == "biased"


def parse_partner(text: str, game: Game) -> Partner:
    """A partner from ``kind`` or ``kind:argument`` (see the module docstring), for ``game``."""
    kind, _, arg = text.strip().partition(":")
    kind, arg = kind.strip(), arg.strip()
    where = f"partner {text!r} for game {game.name!r}"
    if kind not in PARTNER_KINDS:
        raise GameConfigError(f"{where}: unknown kind {kind!r}; use one of: {PARTNER_KINDS}")

    def move(m: str) -> str:
        m = m.strip().lower()
        if m not in game.moves:
            raise GameConfigError(
                f"{where}: unknown move {m!r}; the moves of {game.name} are {list(game.moves)}"
            )
        return m

    if kind in ("fixed", "tit_for_tat", "wsls"):
        first = move(arg) if arg else game.moves[0]
        return Partner(kind, first=first, label=f"{kind}:{first}")
    if kind == "cycle":
        seq = tuple(move(m) for m in arg.split(",")) if arg else game.moves
        return Partner(kind, sequence=seq, label=f"cycle:{','.join(seq)}")
    if arg:
        pairs: dict[str, float] = {}
        for part in arg.split(","):
            name, eq, w = part.partition("=")
            try:
                weight = float(w)
            except ValueError:
                weight = -1.0
            if not eq or weight < 0:
                raise GameConfigError(
                    f"{where}: write the weights as move=weight,... (e.g. "
                    f"{game.moves[0]}=0.6,{game.moves[1]}=0.4), not {part!r}"
                )
            pairs[move(name)] = weight
    else:
        rest = 0.4 / (len(game.moves) - 1)
        pairs = {m: 0.6 if i == 0 else rest for i, m in enumerate(game.moves)}
    total = sum(pairs.values())
    if total <= 0:
        raise GameConfigError(f"{where}: the weights must sum to more than zero")
    weights = tuple((m, pairs.get(m, 0.0) / total) for m in game.moves)
    label = "biased:" + ",".join(f"{m}={w:g}" for m, w in weights)
    return Partner(kind, weights=weights, label=label)


Round = tuple[str | None, str]
"""One played round: (the agent's move, None for a forfeit; the partner's move)."""


def draws(partner: Partner, game: Game, rounds: int, seed: str | int) -> list[str]:
    """A biased partner's moves for every round (empty for other partners)."""
    if not partner.stochastic:
        return []
    rng = random.Random(f"{seed}")
    moves = [m for m, _ in partner.weights]
    weights = [w for _, w in partner.weights]
    return rng.choices(moves, weights=weights, k=rounds)


def partner_move(
    partner: Partner, game: Game, history: Sequence[Round], t: int, drawn: Sequence[str]
) -> str:
    """The partner's move in round ``t`` (0-based) after ``history`` (earlier rounds)."""
    if partner.kind == "fixed":
        return partner.first
    if partner.kind == "cycle":
        return partner.sequence[t % len(partner.sequence)]
    if partner.kind == "biased":
        return drawn[t]
    if not history:
        return partner.first
    if partner.kind == "tit_for_tat":
        valid = [mine for mine, _ in history if mine is not None]
        return valid[-1] if valid else partner.first
    mine, theirs = history[-1]  # wsls
    won = mine is None or game.payoff(theirs, mine) >= game.win_threshold
    return theirs if won else game.next_move(theirs)


def best_response(
    partner: Partner, game: Game, rounds: int, drawn: Sequence[str]
) -> tuple[list[str], list[float]]:
    """The best response's moves and per-round payoffs against ``partner`` (ties: the move
    first in the game's order)."""
    if partner.stochastic:
        expected = {m: sum(w * game.payoff(m, x) for x, w in partner.weights) for m in game.moves}
        top = max(expected.values())
        reply = next(m for m in game.moves if expected[m] == top)
        return [reply] * rounds, [game.payoff(reply, x) for x in drawn[:rounds]]
    # backward induction; the state is the last round (None before round 1)
    states: list[Round | None] = [None, *((a, b) for a in game.moves for b in game.moves)]
    value: dict[Round | None, float] = dict.fromkeys(states, 0.0)
    policy: list[dict[Round | None, str]] = [{} for _ in range(rounds)]
    for t in reversed(range(rounds)):
        new: dict[Round | None, float] = {}
        for s in states:
            theirs = partner_move(partner, game, [] if s is None else [s], t, drawn)
            options = [(game.payoff(m, theirs) + value[(m, theirs)], m) for m in game.moves]
            top = max(v for v, _ in options)
            policy[t][s] = next(m for v, m in options if v == top)
            new[s] = top
        value = new
    moves: list[str] = []
    payoffs: list[float] = []
    history: list[Round] = []
    for t in range(rounds):
        state = history[-1] if history else None
        theirs = partner_move(partner, game, history, t, drawn)
        mine = policy[t][state]
        moves.append(mine)
        payoffs.append(game.payoff(mine, theirs))
        history.append((mine, theirs))
    return moves, payoffs
