"""Share metrics: the people's distribution per item against the simulated one.

Per unit (an item, or an item and group), with ``p`` the people's shares over the item's
options, ``q`` the simulated distribution (the mean of the simulator's probabilities over the
unit's trials, else the share of its samples) and ``u`` uniform over the item's options:

* ``share_js``: Jensen-Shannon distance (base 2, in [0, 1]) between ``p`` and ``q``;
* ``share_tv``: total variation distance ``0.5 * sum |p - q|``;
* ``simbench_score``: SimBench's ``100 * (1 - TV(p, q) / TV(p, u))``: 0 is the uniform
  guess, 100 the people's distribution; negative is worse than uniform. A unit whose people
  are near uniform (``TV(p, u) < TV_UNIFORM_MIN``) would divide by almost zero: it is left out
  of the score and listed (``excluded``).

Each is computed per unit and averaged over units (every unit counts once).

:func:`share_scores` gives the intervals the data call for: items are resampled as clusters
(an item's groups with it) and, in the same replicate, each unit's people are redrawn
``Multinomial(n, ·)``: the people's side is a sample of ``n``, not the truth. Sampling noise
pushes a distance up, the more the nearer the simulator is to the people, so the interval
inverts a parametric bootstrap over candidate populations and is a one-sided bound when the
simulator is at the noise floor (``_intervals``). The noise
floor is what a perfect simulator (``q`` = the population's distribution) would get from the
people's sampling noise alone, estimated with ``p`` for the population: read a distance
against it. The baselines always beside: the uniform distribution (computed, score 0 by
definition) and, when the run has it, the ``train_shares`` simulator (the training items'
average distribution).

The registered metrics (columns of the gap table) resample items only; the shares block of
the report shows :func:`share_scores`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from behaviorlab.analysis._compare import condition_order
from behaviorlab.analysis._distributions import js_distance, total_variation
from behaviorlab.analysis._frame import (
    SupportsToPandas,
    as_codes,
    as_frame,
    as_probs,
    column,
    failure_counts,
    require,
    valid_rows,
)
from behaviorlab.analysis._metrics import MeanMetric, metric
from behaviorlab.families.shares._intervals import (
    INVERSION_RESAMPLES,
    candidate,
    direction,
    inverted_intervals,
)
from behaviorlab.families.shares._task import SHARES

TV_UNIFORM_MIN = 0.05
"""A unit whose people's distribution is closer than this (total variation) to uniform is left
out of ``simbench_score`` and listed. Chosen before looking at any data: at 0.05 a simulator
off by 0.01 already moves that unit's score by 20 points, and with four options and n = 400
the people's sampling noise alone is about 0.03."""
UNIFORM = "uniform"
"""The label of the computed uniform baseline in :func:`share_scores`."""
METRICS = ("share_js", "share_tv", "simbench_score")
SCORE_COLUMNS = (
    "simulator",
    "condition",
    "baseline",
    "n_units",
    "n_items",
    "n_excluded",
    "n_no_distribution",
    "n_failed",
    "n_samples",
    "median_n",
    *(f"{m}{s}" for m in METRICS for s in ("", "_low", "_high", "_floor", "_at_floor")),
)


def _meta(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    return dict(value) if isinstance(value, Mapping) else {}


def simulated(probs: Any, samples: Any) -> dict[str, float] | None:
    """A trial's simulated distribution: its probabilities, else the share of its samples."""
    return simulated_from(probs, samples)[0]


def simulated_from(probs: Any, samples: Any) -> tuple[dict[str, float] | None, int]:
    """A trial's simulated distribution and how many samples it comes from (0: the
    simulator's own probabilities, exact)."""
    if (p := as_probs(probs)) is not None:
        return dict(p), 0
    if (s := as_codes(samples)) is not None and len(s):
        out: dict[str, float] = {}
        for code in s:
            out[code] = out.get(code, 0.0) + 1.0 / len(s)
        return out, len(s)
    return None, 0


@dataclass(frozen=True)
class Units:
    """The units of one arm as padded arrays: ``p`` and ``q`` (U, K), ``mask`` the item's
    options, ``n`` people asked, ``cluster`` the item's index, ids and groups; ``m`` the
    samples ``q`` comes from per unit (0 or None: exact probabilities)."""

    ids: list[str]
    items: list[str]
    cluster: np.ndarray
    p: np.ndarray
    q: np.ndarray
    mask: np.ndarray
    n: np.ndarray
    m: np.ndarray | None = None

    @property
    def samples(self) -> np.ndarray:
        """Samples per unit (0: exact probabilities)."""
        return np.zeros(len(self.ids)) if self.m is None else self.m

    @property
    def uniform(self) -> np.ndarray:
        return np.asarray(self.mask / self.mask.sum(axis=-1, keepdims=True))


def arm_units(frame: pd.DataFrame, *, people_only: bool = False) -> tuple[Units, int]:
    """The units of one arm's valid trials that have the people's shares and a simulated
    distribution (several trials of a unit, e.g. seeds, are averaged), and how many valid
    trials had no distribution. ``people_only``: every valid trial with the people's shares,
    whatever it simulated, with ``q`` uniform (the computed uniform baseline)."""
    valid = valid_rows(frame)
    require(valid, "person_id", "item_id", "meta")
    probs = column(valid, "probabilities") if "probabilities" in valid else [None] * len(valid)
    samples = column(valid, "samples") if "samples" in valid else [None] * len(valid)
    human: dict[str, tuple[str, dict[str, float], float]] = {}
    sims: dict[str, list[dict[str, float]]] = {}
    counts: dict[str, list[int]] = {}
    missing = 0
    rows = zip(
        column(valid, "item_id"),
        column(valid, "person_id"),
        column(valid, "meta"),
        probs,
        samples,
        strict=True,
    )
    for unit, item, raw_meta, pr, sa in rows:
        meta = _meta(raw_meta)
        shares = meta.get("human_shares")
        dist, drawn = ({}, 0) if people_only else simulated_from(pr, sa)
        if not isinstance(shares, Mapping) or dist is None:
            missing += 1
            continue
        human[str(unit)] = (
            str(item),
            {str(k): float(v) for k, v in shares.items()},
            float(meta.get("human_n", 0)),
        )
        sims.setdefault(str(unit), []).append(dist)
        counts.setdefault(str(unit), []).append(drawn)
    ids = list(human)
    width = max((len(human[u][1]) for u in ids), default=0)
    p = np.zeros((len(ids), width))
    q = np.zeros((len(ids), width))
    mask = np.zeros((len(ids), width))
    n = np.zeros(len(ids))
    # samples behind a unit's q: their total when every trial of it sampled, else exact
    m = np.array([sum(counts[u]) if all(counts[u]) else 0 for u in ids], dtype=float)
    for r, u in enumerate(ids):
        _, shares, n[r] = human[u]
        codes = list(shares)
        p[r, : len(codes)] = [shares[c] for c in codes]
        mask[r, : len(codes)] = 1.0
        for dist in sims[u]:
            mass = np.array([dist.get(c, 0.0) for c in codes])
            total = mass.sum()
            q[r, : len(codes)] += (
                mass / total / len(sims[u]) if total > 0 else 1.0 / len(codes) / len(sims[u])
            )
    items = [human[u][0] for u in ids]
    cluster = pd.factorize(pd.Series(items, dtype=object))[0] if ids else np.zeros(0, np.int64)
    return Units(ids, items, np.asarray(cluster), p, q, mask, n, m), missing


def unit_values(p: np.ndarray, q: np.ndarray, u: np.ndarray) -> dict[str, np.ndarray]:
    """Per unit (last axis: options): JS, TV, TV to uniform and the SimBench score (with the
    distance to uniform floored at :data:`TV_UNIFORM_MIN`)."""
    tv = total_variation(p, q)
    tvu = total_variation(p, u)
    return {
        "share_js": js_distance(p, q),
        "share_tv": tv,
        "tv_uniform": tvu,
        "simbench_score": 100.0 * (1.0 - tv / np.maximum(tvu, TV_UNIFORM_MIN)),
    }


def _multinomial(rng: np.random.Generator, n: np.ndarray, p: np.ndarray, size: int) -> np.ndarray:
    """``size`` draws of ``Multinomial(n, p) / n`` per row: (size, U, K)."""
    k = np.maximum(np.rint(n), 1).astype(np.int64)
    p = p / p.sum(axis=-1, keepdims=True)
    return np.asarray(rng.multinomial(k, p, size=(size, len(k))) / k[None, :, None])


def _redraw(
    rng: np.random.Generator, units: Units, size: int, p: np.ndarray | None = None
) -> np.ndarray:
    """``size`` redraws of every unit's people, ``Multinomial(n, p)`` / n: (size, U, K);
    ``p`` the population to draw from (default: the observed shares)."""
    return _multinomial(rng, units.n, units.p if p is None else p, size)


def _resample_q(rng: np.random.Generator, q: np.ndarray, m: np.ndarray, size: int) -> np.ndarray:
    """``q`` as the simulator would give it again: its units that come from ``m`` samples
    redrawn ``Multinomial(m, q) / m``, the exact ones as they are: (size, U, K)."""
    out = np.broadcast_to(q, (size, *q.shape))
    sampled = m > 0
    if not sampled.any():
        return out
    out = out.copy()
    out[:, sampled] = _multinomial(rng, m[sampled], q[sampled], size)
    return out


def _means(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    total = weights.sum(axis=-1)
    out = np.full(total.shape, math.nan)
    np.divide((values * weights).sum(axis=-1), total, out=out, where=total > 0)
    return out


@dataclass(frozen=True)
class ShareEstimate:
    """One metric of one arm: the estimate, its interval and the noise floor; ``at_floor``:
    the interval is a one-sided bound (the simulator cannot be told from a perfect one)."""

    value: float
    low: float
    high: float
    floor: float
    at_floor: bool = False


_BOUNDS = {"share_js": (0.0, 1.0), "share_tv": (0.0, 1.0), "simbench_score": (-math.inf, 100.0)}


def _include(units: Units) -> dict[str, np.ndarray]:
    """The units each metric averages over (the score leaves near-uniform ones out)."""
    every = np.ones(len(units.ids), bool)
    kept = total_variation(units.p, units.uniform) >= TV_UNIFORM_MIN
    return {"share_js": every, "share_tv": every, "simbench_score": kept}


def _replicates(
    units: Units,
    qs: Sequence[np.ndarray],
    n_resamples: int,
    seed: int,
    chunk: int,
    ms: Sequence[np.ndarray] | None = None,
) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    """Bootstrap replicates of each metric for each simulated distribution in ``qs`` (shape
    ``(len(qs), B)`` per metric), all from the same draws: item weights (items resampled as
    clusters) and every unit's people redrawn ``Multinomial(n, p)``, each ``q`` from
    samples redrawn ``Multinomial(m, q)`` (``ms``, default ``units.samples``); and the noise
    floor: a perfect simulator's value, from the people's noise and, where ``q`` comes from
    samples, from drawing as many samples of the people's distribution."""
    ms = [units.samples] * len(qs) if ms is None else ms
    include = _include(units)
    rng = np.random.default_rng(seed)
    n_items = int(units.cluster.max()) + 1 if len(units.ids) else 0
    reps: dict[str, list[np.ndarray]] = {m: [] for m in METRICS}
    floors: dict[str, list[np.ndarray]] = {m: [] for m in METRICS}
    done = 0
    while done < n_resamples and n_items:
        size = min(chunk, n_resamples - done)
        item_w = rng.multinomial(n_items, np.full(n_items, 1.0 / n_items), size=size)
        w = item_w[:, units.cluster].astype(float)
        redrawn = _redraw(rng, units, size)
        shape = redrawn.shape
        uniform = np.broadcast_to(units.uniform, shape)
        boots = [
            unit_values(redrawn, _resample_q(rng, q, m, size), uniform)
            for q, m in zip(qs, ms, strict=True)
        ]
        perfect = unit_values(redrawn, _resample_q(rng, units.p, units.samples, size), uniform)
        for m in METRICS:
            reps[m].append(np.stack([_means(b[m], w * include[m]) for b in boots]))
            floors[m].append(_means(perfect[m], np.broadcast_to(include[m], w.shape) * 1.0))
        done += size
    if not done:
        empty = np.full((len(qs), 0), math.nan)
        return {m: empty for m in METRICS}, dict.fromkeys(METRICS, math.nan)
    return (
        {m: np.concatenate(reps[m], axis=1) for m in METRICS},
        {m: float(np.nanmean(np.concatenate(floors[m]))) for m in METRICS},
    )


def _point(units: Units, q: np.ndarray) -> dict[str, float]:
    values = unit_values(units.p, q, units.uniform)
    include = _include(units)
    return {m: float(_means(values[m], include[m] * 1.0)) for m in METRICS}


def _candidate_metrics(
    units: Units, n_resamples: int, chunk: int
) -> Callable[[np.ndarray, np.random.Generator | None], dict[str, np.ndarray]]:
    """For :func:`inverted_intervals`: the metrics of the candidate population ``P_λ`` (rng
    None) or their bootstrap estimates: items resampled as clusters, the people redrawn
    ``Multinomial(n, P_λ)``, the simulated distribution redrawn from its samples where it
    comes from samples (``Multinomial(m, q)``), else as it is. The score's denominators
    (TV of the people to uniform) are the observed ones in both: the candidates move the
    people towards the simulator, which would move them towards uniform too, and the score
    would not fall steadily with the distance."""
    include = _include(units)
    n_items = int(units.cluster.max()) + 1
    denominator = np.maximum(total_variation(units.p, units.uniform), TV_UNIFORM_MIN)

    def values_of(people: np.ndarray, q: np.ndarray) -> dict[str, np.ndarray]:
        shape = people.shape
        values = unit_values(
            people, np.broadcast_to(q, shape), np.broadcast_to(units.uniform, shape)
        )
        values["simbench_score"] = 100.0 * (1.0 - values["share_tv"] / denominator)
        return values

    def metric_of(lam: np.ndarray, rng: np.random.Generator | None) -> dict[str, np.ndarray]:
        cand = candidate(units.p, units.q, units.mask, float(lam))
        if rng is None:
            values = values_of(cand, units.q)
            return {m: _means(values[m], include[m] * 1.0) for m in METRICS}
        parts: dict[str, list[np.ndarray]] = {m: [] for m in METRICS}
        done = 0
        while done < n_resamples:
            size = min(chunk, n_resamples - done)
            item_w = rng.multinomial(n_items, np.full(n_items, 1.0 / n_items), size=size)
            w = item_w[:, units.cluster].astype(float)
            people = _redraw(rng, units, size, cand)
            values = values_of(people, _resample_q(rng, units.q, units.samples, size))
            for m in METRICS:
                parts[m].append(_means(values[m], w * include[m]))
            done += size
        return {m: np.concatenate(parts[m]) for m in METRICS}

    return metric_of


def _reach(units: Units) -> float:
    """The mean TV a step λ = 1 moves the candidates away from ``q``."""
    step = direction(units.p, units.q, units.mask)
    return float(np.mean(0.5 * np.abs(step).sum(axis=-1)))


def estimate_units(
    units: Units,
    *,
    n_resamples: int = 2000,
    seed: int = 0,
    level: float = 0.95,
    chunk: int = 250,
) -> dict[str, ShareEstimate]:
    """Each share metric of ``units`` with its items-and-people interval (inverted
    parametric bootstrap, a one-sided bound at the noise floor: see ``_intervals``) and noise
    floor."""
    point = _point(units, units.q)
    _, floors = _replicates(units, [units.q], min(n_resamples, 500), seed, chunk)
    if not units.ids or n_resamples < 1:
        return {m: ShareEstimate(point[m], math.nan, math.nan, floors[m]) for m in METRICS}
    intervals = inverted_intervals(
        point,
        _candidate_metrics(units, min(n_resamples, INVERSION_RESAMPLES), chunk),
        seed=seed,
        level=level,
        increasing={m: m != "simbench_score" for m in METRICS},
        bounds=_BOUNDS,
        # candidates out to twice the floor even when p̂ is by chance very near q
        scale=2.0 * floors["share_tv"] / max(_reach(units), 1e-12),
    )
    return {
        m: ShareEstimate(
            point[m], intervals[m].low, intervals[m].high, floors[m], intervals[m].at_floor
        )
        for m in METRICS
    }


def share_items(results: pd.DataFrame | SupportsToPandas) -> pd.DataFrame:
    """Per (simulator, condition) and unit: the people's and simulated distributions, n,
    TV to uniform, whether the score leaves it out, JS, TV and score."""
    frame = _shares_frame(results)
    parts = []
    for (sim, cond), group in frame.groupby(["simulator", "condition"], sort=True):
        units, _ = arm_units(group)
        values = unit_values(units.p, units.q, units.uniform)
        parts.append(
            pd.DataFrame(
                {
                    "simulator": str(sim),
                    "condition": str(cond),
                    "unit": units.ids,
                    "item": units.items,
                    "n": units.n,
                    "tv_uniform": values["tv_uniform"],
                    "excluded": values["tv_uniform"] < TV_UNIFORM_MIN,
                    "share_js": values["share_js"],
                    "share_tv": values["share_tv"],
                    "simbench_score": np.where(
                        values["tv_uniform"] < TV_UNIFORM_MIN, math.nan, values["simbench_score"]
                    ),
                }
            )
        )
    columns = ["simulator", "condition", "unit", "item", "n", "tv_uniform", "excluded", *METRICS]
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    return pd.concat(parts, ignore_index=True)[columns]


def _shares_frame(results: pd.DataFrame | SupportsToPandas) -> pd.DataFrame:
    frame = as_frame(results)
    require(frame, "simulator", "condition", "person_id", "item_id", "error", "correct", "meta")
    if "task" in frame.columns:
        frame = frame.loc[frame["task"].astype(str) == SHARES]
    if "error_kind" not in frame.columns:
        frame = frame.assign(error_kind=None)
    return frame


def _row(
    sim: str,
    cond: str,
    baseline: bool,
    units: Units,
    missing: int,
    failed: int,
    est: Mapping[str, ShareEstimate],
) -> dict[str, Any]:
    values = unit_values(units.p, units.q, units.uniform)
    row: dict[str, Any] = {
        "simulator": sim,
        "condition": cond,
        "baseline": baseline,
        "n_units": len(units.ids),
        "n_items": len(set(units.items)),
        "n_excluded": int((values["tv_uniform"] < TV_UNIFORM_MIN).sum()),
        "n_no_distribution": missing,
        "n_failed": failed,
        "n_samples": float(np.median(units.samples)) if units.ids else 0.0,
        "median_n": float(np.median(units.n)) if units.ids else math.nan,
    }
    for m in METRICS:
        e = est[m]
        row |= {m: e.value, f"{m}_low": e.low, f"{m}_high": e.high, f"{m}_floor": e.floor}
        row[f"{m}_at_floor"] = e.at_floor
    return row


def share_scores(
    results: pd.DataFrame | SupportsToPandas,
    *,
    baselines: Callable[[str], bool] | None = None,
    n_resamples: int = 2000,
    seed: int = 0,
    level: float = 0.95,
) -> pd.DataFrame:
    """Per (simulator, condition): JS, TV and SimBench score averaged over units, each with
    its interval (items as clusters, people redrawn given n), noise floor, the units left out
    of the score, and a computed ``uniform`` row per condition (columns
    :data:`SCORE_COLUMNS`). ``baselines`` says which simulators are baselines (default: those
    whose label does not start with ``llm``)."""
    frame = _shares_frame(results)
    is_base = baselines or (lambda s: not s.startswith("llm"))
    rows = []
    uniform_done: set[str] = set()  # conditions with a simulated arm get a uniform row
    settings: dict[str, Any] = {"n_resamples": n_resamples, "seed": seed, "level": level}
    for (sim, cond), group in frame.groupby(["simulator", "condition"], sort=True):
        units, missing = arm_units(group)
        failed = sum(failure_counts(group))
        if units.ids:
            rows.append(
                _row(
                    str(sim),
                    str(cond),
                    is_base(str(sim)),
                    units,
                    missing,
                    failed,
                    estimate_units(units, **settings),
                )
            )
        if str(cond) not in uniform_done and units.ids:
            uniform_done.add(str(cond))
            # every unit with the people's shares in this condition, whichever arm ran it
            flat, _ = arm_units(frame.loc[frame["condition"] == cond], people_only=True)
            est = estimate_units(flat, **settings)
            # 0 by definition (a replicate's floored denominator would nudge its interval)
            est["simbench_score"] = ShareEstimate(0.0, 0.0, 0.0, est["simbench_score"].floor)
            rows.append(_row(UNIFORM, str(cond), True, flat, 0, 0, est))
    if not rows:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in SCORE_COLUMNS})
    # per condition: the simulators, then the baselines, the computed uniform last
    rows.sort(
        key=lambda r: (condition_order(r["condition"]), r["baseline"], r["simulator"] == UNIFORM)
    )
    return pd.DataFrame(rows)[list(SCORE_COLUMNS)]


def unit_scores(frame: pd.DataFrame, key: str) -> pd.Series:
    """Per trial: the value ``key`` of its unit (per simulator and condition, the unit's
    trials averaged as in :func:`arm_units`) on the unit's first trial, NaN elsewhere (and on
    units the score leaves out, for ``simbench_score``)."""
    out = pd.Series(math.nan, index=frame.index)
    if frame.empty or "item_id" not in frame or "meta" not in frame:
        return out
    keys = [c for c in ("simulator", "condition") if c in frame.columns]
    groups = frame.groupby(keys, sort=False) if keys else [((), frame)]
    for _, group in groups:
        units, _ = arm_units(group)
        if not units.ids:
            continue
        values = unit_values(units.p, units.q, units.uniform)[key]
        if key == "simbench_score":
            values = np.where(_include(units)["simbench_score"], values, math.nan)
        first = group["item_id"].astype(str).drop_duplicates()
        where = dict(zip(first.to_numpy(), first.index, strict=True))
        out.loc[[where[u] for u in units.ids]] = values
    return out


class _ShareMetric(MeanMetric):
    """A per-unit share metric as a mean over trials (each unit's trial counts once)."""

    tasks: tuple[str, ...] = (SHARES,)
    key = "share_tv"
    requires = "the people's shares (shares task) and probabilities or samples"

    def score(self, frame: pd.DataFrame) -> pd.Series:
        """The unit's value on its first trial (NaN on the others), computed as in the
        shares block: over the distribution averaged over the unit's trials (seeds), so
        the mean over trials is the block's mean over units."""
        return unit_scores(frame, self.key)


@metric("share_js")
class ShareJS(_ShareMetric):
    """Mean over items of the JS distance between the people's shares and the simulated."""

    higher_is_better = False
    key = "share_js"
    bounds = (0.0, 1.0)


@metric("share_tv")
class ShareTV(_ShareMetric):
    """Mean over items of the total variation between the people's shares and the simulated."""

    higher_is_better = False
    key = "share_tv"
    bounds = (0.0, 1.0)


@metric("simbench_score")
class SimBenchScore(_ShareMetric):
    """Mean over items of 100 (1 - TV / TV to uniform); near-uniform items left out."""

    higher_is_better = True
    key = "simbench_score"
    bounds = (-math.inf, 100.0)
