"""Fidelity: how much of the true cognitive model and style a judge reads from a session.

Core beliefs (3 categories), emotions (9 groups) and the style (one of 6) are compared as
label sets with the true model's:

- **per-label F1** ``2 TP / (2 TP + FP + FN)`` summed over sessions, and their mean over the
  labels (macro-F1);
- **Jaccard** ``|judged ∩ true| / |judged ∪ true|`` per session, averaged (for the style:
  the share judged right);
- **chance**: the same mean Jaccard with the true models permuted across sessions (every
  session of a model gets the same other model; ``permutations`` draws, seeded): its mean and
  95th percentile are the chance line, and ``p`` is the share of draws at least as high as
  observed (``(1 + k) / (1 + P)``);
- **consistency**: the Jaccard between what the judge read in two sessions of the same model
  (every label kind together), averaged per model, beside the same between sessions of
  different models.

Every interval is a percentile bootstrap over cognitive models (``person_id``): the sessions
of one model are resampled together.
"""

from __future__ import annotations

import functools
import itertools
import json
import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from behaviorlab.analysis import ClusterStats, Estimate, cluster_bootstrap
from behaviorlab.families.patient._model import CORE_CATEGORIES, EMOTIONS, STYLES
from behaviorlab.families.patient._task import PATIENT

FIELDS: dict[str, tuple[str, ...]] = {
    "core_beliefs": CORE_CATEGORIES,
    "emotions": EMOTIONS,
    "style": STYLES,
}
JUDGEMENT_COLUMNS = [
    "simulator",
    "condition",
    "arm",
    "kind",
    "level",
    "person_id",
    "episode_id",
    "trial_id",
    "judge",
    "judge_model",
    "same_model_as_patient",
    "error",
    *(f"true_{f}" for f in FIELDS),
    *(f"judged_{f}" for f in FIELDS),
]


def _as_dict(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return {}
    return value if isinstance(value, dict) else {}


def _labels(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(value)] if isinstance(value, str) else [str(v) for v in value]


def judgements(
    frame: pd.DataFrame, extra: dict[str, list[dict[str, Any]]] | None = None
) -> pd.DataFrame:
    """One row per (valid patient trial, judge): true and judged label lists
    (:data:`JUDGEMENT_COLUMNS`; ``judged_*`` None where the judge could not read it).
    ``extra``: more judgements by trial id, read after the stored ones (people's ratings,
    :func:`behaviorlab.families.patient._rating.human_judgements`)."""
    if "task" not in frame.columns or frame.empty:
        return pd.DataFrame(columns=JUDGEMENT_COLUMNS)
    trials = frame.loc[frame["task"].astype(str) == PATIENT]
    if "error" in trials.columns:
        trials = trials.loc[trials["error"].isna()]
    rows: list[dict[str, Any]] = []
    for rec in trials.to_dict(orient="records"):
        value = _as_dict(rec.get("answer_json"))
        truth = value.get("truth") or {}
        for j in [*value.get("judgements", []), *(extra or {}).get(str(rec["trial_id"]), [])]:
            model = j.get("model") or {}
            read = j.get("error") is None and j.get("core_beliefs") is not None
            rows.append(
                {
                    "simulator": str(rec["simulator"]),
                    "condition": str(rec["condition"]),
                    "arm": str(value.get("arm")),
                    "kind": str(value.get("kind")),
                    "level": value.get("level"),
                    "person_id": str(rec["person_id"]),
                    "episode_id": str(rec.get("episode_id")),
                    "trial_id": str(rec["trial_id"]),
                    "judge": str(j["judge"]),
                    "judge_model": str(model.get("model", j.get("kind"))),
                    "same_model_as_patient": j.get("same_model_as_patient"),
                    "error": j.get("error"),
                    **{f"true_{f}": _labels(truth.get(f)) for f in FIELDS},
                    **{f"judged_{f}": _labels(j.get(f)) if read else None for f in FIELDS},
                }
            )
    return pd.DataFrame(rows, columns=JUDGEMENT_COLUMNS)


def _jaccard(a: Sequence[str], b: Sequence[str]) -> float:
    sa, sb = set(a), set(b)
    return 1.0 if not sa | sb else len(sa & sb) / len(sa | sb)


def _ratio(s: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(s[..., 0] / s[..., 1])


def _f1_stats(rows: pd.DataFrame, field: str, labels: Sequence[str]) -> ClusterStats:
    """Per session: TP, FP, FN of every label (3 columns per label)."""
    out = np.zeros((len(rows), 3 * len(labels)))
    for i, (true, got) in enumerate(
        zip(rows[f"true_{field}"], rows[f"judged_{field}"], strict=True)
    ):
        for k, label in enumerate(labels):
            t, g = label in true, label in got
            out[i, 3 * k : 3 * k + 3] = (t and g, g and not t, t and not g)
    return ClusterStats.from_rows(list(rows["person_id"]), out)


def _f1(s: np.ndarray, k: int) -> np.ndarray:
    tp, fp, fn = s[..., 3 * k], s[..., 3 * k + 1], s[..., 3 * k + 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(2 * tp / (2 * tp + fp + fn))


def _macro(s: np.ndarray, n_labels: int) -> np.ndarray:
    per = np.stack([_f1(s, k) for k in range(n_labels)], axis=-1)
    with warnings.catch_warnings():  # a replicate where no label occurs: NaN, not a warning
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.asarray(np.nanmean(per, axis=-1))


def permutation_chance(
    rows: pd.DataFrame, field: str, *, permutations: int = 200, seed: int = 0
) -> dict[str, float]:
    """The mean Jaccard with the true models permuted across sessions (module docstring):
    ``mean``, ``q95`` of the draws and ``p`` of the observed value."""
    models = sorted(rows["person_id"].unique())
    truth = {pid: g[f"true_{field}"].iloc[0] for pid, g in rows.groupby("person_id")}
    got = list(rows[f"judged_{field}"])
    owner = list(rows["person_id"])
    observed = float(
        np.mean([_jaccard(g, t) for g, t in zip(got, rows[f"true_{field}"], strict=True)])
    )
    rng = np.random.default_rng(seed)
    draws = np.empty(permutations)
    for p in range(permutations):
        moved = dict(zip(models, rng.permutation(models), strict=True))
        draws[p] = np.mean([_jaccard(g, truth[moved[o]]) for g, o in zip(got, owner, strict=True)])
    return {
        "mean": float(draws.mean()),
        "q95": float(np.quantile(draws, 0.95)),
        "p": float((1 + np.sum(draws >= observed - 1e-12)) / (1 + permutations)),
    }


def fidelity(
    rows: pd.DataFrame,
    field: str,
    *,
    n_resamples: int = 1000,
    seed: int = 0,
    permutations: int = 200,
) -> dict[str, Any]:
    """For one group of judged sessions and one label kind: ``jaccard`` and ``macro_f1``
    (Estimates clustered by model), ``per_label`` F1 (label -> Estimate, labels that occur),
    ``chance`` (:func:`permutation_chance`), ``sessions`` and ``models``. Sessions whose true
    label set is empty are left out (nothing to read: a judge reading nothing would score 1)."""
    labels = FIELDS[field]
    read = rows.loc[rows[f"judged_{field}"].notna() & rows[f"true_{field}"].map(len).gt(0)]

    def boot(stats: ClusterStats, statistic: Any) -> Estimate:
        return cluster_bootstrap(stats, statistic, n_resamples=n_resamples, seed=seed)

    if read.empty:
        nan = Estimate(math.nan, math.nan, math.nan, 0, 0, "cluster-bootstrap")
        chance = {"mean": math.nan, "q95": math.nan, "p": math.nan}
        return {
            "jaccard": nan,
            "macro_f1": nan,
            "per_label": {},
            "chance": chance,
            "sessions": 0,
            "models": 0,
        }
    jac = [
        _jaccard(g, t) for g, t in zip(read[f"judged_{field}"], read[f"true_{field}"], strict=True)
    ]
    jstats = ClusterStats.from_rows(
        list(read["person_id"]), np.column_stack([jac, np.ones(len(jac))])
    )
    fstats = _f1_stats(read, field, labels)
    sums = fstats.values.sum(axis=0)
    present = [k for k in range(len(labels)) if sums[3 * k] + sums[3 * k + 1] + sums[3 * k + 2] > 0]
    per_label = {labels[k]: boot(fstats, functools.partial(_f1, k=k)) for k in present}
    return {
        "jaccard": boot(jstats, _ratio),
        "macro_f1": boot(fstats, functools.partial(_macro, n_labels=len(labels))),
        "per_label": per_label,
        "chance": permutation_chance(read, field, permutations=permutations, seed=seed),
        "sessions": len(read),
        "models": int(read["person_id"].nunique()),
    }


def _readings(rows: pd.DataFrame) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for rec in rows.to_dict(orient="records"):
        if rec["judged_core_beliefs"] is None:
            continue
        out[rec["trial_id"]] = {f"{f}:{x}" for f in FIELDS for x in rec[f"judged_{f}"]}
    return out


def consistency(rows: pd.DataFrame, *, n_resamples: int = 1000, seed: int = 0) -> dict[str, Any]:
    """How alike a judge's readings of two sessions of the same model are (every label kind
    together): ``same`` (an Estimate clustered by model: each model's mean pairwise Jaccard)
    and ``different`` (the mean Jaccard between sessions of different models), ``models``
    with two or more read sessions."""
    by_model: dict[str, list[set[str]]] = {}
    for pid, g in rows.groupby("person_id"):
        by_model[str(pid)] = list(_readings(g).values())
    per_model = {
        pid: float(
            np.mean([_jaccard(sorted(a), sorted(b)) for a, b in itertools.combinations(r, 2)])
        )
        for pid, r in by_model.items()
        if len(r) >= 2
    }
    flat = [(pid, r) for pid, rs in by_model.items() for r in rs]
    between = [
        _jaccard(sorted(a), sorted(b))
        for (p1, a), (p2, b) in itertools.combinations(flat, 2)
        if p1 != p2
    ]
    if not per_model:
        nan = Estimate(math.nan, math.nan, math.nan, 0, 0, "cluster-bootstrap")
        return {"same": nan, "different": math.nan, "models": 0}
    stats = ClusterStats.from_rows(
        list(per_model), np.column_stack([list(per_model.values()), np.ones(len(per_model))])
    )
    return {
        "same": cluster_bootstrap(stats, _ratio, n_resamples=n_resamples, seed=seed),
        "different": float(np.mean(between)) if between else math.nan,
        "models": len(per_model),
    }


def planted_rows(table: pd.DataFrame) -> pd.DataFrame:
    """The judge-check rows: planted transcripts, each read once per judge (the same
    transcript in every parties entry is kept once)."""
    planted = table.loc[table["kind"] == "planted_transcript"]
    return planted.drop_duplicates(subset=["episode_id", "judge"])
