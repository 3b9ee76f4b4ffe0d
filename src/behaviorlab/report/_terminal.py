"""The gap report in the terminal: a Rich table and plain summary lines.

Numbers are shown as ``0.62 [0.55, 0.69]`` (estimate and interval), a dash when a metric does
not apply; the summary lines say in words what the table implies (noise floor, persona
effects, whether a baseline beats the LLMs, what is missing and why).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import pandas as pd
from rich.table import Table

from behaviorlab.analysis import Estimate, GapReport, PairedEffect

DASH = "—"
MINUS = "−"

LABELS = {
    "accuracy": "accuracy",
    "macro_f1": "macro-F1",
    "log_loss": "log-loss",
    "brier": "Brier",
    "js_distance": "JS distance",
    "total_variation": "TV distance",
}
"""Display names of the built-in metrics; other metrics show their registered name."""


def _label(metric: str) -> str:
    return LABELS.get(metric, metric)


def _num(x: float, digits: int, signed: bool = False) -> str:
    text = f"{x:+.{digits}f}" if signed else f"{x:.{digits}f}"
    if text.lstrip("+-").strip("0.") == "":  # -0.00 / +0.00: no sign on a rounded zero
        text = f"{abs(x):.{digits}f}"
        return f"+{text}" if signed else text
    return text.replace("-", MINUS)


def format_estimate(est: Estimate | None, digits: int = 2, *, signed: bool = False) -> str:
    """``0.62 [0.55, 0.69]``; a dash when there is no finite estimate."""
    if est is None or not est.ok:
        return DASH
    if not (math.isfinite(est.low) and math.isfinite(est.high)):
        return _num(est.value, digits, signed)
    low, high = _num(est.low, digits), _num(est.high, digits)
    return f"{_num(est.value, digits, signed)} [{low}, {high}]"


def _arm(simulator: str, condition: str) -> str:
    return f"{simulator} ({condition})"


def render_gap(report: GapReport) -> Table:
    """The gap table: one row per (task, simulator, condition), one column per metric."""
    many_tasks = len(report.tasks) > 1
    pct = round(report.level * 100)
    table = Table(
        title="Gap to real people",
        caption=(
            f"{pct}% intervals from a bootstrap over people ({report.n_resamples} resamples); "
            f"↑ higher is better, ↓ lower is better; {DASH} not applicable; "
            "italic rows are non-LLM baselines"
        ),
        header_style="bold",
    )
    if many_tasks:
        table.add_column("task")
    table.add_column("simulator")
    table.add_column("condition")
    table.add_column("n", justify="right")
    table.add_column("failed", justify="right")
    table.add_column("invalid", justify="right")
    for m in report.metrics:
        arrow = "↑" if report.higher_is_better.get(m, True) else "↓"
        table.add_column(f"{_label(m)} {arrow}", justify="right", no_wrap=True)
    for row in report.rows:
        cells = [row.task] if many_tasks else []
        cells += [row.simulator, row.condition, str(row.n_valid)]
        cells += [str(row.n_failed), str(row.n_invalid)]
        cells += [format_estimate(row.estimates.get(m)) for m in report.metrics]
        table.add_row(*cells, style="italic" if row.baseline else None)
    return table


def _prefix(report: GapReport, task: str) -> str:
    return f"[{task}] " if len(report.tasks) > 1 else ""


def _noise_floor_lines(report: GapReport) -> Iterable[str]:
    for task, floors in report.noise_floors.items():
        for metric, est in floors.items():
            if not est.ok:
                continue
            yield (
                f"{_prefix(report, task)}human split-half noise floor ({_label(metric)}): "
                f"{format_estimate(est)} over {est.n_clusters} people; a simulator that knew "
                f"the people's true answer distribution would score about {est.value / 2:.2f}"
            )


def _direction(report: GapReport, metric: str) -> str:
    return "" if report.higher_is_better.get(metric, True) else " (lower is better)"


def _persona_lines(report: GapReport) -> Iterable[str]:
    for e in report.effects:
        if e.kind != "persona":
            continue
        yield (
            f"{_prefix(report, e.task)}persona effect ({e.condition_a} {MINUS} {e.condition_b}), "
            f"{e.simulator_a}: {format_estimate(e.estimate, signed=True)} "
            f"{_label(e.metric)}{_direction(report, e.metric)}"
        )


def _baseline_line(report: GapReport, e: PairedEffect) -> str:
    llm = report.row(e.simulator_a, e.condition_a, e.task)
    base = report.row(e.simulator_b, e.condition_b, e.task)
    llm_est, base_est = llm.estimates[e.metric], base.estimates[e.metric]
    assert llm_est is not None and base_est is not None
    higher = report.higher_is_better.get(e.metric, True)
    llm_better = (llm_est.value > base_est.value) == higher
    diff = e.estimate
    if diff.ok:
        d_text = (
            f"; {e.simulator_a} {MINUS} {e.simulator_b} = {format_estimate(diff, signed=True)} "
            "on the same trials"
        )
        significant = diff.low > 0 or diff.high < 0
    else:
        d_text, significant = " (no common trials to pair)", False
    scores = (
        f"{_arm(base.simulator, base.condition)} {format_estimate(base_est)} vs best LLM "
        f"{_arm(llm.simulator, llm.condition)} {format_estimate(llm_est)}"
    )
    what = f"{_label(e.metric)}{_direction(report, e.metric)}"
    if not llm_better:
        verdict = "beats every LLM simulator" if significant else "scores above every LLM simulator"
        tail = "" if significant else ", though not significantly"
        who = f"{_prefix(report, e.task)}baseline {e.simulator_b}"
        return f"{who} {verdict} on {what}{tail}: {scores}{d_text}"
    verdict = (
        "beats every baseline" if significant else "is not distinguishable from the best baseline"
    )
    return (
        f"{_prefix(report, e.task)}best LLM simulator {e.simulator_a} {verdict} on {what}: "
        f"{scores}{d_text}"
    )


def _missing_lines(report: GapReport) -> Iterable[str]:
    arms: dict[str, dict[str, None]] = {}  # reason -> arms (ordered set)
    metrics: dict[str, dict[str, None]] = {}  # reason -> metrics (ordered set)
    for row in report.rows:
        for metric, reason in row.missing.items():
            arms.setdefault(reason, {})[_arm(row.simulator, row.condition)] = None
            metrics.setdefault(reason, {})[metric] = None
    for reason, who in arms.items():
        names = ", ".join(_label(m) for m in metrics[reason])
        yield f"{names}: {DASH} for {', '.join(who)}: {reason}"


def _interval_note(report: GapReport) -> Iterable[str]:
    basic = {
        m
        for row in report.rows
        for m, est in row.estimates.items()
        if est is not None and est.method == "cluster-bootstrap-basic"
    }
    if basic:
        names = ", ".join(_label(m) for m in report.metrics if m in basic)
        yield (
            f"{names}: basic bootstrap intervals; sampling noise in the human answers inflates "
            "a distance, so the value can sit at the top of its interval"
        )


def _position_lines(report: GapReport) -> Iterable[str]:
    pos = report.position
    if pos.empty:
        return
    over = pos.loc[pd.to_numeric(pos["share_low"]) > pd.to_numeric(pos["expected"])]
    for (task, sim, cond), g in over.groupby(["task", "simulator", "condition"], sort=True):
        excess = (g["share"] - g["expected"]).to_numpy(dtype=float)
        worst = g.iloc[int(np.argmax(excess))]
        place = int(worst["position"]) + 1
        yield (
            f"{_prefix(report, str(task))}position bias, {_arm(str(sim), str(cond))}: the option "
            f"shown at position {place} is chosen {worst['share']:.0%} "
            f"[{worst['share_low']:.0%}, {worst['share_high']:.0%}] of the time, "
            f"{worst['expected']:.0%} if position were ignored"
        )


def _failure_lines(report: GapReport) -> Iterable[str]:
    for row in report.rows:
        if row.n_failed or row.n_invalid:
            yield (
                f"{_prefix(report, row.task)}{_arm(row.simulator, row.condition)}: "
                f"{row.n_failed} of {row.n} trials failed (backend or timeout) and "
                f"{row.n_invalid} gave invalid answers; they are left out of the metrics"
            )


def gap_summary_lines(report: GapReport) -> list[str]:
    """Plain sentences under the table: noise floors, persona effects, the best LLM against
    the best baseline (said plainly when a baseline wins), metrics that could not be computed
    and why, position bias, and failed trials."""
    lines = [*_noise_floor_lines(report), *_persona_lines(report)]
    lines += [_baseline_line(report, e) for e in report.effects if e.kind == "baseline"]
    lines += [*_missing_lines(report), *_interval_note(report)]
    lines += [*_position_lines(report), *_failure_lines(report)]
    return lines
