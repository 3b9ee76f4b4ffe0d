"""Twins across versions: one simulator's runs on the same people and items, in version order
(model updates, fine-tuning checkpoints, prompt revisions), compared version by version.

:func:`versions` matches the trials of every version (``MATCH_KEYS``), keeps those every
version answered, and resamples *people* with one weight matrix ``W`` for all versions, so a
difference between versions is a paired difference. Beside each metric per version it gives
min-ACC and WC-ACC (De Lange et al., "Continual evaluation for lifelong learning: identifying
the stability gap") when told the version at which each unit (a person or an item) was learned,
the people and items that regressed from one version to the next (one-sided sign tests with a
Holm or FDR correction) and windowed forgetting per person group. See docs/versions.md.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from fnmatch import fnmatchcase
from typing import Any, Literal

import numpy as np
import pandas as pd

from behaviorlab.analysis._bootstrap import (
    basic_interval,
    bootstrap_replicates,
    percentile_interval,
)
from behaviorlab.analysis._frame import MATCH_KEYS, SupportsToPandas, as_frame, decoded, require
from behaviorlab.analysis._metrics import MeanMetric, Metric, get_metric, interval_of, ratio
from behaviorlab.analysis._versions_regress import (
    Correction,
    Family,
    _bias_corrected,
    _examples,
    _forgetting,
    _regressions,
)

Run = pd.DataFrame | SupportsToPandas


@dataclass(frozen=True)
class VersionSeries:
    """What :func:`versions` found. Every interval is a percentile interval (basic for a
    metric that asks for it) of one person bootstrap shared by all versions.

    - ``per_version``: ``metric, version, value, low, high, se``;
    - ``differences``: ``metric, before, after, value, low, high`` (each version against the
      one before, then the last against the first);
    - ``coverage``: per version the people, items and valid trials it has, how many of the
      union it lacks (``missing_people``, ``missing_items``) and examples;
    - ``continual``: per version ``k`` (groups learned so far: the learned-at versions up to
      this one, each group the units learned at one version), ``min_acc`` and ``wc_acc`` with
      their bias-corrected values (``*_corrected``, ``2 * value - median(replicates)``) and the
      basic interval around them, and ``final_acc`` (earlier groups' accuracy at that version,
      percentile interval); None without ``learned_at`` (``notes`` says so);
    - ``regressions``: per transition, kind (``person`` / ``item``) and unit: pairs, the mean
      before and after, trials worse / better, ``tested`` (some trial changed), the one-sided
      sign-test p, its value adjusted within ``family`` (``series``: all steps of a kind;
      ``step``: each step and kind) and ``regressed``;
    - ``forgetting``: windowed forgetting per person group (the largest drop within
      ``window`` consecutive versions; ``corrected`` and the basic interval as for min-ACC)
      with the versions where it happens;
    - ``trajectory``: the primary metric per person group and version (for the plot).
    """

    labels: tuple[str, ...]
    metric: str
    per_version: pd.DataFrame
    differences: pd.DataFrame
    coverage: pd.DataFrame
    continual: pd.DataFrame | None
    regressions: pd.DataFrame
    forgetting: pd.DataFrame
    trajectory: pd.DataFrame
    n_people: int
    n_items: int
    n_trials: int
    level: float
    alpha: float
    correction: str
    family: str
    window: int
    n_resamples: int
    learned_by: str | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able: every table as a list of records, the rest as it is."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, pd.DataFrame):
                value = [{str(k): v for k, v in r.items()} for r in value.to_dict("records")]
            out[f.name] = list(value) if isinstance(value, tuple) else value
        return out


# --- choosing and matching the trials ------------------------------------------------------


def _arms_of(frame: pd.DataFrame) -> str:
    arms = frame.groupby(["task", "simulator", "condition"], sort=True).size()
    shown = ", ".join("/".join(map(str, k)) for k in arms.index[:8])
    return shown + (" ..." if len(arms) > 8 else "")


def _arm(frame: pd.DataFrame, label: str, filters: Mapping[str, str | None]) -> pd.DataFrame:
    require(frame, *MATCH_KEYS, "simulator", "condition", "error", "correct")
    picked = frame
    for col, want in filters.items():
        if want is not None:
            values = picked[col].astype(str)
            if col == "simulator":  # a glob: "llm:*" picks the one LLM arm beside a baseline
                keep = values.map(lambda x, w=want: fnmatchcase(x, w))
            else:
                keep = values == want
            picked = picked.loc[keep.to_numpy(dtype=bool)]
    if picked.empty:
        given = {k: v for k, v in filters.items() if v is not None}
        raise ValueError(
            f"version {label}: no trials match {given}; its arms (task/simulator/condition) "
            f"are {_arms_of(frame)}"
        )
    conds = set(picked["condition"].astype(str))
    if filters.get("condition") is None and len(conds) > 1 and "full" in conds:
        picked = picked.loc[picked["condition"].astype(str) == "full"]
    arms = picked.groupby(["task", "simulator", "condition"], sort=True).size()
    if len(arms) > 1:
        raise ValueError(
            f"version {label}: {len(arms)} task/simulator/condition arms ({_arms_of(picked)}); "
            "a version is one arm: pick it with task=, simulator= (a name or a glob such as "
            "'llm:*', or one per run) and condition= (--task, --simulator, --condition)"
        )
    return picked


def _keyed(frame: pd.DataFrame, label: str) -> pd.DataFrame:
    parts = [frame[c].astype(str).tolist() for c in MATCH_KEYS]
    out = frame.assign(_key=["\x1f".join(k) for k in zip(*parts, strict=True)])
    dup = out["_key"].duplicated()
    if dup.any():
        first = out.loc[dup, list(MATCH_KEYS)].iloc[0].to_dict()
        raise ValueError(
            f"version {label}: {int(dup.sum())} duplicate trial(s), e.g. {first} (was a run "
            "stored twice?)"
        )
    return out.set_index("_key")


def _coverage(frames: Mapping[str, pd.DataFrame]) -> tuple[pd.DataFrame, list[str]]:
    people = {v: set(f["person_id"].astype(str)) for v, f in frames.items()}
    items = {v: set(f["item_id"].astype(str)) for v, f in frames.items()}
    all_people, all_items = set().union(*people.values()), set().union(*items.values())
    rows, notes = [], []
    for v, f in frames.items():
        lack_p = sorted(all_people - people[v])
        lack_i = sorted(all_items - items[v])
        row = {"version": v, "people": len(people[v]), "items": len(items[v]), "trials": len(f)}
        row |= {"missing_people": len(lack_p), "missing_items": len(lack_i)}
        row |= {"missing_people_examples": _examples(lack_p)}
        rows.append(row | {"missing_items_examples": _examples(lack_i)})
        for kind, lack in (("people", lack_p), ("items", lack_i)):
            if lack:
                notes.append(
                    f"version {v} lacks {len(lack)} of the {kind} the other versions have "
                    f"({_examples(lack)}); the comparison uses the trials every version has"
                )
    return pd.DataFrame(rows), notes


# --- bootstrap helpers ---------------------------------------------------------------------


def _interval(m: Metric, reps: np.ndarray, point: float, level: float) -> tuple[float, float]:
    options = interval_of(m)
    if options["interval"] == "basic":
        low, high = basic_interval(reps, point, level)
        bounds = options["bounds"]
        if bounds is not None:
            low, high = (float(np.clip(x, *bounds)) for x in (low, high))
        return low, high
    return percentile_interval(reps, level)


def _se(reps: np.ndarray) -> float:
    finite = reps[np.isfinite(reps)]
    return float(finite.std(ddof=1)) if finite.size > 1 else math.nan


def _stacked(m: Metric, frames: Mapping[str, pd.DataFrame], people: np.ndarray) -> np.ndarray:
    """Every version's per-person statistics, shape ``(G, V, *event)``, built in one call on
    all versions' trials (each person tagged with the version) so that every version uses
    the same layout: the union of the answer options (and items) any version used."""
    tagged = [
        f.assign(person_id=[f"{k}\x1f{p}" for p in f["person_id"].astype(str)])
        for k, f in enumerate(frames.values())
    ]
    stats = m.stats(pd.concat(tagged, ignore_index=True))
    index = {str(c): i for i, c in enumerate(stats.clusters)}
    out = np.zeros((len(people), len(frames), *stats.values.shape[1:]))
    for k in range(len(frames)):
        for g, p in enumerate(people):
            row = index.get(f"{k}\x1f{p}")
            if row is not None:
                out[g, k] = stats.values[row]
    return out


def _metric_tables(
    m: Metric, name: str, frames: Mapping[str, pd.DataFrame], people: np.ndarray, **boot: Any
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    labels, level = list(frames), boot.pop("level")
    values = _stacked(m, frames, people)
    point = np.asarray(m.value(values.sum(axis=0)), dtype=float)
    reps = bootstrap_replicates(values, m.value, **boot)
    rows = []
    for k, v in enumerate(labels):
        low, high = _interval(m, reps[:, k], float(point[k]), level)
        row = {"metric": name, "version": v, "value": float(point[k]), "low": low, "high": high}
        rows.append(row | {"se": _se(reps[:, k])})
    pairs = [(k - 1, k) for k in range(1, len(labels))]
    if len(labels) > 2:
        pairs.append((0, len(labels) - 1))
    diffs = []
    for a, b in pairs:
        d = reps[:, b] - reps[:, a]
        low, high = percentile_interval(d, level)
        row = {"metric": name, "before": labels[a], "after": labels[b]}
        diffs.append(row | {"value": float(point[b] - point[a]), "low": low, "high": high})
    return rows, diffs


_KEY_NAMES = {"person_id": "people", "item_id": "items", "episode_id": "episodes"}


def _no_shared_trial(
    arms: Mapping[str, pd.DataFrame],
    scored: Mapping[str, pd.DataFrame],
    name: str,
    metric: Metric,
    coverage: pd.DataFrame,
) -> str:
    """Why no trial is scored in every version: a version without a score for the metric, or
    the match keys (people, items, seed, episode, step, task) that share no value."""

    def count(n: int, one: str, many: str) -> str:
        return f"{n} {one if n == 1 else many}"

    table = "; ".join(
        f"{r['version']}: {count(r['people'], 'person', 'people')}, "
        f"{count(r['items'], 'item', 'items')}, {count(r['trials'], 'trial', 'trials')}"
        for r in coverage.to_dict("records")
    )
    head = f"no trial is answered validly with a score of {name} in every version ({table})"
    empty = [v for v, f in scored.items() if f.empty]
    if empty:
        shown = ", ".join(
            f"{v} ({int(arms[v]['error'].isna().sum())} trials without an error)" for v in empty
        )
        needs = f": {name} needs {metric.requires}" if metric.requires else ""
        return (
            f"{head}: no trial of {shown} has a score of {name}{needs}; pick a metric these "
            "runs score (--metric, metrics=) or runs that carry it"
        )
    reasons = []
    for key in MATCH_KEYS:
        values = {v: set(f[key].astype(str)) for v, f in scored.items()}
        if set.intersection(*values.values()):
            continue
        what = _KEY_NAMES.get(key, f"{key} values")
        per = "; ".join(f"{v} has {len(x)} ({_examples(sorted(x))})" for v, x in values.items())
        reasons.append(f"no {key} is in every version ({what}: {per})")
    if not reasons:
        first = next(iter(scored.values()))
        example = first[list(MATCH_KEYS)].iloc[0].to_dict()
        reasons.append(
            "each of task, person, item, episode, step and seed has values every version has, "
            f"but no trial matches on all of them together (e.g. {example} is not in every "
            "version)"
        )
    return (
        f"{head}: "
        + "; ".join(reasons)
        + (
            "; runs of one series share people and items under the same seeds (or give the arm "
            "with task=, simulator=, condition=)"
        )
    )


# --- min-ACC and WC-ACC --------------------------------------------------------------------


def _learned(
    learned_at: Mapping[str, Any] | pd.DataFrame, learned_by: str, labels: Sequence[str]
) -> dict[str, int]:
    if isinstance(learned_at, pd.DataFrame):
        if learned_at.shape[1] != 2:
            raise ValueError(
                f"learned_at as a table has two columns (the unit, the version it was learned "
                f"at), not {list(learned_at.columns)}"
            )
        pairs = list(zip(learned_at.iloc[:, 0], learned_at.iloc[:, 1], strict=True))
        where = [f"learned_at row {k + 1}: " for k in range(len(pairs))]
    else:
        pairs = list(learned_at.items())
        where = ["learned_at: "] * len(pairs)
    index = {v: k for k, v in enumerate(labels)}
    out = {}
    for (unit, version), at in zip(pairs, where, strict=True):
        if pd.isna(version) or (isinstance(version, str) and not version.strip()):
            continue  # a blank cell: not learned at any version of the series
        text = str(version).strip()
        if text not in index and isinstance(version, float) and version.is_integer():
            text = str(int(version))  # a numeric column read as floats: 2.0 is version "2"
        if text not in index:
            raise ValueError(
                f"{at}{learned_by} {unit!r} has the version {version!r}, which is not one of "
                f"the versions {list(labels)}; give a version label or leave the cell blank"
            )
        out[str(unit)] = index[text]
    return out


def continual_values(acc: np.ndarray, learned: Sequence[int]) -> dict[str, np.ndarray]:
    """min-ACC, WC-ACC and the earlier units' mean accuracy at each version.

    ``acc`` has shape ``(..., V, K)``: the accuracy of unit group ``k`` (the units learned at
    version ``learned[k]``) at version ``v``. At version ``t`` the groups learned so far are
    those with ``learned[k] <= t``; the latest is the current one, the others are earlier.
    ``min_acc[t]`` is the mean over earlier groups of the minimum of their accuracy over the
    versions after the one that learned them, up to ``t``; ``wc_acc[t] = acc[t, current] / K
    + (1 - 1 / K) min_acc[t]`` with ``K`` groups learned so far; ``final_acc[t]`` the earlier
    groups' mean accuracy at ``t``. NaN where no group was learned before the current one.
    """
    lead, n_versions = acc.shape[:-2], acc.shape[-2]
    out = {k: np.full((*lead, n_versions), math.nan) for k in ("min_acc", "wc_acc", "final_acc")}
    for t in range(n_versions):
        so_far = sorted((learned[k], k) for k in range(len(learned)) if learned[k] <= t)
        if len(so_far) < 2:
            continue
        current, earlier = so_far[-1], so_far[:-1]
        mins = [acc[..., at + 1 : t + 1, k].min(axis=-1) for at, k in earlier]
        min_acc = np.mean(np.stack(mins, axis=-1), axis=-1)
        n_groups = len(so_far)
        out["min_acc"][..., t] = min_acc
        out["final_acc"][..., t] = np.mean(
            np.stack([acc[..., t, k] for _, k in earlier], axis=-1), axis=-1
        )
        out["wc_acc"][..., t] = acc[..., t, current[1]] / n_groups + (1 - 1 / n_groups) * min_acc
    return out


def _continual(
    scores: Mapping[str, pd.DataFrame],
    people: np.ndarray,
    learned: dict[str, int],
    learned_by: str,
    level: float,
    **boot: Any,
) -> tuple[pd.DataFrame, list[str]]:
    labels = list(scores)
    groups = sorted(set(learned.values()))
    slot = {at: j for j, at in enumerate(groups)}
    person_index = {p: g for g, p in enumerate(people)}
    values = np.zeros((len(people), len(labels), len(groups), 2))
    notes: list[str] = []
    first = scores[labels[0]]
    units = first[learned_by].astype(str)
    unknown = sorted(set(units) - set(learned))
    if unknown:
        notes.append(
            f"{len(unknown)} {learned_by} value(s) have no learned-at version and are left out "
            f"of min-ACC and WC-ACC ({_examples(unknown)})"
        )
    absent = sorted(set(learned) - set(units))
    if absent:
        notes.append(
            f"{len(absent)} {learned_by} value(s) in learned_at are not among the trials "
            f"every version has ({_examples(absent)})"
        )
    for v, frame in enumerate(scores.values()):
        unit = frame[learned_by].astype(str)
        keep = unit.isin(list(learned)).to_numpy()
        g = frame["person_id"].astype(str).map(person_index).to_numpy()[keep]
        k = unit[keep].map(lambda u: slot[learned[u]]).to_numpy()
        np.add.at(values[:, v, :, 0], (g, k), frame["score"].to_numpy()[keep])
        np.add.at(values[:, v, :, 1], (g, k), 1.0)
    at = [groups[j] for j in range(len(groups))]

    def stat(agg: np.ndarray) -> np.ndarray:
        parts = continual_values(ratio(agg[..., 0], agg[..., 1]), at)
        return np.stack([parts["min_acc"], parts["wc_acc"], parts["final_acc"]], axis=-1)

    point = stat(values.sum(axis=0))
    reps = bootstrap_replicates(values, stat, **boot)
    rows = []
    for t, label in enumerate(labels):
        row: dict[str, Any] = {"version": label, "k": sum(1 for a in at if a <= t)}
        for j, name in enumerate(("min_acc", "wc_acc")):
            row[name] = float(point[t, j])
            fixed = _bias_corrected(reps[:, t, j], float(point[t, j]), level)
            row |= dict(
                zip((f"{name}_corrected", f"{name}_low", f"{name}_high"), fixed, strict=True)
            )
        row["final_acc"] = float(point[t, 2])
        row["final_acc_low"], row["final_acc_high"] = percentile_interval(reps[:, t, 2], level)
        rows.append(row)
    return pd.DataFrame(rows), notes


# --- the entry point -------------------------------------------------------------------------


def _run_label(frame: pd.DataFrame, k: int) -> str:
    ids: list[str] = []
    if "run_id" in frame:
        ids = sorted(set(frame["run_id"].dropna().astype(str)))
    return ids[0] if len(ids) == 1 else f"v{k + 1}"


def _per_run(simulator: str | Sequence[str] | None, n: int) -> list[str | None]:
    if simulator is None or isinstance(simulator, str):
        return [simulator] * n
    sims: list[str | None] = [str(x) for x in simulator]
    if len(sims) == 1:
        return sims * n
    if len(sims) != n:
        raise ValueError(
            f"{len(sims)} simulators for {n} runs: give one simulator (a name or a glob such "
            "as 'llm:*') for every run, or one per run in order"
        )
    return sims


def _labelled(
    runs: Sequence[Run] | Mapping[str, Run],
    labels: Sequence[str] | None,
    filters: Mapping[str, Any],
) -> dict[str, pd.DataFrame]:
    """Each version's arm under its label. Without labels a version is named by its run's
    ``run_id``; when runs repeat (one run holding several checkpoints as simulators), by the
    arm's simulator (``run/simulator`` if those repeat too)."""
    if isinstance(runs, Mapping):
        if labels is not None:
            raise ValueError("give labels either as the mapping's keys or as labels=, not both")
        frames, labels = [as_frame(v) for v in runs.values()], [str(k) for k in runs]
    else:
        frames = [as_frame(r) for r in runs]
        if labels is not None and len(labels) != len(frames):
            raise ValueError(f"{len(labels)} labels for {len(frames)} runs; give one per run")
    sims = _per_run(filters.get("simulator"), len(frames))
    names = [str(x) for x in labels] if labels is not None else None
    base = names or [_run_label(f, k) for k, f in enumerate(frames)]
    arms = [
        _arm(f, b, {**filters, "simulator": s}) for f, b, s in zip(frames, base, sims, strict=True)
    ]
    if names is None:
        names = base
        if len(set(base)) < len(base):
            picked = [str(a["simulator"].iloc[0]) for a in arms]
            both = [f"{b}/{p}" for b, p in zip(base, picked, strict=True)]
            names = picked if len(set(picked)) == len(picked) else both
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise ValueError(f"version labels must differ; {dup} appear more than once")
    if len(arms) < 2:
        raise ValueError(f"a series needs at least two versions, got {len(arms)}")
    return dict(zip(names, arms, strict=True))


def versions(
    runs: Sequence[Run] | Mapping[str, Run],
    labels: Sequence[str] | None = None,
    *,
    metrics: Sequence[str | Metric] = ("accuracy",),
    task: str | None = None,
    simulator: str | Sequence[str] | None = None,
    condition: str | None = None,
    learned_at: Mapping[str, Any] | pd.DataFrame | None = None,
    learned_by: Literal["person_id", "item_id"] = "person_id",
    groups: Mapping[str, Any] | None = None,
    window: int = 2,
    correction: Correction = "holm",
    family: Family = "series",
    alpha: float = 0.05,
    n_resamples: int = 2000,
    seed: int = 0,
    level: float = 0.95,
) -> VersionSeries:
    """One simulator's runs as a series of versions, in the order given.

    ``runs``: results frames or runs (``to_pandas()``), with ``labels`` naming the versions
    (default: each run's ``run_id``), or a mapping ``label -> run`` (its order is the series'
    order). Each version is one (task, simulator, condition) arm: pick it with ``task``,
    ``simulator`` and ``condition`` when a run holds several (``condition`` defaults to
    ``full`` when present). ``simulator`` is a name or a glob (``"llm:*"``: the LLM arm beside
    a baseline, whose label carries the model) for every run, or a sequence with one per run;
    the same run may come several times with different simulators (checkpoints in one run).
    Trials are matched on ``MATCH_KEYS``; only the trials every version answered validly (with
    a score of the first metric) count, and ``coverage`` / ``notes`` say which people and items
    some versions lack.

    ``metrics``: the metrics per version (any registered metric; the first must be a per-trial
    metric such as accuracy and drives min-ACC, WC-ACC, regressions and forgetting).
    ``learned_at``: for each unit (a ``person_id``, or an ``item_id`` with ``learned_by=
    "item_id"``) the version label at which it was learned or added, as a mapping or a
    two-column table; without it min-ACC and WC-ACC are not reported. ``groups``: person id
    -> group label for windowed forgetting (always also over all people); ``window``: how many
    consecutive versions a forgetting window spans (2: consecutive versions). ``correction``:
    ``"holm"`` or ``"fdr_bh"`` over the people (and, separately, the items); ``family``: over
    every step of the series together (``"series"``, the default: the regressions read as one
    list) or each step apart (``"step"``). Units with no changed trial are not tested.
    """
    if correction not in ("holm", "fdr_bh"):
        raise ValueError(f"correction is 'holm' or 'fdr_bh', not {correction!r}")
    if family not in ("series", "step"):
        raise ValueError(f"family is 'series' or 'step', not {family!r}")
    if window < 2:
        raise ValueError(f"window spans at least 2 versions, not {window}")
    if not metrics:
        raise ValueError("give at least one metric")
    chosen = [get_metric(m) for m in metrics]
    names = [m if isinstance(m, str) else type(m).__name__ for m in metrics]
    primary = chosen[0]
    if not isinstance(primary, MeanMetric):
        raise ValueError(
            f"the first metric must be a per-trial metric (accuracy, log_loss, brier, ...), "
            f"not {names[0]!r}; put it after one"
        )
    filters = {"task": task, "simulator": simulator, "condition": condition}
    arms = _labelled(runs, labels, filters)
    coverage, notes = _coverage(arms)
    scored: dict[str, pd.DataFrame] = {}
    for v, arm in arms.items():
        valid = decoded(arm.loc[arm["error"].isna() & arm["correct"].notna()])
        s = primary.scored(valid)
        scored[v] = _keyed(valid.loc[s.index].assign(score=s.to_numpy()), v)
    common = sorted(set.intersection(*(set(f.index) for f in scored.values())))
    union = set().union(*(set(_keyed(f, v).index) for v, f in arms.items()))
    if not common:
        raise ValueError(_no_shared_trial(arms, scored, names[0], primary, coverage))
    if len(union) > len(common):
        notes.append(
            f"{len(union) - len(common)} of {len(union)} trials are left out: some version "
            "lacks them, failed them or gave no score"
        )
    frames = {v: f.loc[common] for v, f in scored.items()}
    labels_ = list(frames)
    first = frames[labels_[0]]
    people = np.asarray(sorted(first["person_id"].astype(str).unique()), dtype=object)
    boot = {"n_resamples": n_resamples, "seed": seed}
    per_version, differences = [], []
    for m, name in zip(chosen, names, strict=True):
        if not all(m.applicable(f) for f in frames.values()):
            notes.append(f"{name} does not apply to every version: {m.requires or 'left out'}")
            continue
        rows, diffs = _metric_tables(m, name, frames, people, level=level, **boot)
        per_version += rows
        differences += diffs
    continual = None
    if learned_at is None:
        notes.append(
            "min-ACC and WC-ACC are not reported: they need the version at which each person "
            "or item was learned (learned_at=, --learned-at FILE)"
        )
    else:
        learned = _learned(learned_at, learned_by, labels_)
        continual, more = _continual(frames, people, learned, learned_by, level, **boot)
        notes += more
    higher = bool(primary.higher_is_better)
    regressions = _regressions(frames, higher, alpha, correction, family)
    forgetting, trajectory, more = _forgetting(
        frames, people, groups, window, higher, level, **boot
    )
    return VersionSeries(
        labels=tuple(labels_),
        metric=names[0],
        per_version=pd.DataFrame(per_version),
        differences=pd.DataFrame(differences),
        coverage=coverage,
        continual=continual,
        regressions=regressions,
        forgetting=forgetting,
        trajectory=trajectory,
        n_people=len(people),
        n_items=int(first["item_id"].astype(str).nunique()),
        n_trials=len(common),
        level=level,
        alpha=alpha,
        correction=correction,
        family=family,
        window=window,
        n_resamples=n_resamples,
        learned_by=learned_by if learned_at is not None else None,
        notes=tuple(notes + more),
    )
