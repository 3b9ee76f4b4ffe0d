"""The gap report in the terminal: a Rich table and plain summary lines.

Numbers are shown as ``0.62 [0.55, 0.69]`` (estimate and interval), a dash when a metric does
not apply; the summary lines say in words what the table implies (noise floor, persona
effects, whether a baseline beats the LLMs, what is missing and why).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from behaviorlab.analysis import (
    SMALL_SAMPLE_CLUSTERS,
    Estimate,
    GapReport,
    GapRow,
    PairedEffect,
)

DASH = "—"
MINUS = "−"

LABELS = {
    "accuracy": "accuracy",
    "macro_f1": "macro-F1",
    "log_loss": "log-loss",
    "brier": "Brier",
    "js_distance": "JS distance",
    "total_variation": "TV distance",
    "wasserstein": "Wasserstein",
}
"""Display names of the built-in metrics; other metrics show their registered name."""


def metric_labels(tasks: Iterable[str]) -> dict[str, str]:
    """The display names the families of ``tasks`` give their metrics (``Family.
    metric_labels``, e.g. OPeRA's "exact match" for ``accuracy``), where they agree: a metric
    two families name differently keeps its own name."""
    from behaviorlab.plugins import families_for

    named: dict[str, set[str]] = {}
    for fam in families_for(tasks):
        for metric, label in fam.metric_labels.items():
            named.setdefault(metric, set()).add(label)
    return {m: next(iter(labels)) for m, labels in named.items() if len(labels) == 1}


def _label(metric: str, report: GapReport | None = None) -> str:
    """A metric's display name: its family's (for the tasks of ``report``), else the
    built-in one, else its registered name."""
    if report is not None:
        own = metric_labels(report.tasks).get(metric)
        if own is not None:
            return own
    return LABELS.get(metric, metric)


def _num(x: float, digits: int, signed: bool = False) -> str:
    text = f"{x:+.{digits}f}" if signed else f"{x:.{digits}f}"
    if text.lstrip("+-").strip("0.") == "":  # -0.00 / +0.00: no sign on a rounded zero
        text = f"{abs(x):.{digits}f}"
        return f"+{text}" if signed else text
    return text.replace("-", MINUS)


def format_estimate(est: Estimate | None, digits: int = 2, *, signed: bool = False) -> str:
    """``0.62 [0.55, 0.69]``; a dash when there is no finite estimate. A basic bootstrap
    interval that excludes its value gets the bias-corrected estimate it is built around:
    ``0.15 (bc 0.12) [0.10, 0.14]``."""
    if est is None or not est.ok:
        return DASH
    if not (math.isfinite(est.low) and math.isfinite(est.high)):
        return _num(est.value, digits, signed)
    low, high = _num(est.low, digits), _num(est.high, digits)
    value = _num(est.value, digits, signed)
    if _outside(est):  # the basic interval excludes the value: show what it is built on
        value += f" (bc {_num(est.corrected, digits, signed)})"
    return f"{value} [{low}, {high}]"


def _outside(est: Estimate) -> bool:
    """A basic bootstrap interval that excludes its own point estimate."""
    corrected = getattr(est, "corrected", math.nan)
    return math.isfinite(corrected) and not est.low <= est.value <= est.high


def _arm(simulator: str, condition: str) -> str:
    return f"{simulator} ({condition})"


class _EstimateCell:
    """``0.62 [0.55, 0.69]`` on one line when the column is wide enough, else the value above
    its interval (so a table of many metrics still fits a narrow terminal)."""

    def __init__(self, est: Estimate | None) -> None:
        full = format_estimate(est)
        value, _, interval = full.partition(" ")
        self.full, self.value, self.interval = full, value, interval

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        if not self.interval:
            return Measurement(len(self.full), len(self.full))
        return Measurement(max(len(self.value), len(self.interval)), len(self.full))

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if not self.interval or options.max_width >= len(self.full):
            yield Text(self.full)
        else:
            yield Text(self.value)
            yield Text(self.interval)


class _GapTable(Table):
    """The wide gap table, which renders as ``narrow`` (one small table per arm) when the
    terminal is too narrow for one column per metric."""

    def __init__(self, *args: Any, narrow: RenderableType, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.narrow = narrow

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        needed = self.__rich_measure__(console, options.update_width(10_000)).minimum
        if needed > options.max_width:
            yield self.narrow
        else:
            yield from super().__rich_console__(console, options)


def unscored(row: GapRow) -> bool:
    """An arm whose trials ran but none is scored against a person: there is no human answer
    to compare with (agents debating among themselves, a simulated patient's session)."""
    return row.n_valid == 0 and row.n > row.n_failed + row.n_invalid


def unscored_lines(report: GapReport) -> list[str]:
    """One line per :func:`unscored` arm, printed instead of its row of dashes in
    :func:`render_gap` (which leaves such arms out)."""
    many_tasks = len(report.tasks) > 1
    with_roles = set()
    if not report.roles.empty:
        with_roles = set(zip(report.roles["simulator"], report.roles["condition"], strict=True))
    lines = []
    for row in report.rows:
        if not unscored(row):
            continue
        arm = (f"{row.task} · " if many_tasks else "") + f"{row.simulator} · {row.condition}"
        below = " (per-role results below)" if (row.simulator, row.condition) in with_roles else ""
        lines.append(f"{arm}: {row.n} trials, no human answer to compare with{below}")
    return lines


def _caption(report: GapReport) -> str:
    aliases = "".join(
        f"; {label} is the metric {metric}"
        for metric, label in metric_labels(report.tasks).items()
        if metric in report.metrics and LABELS.get(metric, metric) != label
    )
    return (
        f"{round(report.level * 100)}% intervals from a bootstrap over people "
        f"({report.n_resamples} resamples); ↑ higher is better, ↓ lower is better; "
        f"{DASH} not applicable; italic rows are non-LLM baselines{aliases}"
    )


def _header(report: GapReport, metric: str) -> str:
    label = _label(metric, report)
    return f"{label} {'↑' if report.higher_is_better.get(metric, True) else '↓'}"


def _scored(report: GapReport) -> list[GapRow]:
    return [r for r in report.rows if not unscored(r)]


def _estimate_width(report: GapReport) -> int:
    """The widest estimate of the report written on one line (the narrow layout's estimate
    column is never narrower: only the metric names wrap)."""
    return max(
        [len(format_estimate(e)) for row in report.rows for e in row.estimates.values()]
        + [len("estimate")]
    )


def _narrow_table(report: GapReport) -> RenderableType:
    """One small table per arm (task, simulator, condition): metric | estimate, under a line
    naming the arm; metric names wrap, the estimate column never shrinks."""
    many_tasks = len(report.tasks) > 1
    width = _estimate_width(report)
    parts: list[RenderableType] = [Text("Gap to real people", style="bold", justify="center")]
    for row in _scored(report):
        arm = f"{row.task} · " if many_tasks else ""
        arm += f"{row.simulator} · {row.condition}"
        trials = f"{row.n_valid} trials ({row.n_failed} failed, {row.n_invalid} invalid)"
        style = "italic" if row.baseline else None
        parts.append(Text(f"{arm}: {trials}", style=f"bold {style or ''}".strip()))
        table = Table(header_style="bold", expand=False)
        table.add_column("metric", overflow="fold", ratio=1)
        table.add_column("estimate", justify="right", no_wrap=True, min_width=width)
        for m in report.metrics:
            table.add_row(_header(report, m), format_estimate(row.estimates.get(m)), style=style)
        parts.append(table)
    parts.append(Text(_caption(report), style="dim"))
    return Group(*parts)


def render_gap(report: GapReport) -> Table:
    """The gap table: one row per (task, simulator, condition), one column per metric.

    ``n`` counts the valid trials; ``failed`` (backend errors, timeouts) and ``invalid``
    (unparseable answers) appear when some trial failed. In a terminal too narrow for one
    column per metric, it renders one row per arm and metric instead. Arms with no human
    answer to compare with are left out (:func:`unscored_lines` names them).
    """
    many_tasks = len(report.tasks) > 1
    table = _GapTable(
        title="Gap to real people",
        caption=_caption(report),
        header_style="bold",
        narrow=_narrow_table(report),
    )
    if many_tasks:
        table.add_column("task", no_wrap=True)
    table.add_column("simulator", no_wrap=True)
    table.add_column("condition", no_wrap=True)
    table.add_column("n", justify="right", no_wrap=True)
    failed = any(r.n_failed for r in _scored(report))
    invalid = any(r.n_invalid for r in _scored(report))
    if failed:
        table.add_column("failed", justify="right", no_wrap=True)
    if invalid:
        table.add_column("invalid", justify="right", no_wrap=True)
    for m in report.metrics:
        table.add_column(_header(report, m), justify="right")
    for row in _scored(report):
        cells: list[RenderableType] = [row.task] if many_tasks else []
        cells += [row.simulator, row.condition, str(row.n_valid)]
        cells += [str(row.n_failed)] if failed else []
        cells += [str(row.n_invalid)] if invalid else []
        cells += [_EstimateCell(row.estimates.get(m)) for m in report.metrics]
        table.add_row(*cells, style="italic" if row.baseline else None)
    return table


def _prefix(report: GapReport, task: str) -> str:
    # no square brackets: the lines are printed through Rich, which reads [word] as markup
    return f"{task}: " if len(report.tasks) > 1 else ""


def _noise_floor_lines(report: GapReport) -> Iterable[str]:
    for task, floors in report.noise_floors.items():
        for metric, est in floors.items():
            if not est.ok:
                continue
            yield (
                f"{_prefix(report, task)}human split-half noise floor ({_label(metric, report)}): "
                f"{format_estimate(est)} over {est.n_clusters} people; a simulator that knew "
                f"the people's true answer distribution would score about {est.value / 2:.2f}"
            )


def _direction(report: GapReport, metric: str) -> str:
    return "" if report.higher_is_better.get(metric, True) else " (lower is better)"


def _persona_lines(report: GapReport) -> Iterable[str]:
    seen: set[str] = set()
    for e in report.effects:
        if e.kind != "persona":
            continue
        if persona_unchanged(e.estimate):
            line = (
                f"{_prefix(report, e.task)}warning: persona effect ({e.condition_a} {MINUS} "
                f"{e.condition_b}), {e.simulator_a}, {_label(e.metric, report)}: "
                f"{unchanged_reason(report, e)}"
            )
        else:
            line = (
                f"{_prefix(report, e.task)}persona effect ({e.condition_a} {MINUS} "
                f"{e.condition_b}), {e.simulator_a}: {format_estimate(e.estimate, signed=True)} "
                f"{_label(e.metric, report)}{_direction(report, e.metric)}"
            )
        if line not in seen:  # the same effect reached twice prints once
            seen.add(line)
            yield line


def persona_unchanged(est: Estimate) -> bool:
    """A paired persona difference that is exactly zero on every trial (``+0.00 [0.00,
    0.00]``): the condition changed no trial's score."""
    return est.ok and all(abs(x) < 1e-12 for x in (est.value, est.low, est.high))


def _constant(report: GapReport, simulator: str, condition: str, e: PairedEffect) -> float | None:
    """The score every trial of one arm got, when the estimates prove it, else None. A mean
    of exactly 0 or 1 with a zero-width interval can only come from every trial scoring that
    bound; any other zero-width estimate (every person at 0.67, say) does not say the trials
    were alike, so it is not taken as constant."""
    try:
        est = report.row(simulator, condition, e.task).estimates.get(e.metric)
    except KeyError:
        return None
    if est is None or not est.ok or not (est.low == est.value == est.high):
        return None
    return est.value if est.value in (0.0, 1.0) else None


def unchanged_reason(report: GapReport, e: PairedEffect) -> str:
    """Why a persona effect is an exact zero, saying only what the scores show: the report
    does not see the personas. When both arms scored the same on every trial (every trial 0,
    say), the persona could not change a score, whatever it holds; otherwise no trial's
    score changed though scores vary, as when the persona is empty."""
    what = _label(e.metric, report)
    a = _constant(report, e.simulator_a, e.condition_a, e)
    b = _constant(report, e.simulator_b, e.condition_b, e)
    if a is not None and b is not None and a == b:
        return (
            f"every trial scored {a:.2f} {what} under both conditions, so the persona could "
            "not change a score and this run says nothing about its effect (the personas may "
            "well be there)"
        )
    return (
        f"no paired trial's {what} changed between the two conditions, so there is no effect "
        "to report; the persona is probably empty in this data (removing or swapping an "
        "empty persona changes nothing in the prompt): check that the data's people have "
        "attributes or a description"
    )


def _baseline_line(report: GapReport, e: PairedEffect) -> str:
    """The best LLM (``a``) against the best baseline (``b``), in words that say plainly when
    the baseline wins and whether the paired difference is clear of zero."""
    llm = report.row(e.simulator_a, e.condition_a, e.task)
    base = report.row(e.simulator_b, e.condition_b, e.task)
    llm_est, base_est = llm.estimates[e.metric], base.estimates[e.metric]
    assert llm_est is not None and base_est is not None
    higher = report.higher_is_better.get(e.metric, True)
    llm_better = (llm_est.value > base_est.value) == higher
    diff = e.estimate
    significant = diff.ok and (diff.low > 0 or diff.high < 0)
    if diff.ok:
        paired = f"{e.simulator_a} {MINUS} {e.simulator_b} = {format_estimate(diff, signed=True)}"
        paired = f" ({paired} on the same trials)"
    else:
        paired = " (no common trials to pair them on)"
    llm_text = f"{_arm(llm.simulator, llm.condition)} {format_estimate(llm_est)}"
    base_text = f"{_arm(base.simulator, base.condition)} {format_estimate(base_est)}"
    what = f"{_label(e.metric, report)}{_direction(report, e.metric)}"
    start = _prefix(report, e.task)
    if not llm_better:
        if significant:
            head = f"baseline {e.simulator_b} beats every LLM simulator on {what}"
        else:
            head = f"baseline {e.simulator_b} scores above every LLM simulator on {what}"
            head += ", though not clearly"
        return f"{start}{head}: {base_text} vs best LLM {llm_text}{paired}"
    if significant:
        head = f"best LLM simulator {e.simulator_a} beats every baseline on {what}"
    else:
        head = f"best LLM simulator {e.simulator_a} is not clearly better than "
        head += f"baseline {e.simulator_b} on {what}"
    return f"{start}{head}: {llm_text} vs {base_text}{paired}"


def _missing_lines(report: GapReport) -> Iterable[str]:
    arms: dict[str, dict[str, None]] = {}  # reason -> arms (ordered set)
    metrics: dict[str, dict[str, None]] = {}  # reason -> metrics (ordered set)
    for row in _scored(report):
        for metric, reason in row.missing.items():
            arms.setdefault(reason, {})[_arm(row.simulator, row.condition)] = None
            metrics.setdefault(reason, {})[metric] = None
    for reason, who in arms.items():
        names = ", ".join(_label(m, report) for m in metrics[reason])
        yield f"{names}: {DASH} for {', '.join(who)}: {reason}"


def _interval_note(report: GapReport) -> Iterable[str]:
    basic = {
        m
        for row in report.rows
        for m, est in row.estimates.items()
        if est is not None and est.method == "cluster-bootstrap-basic"
    }
    if basic:
        names = ", ".join(_label(m, report) for m in report.metrics if m in basic)
        outside = any(
            _outside(est)
            for row in report.rows
            for est in row.estimates.values()
            if est is not None and est.method == "cluster-bootstrap-basic"
        )
        bc = (
            "; where the value falls outside its interval, (bc x) follows it: the "
            "bias-corrected value (2 × value − the bootstrap median), which the interval "
            "contains; the first number is the distance measured on the data"
            if outside
            else ""
        )
        yield (
            f"{names}: basic bootstrap intervals; sampling noise in the human answers inflates "
            f"a distance, so the value can sit at the top of its interval{bc}"
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


def _part(report: GapReport, name: str, default: Any) -> Any:
    """An optional part of the report (a report object from an older analysis, or a stand-in,
    may lack it)."""
    return getattr(report, name, default)


def _table(report: GapReport, name: str) -> pd.DataFrame:
    table = _part(report, name, None)
    return table if isinstance(table, pd.DataFrame) else pd.DataFrame()


def _small_sample_note(report: GapReport) -> Iterable[str]:
    cr2 = {
        m
        for row in report.rows
        for m, est in row.estimates.items()
        if est is not None and est.method == "cluster-t-cr2"
    }
    if cr2:
        names = ", ".join(_label(m, report) for m in report.metrics if m in cr2)
        yield (
            f"{names}: cluster-robust t intervals (CR2, Bell-McCaffrey degrees of freedom) for "
            f"arms with fewer than {SMALL_SAMPLE_CLUSTERS} people, where a percentile "
            "bootstrap is too narrow"
        )


def _yardstick_lines(report: GapReport) -> Iterable[str]:
    """The yardstick notes the other lines do not already give (the noise floor has its own
    lines), and each arm's accuracy as a share of the human ceiling."""
    for note in _part(report, "yardstick_notes", []):
        if not note.startswith(("noise floor", "baselines:")):
            yield note
    ceiling = _part(report, "ceiling", None)
    if ceiling is not None:
        for r in ceiling.relative.to_dict(orient="records"):
            share = Estimate(r["share"], r["low"], r["high"], int(r["n_people"]), int(r["n"]), "")
            yield (
                f"{_prefix(report, str(r['task']))}{_arm(str(r['simulator']), str(r['condition']))}"
                f": accuracy {_num(r['accuracy'], 2)} on the repeated trials, "
                f"{format_estimate(share)} of the human ceiling"
            )


def _comparison_lines(report: GapReport) -> Iterable[str]:
    table = _table(report, "comparisons")
    if table.empty:
        return
    clear = table.loc[pd.to_numeric(table["p_holm"]) < 0.05]
    head = (
        f"paired comparisons: {len(clear)} of {len(table)} differ at the 5% level after Holm "
        "correction (sign-flip permutation tests over people)"
    )
    parts = [
        f"{_prefix(report, str(r['task']))}{_arm(r['simulator_a'], r['condition_a'])} {MINUS} "
        f"{_arm(r['simulator_b'], r['condition_b'])} {_label(str(r['metric']), report)} "
        f"{_num(float(r['diff']), 2, signed=True)}, p = {float(r['p_holm']):.2g}"
        for r in clear.to_dict(orient="records")
    ]
    yield f"{head}: {'; '.join(parts)}" if parts else head


def _equivalence_lines(report: GapReport) -> Iterable[str]:
    table = _table(report, "distribution_tests")
    if table.empty:
        return
    eps = f"{float(table['epsilon'].iloc[0]):g}"
    shown = table.loc[table["equivalent"].astype(bool)]
    if shown.empty:
        yield (
            f"equivalence (TOST, 5%): no simulator is shown to be within {eps} of people's answer "
            "distributions"
        )
        return
    for (task, sim, cond), g in shown.groupby(["task", "simulator", "condition"], sort=True):
        names = ", ".join(_label(str(d), report) for d in g["distance"])
        yield (
            f"{_prefix(report, str(task))}{_arm(str(sim), str(cond))}: answer distribution "
            f"within {eps} of people's by {names} (TOST, 5%)"
        )


def _disparity_lines(report: GapReport) -> Iterable[str]:
    table = _table(report, "disparities")
    if table.empty:
        return
    for r in table.loc[pd.to_numeric(table["low"]) > 0].to_dict(orient="records"):
        est = Estimate(r["disparity"], r["low"], r["high"], 0, 0, "")
        yield (
            f"{_prefix(report, str(r['task']))}{_arm(str(r['simulator']), str(r['condition']))}: "
            f"accuracy differs by {r['attribute']}, {r['largest_group']} "
            f"{MINUS} {r['smallest_group']} = {format_estimate(est)}"
        )


def gap_summary_lines(report: GapReport) -> list[str]:
    """Plain sentences under the table: noise floors and other yardsticks, persona effects,
    the best LLM against the best baseline (said plainly when a baseline wins), paired
    comparisons after Holm correction, equivalence and subgroup disparities, metrics that
    could not be computed and why, how intervals were made, position bias, failed trials
    (the per-role results of multi-party trials: :func:`render_roles`)."""
    lines = [*_noise_floor_lines(report), *_yardstick_lines(report), *_persona_lines(report)]
    lines += [_baseline_line(report, e) for e in report.effects if e.kind == "baseline"]
    lines += [*_comparison_lines(report), *_equivalence_lines(report), *_disparity_lines(report)]
    lines += [*_missing_lines(report), *_interval_note(report), *_small_sample_note(report)]
    lines += [*_position_lines(report), *_failure_lines(report)]
    return lines


def render_roles(report: GapReport) -> RenderableType | None:
    """The per-role results of multi-party trials: one small role | metric | estimate table
    per arm under a line naming it (estimates never wrap; metric names do), the role's
    simulator in the role column. None when no trial had several parties."""
    if report.roles.empty:
        return None
    width = max(
        (
            len(format_estimate(Estimate(r["value"], r["low"], r["high"], 0, 0, "")))
            for r in report.roles.to_dict(orient="records")
        ),
        default=8,
    )
    parts: list[RenderableType] = [Text("Per role", style="bold", justify="center")]
    for (sim, cond), g in report.roles.groupby(["simulator", "condition"], sort=False):
        parts.append(Text(f"{sim} · {cond}", style="bold"))
        table = Table(header_style="bold", expand=False)
        table.add_column("role", overflow="fold", ratio=1)
        table.add_column("metric", overflow="fold", ratio=1)
        table.add_column("estimate", justify="right", no_wrap=True, min_width=width)
        last = None
        for r in g.to_dict(orient="records"):
            est = Estimate(r["value"], r["low"], r["high"], r["n_people"], r["n_turns"], "")
            who = "" if r["role_simulator"] == "(all)" else f" ({r['role_simulator']})"
            role = f"{r['role']}{who}" if r["role"] != last else ""
            last = r["role"]
            table.add_row(role, str(r["metric"]), format_estimate(est))
        parts.append(table)
    return Group(*parts)
