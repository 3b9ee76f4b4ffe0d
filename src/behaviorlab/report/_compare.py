"""Two runs side by side: the same metrics of both, and their differences.

Two runs are paired only where they hold the same trials (same task, person, item, episode,
step and seed for a simulator and condition), as when a spec is rerun with another model.
There, per-trial metrics get a paired bootstrap over people on the matched trials; otherwise
(and for the distribution distances) the difference has an interval from the two runs'
bootstrap standard errors, as for independent samples, and the table says which it is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import pandas as pd

from behaviorlab.analysis import Estimate, GapRow, MeanMetric, paired_effect
from behaviorlab.analysis._frame import MATCH_KEYS
from behaviorlab.analysis._metrics import get_metric
from behaviorlab.report._collect import RunData
from behaviorlab.report._document import Block, Paragraph, Plot, Section, table
from behaviorlab.report._format import arm, header, interval, plural
from behaviorlab.report._plots import Point, SeriesStyle, dot_whisker
from behaviorlab.report._terminal import format_estimate

RUN_STYLES = (SeriesStyle("#2563eb", "circle"), SeriesStyle("#ea580c", "square"))

ArmKey = tuple[str, str, str]


@dataclass(frozen=True)
class Difference:
    """``metric(b) - metric(a)`` for one arm; ``paired`` says how the interval was made."""

    key: ArmKey
    metric: str
    a: Estimate | None
    b: Estimate | None
    diff: Estimate | None
    paired: bool


def run_labels(a: RunData, b: RunData) -> tuple[str, str]:
    """How the two runs are named in the legend: experiment names, or run ids when the same
    experiment is compared with itself."""
    if a.name != b.name:
        return a.name, b.name
    if a.run_id != b.run_id:
        return a.run_id, b.run_id
    return f"{a.run_id} (A)", f"{b.run_id} (B)"


def _rows(data: RunData) -> dict[ArmKey, GapRow]:
    return {(r.task, r.simulator, r.condition): r for r in data.report.rows}


def _keys(frame: pd.DataFrame) -> pd.MultiIndex:
    cols = [*MATCH_KEYS, "simulator", "condition"]
    return pd.MultiIndex.from_frame(frame[cols].astype(str))


def matched_trials(a: RunData, b: RunData) -> int:
    """Trials of ``a`` that ``b`` also holds (same arm and trial key)."""
    return int(_keys(a.frame).isin(_keys(b.frame)).sum())


def _arm_rows(data: RunData, key: ArmKey, tag: str) -> pd.DataFrame:
    f = data.frame
    rows = f.loc[(f["task"] == key[0]) & (f["simulator"] == key[1]) & (f["condition"] == key[2])]
    return rows.assign(condition=tag)


def _independent(a: Estimate, b: Estimate) -> Estimate:
    value = b.value - a.value
    se = math.sqrt(a.se**2 + b.se**2) if math.isfinite(a.se) and math.isfinite(b.se) else math.nan
    z = NormalDist().inv_cdf(0.5 + a.level / 2)
    return Estimate(
        value,
        value - z * se,
        value + z * se,
        min(a.n_clusters, b.n_clusters),
        a.n + b.n,
        "independent (normal, bootstrap standard errors)",
        a.level,
        se,
    )


def differences(a: RunData, b: RunData, *, n_resamples: int, seed: int = 0) -> list[Difference]:
    """Every (arm, metric) the two runs share, with ``b - a``."""
    rows_a, rows_b = _rows(a), _rows(b)
    metrics = [m for m in a.report.metrics if m in b.report.metrics]
    out = []
    for key in [k for k in rows_a if k in rows_b]:
        for m in metrics:
            ea, eb = rows_a[key].estimates.get(m), rows_b[key].estimates.get(m)
            if ea is None or eb is None or not (ea.ok and eb.ok):
                out.append(Difference(key, m, ea, eb, None, False))
                continue
            diff: Estimate | None = None
            if isinstance(get_metric(m), MeanMetric):
                both = pd.concat([_arm_rows(a, key, "run-a"), _arm_rows(b, key, "run-b")])
                est = paired_effect(
                    both,
                    key[1],
                    "run-b",
                    "run-a",
                    m,
                    task=key[0],
                    n_resamples=n_resamples,
                    seed=seed,
                )
                diff = est if est.ok and est.n > 0 else None
            out.append(
                Difference(key, m, ea, eb, diff or _independent(ea, eb), paired=diff is not None)
            )
    return out


def compare_section(a: RunData, b: RunData, *, n_resamples: int) -> Section:
    label_a, label_b = run_labels(a, b)
    many = len({*a.report.tasks, *b.report.tasks}) > 1
    matched = matched_trials(a, b)
    diffs = differences(a, b, n_resamples=n_resamples)
    blocks: list[Block] = []
    if matched:
        pairing = (
            f"The runs share {plural(matched, 'trial')} (of {len(a.frame)} in {label_a}, "
            f"{len(b.frame)} in {label_b}): per-trial metrics (accuracy, log-loss, Brier) are "
            "compared on those matched trials with a paired bootstrap over people."
        )
    else:
        pairing = (
            "The runs share no trials, so the differences are between independent samples: "
            "their intervals combine the two runs' bootstrap standard errors and are not paired."
        )
    ids = "" if label_a.startswith(a.run_id) else f" (runs {a.run_id} and {b.run_id})"
    blocks.append(
        Paragraph(
            f"This run, {label_a}, against {label_b}{ids}, metric by metric for the simulators "
            f"and conditions both ran. {pairing}"
        )
    )
    points = []
    labels: list[str] = []
    for data, name in ((a, label_a), (b, label_b)):
        for r in data.report.rows:
            lab = arm(r.simulator, r.condition, r.task if many else None)
            labels.append(lab)
            for m, e in r.estimates.items():
                if e is not None and e.ok:
                    points.append(Point(m, lab, name, e.value, e.low, e.high))
    metrics = [m for m in a.report.metrics if any(p.panel == m for p in points)]
    if points:
        fig = dot_whisker(
            points,
            panels={m: header(a.report, m) for m in metrics},
            labels=list(dict.fromkeys(labels)),
            styles=dict(zip((label_a, label_b), RUN_STYLES, strict=True)),
            grouped=True,
        )
        blocks.append(
            Plot(
                "plot-compare",
                fig,
                f"Each metric of both runs with its interval: {label_a} (circles) and "
                f"{label_b} (squares).",
            )
        )
    rows = []
    for d in diffs:
        lab = arm(d.key[1], d.key[2], d.key[0] if many else None)
        diff = interval(d.diff.value, d.diff.low, d.diff.high, signed=True) if d.diff else "—"
        how = "—" if d.diff is None else "independent"
        if d.diff is not None and d.paired:
            how = f"paired ({plural(d.diff.n, 'trial')})"
        rows.append(
            [lab, header(a.report, d.metric), format_estimate(d.a), format_estimate(d.b), diff, how]
        )
    if rows:
        blocks.append(
            table(
                ["arm", "metric", label_a, label_b, f"{label_b} − {label_a}", "interval"],
                rows,
                numeric=[label_a, label_b, f"{label_b} − {label_a}"],
                caption=(
                    "paired: bootstrap over people on the trials both runs hold (the difference "
                    "is over those trials only); independent: from the two runs' bootstrap "
                    "standard errors, as if the runs' people were independent samples."
                ),
            )
        )
    only_a = sorted(set(_rows(a)) - set(_rows(b)))
    only_b = sorted(set(_rows(b)) - set(_rows(a)))
    for keys, name in ((only_a, label_a), (only_b, label_b)):
        if keys:
            arms = ", ".join(arm(s, c, t if many else None) for t, s, c in keys)
            blocks.append(Paragraph(f"Only in {name}: {arms}.", "note"))
    return Section("compare", f"Compared with {label_b}", tuple(blocks))
