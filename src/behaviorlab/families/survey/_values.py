"""Numeric, ordered and keyed survey questions: their answer schema, prompt and scores.

A numeric question (``type: numeric`` in the mapping) has no options: the subject answers a
number, constrained by the JSON schema to the question's range when it has one, and the
answer is stored as its normalised string (``3.0`` → ``"3"``). Its ``correct`` score is the
accuracy ``1 − |h − s| / range``; without a range there is no ``correct`` (the row is unscored
in the gap table) and only the range-free numbers (``abs_error``) are kept. An ordered
question (a Likert item) is an option question whose codes are points on a scale: it keeps
its exact-match ``correct`` and adds ``scale_accuracy``. A keyed question (``answer:``) adds
``key_correct`` (the simulated answer against the key) and ``human_correct`` (the person's).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from behaviorlab.data._correctness import HUMAN_CORRECT
from behaviorlab.data._mapping import normalise_code
from behaviorlab.data._records import Action, Observation

NUMERIC = "numeric"
ORDERED = "ordered"
TRAINING_MEAN = "training_mean"
"""Key of a ``train_mean`` row's meta: the training people's mean (read by the core's
``numeric_outcomes`` under the same name)."""
ANSWER_KEY = "answer_key"
"""Key of the correct option in the person's answer (``Action.attributes``): the target is
hidden from simulators, so the key is too."""


def answer_type(obs: Observation) -> str | None:
    """``"numeric"``, ``"ordered"`` or None (a plain option question)."""
    kind = obs.meta.get("answer_type")
    return str(kind) if kind in (NUMERIC, ORDERED) else None


def value_range(meta: Mapping[str, Any]) -> tuple[float, float] | None:
    """The (lo, hi) range recorded for a numeric or ordered question, if any."""
    r = meta.get("range")
    if isinstance(r, list | tuple) and len(r) == 2:
        lo, hi = float(r[0]), float(r[1])
        if hi > lo:
            return lo, hi
    return None


def numeric_schema(scale: tuple[float, float] | None) -> dict[str, Any]:
    """JSON schema of a numeric survey answer (within the range when there is one)."""
    answer: dict[str, Any] = {"type": "number"}
    if scale is not None:
        answer |= {
            "minimum": scale[0],
            "maximum": scale[1],
            "description": f"a number from {scale[0]:g} to {scale[1]:g}",
        }
    else:
        answer["description"] = "a number"
    return {"type": "object", "properties": {"answer": answer}, "required": ["answer"]}


def value_meta(obs: Observation) -> dict[str, Any]:
    """What a result row keeps about a numeric or ordered question (nothing for others): its
    type, range and, for an ordered one, its codes as numbers (``codes``, ascending)."""
    kind = answer_type(obs)
    if kind is None:
        return {}
    out: dict[str, Any] = {"answer_type": kind, "range": obs.meta.get("range")}
    if kind == ORDERED:  # the points of the scale: a uniform answer is one of them
        points = (as_number(o.code) for o in obs.options or [])
        out["codes"] = sorted(x for x in points if x is not None)
    if "defined_in" in obs.meta:
        out["defined_in"] = obs.meta["defined_in"]
    return out


def as_number(value: Any) -> float | None:
    """A finite number from an answer (``"3.5"``, ``3.5``, ``{"answer": 3.5}``), else None."""
    if isinstance(value, Mapping):
        value = value.get("answer")
    if isinstance(value, bool) or value is None:
        return None
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def choice_of_number(value: Mapping[str, Any]) -> str | None:
    """The stored string of a numeric structured answer, None when it is not a number."""
    x = as_number(value)
    return normalise_code(x) if x is not None else None


def numeric_scores(
    human: str | None, answer: Any, scale: tuple[float, float] | None
) -> dict[str, float]:
    """``abs_error`` and, with a range, ``correct`` = ``1 − |h − s| / range``; empty when
    either side is not a number. A simulated value outside the range (an imported answer, a
    model ignoring the schema) is flagged ``out_of_range`` = 1 and its ``correct`` is held to
    [0, 1] (a value past the far end scores 0, never below)."""
    h, s = as_number(human), as_number(answer)
    if h is None or s is None:
        return {}
    d = abs(h - s)
    out = {"abs_error": d}
    if scale is not None:
        out["correct"] = min(1.0, max(0.0, 1.0 - d / (scale[1] - scale[0])))
        if not scale[0] <= s <= scale[1]:
            out["out_of_range"] = 1.0
    return out


CORRECTNESS_ONLY = "correctness_only"
"""Key of a result row's meta: the person's chosen option is unknown, only their correctness."""


def correctness_meta(target: Action) -> dict[str, Any]:
    """``{"correctness_only": True}`` for a step of correctness-only data (no chosen option,
    the person's correctness in the target), nothing for others (their rows stay as they were)."""
    if target.value is None and HUMAN_CORRECT in target.attributes:
        return {CORRECTNESS_ONLY: True}
    return {}


def option_extras(
    obs_meta: Mapping[str, Any], target: Action, choice: str | None
) -> dict[str, float]:
    """``scale_accuracy`` of an ordered question; ``key_correct`` / ``human_correct`` of a
    keyed one (nothing for a plain question)."""
    out: dict[str, float] = {}
    human = target.value
    scale = value_range(obs_meta) if obs_meta.get("answer_type") == ORDERED else None
    if scale is not None:
        h, s = as_number(human), as_number(choice)
        if h is not None and s is not None:
            out["scale_accuracy"] = 1.0 - abs(h - s) / (scale[1] - scale[0])
    key = target.attributes.get(ANSWER_KEY)
    if key is not None:
        out["key_correct"] = float(choice == key)
        if human is not None:
            out["human_correct"] = float(human == key)
        elif (given := target.attributes.get(HUMAN_CORRECT)) is not None:
            out["human_correct"] = float(given)  # correctness-only data: no option, only this
    return out
