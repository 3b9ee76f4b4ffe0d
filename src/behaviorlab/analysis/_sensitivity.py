"""What moves a simulator: the effects of a sweep's factors (temperature, model, prompt
wording, seed) on its actions and rationales, read against the seed-to-seed noise floor
(docs/sensitivity.md).

A sweep's cells answer the same trials; each cell's label is ``PREFIX[factor=level,...]``
(written by ``behaviorlab.runs`` from a spec's ``sweep:`` block), which is how the levels are
read back from the stored rows (:func:`cell_levels`).

- **Actions.** Per cell, accuracy and the Jensen-Shannon distance between the simulated and
  the people's answer distributions (per item, averaged over items). A factor's effect of
  level ``k`` is the mean over the cells at ``k`` minus the mean over the cells at the
  reference level (``default`` for prompt, else the lowest level; or ``reference=``): in a
  full factorial, its main effect averaged over the other factors.
- **Noise floor.** The seed-to-seed difference: the root mean square of the differences
  between the seeds' marginal means (every pair of seeds), i.e. how far a rerun with another
  sampling seed moves the number. A level's marginal mean averages ``C / L`` cells and a
  seed's ``C / S``, so a null effect spreads ``sqrt(L / S)`` times the seed difference; an
  effect below :data:`NOISE_BAND` times that is *within noise*: indistinguishable from
  rerunning with another seed.
- **Variance shares.** A factorial ANOVA (statsmodels, main effects, type II sums of squares)
  on the cell means: each factor's share of the total sum of squares. A share holds cell-mean
  noise too (a null factor of ``df`` degrees of freedom gets about ``df / (C - 1)`` of the
  noise), so beside it is ``null_share``, ``df`` times the seed's share per degree of freedom:
  what the factor would get if it did nothing. The residual holds the interactions and noise.
- **Rationales.** For a pair of cells differing in one factor only, the distance between the
  rationales of the same trial, ``1 - ROUGE-L F1`` on word tokens; per factor level against
  the reference, and between seeds (the rationale noise floor) beside it, with the excess
  over that floor.

Every interval comes from one bootstrap over people (the same person weights for every
cell, so differences are paired); percentile intervals.
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from behaviorlab.analysis._bootstrap import bootstrap_replicates, percentile_interval
from behaviorlab.analysis._distributions import js_distance
from behaviorlab.analysis._frame import as_code, as_codes, as_frame, as_probs
from behaviorlab.analysis._sensitivity_parts import (
    SEED,
    anova,
    balanced_shares,
    marginals,
    rationale_stats,
)
from behaviorlab.analysis._sensitivity_parts import rouge_l as rouge_l  # re-exported

NOISE_BAND = 2.0
"""An effect is *within noise* when its size is below this many seed floors (at its cell
count): a null effect stays below twice its standard deviation about 95% of the time."""
_EFFECTS = [
    "metric",
    "factor",
    "level",
    "reference",
    "value",
    "low",
    "high",
    "floor",
    "within_noise",
]
_RATIONALES = [
    "factor",
    "level",
    "reference",
    "value",
    "low",
    "high",
    "n_pairs",
    "excess",
    "excess_low",
    "excess_high",
]
_LABEL = re.compile(r"^(?P<prefix>[^\[\]]+)\[(?P<inner>[^\[\]]*)\]$")


def cell_levels(label: str) -> tuple[str, dict[str, str]] | None:
    """``("sweep", {"model": "a", "seed": "0"})`` from ``"sweep[model=a,seed=0]"``; None for
    a label that is not a sweep cell's."""
    m = _LABEL.match(str(label))
    if m is None:
        return None
    levels: dict[str, str] = {}
    for part in m["inner"].split(","):
        key, eq, value = part.partition("=")
        if not eq or not key or not value:
            return None
        levels[key] = value
    return (m["prefix"], levels) if levels else None


# -- results ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sensitivity:
    """A sweep's effects (see the module docstring). Tables:

    - ``cells``: one row per cell: its levels, ``n`` trials, ``failed`` trials, and each action
      metric;
    - ``effects``: ``metric, factor, level, reference, value, low, high, floor,
      within_noise``: ``floor`` is the seed noise floor at this factor's number of cells per
      level (the floor times ``sqrt(levels / seeds)``) and ``within_noise`` says the effect's
      size is below it;
    - ``noise_floor``: ``metric, value, low, high`` (the seed-to-seed difference; empty
      without a seed factor of two levels or more);
    - ``variance``: ``metric, factor, df, sum_sq, share, low, high, null_share`` (``factor``
      ``residual`` holds the interactions and noise; the shares add up to 1; the interval
      from the same bootstrap, for a complete design only; ``null_share`` the share a factor
      that did nothing would get from the noise alone: ``df`` times the seed's share per
      degree of freedom, NaN without a seed factor);
    - ``rationales``: ``factor, level, reference, value, low, high, n_pairs, excess,
      excess_low, excess_high`` (distance ``1 - ROUGE-L``; ``factor`` ``seed`` with level
      ``(any two)`` is the noise floor, and ``excess`` a level's distance minus it, paired
      over people).
    """

    prefix: str
    factors: dict[str, list[str]]
    reference: dict[str, str]
    cells: pd.DataFrame
    effects: pd.DataFrame
    noise_floor: pd.DataFrame
    variance: pd.DataFrame
    rationales: pd.DataFrame
    n_people: int
    level: float = 0.95
    n_resamples: int = 2000
    notes: tuple[str, ...] = field(default_factory=tuple)

    def effect(self, factor: str, level: str, metric: str = "accuracy") -> pd.Series:
        """The row of ``effects`` for one factor level."""
        tab = self.effects
        hit = tab.loc[
            (tab["metric"] == metric) & (tab["factor"] == factor) & (tab["level"] == level)
        ]
        if hit.empty:
            raise KeyError(f"no effect of {factor}={level} on {metric}")
        return hit.iloc[0]

    def floor(self, metric: str = "accuracy") -> pd.Series | None:
        """The seed noise floor row of ``metric`` (None without a seed factor)."""
        hit = self.noise_floor.loc[self.noise_floor["metric"] == metric]
        return None if hit.empty else hit.iloc[0]

    def share(self, factor: str, metric: str = "accuracy") -> float:
        """The share of the cell means' variance ``factor`` explains."""
        tab = self.variance
        hit = tab.loc[(tab["metric"] == metric) & (tab["factor"] == factor)]
        return float(hit["share"].iloc[0]) if not hit.empty else math.nan


# -- per-person statistics -------------------------------------------------------------------


def _frame_of_cells(
    frame: pd.DataFrame, prefix: str | None
) -> tuple[pd.DataFrame, str, dict[str, list[str]]]:
    parsed = {lab: cell_levels(lab) for lab in frame["simulator"].astype(str).unique()}
    prefixes = sorted({p[0] for p in parsed.values() if p is not None})
    if not prefixes:
        raise ValueError(
            "no sweep cells in these results: a cell's simulator label is PREFIX[factor=level,"
            "...] (a spec's sweep: block writes them); run a spec with a sweep: block"
        )
    if prefix is None:
        if len(prefixes) > 1:
            raise ValueError(f"results hold several sweeps ({', '.join(prefixes)}); pick one")
        prefix = prefixes[0]
    elif prefix not in prefixes:
        raise ValueError(f"no sweep {prefix!r} in these results (found: {', '.join(prefixes)})")
    keep = {
        lab: lv for lab, p in parsed.items() if p is not None and p[0] == prefix for lv in [p[1]]
    }
    names = list(next(iter(keep.values())))
    if any(list(lv) != names for lv in keep.values()):
        raise ValueError(f"the cells of sweep {prefix!r} do not all name the same factors")
    factors = {f: sorted({lv[f] for lv in keep.values()}, key=_level_key) for f in names}
    sub = frame.loc[frame["simulator"].astype(str).isin(keep)].copy()
    for f in names:
        sub[f"factor:{f}"] = [keep[s][f] for s in sub["simulator"].astype(str)]
    return sub, prefix, factors


_TRIAL_KEYS = ("person_id", "item_id", "seed", "episode_id", "step_index")
_SHOWN = 6


def _listed(labels: list[str]) -> str:
    more = len(labels) - _SHOWN
    return ", ".join(labels[:_SHOWN]) + (f" and {more} more" if more > 0 else "")


def _have(labels: list[str]) -> str:
    return "has" if len(labels) == 1 else "have"


@dataclass(frozen=True)
class _Design:
    """The cells a run's spec asked for (``manifest["spec"]``): their labels in spec order,
    each factor's levels, and the trials each cell answers under one condition (None when the
    spec does not tell: subsets or parties)."""

    run_id: str
    cells: list[str]
    factors: dict[str, list[str]]
    per_cell: int | None


def _design(results: Any, prefix: str, condition: str | None) -> _Design | None:
    manifest = getattr(results, "manifest", None)
    spec = manifest.get("spec") if isinstance(manifest, dict) else None
    if not isinstance(spec, dict) or not isinstance(spec.get("sweep"), dict):
        return None
    sims = [s for s in spec.get("simulators") or [] if isinstance(s, dict)]
    conditions = spec.get("conditions") or ["full"]
    cells: list[str] = []
    factors: dict[str, list[str]] = {}
    for sim in sims:
        parsed = cell_levels(str(sim.get("label") or ""))
        if parsed is None or parsed[0] != prefix:
            continue
        if condition is not None and condition not in (sim.get("conditions") or conditions):
            continue
        cells.append(str(sim["label"]))
        for f, lv in parsed[1].items():
            if lv not in factors.setdefault(f, []):
                factors[f].append(lv)
    if not cells:
        return None
    assert isinstance(manifest, dict)
    total = sum(len(s.get("conditions") or conditions) for s in sims)
    planned = manifest.get("trials_planned")
    per_cell = None
    plain = not spec.get("parties") and all(s.get("subset") is None for s in sims)
    if plain and isinstance(planned, int) and total > 0 and planned % total == 0:
        per_cell = planned // total
    return _Design(str(manifest.get("run_id", "")), cells, factors, per_cell)


def _check_design(
    design: _Design, sub: pd.DataFrame, prefix: str, allow_partial: bool
) -> list[str]:
    """Refuse (or, with ``allow_partial``, note) the cells the spec asked for that have no
    results or fewer trials than planned."""
    counts = sub["simulator"].astype(str).value_counts()
    missing = [c for c in design.cells if c not in counts.index]
    short = (
        [c for c in design.cells if 0 < counts.get(c, 0) < design.per_cell]
        if design.per_cell is not None
        else []
    )
    if not missing and not short:
        return []
    parts = []
    if missing:
        parts.append(
            f"{len(missing)} of its {len(design.cells)} cells {_have(missing)} no results "
            f"({_listed(missing)})"
        )
    if short:
        got = [f"{c} {counts[c]}" for c in short]
        parts.append(
            f"{len(short)} {_have(short)} fewer than the {design.per_cell} trials planned "
            f"({_listed(got)})"
        )
    levels = "; ".join(f"{f}: {', '.join(lv)}" for f, lv in design.factors.items())
    text = (
        f"run {design.run_id}: sweep {prefix!r} is unfinished: {' and '.join(parts)}. Its spec "
        f"asks for {levels}"
    )
    if not allow_partial:
        raise ValueError(
            f"{text}; resume with behaviorlab run SPEC (the same spec answers only the trials "
            "not stored yet), or read the cells present with allow_partial=True (--partial)"
        )
    return [
        f"{text}: read as given (allow_partial); levels without cells are left out and "
        "effects average over the cells present; resume with behaviorlab run SPEC."
    ]


def _trial_sets(sub: pd.DataFrame) -> list[str]:
    """A note naming the cells that do not answer the same trials as the others (their union)."""
    keys = [k for k in _TRIAL_KEYS if k in sub.columns]
    sets = {
        str(lab): set(part[keys].astype(str).itertuples(index=False, name=None))
        for lab, part in sub.groupby("simulator")
    }
    union = set().union(*sets.values())
    lacking = {lab: len(union - got) for lab, got in sets.items() if got != union}
    if not lacking:
        return []
    shown = [f"{lab} ({n})" for lab, n in sorted(lacking.items())]
    return [
        f"The cells do not answer the same trials: {len(lacking)} lack some of the {len(union)} "
        f"trials answered by the others ({_listed(shown)} missing); effects mix those trial "
        "differences with the factors' (check the run's subsets, or resume it)."
    ]


def _one_condition(sub: pd.DataFrame, condition: str | None) -> pd.DataFrame:
    if "condition" not in sub.columns:
        return sub
    if condition is not None:
        picked = sub.loc[sub["condition"].astype(str) == condition]
        if picked.empty:
            found = ", ".join(sorted(sub["condition"].astype(str).unique()))
            raise ValueError(f"no sweep cell answered under condition {condition!r} ({found})")
        return picked
    if (sub.groupby("simulator")["condition"].nunique() > 1).any():
        found = ", ".join(sorted(sub["condition"].astype(str).unique()))
        raise ValueError(
            f"the sweep's cells answer under several conditions ({found}): pick one "
            "(condition=, or --condition), or sweep them as the prompt factor"
        )
    return sub


def _level_key(text: str) -> tuple[int, float, str]:
    try:
        return (0, float(text), text)
    except ValueError:
        return (1, 0.0, text)


def _valid(frame: pd.DataFrame) -> np.ndarray:
    ok = np.ones(len(frame), dtype=bool)
    for name, missing in (("error", False), ("answer", True)):
        if name in frame.columns:
            ok &= frame[name].notna().to_numpy() == missing
    return ok


def _answer_mass(row: Any, codes: list[str]) -> np.ndarray:
    mass = np.zeros(len(codes))
    probs = as_probs(row.probabilities) if hasattr(row, "probabilities") else None
    samples = as_codes(row.samples) if hasattr(row, "samples") else None
    if probs:
        for code, p in probs.items():
            if code in codes:
                mass[codes.index(code)] += p
    elif samples:
        for code in samples:
            if code in codes:
                mass[codes.index(code)] += 1.0 / len(samples)
    else:
        one = as_code(row.answer)
        if one is not None and one in codes:
            mass[codes.index(one)] = 1.0
    return mass


@dataclass(frozen=True)
class _Stats:
    """Per-person statistics of every cell: ``acc`` (G, C, 2) and ``js`` (G, C, 2, I, K)."""

    acc: np.ndarray
    js: np.ndarray | None


def _cell_stats(
    sub: pd.DataFrame, cells: list[str], people: list[str], valid: np.ndarray
) -> tuple[_Stats, list[str]]:
    notes: list[str] = []
    g_of = {p: i for i, p in enumerate(people)}
    c_of = {c: i for i, c in enumerate(cells)}
    acc = np.zeros((len(people), len(cells), 2))
    ok = sub.loc[valid]
    g = np.asarray([g_of[p] for p in ok["person_id"].astype(str)], dtype=np.intp)
    c = np.asarray([c_of[s] for s in ok["simulator"].astype(str)], dtype=np.intp)
    scores = ok["correct"] if "correct" in ok.columns else pd.Series(np.nan, index=ok.index)
    correct = pd.to_numeric(scores, errors="coerce").to_numpy(dtype=float)
    scored = np.isfinite(correct)
    np.add.at(acc[..., 0], (g[scored], c[scored]), correct[scored])
    np.add.at(acc[..., 1], (g[scored], c[scored]), 1.0)
    if not scored.any():
        notes.append("No trial has a correct / incorrect score: accuracy is not reported.")
    js: np.ndarray | None = None
    has_options = "options" in ok.columns and ok["options"].map(as_codes).notna().any()
    if has_options and len(ok):
        items = sorted(ok["item_id"].astype(str).unique())
        opts = sorted({c for v in ok["options"] for c in as_codes(v) or []})
        i_of = {it: i for i, it in enumerate(items)}
        js = np.zeros((len(people), len(cells), 2, len(items), len(opts)))
        for gi, ci, row in zip(g, c, ok.itertuples(index=False), strict=True):
            ii = i_of[str(row.item_id)]
            js[gi, ci, 1, ii] += _answer_mass(row, opts)
            human = as_code(row.human_answer)
            if human in opts:
                js[gi, ci, 0, ii, opts.index(str(human))] += 1.0
    else:
        notes.append("The trials have no options: the answer distribution (JS) is not reported.")
    return _Stats(acc, js), notes


def _accuracy(agg: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(agg[..., 0] / agg[..., 1])


def _js(agg: np.ndarray) -> np.ndarray:
    """Mean over items of the JS distance per cell; ``agg`` (..., C, 2, I, K)."""
    human, sim = agg[..., 0, :, :], agg[..., 1, :, :]
    hn, sn = human.sum(-1, keepdims=True), sim.sum(-1, keepdims=True)
    usable = (hn[..., 0] > 0) & (sn[..., 0] > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        d = js_distance(human / np.where(hn > 0, hn, 1), sim / np.where(sn > 0, sn, 1))
    d = np.where(usable, d, 0.0)
    count = usable.sum(-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(np.where(count > 0, d.sum(-1) / count, np.nan))


# -- effects from cell values ----------------------------------------------------------------


def _seed_floor(values: np.ndarray, grid: pd.DataFrame, seeds: list[str]) -> np.ndarray:
    """(B,): RMS over seed pairs of the difference of the seeds' marginal means."""
    m = marginals(values, grid, SEED, seeds)
    diffs = [m[:, a] - m[:, b] for a, b in itertools.combinations(range(len(seeds)), 2)]
    return np.asarray(np.sqrt(np.mean(np.square(np.stack(diffs, axis=1)), axis=1)))


def _interval(point: float, reps: np.ndarray, level: float) -> tuple[float, float]:
    if not math.isfinite(point):
        return math.nan, math.nan
    return percentile_interval(reps, level)


def _ordered(levels: list[str], factor: str) -> list[str]:
    if factor == "prompt" and "default" in levels:
        return ["default", *[x for x in levels if x != "default"]]
    return levels


def sensitivity(
    results: Any,
    *,
    sweep: str | None = None,
    reference: dict[str, str] | None = None,
    condition: str | None = None,
    n_resamples: int = 2000,
    seed: int = 0,
    level: float = 0.95,
    allow_partial: bool = False,
) -> Sensitivity:
    """The effects of a sweep's factors on actions and rationales, the seed noise floor and
    the variance shares (see the module docstring). ``results``: a run's rows (a frame or a
    ``Run``); ``sweep``: the cells' label prefix when the rows hold several sweeps;
    ``reference``: the level each factor's effects are measured from (default: ``default``
    for prompt, else the lowest level); ``condition``: the one condition to read when the
    cells answer under several (a sweep without a prompt factor, a spec of several
    conditions). From a ``Run``, the cells and levels its spec asked for are checked: an
    unfinished run is refused naming its missing and short cells, unless ``allow_partial``
    (then the notes say so)."""
    frame = as_frame(results)
    if frame.empty:
        raise ValueError("no results to analyse")
    sub, prefix, factors = _frame_of_cells(frame, sweep)
    sub = _one_condition(sub, condition)
    notes: list[str] = []
    design = _design(results, prefix, condition)
    if design is not None:
        notes += _check_design(design, sub, prefix, allow_partial)
        if not notes:  # complete: the levels the spec lists (what the rows hold too)
            factors = {f: sorted(lv, key=_level_key) for f, lv in design.factors.items()}
    notes += _trial_sets(sub)
    factors = {f: _ordered(lv, f) for f, lv in factors.items()}
    ref = {f: lv[0] for f, lv in factors.items()}
    for f, lv in (reference or {}).items():
        if f not in factors:
            raise ValueError(
                f"reference: sweep {prefix!r} has no factor {f!r} ({', '.join(factors)})"
            )
        if lv not in factors[f]:
            raise ValueError(f"reference: factor {f} has no level {lv!r} ({', '.join(factors[f])})")
        ref[f] = lv
    names = list(factors)
    cells = sorted(sub["simulator"].astype(str).unique())
    grid = pd.DataFrame([{**dict(cell_levels(c)[1]), "simulator": c} for c in cells])  # type: ignore[index]
    expected = math.prod(len(v) for v in factors.values())
    if len(cells) < expected:
        notes.append(
            f"{len(cells)} of the {expected} cells of a full factorial have results: the "
            "marginal means average over the cells present, so effects can mix factors."
        )
    people = sorted(sub["person_id"].astype(str).unique())
    valid = _valid(sub)
    stats, more = _cell_stats(sub, cells, people, valid)
    notes += more
    metrics: dict[str, np.ndarray] = {}
    reps: dict[str, np.ndarray] = {}
    opts = {"n_resamples": n_resamples, "seed": seed}
    if stats.acc[..., 1].sum() > 0:
        metrics["accuracy"] = _accuracy(stats.acc.sum(0))[None, :]
        reps["accuracy"] = bootstrap_replicates(stats.acc, _accuracy, **opts)
    if stats.js is not None:
        metrics["js_distance"] = _js(stats.js.sum(0))[None, :]
        reps["js_distance"] = bootstrap_replicates(stats.js, _js, **opts)
    failed = sub.assign(_failed=~valid).groupby("simulator")["_failed"].sum()
    cell_tab = grid.assign(
        n=[int((sub["simulator"] == c).sum()) for c in cells],
        failed=[int(failed.get(c, 0)) for c in cells],
        **{m: v[0] for m, v in metrics.items()},
    )
    effects: list[dict[str, Any]] = []
    floors: list[dict[str, Any]] = []
    variance: list[dict[str, Any]] = []
    seeds = factors.get(SEED, [])
    for m, point in metrics.items():
        floor_point = floor_reps = None
        if len(seeds) >= 2:
            floor_point = float(_seed_floor(point, grid, seeds)[0])
            floor_reps = _seed_floor(reps[m], grid, seeds)
            lo, hi = _interval(floor_point, floor_reps, level)
            floors.append({"metric": m, "value": floor_point, "low": lo, "high": hi})
            if floor_point == 0:
                notes.append(
                    f"{m}: every seed gave the same cell values (a simulator that does not "
                    "sample), so the seed floor is 0 and says nothing about noise; read the "
                    "intervals."
                )
        for f in names:
            if f == SEED or len(factors[f]) < 2:
                continue
            mp = marginals(point, grid, f, factors[f])[0]
            mr = marginals(reps[m], grid, f, factors[f])
            r = factors[f].index(ref[f])
            for j, lv in enumerate(factors[f]):
                if j == r:
                    continue
                value = float(mp[j] - mp[r])
                lo, hi = _interval(value, mr[:, j] - mr[:, r], level)
                # the floor at this factor's cell count: a level's marginal mean averages
                # C / L cells, a seed's C / S, so a null effect spreads sqrt(L / S) times a
                # seed difference
                scaled = (
                    floor_point * math.sqrt(len(factors[f]) / len(seeds))
                    if floor_point is not None
                    else math.nan
                )
                within = (
                    bool(abs(value) <= NOISE_BAND * scaled) if floor_point is not None else None
                )
                entry = (m, f, lv, ref[f], value, lo, hi, scaled, within)
                effects.append(dict(zip(_EFFECTS, entry, strict=True)))
        balanced = len(cells) == expected and bool(np.isfinite(point).all())
        share_reps = balanced_shares(reps[m], grid, factors) if balanced else {}
        for row in anova(grid, point[0], factors):
            lo, hi = _interval(row["share"], share_reps.get(row["factor"], np.array([])), level)
            variance.append({"metric": m, **row, "low": lo, "high": hi})
    if len(seeds) < 2:
        notes.append(
            "No seed factor with two or more levels: there is no noise floor to read the "
            "effects against; add seed: [0, 1, 2] to the sweep's factors."
        )
    entries, rstats = rationale_stats(sub, grid, factors, ref, people, valid)
    rationale_rows: list[dict[str, Any]] = []
    if entries:
        rpoint = _accuracy(rstats.sum(0))
        rreps = bootstrap_replicates(rstats, _accuracy, **opts)
        base = next((k for k, e in enumerate(entries) if e["factor"] == SEED), None)
        for k, e in enumerate(entries):
            lo, hi = _interval(float(rpoint[k]), rreps[:, k], level)
            row = {**e, "value": float(rpoint[k]), "low": lo, "high": hi}
            if base is not None and k != base:  # paired over people: the same weights
                ex = float(rpoint[k] - rpoint[base])
                elo, ehi = _interval(ex, rreps[:, k] - rreps[:, base], level)
                row.update(excess=ex, excess_low=elo, excess_high=ehi)
            rationale_rows.append(row)
    else:
        notes.append("No answer holds a rationale: rationale distances are not reported.")
    return Sensitivity(
        prefix=prefix,
        factors=factors,
        reference=ref,
        cells=cell_tab,
        effects=pd.DataFrame(effects, columns=_EFFECTS),
        noise_floor=pd.DataFrame(floors, columns=["metric", "value", "low", "high"]),
        variance=pd.DataFrame(
            variance,
            columns=["metric", "factor", "df", "sum_sq", "share", "low", "high", "null_share"],
        ),
        rationales=pd.DataFrame(rationale_rows, columns=_RATIONALES),
        n_people=len(people),
        level=level,
        n_resamples=n_resamples,
        notes=tuple(notes),
    )
