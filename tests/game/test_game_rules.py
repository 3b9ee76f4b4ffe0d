"""Game rules: payoff tables, the scripted partners' moves and the best responses to them,
all checked against hand-computed values."""

from __future__ import annotations

import pytest

from behaviorlab.families.game._rules import (
    GameConfigError,
    Round,
    best_response,
    draws,
    make_game,
    parse_partner,
    partner_move,
)


def _sequence(text: str, game_name: str, mine: list[str | None]) -> list[str]:
    """The partner's moves against the agent's moves ``mine`` (None: a forfeit)."""
    game = make_game(game_name)
    partner = parse_partner(text, game)
    drawn = draws(partner, game, len(mine), "seed")
    played: list[Round] = []
    out = []
    for t, m in enumerate(mine):
        theirs = partner_move(partner, game, played, t, drawn)
        out.append(theirs)
        played.append((m, theirs))
    return out


def test_payoff_tables() -> None:
    rps = make_game("rps")
    assert rps.payoff("rock", "scissors") == 1 and rps.payoff("scissors", "rock") == -1
    assert rps.payoff("paper", "paper") == 0 and rps.worst == -1
    ipd = make_game("ipd")
    assert [ipd.payoff(a, b) for a, b in [("defect", "cooperate"), ("cooperate", "cooperate")]] == [
        5,
        3,
    ]
    assert ipd.payoff("defect", "defect") == 1 and ipd.payoff("cooperate", "defect") == 0
    custom = make_game("ipd", {"T": 7})
    assert (
        custom.payoff("defect", "cooperate") == 7 and custom.payoff("cooperate", "cooperate") == 3
    )


def test_bad_payoffs_and_partners_name_the_problem() -> None:
    with pytest.raises(GameConfigError, match=r"T > R > P > S"):
        make_game("ipd", {"T": 2})
    with pytest.raises(GameConfigError, match=r"unknown payoff key\(s\) \['Q'\]"):
        make_game("ipd", {"Q": 1})
    with pytest.raises(GameConfigError, match="unknown game 'poker'"):
        make_game("poker")
    rps = make_game("rps")
    with pytest.raises(
        GameConfigError, match=r"unknown move 'lizard'.*\['rock', 'paper', 'scissors'\]"
    ):
        parse_partner("fixed:lizard", rps)
    with pytest.raises(GameConfigError, match="unknown kind 'grudger'"):
        parse_partner("grudger", rps)
    with pytest.raises(GameConfigError, match="move=weight"):
        parse_partner("biased:rock", rps)


def test_fixed_and_cycle() -> None:
    assert _sequence("fixed:paper", "rps", ["rock"] * 3) == ["paper"] * 3
    assert _sequence("fixed", "ipd", ["defect"] * 2) == ["cooperate"] * 2
    assert _sequence("cycle", "rps", ["rock"] * 5) == ["rock", "paper", "scissors", "rock", "paper"]
    assert _sequence("cycle:defect,defect,cooperate", "ipd", ["cooperate"] * 4) == [
        "defect",
        "defect",
        "cooperate",
        "defect",
    ]


def test_tit_for_tat_copies_the_last_valid_move() -> None:
    mine: list[str | None] = ["defect", "cooperate", None, "defect"]
    assert _sequence("tit_for_tat", "ipd", mine) == [
        "cooperate",
        "defect",
        "cooperate",
        "cooperate",
    ]
    assert _sequence("tit_for_tat:scissors", "rps", ["rock", "paper", "paper"]) == [
        "scissors",
        "rock",
        "paper",
    ]


def test_win_stay_lose_shift() -> None:
    # ipd (Pavlov): C first; vs D it got S -> shift to D; D vs D got P -> shift to C;
    # C vs C got R -> stay C, twice.
    mine: list[str | None] = ["defect", "defect", "cooperate", "cooperate", "cooperate"]
    assert _sequence("wsls", "ipd", mine) == [
        "cooperate",
        "defect",
        "cooperate",
        "cooperate",
        "cooperate",
    ]
    # rps: rock first; rock vs paper loses -> paper; paper vs paper draws -> scissors;
    # scissors vs paper wins -> stay; a forfeit counts as a win -> stay
    rps_mine: list[str | None] = ["paper", "paper", "paper", None, "rock"]
    assert _sequence("wsls", "rps", rps_mine) == [
        "rock",
        "paper",
        "scissors",
        "scissors",
        "scissors",
    ]


def test_biased_draws_are_seeded_and_follow_the_weights() -> None:
    game = make_game("rps")
    partner = parse_partner("biased:rock=3,paper=1", game)
    assert partner.weights == (("rock", 0.75), ("paper", 0.25), ("scissors", 0.0))
    a = draws(partner, game, 400, "s1")
    assert a == draws(partner, game, 400, "s1") and a != draws(partner, game, 400, "s2")
    assert "scissors" not in a and 0.65 < a.count("rock") / 400 < 0.85


def test_best_responses() -> None:
    ipd, rps = make_game("ipd"), make_game("rps")
    # tit-for-tat over 4 rounds: cooperate, then defect in the last round: 3 + 3 + 3 + 5
    moves, pay = best_response(parse_partner("tit_for_tat", ipd), ipd, 4, [])
    assert moves == ["cooperate", "cooperate", "cooperate", "defect"] and pay == [3, 3, 3, 5]
    # Pavlov over 3 rounds: the same optimum (defecting early costs a retaliation round)
    assert best_response(parse_partner("wsls", ipd), ipd, 3, [])[1] == [3, 3, 5]
    # always-cooperate: defect every round; always-defect: defect for P
    assert best_response(parse_partner("fixed", ipd), ipd, 2, [])[1] == [5, 5]
    assert best_response(parse_partner("fixed:defect", ipd), ipd, 2, [])[1] == [1, 1]
    # rps: every deterministic partner can be beaten in every round
    for text in ("fixed", "cycle", "tit_for_tat", "wsls"):
        assert best_response(parse_partner(text, rps), rps, 5, [])[1] == [1] * 5
    moves, _ = best_response(parse_partner("cycle", rps), rps, 3, [])
    assert moves == ["paper", "scissors", "rock"]
    # biased: the best reply to the weights (paper vs a rock-heavy partner), on the draws
    drawn = ["rock", "scissors", "paper", "rock"]
    moves, pay = best_response(parse_partner("biased", rps), rps, 4, drawn)
    assert moves == ["paper"] * 4 and pay == [1, -1, 0, 1]
