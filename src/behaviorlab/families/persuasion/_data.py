"""Attitude data sources: ``persuasion_file`` (any long attitude-change table with a mapping)
and ``persuasion_synthetic`` (generated people whose dynamics are known).

``persuasion_synthetic`` plants the dynamics the metrics must recover. Every person answers
``items`` positions on a 5-point stance scale with a confidence from 1 to 3, three times:

- time 0: a stance in the middle three points (so a move of one step stays on the scale) and
  a confidence of 2 or 3;
- time 1, after reading 1 or 3 arguments (each supports or attacks the position with
  probability 1/2, so one side is always the majority): the stance moves one step with
  probability ``change_rate``, toward the arguments' majority side with probability
  ``toward_majority`` (else away from it); a person who moved loses one point of
  confidence with probability ``strength_drop``, one who did not gains one with probability
  ``strength_gain`` (at most 3);
- time 2, with nothing shown in between (the retest pair): the stance moves one step (either
  way; inward at an end) with probability ``retest_change``.

So the share of people who changed at time 1 estimates ``change_rate``; among them, the share
who moved toward the majority side estimates ``toward_majority``; the retest agreement
estimates ``1 - retest_change``.

Two options change the design (their defaults leave the data above as it is):

- ``change_logit = [a, b, c]``: change depends on the arguments and the prior strength,
  ``logit P(change) = a + b * against - c * strength``, ``against`` counting the shown
  arguments against the prior stance's side (all of them from the middle stance), as
  ``persuasion_logit`` counts them; it replaces ``change_rate``, and its fitted coefficients
  estimate ``(a, b, 0, -c)``;
- ``rounds = 2``: two argument time points (1 and 2, each with fresh arguments and the same
  dynamics, a move off the scale staying at its end), then the retest at time 3.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from behaviorlab.data._records import Dataset
from behaviorlab.data._sources import dataset
from behaviorlab.families.persuasion._loader import load_persuasion_file, persuasion_from_frame
from behaviorlab.families.persuasion._mapping import (
    PersonaColumn,
    PersuasionDataError,
    PersuasionMapping,
)
from behaviorlab.families.persuasion._scale import AttitudeScale, Stance

SYNTHETIC_SCALE = AttitudeScale(
    stances=[
        Stance(code="strongly_against", label="strongly against"),
        Stance(code="against", label="against"),
        Stance(code="undecided", label="undecided"),
        Stance(code="in_favour", label="in favour"),
        Stance(code="strongly_in_favour", label="strongly in favour"),
    ],
    strength=(1, 3),
)

POSITIONS: dict[str, tuple[str, list[str], list[str]]] = {
    "congestion_charge": (
        "Cities should charge cars a fee to enter the centre.",
        [
            "Fees cut traffic in the centre by a fifth where they were tried.",
            "The money pays for buses that everyone can use.",
            "Cleaner air in the centre means fewer asthma attacks in children.",
        ],
        [
            "A flat fee hits people on low incomes hardest.",
            "Shops in the centre lose customers to out-of-town malls.",
            "People who must drive for work have no real choice.",
        ],
    ),
    "four_day_week": (
        "Employers should move to a four-day working week.",
        [
            "Trials found output held steady while sick days fell.",
            "A longer weekend lets parents spend more time with their children.",
            "Fewer commutes mean less traffic and lower emissions.",
        ],
        [
            "Shops, hospitals and schools cannot close one day more.",
            "Cramming the work into four days makes each day longer and more tiring.",
            "Small firms cannot afford to hire staff to cover the fifth day.",
        ],
    ),
    "school_phones": (
        "Schools should ban phones during the school day.",
        [
            "Pupils pay more attention in class without notifications.",
            "Bullying on social media drops when phones are put away.",
            "Children talk and play more with each other at break.",
        ],
        [
            "Parents want to reach their children in an emergency.",
            "Phones are useful tools for learning and looking things up.",
            "A ban teaches nothing about using phones sensibly.",
        ],
    ),
    "meat_tax": (
        "Governments should tax meat to cut emissions.",
        [
            "Livestock produce a large share of greenhouse gases.",
            "The tax could fund cheaper fruit and vegetables.",
            "Eating less red meat lowers the risk of heart disease.",
        ],
        [
            "Food prices would rise for families already struggling.",
            "Farmers' livelihoods would be put at risk.",
            "What people eat is their own choice, not the state's.",
        ],
    ),
}

SYNTHETIC_MAPPING = PersuasionMapping(
    name="persuasion_synthetic",
    strength="confidence",
    scale=SYNTHETIC_SCALE,
    item="item",
    claim="claim",
    persona=[
        PersonaColumn(name="age", column="age", text="You are {value} years old."),
        PersonaColumn(name="leaning", column="leaning", text="Politically you lean {value}."),
    ],
    source="behaviorlab persuasion_synthetic (generated)",
    license="CC0 (generated by behaviorlab)",
    version="1",
)
"""The columns :func:`synthetic_frame` writes (the default argument columns, plus item,
claim, confidence, age and leaning)."""


def _point(
    base: dict[str, Any], time: int, stance: str, conf: int, args: list[tuple[str, str, str]]
) -> list[dict[str, Any]]:
    """The rows of one time point: one per argument shown before it (one when none)."""
    answer = {**base, "time": time, "stance": stance, "confidence": conf}
    if not args:
        return [{**answer, "argument_id": None, "argument_text": None, "argument_side": None}]
    return [
        {**answer, "argument_id": arg_id, "argument_text": text, "argument_side": side}
        for arg_id, text, side in args
    ]


def _arguments(
    rng: random.Random, item: str, pro: list[str], con: list[str]
) -> list[tuple[str, str, str]]:
    """1 or 3 arguments of ``item``, each side with probability 1/2 (distinct texts)."""
    shown: list[tuple[str, str, str]] = []
    left = {"supports": list(enumerate(pro)), "attacks": list(enumerate(con))}
    for _ in range(rng.choice([1, 3])):
        side = rng.choice(["supports", "attacks"])
        if not left[side]:
            side = "attacks" if side == "supports" else "supports"
        k, text = left[side].pop(rng.randrange(len(left[side])))
        shown.append((f"{item}:{side[0]}{k}", text, side))
    return shown


def _p_change(
    rate: float, logit: Sequence[float] | None, stance: int, conf: int, sides: list[str]
) -> float:
    """``rate``, or with ``logit = (a, b, c)``: logistic(a + b * against - c * strength), where
    ``against`` counts the arguments against the prior stance's side (all of them from the
    middle), as ``persuasion_logit`` counts them."""
    if logit is None:
        return rate
    side = SYNTHETIC_SCALE.side_of(SYNTHETIC_SCALE.codes[stance])
    against = sides.count("attacks" if side > 0 else "supports") if side else len(sides)
    a, b, c = logit
    return 1.0 / (1.0 + math.exp(-(a + b * against - c * conf)))


def synthetic_frame(
    people: int = 120,
    items: int = 4,
    change_rate: float = 0.3,
    toward_majority: float = 0.8,
    retest_change: float = 0.1,
    strength_drop: float = 0.5,
    strength_gain: float = 0.3,
    seed: int = 0,
    change_logit: Sequence[float] | None = None,
    rounds: int = 1,
) -> pd.DataFrame:
    """The generated attitude data as a long table (see the module docstring)."""
    if rounds not in (1, 2):
        raise PersuasionDataError(f"persuasion_synthetic: rounds = {rounds}; use 1 or 2")
    if change_logit is not None and len(change_logit) != 3:
        raise PersuasionDataError(
            f"persuasion_synthetic: change_logit = {change_logit}; give [a, b, c] for "
            "logit P(change) = a + b * against - c * strength"
        )
    for name, p in (
        ("change_rate", change_rate),
        ("toward_majority", toward_majority),
        ("retest_change", retest_change),
        ("strength_drop", strength_drop),
        ("strength_gain", strength_gain),
    ):
        if not 0.0 <= p <= 1.0:
            raise PersuasionDataError(f"persuasion_synthetic: {name} = {p} is not a probability")
    if not 1 <= items <= len(POSITIONS):
        raise PersuasionDataError(
            f"persuasion_synthetic: items = {items}; it has {len(POSITIONS)} positions"
        )
    rng = random.Random(seed)
    codes = SYNTHETIC_SCALE.codes
    rows: list[dict[str, Any]] = []
    for i in range(people):
        pid = f"s{i:04d}"
        persona = {"age": rng.randint(18, 80), "leaning": rng.choice(["left", "centre", "right"])}
        for item in list(POSITIONS)[:items]:
            claim, pro, con = POSITIONS[item]
            base = {"person": pid, "item": item, "claim": claim, **persona}
            stance, conf = rng.randint(1, 3), rng.randint(2, 3)

            rows += _point(base, 0, codes[stance], conf, [])
            for time in range(1, rounds + 1):
                shown = _arguments(rng, item, pro, con)
                sides = [s for *_, s in shown]
                majority = 1 if sides.count("supports") * 2 > len(shown) else -1
                if rng.random() < _p_change(change_rate, change_logit, stance, conf, sides):
                    step = majority if rng.random() < toward_majority else -majority
                    stance = stance + step if 0 <= stance + step < len(codes) else stance
                    conf = max(conf - 1, 1) if rng.random() < strength_drop else conf
                elif rng.random() < strength_gain:
                    conf = min(conf + 1, 3)
                rows += _point(base, time, codes[stance], conf, shown)
            if rng.random() < retest_change:
                step = rng.choice([-1, 1])
                stance = stance + step if 0 <= stance + step < len(codes) else stance - step
            rows += _point(base, rounds + 1, codes[stance], conf, [])
    return pd.DataFrame(rows)


@dataset("persuasion_synthetic")
def persuasion_synthetic(
    people: int | None = None,
    items: int = 4,
    change_rate: float = 0.3,
    toward_majority: float = 0.8,
    retest_change: float = 0.1,
    strength_drop: float = 0.5,
    strength_gain: float = 0.3,
    seed: int = 0,
    change_logit: list[float] | None = None,
    rounds: int = 1,
) -> Dataset:
    """Generated attitude data with planted change rates (see the module docstring)."""
    planted: dict[str, Any] = {
        "change_rate": change_rate,
        "toward_majority": toward_majority,
        "retest_change": retest_change,
        "strength_drop": strength_drop,
        "strength_gain": strength_gain,
    }
    if change_logit is not None:
        planted["change_logit"] = [float(x) for x in change_logit]
    if rounds != 1:
        planted["rounds"] = rounds
    frame = synthetic_frame(people or 120, items, seed=seed, **planted)
    data = persuasion_from_frame(frame, SYNTHETIC_MAPPING, origin="persuasion_synthetic")
    return data.model_copy(update={"meta": {**data.meta, "planted": planted, "seed": seed}})


@dataset("persuasion_file")
def persuasion_file(
    path: str | Path | None = None,
    mapping: PersuasionMapping | dict[str, Any] | str | Path | None = None,
    persona_file: str | Path | None = None,
    people: int | None = None,
    seed: int = 0,
) -> Dataset:
    """A long attitude-change table (CSV / Parquet / JSONL) and its mapping; the persona from
    the table or joined from ``persona_file``."""
    if path is None or mapping is None:
        raise PersuasionDataError(
            "dataset 'persuasion_file' needs data.options.path (the table) and data.mapping "
            "(a persuasion mapping: YAML path or inline; see docs/persuasion.md)"
        )
    return load_persuasion_file(path, mapping, persona_file=persona_file, people=people, seed=seed)
