"""Answer keys: people's and the model's correctness on assessment items, compared.

Where an item has a correct answer (``answer:`` in the survey mapping, or a key file), each
trial says whether the person was right (``human_correct``) and whether the simulated answer
was (``key_correct``); data holding only per-person correctness (person, item, correct) come in
through :func:`read_correctness` and join the model's trials by person and item. Per (task,
simulator, condition), over the trials where both are known:

- people's and the model's accuracy, overall (person-clustered intervals) and per item;
- the correlation of item difficulty (people's against the model's per-item accuracy) across
  items, Pearson and Spearman (from 3 items), with intervals from a bootstrap over items (from
  8 items; with fewer, the value alone and a note);
- error-pattern agreement: Cohen's kappa between "the person is right" and "the model, in that
  person's place, is right" over the items both answered, one kappa per person–model pair,
  averaged over people, with a person-clustered interval (a person whose kappa is undefined,
  because they and the model were both right on every item or both on none, is counted and
  left out; one of them constant and the other not gives kappa 0, as Cohen's definition does);
  beside it ``kappa_pooled``, Cohen's kappa of the 2×2 table summed over every person–item
  pair (no one left out; person-clustered interval from the per-person cell counts). The mean
  runs below the pooled kappa: each person's kappa is taken against their own few answers'
  margins, and the people dropped for perfect agreement are the ones who agree most. The
  pooled kappa is what recovers a population's kappa;
- the items where they disagree most (the largest |people's − model's| accuracy).
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from behaviorlab.analysis._bootstrap import ClusterStats, Estimate, cluster_bootstrap
from behaviorlab.analysis._frame import SupportsToPandas, as_frame, require
from behaviorlab.analysis._items import correlations, kappa_value
from behaviorlab.analysis._metrics import ratio

TRUE = frozenset({"1", "1.0", "true", "t", "yes", "y", "correct", "right"})
FALSE = frozenset({"0", "0.0", "false", "f", "no", "n", "incorrect", "wrong"})
KEY_COLUMNS = ("task", "simulator", "condition", "person_id", "item_id", "human", "model")
SUMMARY_COLUMNS = (
    "task",
    "simulator",
    "condition",
    "measure",
    "value",
    "low",
    "high",
    "n_people",
    "n_items",
    "n",
    "note",
)
ITEM_COLUMNS = (
    "task",
    "simulator",
    "condition",
    "item_id",
    "n",
    "human_accuracy",
    "model_accuracy",
    "difference",
    "agreement",
)
MIN_ITEMS = 3
"""Items needed for the item-difficulty correlations at all."""
MIN_INTERVAL_ITEMS = 8
"""Items needed for their interval: a bootstrap over fewer items draws the same few items so
often (with 3, one resample in nine repeats one item thrice) that its interval means little."""
POOLED_NOTE = (
    "Cohen's kappa of every person-item pair together (no one left out); the per-person mean "
    "runs below it, since the people left out of it agree most"
)


class CorrectnessError(ValueError):
    """A correctness table that cannot be read; the message names file, line and column."""


def read_correctness(
    path: str | Path,
    *,
    person: str = "person_id",
    item: str = "item_id",
    correct: str = "correct",
) -> pd.DataFrame:
    """A correctness-only table (one row per person and item: was the person right?) as a
    frame of ``person_id``, ``item_id``, ``human_correct`` (0.0 / 1.0).

    ``correct`` accepts 1/0, true/false, yes/no, correct/incorrect, right/wrong (any case); an
    empty cell is missing and the row is left out. Anything else, a missing column or a person
    and item given twice is a :class:`CorrectnessError` naming the file, the line and the
    column."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except (FileNotFoundError, IsADirectoryError):
        raise CorrectnessError(f"correctness table {str(p)!r} is not a file") from None
    except UnicodeDecodeError as e:
        raise CorrectnessError(f"{p}: not UTF-8 text (offset {e.start}); save it as CSV") from None
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    for role, name in (("person", person), ("item", item), ("correct", correct)):
        if name not in header:
            raise CorrectnessError(
                f"{p}:1: no {role} column {name!r}; the columns are {', '.join(header) or '(none)'}"
                f" (a correctness table has one row per person and item: {person}, {item}, "
                f"{correct}; name yours with {role}=...)"
            )
    rows: list[tuple[str, str, float]] = []
    seen: dict[tuple[str, str], int] = {}
    for record in reader:
        line = reader.line_num  # the file's line (blank lines and quoted line breaks count)
        who, what = (record.get(person) or "").strip(), (record.get(item) or "").strip()
        raw = (record.get(correct) or "").strip()
        for name, value in ((person, who), (item, what)):
            if not value:
                raise CorrectnessError(f"{p}:{line}: column {name!r} is empty")
        if not raw:
            continue
        if raw.lower() in TRUE:
            value = 1.0
        elif raw.lower() in FALSE:
            value = 0.0
        else:
            raise CorrectnessError(
                f"{p}:{line}: column {correct!r} is {raw!r}; write 1 or 0 (true/false, "
                "yes/no, correct/incorrect)"
            )
        if (who, what) in seen:
            raise CorrectnessError(
                f"{p}:{line}: person {who!r} and item {what!r} appear twice (lines "
                f"{seen[(who, what)]} and {line}); keep one row per person and item"
            )
        seen[(who, what)] = line
        rows.append((who, what, value))
    return pd.DataFrame(rows, columns=["person_id", "item_id", "human_correct"])


def _score(frame: pd.DataFrame, name: str) -> pd.Series:
    """A per-trial score: the column ``name``, else ``scores[name]``."""
    if name in frame.columns:
        return pd.to_numeric(frame[name], errors="coerce").astype(float)
    if "scores" not in frame.columns:
        return pd.Series(math.nan, index=frame.index, dtype=float)
    values = [s.get(name) if isinstance(s, dict) else None for s in frame["scores"].tolist()]
    return pd.to_numeric(pd.Series(values, index=frame.index), errors="coerce").astype(float)


def keyed_trials(
    results: pd.DataFrame | SupportsToPandas, human: pd.DataFrame | None = None
) -> pd.DataFrame:
    """One row per trial where both people's and the model's correctness are known
    (:data:`KEY_COLUMNS`): the model's from ``key_correct``, the person's from
    ``human_correct`` in the results or, given ``human`` (a :func:`read_correctness` frame),
    from it, matched by person and item."""
    frame = as_frame(results)
    require(frame, "task", "simulator", "condition", "person_id", "item_id")
    ok = frame["error"].isna() if "error" in frame.columns else pd.Series(True, frame.index)
    frame = frame.loc[ok.to_numpy(dtype=bool)]
    out = frame[["task", "simulator", "condition", "person_id", "item_id"]].astype(str)
    out = out.assign(model=_score(frame, "key_correct").to_numpy())
    if human is None:
        out = out.assign(human=_score(frame, "human_correct").to_numpy())
    else:
        require(human, "person_id", "item_id", "human_correct")
        table = human[["person_id", "item_id", "human_correct"]].astype(
            {"person_id": str, "item_id": str}
        )
        out = out.merge(table, on=["person_id", "item_id"], how="inner").rename(
            columns={"human_correct": "human"}
        )
    keep = out["model"].notna() & out["human"].notna()
    return out.loc[keep, list(KEY_COLUMNS)].reset_index(drop=True)


@dataclass(frozen=True)
class AnswerKeyReport:
    """What :func:`answer_key_agreement` found: ``summary`` (per arm: people's and the
    model's accuracy, the difficulty correlations, the mean kappa; :data:`SUMMARY_COLUMNS`),
    ``items`` (per arm and item, sorted by disagreement; :data:`ITEM_COLUMNS`)."""

    summary: pd.DataFrame
    items: pd.DataFrame

    @property
    def empty(self) -> bool:
        return self.summary.empty

    def value(self, measure: str, simulator: str | None = None) -> Estimate:
        rows = self.summary.loc[self.summary["measure"] == measure]
        if simulator is not None:
            rows = rows.loc[rows["simulator"] == simulator]
        if len(rows) != 1:
            raise KeyError(f"{len(rows)} rows for {measure!r}, simulator {simulator!r}")
        r = rows.iloc[0]
        return Estimate(
            float(r["value"]), float(r["low"]), float(r["high"]), int(r["n_people"]), 0, ""
        )

    def disagreements(self, k: int = 5) -> pd.DataFrame:
        """The ``k`` items of each arm where people's and the model's accuracy differ most."""
        return self.items.groupby(["task", "simulator", "condition"], sort=False).head(k)


def _mean(
    people: np.ndarray,
    values: np.ndarray,
    boot: dict[str, Any],
    bounds: tuple[float, float] = (0.0, 1.0),
) -> Estimate:
    """The mean of per-trial (or per-person) values with a person-clustered percentile
    interval, from the additive sums [Σ value, count] per person."""
    stats = ClusterStats.from_rows(people, np.column_stack([values, np.ones(len(values))]))
    return cluster_bootstrap(
        stats, lambda agg: ratio(agg[..., 0], agg[..., 1]), bounds=bounds, **boot
    )


def _kappas(group: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, ClusterStats]:
    """(people, kappa) for every person with a defined kappa over their items, and every
    person's 2×2 counts ``[n00, n01, n10, n11]`` (person's right × model's right)."""
    cell = (2 * group["human"].to_numpy(dtype=int) + group["model"].to_numpy(dtype=int)).astype(
        np.int64
    )
    stats = ClusterStats.from_entries(
        group["person_id"].to_numpy(), cell, np.ones(len(cell)), (4,), n=len(cell)
    )
    kappa = kappa_value(stats.values)
    keep = np.isfinite(kappa)
    return stats.clusters[keep], kappa[keep], stats


def answer_key_agreement(
    results: pd.DataFrame | SupportsToPandas,
    human: pd.DataFrame | None = None,
    *,
    n_resamples: int = 2000,
    seed: int = 0,
    level: float = 0.95,
) -> AnswerKeyReport:
    """People's against the model's correctness per (task, simulator, condition): see the
    module docstring. ``human`` is a correctness-only table (:func:`read_correctness`) when
    the results do not carry ``human_correct``. Empty without keyed trials."""
    trials = keyed_trials(results, human)
    unmatched = _unmatched(results, human) if human is not None else {}
    boot: dict[str, Any] = {"n_resamples": n_resamples, "seed": seed, "level": level}
    summary: list[dict[str, Any]] = []
    items: list[pd.DataFrame] = []
    for key, group in trials.groupby(["task", "simulator", "condition"], sort=True):
        arm = dict(zip(("task", "simulator", "condition"), map(str, key), strict=True))
        per_item = _items(group).assign(**arm)
        items.append(per_item)
        people = group["person_id"].to_numpy()
        n_items, n_people = len(per_item), int(group["person_id"].nunique())
        base = arm | {"n_items": n_items, "n": len(group), "note": ""}

        def add(measure: str, est: Estimate, note: str = "", base: dict[str, Any] = base) -> None:
            summary.append(
                base
                | {"measure": measure, "value": est.value, "low": est.low, "high": est.high}
                | {"n_people": est.n_clusters, "note": note or base["note"]}
            )

        add(
            "human_accuracy",
            _mean(people, group["human"].to_numpy(float), boot),
            unmatched.get(tuple(map(str, key)), unmatched.get((), "")),
        )
        add("model_accuracy", _mean(people, group["model"].to_numpy(float), boot))
        if n_items >= MIN_ITEMS:
            x = per_item["human_accuracy"].to_numpy(float)
            y = per_item["model_accuracy"].to_numpy(float)
            pearson, spearman = correlations(x, y, np.arange(n_items), **boot)
            few = ""
            if n_items < MIN_INTERVAL_ITEMS:  # the point value only
                pearson, spearman = _no_interval(pearson), _no_interval(spearman)
                few = (
                    f"no interval over {n_items} items (a bootstrap over items needs at least "
                    f"{MIN_INTERVAL_ITEMS})"
                )
            add("difficulty_pearson", pearson, few)
            add("difficulty_spearman", spearman, few)
        who, kappa, cells = _kappas(group)
        left = n_people - len(who)
        note = (
            f"{left} of {n_people} people have no kappa (they and the model in their place "
            "were both right on every item, or both on none) and are left out"
            if left
            else ""
        )
        if len(who):
            add("kappa", _mean(who, kappa, boot, bounds=(-1.0, 1.0)), note)
        else:
            add("kappa", _nan(), note or "no person has a defined kappa")
        pooled = cluster_bootstrap(cells, kappa_value, bounds=(-1.0, 1.0), **boot)
        add("kappa_pooled", pooled, POOLED_NOTE if left else "")
    columns = list(SUMMARY_COLUMNS)
    table = pd.DataFrame.from_records(summary, columns=columns)
    item_table = (
        pd.concat(items, ignore_index=True)[list(ITEM_COLUMNS)]
        if items
        else pd.DataFrame(columns=list(ITEM_COLUMNS))
    )
    return AnswerKeyReport(table, item_table)


def _pairs(keys: pd.DataFrame) -> list[str]:
    return [f"{p}/{i}" for p, i in keys[["person_id", "item_id"]].head(3).itertuples(index=False)]


def _unmatched(
    results: pd.DataFrame | SupportsToPandas, human: pd.DataFrame
) -> dict[tuple[str, ...], str]:
    """Per arm, a note on the rows the join by person and item left out: the arm's keyed
    trials with no row in the correctness table, and correctness rows with no trial at all
    (under the key ``()`` when only the latter)."""
    frame = as_frame(results)
    ok = frame["error"].isna() if "error" in frame.columns else pd.Series(True, frame.index)
    frame = frame.loc[ok.to_numpy(dtype=bool)]
    cols = ["task", "simulator", "condition", "person_id", "item_id"]
    trials = frame[cols].astype(str).loc[_score(frame, "key_correct").notna().to_numpy()]
    table = human[["person_id", "item_id"]].astype(str).drop_duplicates()
    pair = ["person_id", "item_id"]
    have = pd.MultiIndex.from_frame(table[pair])
    seen = pd.MultiIndex.from_frame(trials[pair])
    orphans = table.loc[~have.isin(seen)]
    tail = (
        f"{len(orphans)} of the correctness table's {len(table)} rows match no trial (e.g. "
        f"{', '.join(_pairs(orphans))}) and are left out"
        if len(orphans)
        else ""
    )
    notes: dict[tuple[str, ...], str] = {(): tail}
    missing = trials.loc[~pd.MultiIndex.from_frame(trials[pair]).isin(have)]
    for key, group in missing.groupby(["task", "simulator", "condition"], sort=True):
        arm = tuple(map(str, key))
        total = int((trials[["task", "simulator", "condition"]] == list(arm)).all(axis=1).sum())
        head = (
            f"{len(group)} of the arm's {total} keyed trials have no row in the correctness "
            f"table (e.g. {', '.join(_pairs(group))}) and are left out"
        )
        notes[arm] = "; ".join(x for x in (head, tail) if x)
    return notes


def _no_interval(est: Estimate) -> Estimate:
    return Estimate(est.value, math.nan, math.nan, est.n_clusters, est.n, est.method)


def _nan() -> Estimate:
    return Estimate(math.nan, math.nan, math.nan, 0, 0, "")


def _items(group: pd.DataFrame) -> pd.DataFrame:
    g = group.assign(agree=(group["human"] == group["model"]).astype(float))
    per = g.groupby("item_id", sort=True).agg(
        n=("human", "size"),
        human_accuracy=("human", "mean"),
        model_accuracy=("model", "mean"),
        agreement=("agree", "mean"),
    )
    per["difference"] = per["model_accuracy"] - per["human_accuracy"]
    per = per.reset_index()
    order = per["difference"].abs().sort_values(ascending=False, kind="stable").index
    return per.loc[order].reset_index(drop=True)
