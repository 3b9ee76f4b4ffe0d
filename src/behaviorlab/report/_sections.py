"""The top of the report: the headline (what was run, on whom, the honest reading), every
metric with its interval, and the paired comparisons (ablations, LLM against baseline)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import pandas as pd

from behaviorlab.analysis import Estimate, GapReport, GapRow, PairedEffect
from behaviorlab.report._collect import RunData, optional_frame, run_families
from behaviorlab.report._document import (
    Block,
    Bullets,
    Heading,
    Paragraph,
    Plot,
    Section,
    Table,
    table,
)
from behaviorlab.report._format import (
    arm,
    finite,
    interval,
    label,
    number,
    plural,
    pvalue,
    stacked,
    text,
)
from behaviorlab.report._plots import Point, SeriesStyle, colors, dot_whisker
from behaviorlab.report._roles import roles_blocks
from behaviorlab.report._terminal import (
    DASH,
    format_estimate,
    gap_summary_lines,
    metric_labels,
    persona_unchanged,
    unchanged_reason,
)

COMPARISON_COLORS = {
    "persona": "#2563eb",
    "condition": "#2563eb",
    "baseline": "#b45309",
    "simulator": "#b45309",
}
KIND_TEXT = {
    "persona": "the same simulator with the person's own persona against a control",
    "condition": "the same simulator under two conditions (the person's own persona against "
    "another person's, or none)",
    "baseline": "the best LLM simulator against the best non-LLM baseline",
    "simulator": "two simulators on the same trials (an LLM against a baseline)",
}
OTHER_COLORS = ("#7c3aed", "#0891b2", "#db2777", "#16a34a")


def sim_styles(report: GapReport) -> dict[str, SeriesStyle]:
    """One legend entry per simulator; baselines are open diamonds in greys."""
    palette = colors((r.simulator, r.baseline) for r in report.rows)
    baseline = {r.simulator for r in report.rows if r.baseline}
    return {
        series_name(sim, sim in baseline): SeriesStyle(
            color, "diamond-open" if sim in baseline else "circle"
        )
        for sim, color in palette.items()
    }


def series_name(simulator: str, baseline: bool) -> str:
    return f"{simulator} (baseline)" if baseline else simulator


def _name(report: GapReport, metric: str) -> str:
    """A metric's display name: its family's (``Family.metric_labels``: OPeRA's "exact
    match" for ``accuracy``) where the report's families agree, else the built-in one."""
    return metric_labels(report.tasks).get(metric) or label(metric)


def _header(report: GapReport, metric: str) -> str:
    """``exact match ↑`` / ``log-loss ↓`` (no line break before the arrow)."""
    arrow = "↑" if report.higher_is_better.get(metric, True) else "↓"
    return f"{_name(report, metric)}\u00a0{arrow}"


def row_label(report: GapReport, row: GapRow) -> str:
    return arm(row.simulator, row.condition, row.task if len(report.tasks) > 1 else None)


# -- headline ---------------------------------------------------------------------------------


def _names(items: Iterable[str]) -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _what_was_run(data: RunData) -> str:
    rep, frame = data.report, data.frame
    llms = list(dict.fromkeys(r.simulator for r in rep.rows if not r.baseline))
    bases = list(dict.fromkeys(r.simulator for r in rep.rows if r.baseline))
    sims = []
    if llms:
        sims.append(f"the LLM simulator{'s' if len(llms) > 1 else ''} {_names(llms)}")
    if bases:
        sims.append(f"the non-LLM baseline{'s' if len(bases) > 1 else ''} {_names(bases)}")
    source = (data.manifest.get("data") or {}).get("name") or "the dataset"
    conditions = list(dict.fromkeys(str(c) for c in frame["condition"]))
    return (
        f"{data.name} had {_names(sims)} answer as {frame['person_id'].nunique()} real people "
        f"from {source} did, on {plural(frame['item_id'].nunique(), 'item')} "
        f"(conditions: {', '.join(conditions)}; {len(frame)} trials)."
    )


def _better(report: GapReport, metric: str, diff: float) -> bool:
    return (diff > 0) == report.higher_is_better.get(metric, True)


def _clear(est: Estimate) -> bool:
    return est.ok and finite(est.low) and finite(est.high) and (est.low > 0 or est.high < 0)


def _verdict(report: GapReport, e: PairedEffect) -> str:
    llm = report.row(e.simulator_a, e.condition_a, e.task)
    base = report.row(e.simulator_b, e.condition_b, e.task)
    llm_est, base_est = llm.estimates[e.metric], base.estimates[e.metric]
    what = _name(report, e.metric)
    llm_text = f"{format_estimate(llm_est)} for {arm(e.simulator_a, e.condition_a)}"
    base_text = f"{format_estimate(base_est)} for {arm(e.simulator_b, e.condition_b)}"
    diff = format_estimate(e.estimate, signed=True)
    if llm_est is None or base_est is None or not (llm_est.ok and base_est.ok):
        return ""
    if not e.estimate.ok:
        paired = "; the two share no trials to pair them on"
    else:
        paired = f"; on the same trials the difference (LLM − baseline) is {diff}"
    llm_wins = _better(report, e.metric, llm_est.value - base_est.value)
    if not llm_wins and _clear(e.estimate):
        head = f"A non-LLM baseline beats every LLM simulator on {what}"
        return f"{head}: {base_text} against {llm_text}{paired}, an interval clear of zero."
    if not llm_wins:
        head = (
            f"The baseline {e.simulator_b} does at least as well as every LLM simulator on {what}"
        )
        return f"{head} ({base_text} against {llm_text}){paired}, which does not exclude zero."
    if _clear(e.estimate):
        head = f"The best LLM simulator, {e.simulator_a}, beats every baseline on {what}"
        return f"{head}: {llm_text} against {base_text}{paired}, an interval clear of zero."
    head = f"The best LLM simulator, {e.simulator_a}, is not clearly better than the baseline"
    return (
        f"{head} {e.simulator_b} on {what}: {llm_text} against {base_text}{paired}, "
        "which does not exclude zero."
    )


def _persona_sentence(report: GapReport, e: PairedEffect) -> str:
    what = _name(report, e.metric)
    diff = format_estimate(e.estimate, signed=True)
    control = "no persona" if e.condition_b == "no_persona" else "another person's persona"
    if not e.estimate.ok:
        return ""
    if persona_unchanged(e.estimate):
        return (
            f"For {e.simulator_a}, the person's own persona and {control} gave exactly the same "
            f"{what} on every trial: {unchanged_reason(report, e)}."
        )
    if not _clear(e.estimate):
        return (
            f"For {e.simulator_a}, the person's own persona instead of {control} makes no "
            f"clear difference to {what} ({diff})."
        )
    verb = "improves" if _better(report, e.metric, e.estimate.value) else "worsens"
    return (
        f"For {e.simulator_a}, the person's own persona instead of {control} {verb} {what} "
        f"by {diff}."
    )


def _distance_sentence(report: GapReport) -> str:
    for task, floors in report.noise_floors.items():
        for metric, floor in floors.items():
            scored = [
                (r, e)
                for r in report.rows
                if r.task == task and (e := r.estimates.get(metric)) is not None and e.ok
            ]
            if not scored or not floor.ok:
                continue
            best, est = min(scored, key=lambda re: re[1].value)
            return (
                f"Closest to the people's answer distribution: "
                f"{arm(best.simulator, best.condition)}, {_name(report, metric)} "
                f"{format_estimate(est)}; two random halves of the people differ by "
                f"{number(floor.value)}, so a simulator that knew the people's true "
                f"distribution would sit near {number(floor.value / 2)}."
            )
    return ""


def reading(data: RunData) -> str:
    """The honest one-paragraph reading of the run."""
    rep = data.report
    sentences = [_what_was_run(data)]
    verdicts = [e for e in rep.effects if e.kind == "baseline"]
    first = next((e for e in verdicts if e.metric == "accuracy"), None)
    if first is None and verdicts:
        first = verdicts[0]
    if first is not None:
        sentences.append(_verdict(rep, first))
    else:
        sentences.append(_best_arm_sentence(rep))
    persona = [
        e
        for e in rep.effects
        if e.kind == "persona"
        and e.condition_b == "shuffled_persona"
        and not rep.row(e.simulator_a, e.condition_a, e.task).baseline
    ]
    metric = "accuracy" if any(e.metric == "accuracy" for e in persona) else None
    sentences += [_persona_sentence(rep, e) for e in persona if e.metric == (metric or e.metric)]
    sentences.append(_distance_sentence(rep))
    failed = sum(r.n_failed for r in rep.rows)
    invalid = sum(r.n_invalid for r in rep.rows)
    if failed or invalid:
        sentences.append(
            f"{plural(failed, 'trial')} failed and {invalid} gave invalid answers; they are left "
            "out of the metrics (see Failures)."
        )
    return " ".join(s for s in sentences if s)


def _best_arm_sentence(report: GapReport) -> str:
    scored = [(r, e) for r in report.rows if (e := r.estimates.get("accuracy")) and e.ok]
    if not scored:
        return "No arm has a scored trial, so there is no accuracy to compare."
    best, est = max(scored, key=lambda re: re[1].value)
    kind = "baseline" if best.baseline else "simulator"
    return (
        f"The most accurate arm is the {kind} {arm(best.simulator, best.condition)} at "
        f"{format_estimate(est)}; there is no LLM-versus-baseline pair to compare."
    )


def _run_facts(data: RunData) -> list[tuple[str, str]]:
    m, rep, frame = data.manifest, data.report, data.frame
    spec = m.get("spec") or {}
    source = m.get("data") or {}
    facts = [
        ("experiment", data.name),
        ("run id", data.run_id),
        ("status", data.status),
        ("created", data.created_at[:19].replace("T", " ") or DASH),
        ("task", ", ".join(rep.tasks)),
    ]
    if source:
        version = f" {source['version']}" if source.get("version") else ""
        facts.append(("data", f"{source.get('name', DASH)}{version}: {source.get('source', '')}"))
        if source.get("license"):
            facts.append(("license", str(source["license"])))
    people = f"{frame['person_id'].nunique()} simulated"
    if source.get("people"):
        people += f" (of {source['people']} sampled; the others fit the baselines)"
    facts.append(("people", people))
    persona = (spec.get("data") or {}).get("persona")
    if persona:
        facts.append(("persona attributes", ", ".join(map(str, persona))))
    items = list(dict.fromkeys(str(i) for i in frame["item_id"]))
    shown = ", ".join(items[:8]) + (f", … ({len(items)} in all)" if len(items) > 8 else "")
    facts.append(("items", shown))
    llms = dict.fromkeys(r.simulator for r in rep.rows if not r.baseline)
    bases = dict.fromkeys(r.simulator for r in rep.rows if r.baseline)
    facts.append(("LLM simulators", ", ".join(llms) or "none"))
    facts.append(("baselines", ", ".join(bases) or "none"))
    facts.append(("conditions", ", ".join(dict.fromkeys(str(c) for c in frame["condition"]))))
    planned = m.get("trials_planned")
    trials = f"{len(frame)}" + (f" of {planned} planned" if planned else "")
    failed = sum(r.n_failed for r in rep.rows)
    invalid = sum(r.n_invalid for r in rep.rows)
    facts.append(("trials", f"{trials}; {failed} failed, {invalid} invalid"))
    facts.append(
        (
            "intervals",
            f"{round(rep.level * 100)}%, bootstrap over people, {rep.n_resamples} resamples",
        )
    )
    return facts


def headline_section(data: RunData) -> Section:
    blocks: list[Block] = [Paragraph(reading(data), "lead")]
    if data.status != "finished":
        planned = data.manifest.get("trials_planned")
        of = f" of {planned} planned" if planned else ""
        blocks.append(
            Paragraph(
                f"This run's status is {data.status!r}: {len(data.frame)} trials{of} are stored, "
                "and the numbers can still change.",
                "warning",
            )
        )
    blocks.append(table(("", ""), _run_facts(data), caption="What was run"))
    lines = gap_summary_lines(data.report)
    if lines:
        blocks += [Heading("Findings"), Bullets(tuple(lines))]
    return Section("headline", "Headline", tuple(blocks))


# -- metrics ----------------------------------------------------------------------------------


def _forest_points(report: GapReport) -> list[Point]:
    points = []
    for r in report.rows:
        for m in report.metrics:
            e = r.estimates.get(m)
            if e is not None and e.ok:
                name = series_name(r.simulator, r.baseline)
                points.append(Point(m, row_label(report, r), name, e.value, e.low, e.high))
    return points


def forest_plot(report: GapReport, plot_id: str = "plot-forest") -> Plot | None:
    points = _forest_points(report)
    if not points:
        return None
    panels = {m: _header(report, m) for m in report.metrics if any(p.panel == m for p in points)}
    reference: dict[str, float] = {}
    if len(report.tasks) == 1:
        for metric, floor in report.noise_floors.get(report.tasks[0], {}).items():
            if floor.ok:
                reference[metric] = floor.value / 2
    fig = dot_whisker(
        points,
        panels=panels,
        labels=[row_label(report, r) for r in report.rows],
        styles=sim_styles(report),
        italic=[row_label(report, r) for r in report.rows if r.baseline],
        reference=reference,
    )
    caption = (
        f"Dots: estimates; bars: {round(report.level * 100)}% intervals from a bootstrap over "
        "people. Open diamonds and italic rows are non-LLM baselines."
    )
    if reference:
        caption += (
            " Dotted lines on the distances: half the human split-half noise floor, about where "
            "a simulator that knew the people's true answer distribution would land."
        )
    return Plot(plot_id, fig, caption)


def metrics_table(report: GapReport) -> Table:
    """One row per arm: trials, people and every metric; failure columns when any failed."""
    many = len(report.tasks) > 1
    failed = any(r.n_failed for r in report.rows)
    invalid = any(r.n_invalid for r in report.rows)
    counts = ["trials", *(["failed"] if failed else []), *(["invalid"] if invalid else [])]
    metrics = [_header(report, m) for m in report.metrics]
    columns = [*(["task"] if many else []), "simulator", "condition", *counts, "people", *metrics]
    rows = []
    for r in report.rows:
        cells = [*([r.task] if many else []), series_name(r.simulator, r.baseline), r.condition]
        cells += [str(r.n_valid), *([str(r.n_failed)] if failed else [])]
        cells += [*([str(r.n_invalid)] if invalid else []), str(r.n_people)]
        cells += [stacked(format_estimate(r.estimates.get(m))) for m in report.metrics]
        rows.append(cells)
    return table(
        columns,
        rows,
        numeric=[*counts, "people", *metrics],
        baseline_rows=[i for i, r in enumerate(report.rows) if r.baseline],
        caption=(
            f"Every metric, estimate [{round(report.level * 100)}% interval]; trials: scored "
            f"trials; {DASH}: not applicable."
        ),
    )


def _fallback_notes(frame: pd.DataFrame) -> list[Block]:
    """A note per arm whose majority baseline answered items no training person answered
    with the overall majority (``meta["majority_fallback"]``)."""
    if frame.empty or "meta" not in frame:
        return []
    fell = frame["meta"].map(lambda m: isinstance(m, dict) and bool(m.get("majority_fallback")))
    out: list[Block] = []
    sizes = {k: len(g) for k, g in frame.groupby(["simulator", "condition"])}
    for (sim, cond), g in frame.loc[fell].groupby(["simulator", "condition"], sort=True):
        n = sizes[(sim, cond)]
        items = g["item_id"].nunique() if "item_id" in g else 0
        out.append(
            Paragraph(
                f"{arm(str(sim), str(cond))}: {plural(len(g), 'trial')} of {n} (on "
                f"{plural(items, 'item')} no training person answered) got the overall "
                "majority answer, the item's option chosen most often over all training "
                "answers; ties go to the option first in sorted order.",
                "note",
            )
        )
    return out


def metrics_section(data: RunData) -> Section:
    report = data.report
    blocks: list[Block] = []
    plot = forest_plot(report)
    if plot is not None:
        blocks.append(plot)
    blocks.append(metrics_table(report))
    reasons: dict[str, list[str]] = {}
    for r in report.rows:
        for m, why in r.missing.items():
            reasons.setdefault(f"{_name(report, m)}: {why}", []).append(
                arm(r.simulator, r.condition)
            )
    for why, arms in reasons.items():
        blocks.append(Paragraph(f"{why} ({', '.join(arms)}).", "note"))
    blocks += _fallback_notes(data.frame)
    blocks += roles_blocks(report)  # trials played by several parties, per role
    for fam in run_families(data):  # each family present adds its own blocks
        if fam.report_blocks is not None:
            blocks += fam.report_blocks(data)
    return Section("metrics", "Metrics with intervals", tuple(blocks))


# -- paired comparisons -----------------------------------------------------------------------


def comparison_label(
    sim_a: str, cond_a: str, sim_b: str, cond_b: str, task: str | None = None
) -> str:
    if sim_a == sim_b:
        body = f"{sim_a}: {cond_a} − {cond_b}"
    elif cond_a == cond_b:
        body = f"{sim_a} − {sim_b} ({cond_a})"
    else:
        body = f"{sim_a} · {cond_a} − {sim_b} · {cond_b}"
    return f"{task}: {body}" if task else body


def _comparison_rows(data: RunData) -> tuple[pd.DataFrame, bool]:
    """The comparisons as one frame, and whether it carries permutation p-values."""
    comparisons = optional_frame(data.report, "comparisons")
    if comparisons is not None:
        return comparisons, True
    records = [
        {
            "task": e.task,
            "kind": e.kind,
            "simulator_a": e.simulator_a,
            "condition_a": e.condition_a,
            "simulator_b": e.simulator_b,
            "condition_b": e.condition_b,
            "metric": e.metric,
            "diff": e.estimate.value,
            "low": e.estimate.low,
            "high": e.estimate.high,
            "p_perm": math.nan,
            "p_holm": math.nan,
            "n_people": e.estimate.n_clusters,
            "method": e.estimate.method,
        }
        for e in data.report.effects
    ]
    return pd.DataFrame.from_records(records), False


def _styles_for(kinds: Sequence[str]) -> dict[str, SeriesStyle]:
    styles = {}
    for i, kind in enumerate(dict.fromkeys(kinds)):
        color = COMPARISON_COLORS.get(kind, OTHER_COLORS[i % len(OTHER_COLORS)])
        symbol = "diamond" if kind in ("baseline", "simulator") else "circle"
        styles[kind] = SeriesStyle(color, symbol)
    return styles


def effects_section(data: RunData) -> Section:
    report = data.report
    frame, has_p = _comparison_rows(data)
    blocks: list[Block] = []
    if frame.empty:
        blocks.append(
            Paragraph(
                "No paired comparison: the run has no persona ablation (full against "
                "shuffled_persona or no_persona) and no LLM simulator next to a baseline.",
                "missing",
            )
        )
        return Section("effects", "Ablations and paired comparisons", tuple(blocks))
    many = len(report.tasks) > 1
    labels, points, rows = [], [], []
    for rec in frame.to_dict(orient="records"):
        lab = comparison_label(
            str(rec["simulator_a"]),
            str(rec["condition_a"]),
            str(rec["simulator_b"]),
            str(rec["condition_b"]),
            str(rec["task"]) if many else None,
        )
        labels.append(lab)
        metric = str(rec["metric"])
        points.append(
            Point(
                metric,
                lab,
                str(rec["kind"]),
                float(rec["diff"]),
                float(rec["low"]),
                float(rec["high"]),
            )
        )
        rows.append(
            [
                str(rec["kind"]),
                lab,
                _header(report, metric),
                interval(rec["diff"], rec["low"], rec["high"], signed=True),
                pvalue(rec.get("p_perm")),
                pvalue(rec.get("p_holm")),
                text(rec.get("n_people")),
                text(rec.get("method")),
            ]
        )
    methods = {r[-1] for r in rows}
    columns = ["kind", "comparison (a − b)", "metric", "difference", "p (permutation)"]
    columns += ["p (Holm)", "people", "method"]
    if len(methods) == 1:  # said once in the caption
        rows, columns = [r[:-1] for r in rows], columns[:-1]
    metrics = list(dict.fromkeys(p.panel for p in points))
    fig = dot_whisker(
        points,
        panels={m: f"difference in {_header(report, m)}" for m in metrics},
        labels=list(dict.fromkeys(labels)),
        styles=_styles_for([p.series for p in points]),
        reference=dict.fromkeys(metrics, 0.0),
        max_cols=2,
    )
    blocks.append(
        Plot(
            "plot-effects",
            fig,
            "Paired differences (first arm minus second) on the same trials, with intervals "
            "from a bootstrap over people that resamples both arms together. Dotted line: no "
            "difference.",
        )
    )
    blocks.append(
        table(
            columns,
            rows,
            numeric=["difference", "p (permutation)", "p (Holm)", "people"],
            caption="; ".join(
                f"{kind}: {KIND_TEXT[kind]}"
                for kind in dict.fromkeys(frame["kind"])
                if kind in KIND_TEXT
            )
            + ". For ↑ metrics a positive difference favours the first arm, for ↓ metrics a "
            "negative one." + (f" Intervals: {next(iter(methods))}." if len(methods) == 1 else ""),
        )
    )
    if has_p:
        blocks.append(
            Paragraph(
                f"p (Holm): permutation p-values adjusted with Holm's method across the "
                f"{len(frame)} comparisons in this report.",
                "note",
            )
        )
    else:
        blocks.append(
            Paragraph(
                "Permutation p-values and the Holm adjustment: not available from this version "
                "of the analysis (the intervals are).",
                "missing",
            )
        )
    return Section("effects", "Ablations and paired comparisons", tuple(blocks))
