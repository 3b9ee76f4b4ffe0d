"""The "Next-action" section: only for runs of the ``next_action`` task (OPeRA).

Exact match next to its ceiling (targets that survived the page cut), action-type and
click-type accuracy and macro-F1, accuracy by the person's action and click type, session
outcomes (purchase, termination), rationale scores, the page-cut statistics and the history
and persona ablations, each with its interval clustered by person.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from behaviorlab.analysis import Estimate, estimate
from behaviorlab.families.next_action._metrics import (
    has_click_types,
    score_column,
    with_human_actions,
)
from behaviorlab.families.next_action._survival import CUT_WARN_SHARE
from behaviorlab.families.next_action._tables import accuracy_by_type, cut_summary
from behaviorlab.families.next_action._task import NEXT_ACTION
from behaviorlab.report._collect import RunData
from behaviorlab.report._document import Block, Heading, Paragraph, Plot, Section, Table, table
from behaviorlab.report._format import interval, number, pvalue
from behaviorlab.report._plots import Point, dot_whisker
from behaviorlab.report._sections import series_name, sim_styles
from behaviorlab.report._terminal import DASH, format_estimate

SECTION_ID = "next-action"
HEADLINE = {
    "accuracy": "exact match",
    "reachable": "ceiling (reachable)",
    "accuracy_reachable": "exact match / ceiling",
}
TYPES = {
    "action_type_accuracy": "action type",
    "action_type_f1": "action-type macro-F1",
    "click_type_accuracy": "click type",
    "click_type_f1": "click-type macro-F1",
    "target_accuracy": "target",
}
SESSIONS = {
    "session_purchase_accuracy": "purchase agrees",
    "termination_step_accuracy": "terminates at the same step",
    "termination_step_error": "termination error (steps) ↓",
}
RATIONALES = {"rationale_rouge_l": "ROUGE-L", "rationale_token_f1": "token F1"}
CUT_LABELS = {
    "tokens_before": "prompt tokens before the cut",
    "tokens_after": "prompt tokens after the cut",
    "page_tokens_before": "page tokens before",
    "page_tokens_after": "page tokens after",
    "elements_dropped": "elements dropped",
    "over_budget": "share over budget",
    "target_in_view": "share of targets in view",
    "reachable": "exact-match ceiling (reachable)",
    "persona_tokens_before": "persona tokens before condensing",
    "persona_tokens_after": "persona tokens shown",
    "persona_condensed": "share with the persona condensed",
}


def _dataset(data: RunData) -> Any:
    """The run's dataset, loaded from its manifest's spec (None when that fails)."""
    from behaviorlab.data import load_dataset

    spec = data.manifest.get("spec") or {}
    d = spec.get("data") or {}
    if not d.get("source"):
        return None
    opts: dict[str, Any] = dict(d.get("options") or {})
    for key in ("target", "persona", "people", "mapping"):
        if d.get(key) is not None:
            opts[key] = d[key]
    opts.setdefault("seed", (d.get("split") or {}).get("seed", 0))
    try:
        return load_dataset(d["source"], **opts)
    except Exception:  # the data moved or is offline: the section says what is missing
        return None


def next_action_frame(data: RunData) -> tuple[pd.DataFrame, bool]:
    """The run's next-action trials with the person's click types when they can be had
    (from the rows, else from the run's dataset); the flag says whether they are there."""
    frame = data.frame.loc[data.frame["task"].astype(str) == NEXT_ACTION]
    if frame.empty or has_click_types(frame):
        return frame, not frame.empty
    dataset = _dataset(data)
    if dataset is None:
        return frame, False
    return with_human_actions(frame, dataset), True


def cut_arms(frame: pd.DataFrame) -> list[tuple[str, str, int, int]]:
    """The arms (simulator, condition) where more than :data:`CUT_WARN_SHARE` of the
    people's targets were cut from the page: (simulator, condition, targets cut, targets)."""
    rows = frame.loc[frame["task"].astype(str) == NEXT_ACTION] if "task" in frame else frame
    if rows.empty or "scores" not in rows.columns:
        return []
    seen = score_column(rows, "target_in_view")
    out = []
    pairs = zip(rows["simulator"], rows["condition"], strict=True)
    arms = sorted({(str(s), str(c)) for s, c in pairs})
    for sim, cond in arms:
        mask = (rows["simulator"].astype(str) == sim) & (rows["condition"].astype(str) == cond)
        values = seen.loc[mask].dropna()
        cut = int((values < 0.5).sum())
        if len(values) and cut > CUT_WARN_SHARE * len(values):
            out.append((sim, cond, cut, len(values)))
    return out


def cut_warning(frame: pd.DataFrame) -> Paragraph | None:
    """A warning naming every arm with more than 5% of its targets cut (None: none)."""
    arms = cut_arms(frame)
    if not arms:
        return None
    listed = "; ".join(f"{s} · {c}: {k} of {n} ({k / n:.0%})" for s, c, k, n in arms)
    return Paragraph(
        f"More than {CUT_WARN_SHARE:.0%} of the people's targets were cut from the page (the "
        f"token budget) in {len(arms)} arm(s): {listed}. A cut target cannot be matched, so "
        "exact match there is bounded by the ceiling (reachable); raise task_options.budget "
        "or read exact match / ceiling.",
        "warning",
    )


def next_action_blocks(data: RunData) -> list[Block]:
    """The family's blocks in the metrics section (its ``Family.report_blocks`` hook): the
    warning for arms with more than 5% of targets cut."""
    if NEXT_ACTION not in data.report.tasks:
        return []
    warning = cut_warning(data.frame)
    return [] if warning is None else [warning]


def _arms(frame: pd.DataFrame, baselines: set[str]) -> list[tuple[str, str, bool]]:
    keys = frame[["simulator", "condition"]].drop_duplicates().itertuples(index=False)
    arms = {(str(s), str(c)) for s, c in keys}
    order = sorted(arms, key=lambda a: (a[0], a[1] != "full", a[1]))
    return [(s, c, s in baselines) for s, c in order]


def _estimates(
    frame: pd.DataFrame, arms: Sequence[tuple[str, str, bool]], names: Sequence[str], boot: Any
) -> dict[tuple[str, str, str], Estimate | None]:
    out: dict[tuple[str, str, str], Estimate | None] = {}
    for sim, cond, _ in arms:
        g = frame.loc[(frame["simulator"] == sim) & (frame["condition"] == cond)]
        for name in names:
            out[(sim, cond, name)] = estimate(g, name, **boot)
    return out


def _metric_table(
    arms: Sequence[tuple[str, str, bool]],
    est: dict[tuple[str, str, str], Estimate | None],
    labels: dict[str, str],
    caption: str,
) -> Table:
    columns = ["simulator", "condition", *labels.values()]
    rows = [
        [series_name(s, b), c, *(format_estimate(est[(s, c, m)]) for m in labels)]
        for s, c, b in arms
    ]
    return table(
        columns,
        rows,
        numeric=list(labels.values()),
        baseline_rows=[i for i, (_, _, b) in enumerate(arms) if b],
        caption=caption,
    )


def _by_type_table(by: pd.DataFrame, what: str) -> Table:
    types = sorted(str(t) for t in by["type"].unique())
    arms = list(dict.fromkeys(zip(by["simulator"], by["condition"], strict=True)))
    cells = {
        (r.simulator, r.condition, r.type): interval(r.value, r.low, r.high) + f" (n={r.n})"
        for r in by.itertuples(index=False)
    }
    rows = [[str(s), str(c), *(cells.get((s, c, t), DASH) for t in types)] for s, c in arms]
    return table(
        ["simulator", "condition", *types],
        rows,
        numeric=types,
        caption=f"Exact match by the person's {what} [interval], n = steps of that type.",
    )


def _by_type_plot(data: RunData, by: pd.DataFrame) -> Plot | None:
    full = by.loc[by["condition"] == "full"]
    if full.empty:
        return None
    base = {r.simulator for r in data.report.rows if r.baseline}
    points = [
        Point(
            "click",
            str(r["type"]),
            series_name(str(r["simulator"]), r["simulator"] in base),
            float(r["value"]),
            float(r["low"]),
            float(r["high"]),
        )
        for r in full.to_dict("records")
    ]
    styles = {
        k: v for k, v in sim_styles(data.report).items() if any(p.series == k for p in points)
    }
    fig = dot_whisker(
        points,
        panels={"click": "exact match by the person's click type (full condition)"},
        labels=sorted(full["type"].unique()),
        styles=styles,
        max_cols=1,
    )
    return Plot("plot-next-action-click-types", fig, "Dots: estimates; bars: intervals.")


def _headline_plot(data: RunData, est: dict[tuple[str, str, str], Estimate | None]) -> Plot:
    base = {r.simulator for r in data.report.rows if r.baseline}
    names = {**HEADLINE, "action_type_accuracy": "action type", "click_type_accuracy": "click type"}
    points = []
    labels = []
    for (sim, cond, m), e in est.items():
        if m in names and e is not None and e.ok:
            label = f"{sim} · {cond}"
            labels.append(label)
            points.append(Point(m, label, series_name(sim, sim in base), e.value, e.low, e.high))
    fig = dot_whisker(
        points,
        panels={m: n for m, n in names.items() if any(p.panel == m for p in points)},
        labels=list(dict.fromkeys(labels)),
        styles=sim_styles(data.report),
        italic=[lab for lab in labels if lab.split(" · ")[0] in base],
        max_cols=3,
    )
    return Plot(
        "plot-next-action",
        fig,
        "Exact match next to its ceiling (the share of steps whose target survived the page "
        "cut), and action-type and click-type accuracy; bars: intervals clustered by person.",
    )


def _ablations(data: RunData) -> Table | None:
    comp = data.report.comparisons
    rows = comp.loc[(comp["task"] == NEXT_ACTION) & (comp["kind"] == "condition")]
    if rows.empty:
        return None
    cells = [
        [
            str(r["simulator_a"]),
            f"{r['condition_a']} − {r['condition_b']}",
            "exact match" if r["metric"] == "accuracy" else str(r["metric"]),
            interval(r["diff"], r["low"], r["high"], signed=True),
            pvalue(r["p_holm"]),
        ]
        for r in rows.to_dict("records")
    ]
    return table(
        ["simulator", "difference", "metric", "difference [interval]", "p (Holm)"],
        cells,
        numeric=["difference [interval]", "p (Holm)"],
        caption="Paired differences on the same steps: full against each ablation.",
    )


def next_action_section(data: RunData) -> Section | None:
    """The section, or None when the run has no next-action trials."""
    if NEXT_ACTION not in data.report.tasks:
        return None
    frame, typed = next_action_frame(data)
    report = data.report
    boot: dict[str, Any] = {"n_resamples": report.n_resamples, "seed": report.seed}
    boot["level"] = report.level
    arms = _arms(frame, {r.simulator for r in report.rows if r.baseline})
    names = [*HEADLINE, *TYPES, *SESSIONS, *RATIONALES]
    est = _estimates(frame, arms, names, boot)
    blocks: list[Block] = [
        Paragraph(
            "Exact match: the same action type and target (and typed text) as the person. A "
            "step whose target was cut from the page cannot be matched: the ceiling is the "
            "share of steps still reachable, and exact match / ceiling is exact match on those."
        ),
        _headline_plot(data, est),
        _metric_table(arms, est, HEADLINE, "Exact match and its ceiling [interval]."),
        *([] if (warning := cut_warning(frame)) is None else [warning]),
        Heading("Action and click types"),
        _metric_table(arms, est, TYPES, "Accuracy and macro-F1 [interval]."),
    ]
    if not typed:
        blocks.append(
            Paragraph(
                "The person's click types are not in the results and the run's data could not "
                "be loaded: click-type macro-F1, the click-type breakdown and the purchase "
                "metric are not shown.",
                "missing",
            )
        )
    blocks.append(Heading("By the person's action type and click type"))
    for by, what in (("action_type", "action type"), ("click_type", "click type")):
        table_by = accuracy_by_type(frame, by, **boot)  # type: ignore[arg-type]
        if table_by.empty:
            continue
        blocks.append(_by_type_table(table_by, what))
        if by == "click_type" and (plot := _by_type_plot(data, table_by)) is not None:
            blocks.append(plot)
    blocks += [
        Heading("Sessions"),
        Paragraph(
            "Per session (the model answers every step given the person's real history): does "
            "the model predict a purchase click somewhere iff the person bought, and does its "
            "first predicted terminate fall on the person's last step?",
            "note",
        ),
        _metric_table(arms, est, SESSIONS, "One score per session [interval]."),
        Heading("Rationales"),
    ]
    with_rationale = [a for a in arms if est[(a[0], a[1], "rationale_rouge_l")] is not None]
    if with_rationale:
        blocks.append(
            _metric_table(
                with_rationale, est, RATIONALES, "Against the person's rationale [interval]."
            )
        )
    else:
        blocks.append(
            Paragraph("No arm gave rationales on steps with a person's rationale.", "missing")
        )
    cut = cut_summary(frame, **boot)
    if not cut.empty:
        blocks.append(Heading("The page cut"))
        rows = [
            [CUT_LABELS.get(str(m), str(m)), interval(v, lo, hi), number(n, 0)]
            for m, v, lo, hi, n in zip(
                cut["measure"], cut["value"], cut["low"], cut["high"], cut["n"], strict=True
            )
        ]
        blocks.append(
            table(
                ["measure", "mean [interval]", "steps"],
                rows,
                numeric=["mean [interval]", "steps"],
                caption="Every step counted once.",
            )
        )
    ablations = _ablations(data)
    if ablations is not None:
        blocks += [Heading("Ablations"), ablations]
    return Section(SECTION_ID, "Next-action", tuple(blocks))


def next_action_sections(data: RunData) -> list[Section]:
    """The family's report sections (its ``Family.report_sections`` hook)."""
    section = next_action_section(data)
    return [] if section is None else [section]
