"""Reading the numeric and ordered trials of a result frame: which rows they are, their values,
ranges, scale points and simulated distributions as arrays (:class:`_Trials`), the training
people's means recorded by a ``train_mean`` arm, and the exact error of a uniform answer.
The metrics on them are in ``_numeric``."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from behaviorlab.analysis._frame import as_codes, as_probs, require

TYPES = ("numeric", "ordered")
"""The ``meta["answer_type"]`` of the rows :func:`numeric_rows` keeps."""
TRAINING_MEAN = "training_mean"
"""Key of a ``train_mean`` row's ``meta``: the training people's mean answer to its item."""


def _meta(value: Any) -> Mapping[str, Any]:
    if isinstance(value, Mapping):
        return value
    if isinstance(value, str):
        try:
            decoded = json.loads(value)
        except ValueError:
            return {}
        return decoded if isinstance(decoded, Mapping) else {}
    return {}


def _number(value: Any) -> float:
    if value is None or isinstance(value, bool):
        return math.nan
    try:
        x = float(value)
    except (TypeError, ValueError):
        return math.nan
    return x if math.isfinite(x) else math.nan


@dataclass
class _Trials:
    """The numeric trials of one arm, as arrays."""

    people: np.ndarray
    items: np.ndarray
    h: np.ndarray
    s: np.ndarray
    lo: np.ndarray
    width: np.ndarray  # NaN without a range
    dists: list[tuple[np.ndarray, np.ndarray] | None]
    unranged: dict[str, str]  # item -> where its question is defined
    train: np.ndarray  # the training people's mean of the trial's item, NaN if unknown
    codes: list[tuple[float, ...] | None]  # an ordered item's scale points (meta["codes"])


def numeric_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``frame`` that are numeric or ordered trials (``meta["answer_type"]``)
    without an error; any ``correct`` (a numeric question without a range has none)."""
    require(frame, "meta", "error")
    kinds = [_meta(m).get("answer_type") for m in frame["meta"].tolist()]
    keep = np.array([k in TYPES for k in kinds], dtype=bool) & frame["error"].isna().to_numpy()
    return frame.loc[keep]


def _distribution(probs: Any, samples: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """(values ascending, masses) of a simulated distribution over numbers, else None."""
    mass: dict[float, float] = {}
    p = as_probs(probs)
    if p is not None:
        for code, w in p.items():
            x = _number(code)
            if math.isfinite(x):
                mass[x] = mass.get(x, 0.0) + w
    else:
        codes = as_codes(samples)
        for code in codes or []:
            x = _number(code)
            if math.isfinite(x):
                mass[x] = mass.get(x, 0.0) + 1.0
    if not mass:
        return None
    xs = np.array(sorted(mass))
    ws = np.array([mass[x] for x in xs])
    return xs, ws / ws.sum()


def training_means(rows: pd.DataFrame) -> dict[tuple[str, str], float]:
    """Per (task, item), the training people's mean answer, from the rows of a ``train_mean``
    arm (their ``meta["training_mean"]``; the mean of them if several runs disagree)."""
    found: dict[tuple[str, str], list[float]] = {}
    tasks, items = rows["task"].astype(str).tolist(), rows["item_id"].astype(str).tolist()
    for task, item, m in zip(tasks, items, rows["meta"].tolist(), strict=True):
        x = _number(_meta(m).get(TRAINING_MEAN))
        if math.isfinite(x):
            found.setdefault((task, item), []).append(x)
    return {k: float(np.mean(v)) for k, v in found.items()}


def _trials(group: pd.DataFrame, train: Mapping[tuple[str, str], float]) -> _Trials:
    metas = [_meta(m) for m in group["meta"].tolist()]
    h = np.array([_number(v) for v in group["human_answer"].tolist()])
    s = np.array([_number(v) for v in group["answer"].tolist()])
    lo, width = np.full(len(h), math.nan), np.full(len(h), math.nan)
    unranged: dict[str, str] = {}
    items = group["item_id"].astype(str).to_numpy()
    for i, m in enumerate(metas):
        r = m.get("range")
        if isinstance(r, list | tuple) and len(r) == 2 and float(r[1]) > float(r[0]):
            lo[i], width[i] = float(r[0]), float(r[1]) - float(r[0])
        else:
            unranged.setdefault(items[i], str(m.get("defined_in") or "the survey mapping"))
    dists = [
        _distribution(p, q)
        for p, q in zip(group["probabilities"].tolist(), group["samples"].tolist(), strict=True)
    ]
    keep = np.isfinite(h) & np.isfinite(s)
    codes = [_codes(m) for m, k in zip(metas, keep, strict=True) if k]
    tasks = group["task"].astype(str).tolist()
    means = np.array([train.get((k, i), math.nan) for k, i in zip(tasks, items, strict=True)])
    return _Trials(
        people=group["person_id"].astype(str).to_numpy()[keep],
        items=items[keep],
        h=h[keep],
        s=s[keep],
        lo=lo[keep],
        width=width[keep],
        dists=[d for d, k in zip(dists, keep, strict=True) if k],
        unranged=unranged,
        train=means[keep],
        codes=codes,
    )


def _codes(meta: Mapping[str, Any]) -> tuple[float, ...] | None:
    """An ordered question's scale points, when its row records them."""
    if meta.get("answer_type") != "ordered" or not isinstance(meta.get("codes"), list | tuple):
        return None
    points = tuple(x for x in map(_number, meta["codes"]) if math.isfinite(x))
    return points or None


def _uniform_error(t: _Trials, w: np.ndarray) -> np.ndarray:
    """E|h − U| of a uniformly random answer: over the range [lo, lo + w] for a number,
    ((h − lo)² + (hi − h)²) / (2w); over the option codes for an ordered item (a random
    answer is one of them), the mean of |h − c|."""
    a, b = t.h - t.lo, t.lo + w - t.h
    out: np.ndarray = (a * a + b * b) / (2.0 * w)
    by_scale: dict[tuple[float, ...], list[int]] = {}
    for i, c in enumerate(t.codes):
        if c is not None:
            by_scale.setdefault(c, []).append(i)
    for points, rows in by_scale.items():
        at = np.array(rows)
        out[at] = np.abs(t.h[at, None] - np.array(points)[None, :]).mean(axis=1)
    return out
