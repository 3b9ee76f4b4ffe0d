"""Where the gap is: subgroups of people, confusion matrices, answer distributions per item,
item-level agreement and position bias."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, cast

import numpy as np
import pandas as pd

from behaviorlab.analysis import valid_rows
from behaviorlab.analysis._gap import option_code_rows
from behaviorlab.report._collect import RunData, optional_frame
from behaviorlab.report._document import Block, Heading, Paragraph, Plot, Section, Table, table
from behaviorlab.report._format import arm, finite, interval, plural, text
from behaviorlab.report._plots import (
    HUMAN_COLOR,
    BarSeries,
    SeriesStyle,
    colors,
    confusion_plot,
    distribution_plot,
    pattern,
    position_plot,
    scatter_plot,
    subgroup_plot,
)
from behaviorlab.report._sections import series_name, sim_styles

MAX_CONFUSION_FIGURES = 6
"""Confusion figures (one per set of answer options) shown at most."""
MAX_ITEM_FIGURES = 12
"""Items with a distribution plot at most (those with the largest gap first)."""

NOT_AVAILABLE = "not available from this version of the analysis"


def _slug(*parts: object) -> str:
    raw = "-".join(str(p) for p in parts)
    return "".join(c if c.isalnum() else "-" for c in raw.lower()).strip("-")


def code_order(codes: Iterable[object]) -> list[str]:
    """Option codes in their natural order: numerically when they all are numbers."""
    unique = list(dict.fromkeys(str(c) for c in codes))
    try:
        return sorted(unique, key=float)
    except ValueError:
        return sorted(unique)


def _task_prefix(data: RunData, task: str) -> str:
    return f"{task}: " if len(data.report.tasks) > 1 else ""


def _arms(data: RunData) -> list[tuple[str, str, str, bool]]:
    return [(r.task, r.simulator, r.condition, r.baseline) for r in data.report.rows]


def _conditions(data: RunData) -> list[str]:
    """Conditions in report order (``full`` first), for bar patterns."""
    return list(dict.fromkeys(r.condition for r in data.report.rows))


# -- subgroups --------------------------------------------------------------------------------


def subgroups_section(data: RunData) -> Section:
    title = "Subgroup gaps"
    subgroups = optional_frame(data.report, "subgroups")
    disparities = optional_frame(data.report, "disparities")
    if subgroups is None:
        return Section(
            "subgroups", title, (Paragraph(f"Subgroup accuracy: {NOT_AVAILABLE}.", "missing"),)
        )
    if subgroups.empty:
        why = (
            "this run stored no persona attributes of the people it simulated (a run made "
            "before behaviorlab stored them, or a dataset without attributes)"
            if data.persons is None
            else "no persona attribute splits the people into groups with scored trials"
        )
        return Section(
            "subgroups", title, (Paragraph(f"No subgroups to compare: {why}.", "missing"),)
        )
    blocks: list[Block] = []
    styles = sim_styles(data.report)
    baseline = {r.simulator for r in data.report.rows if r.baseline}
    for task, frame in subgroups.groupby("task", sort=False):
        shown = frame.loc[frame["condition"] == "full"]
        shown = shown if len(shown) else frame
        conditions = set(shown["condition"])
        points = []
        series_styles: dict[str, SeriesStyle] = {}
        for rec in shown.to_dict(orient="records"):
            sim = str(rec["simulator"])
            name = series_name(sim, sim in baseline)
            style = styles.get(name, SeriesStyle("#6b7280"))
            if len(conditions) > 1:
                name = f"{name} · {rec['condition']}"
            series_styles[name] = style
            points.append(
                {
                    "attribute": str(rec["attribute"]),
                    "group": str(rec["group"]),
                    "series": name,
                    "value": rec["accuracy"],
                    "low": rec["low"],
                    "high": rec["high"],
                    "n_people": rec["n_people"],
                }
            )
        attributes = list(dict.fromkeys(p["attribute"] for p in points))
        fig = subgroup_plot(points, attributes, series_styles)
        only_full = "the full condition" if "full" in conditions else "every arm"
        blocks.append(
            Plot(
                f"plot-subgroups-{_slug(task)}",
                fig,
                f"{_task_prefix(data, str(task))}Accuracy by persona attribute ({only_full}), "
                "with intervals from a bootstrap over the people of each group.",
            )
        )
    if disparities is not None and not disparities.empty:
        blocks.append(_disparity_table(data, disparities))
    elif disparities is None:
        blocks.append(Paragraph(f"Disparities: {NOT_AVAILABLE}.", "missing"))
    return Section("subgroups", title, tuple(blocks))


def _disparity_table(data: RunData, disparities: pd.DataFrame) -> Table:
    """One row per arm, one column per attribute: the disparity with its interval, and the
    best- and worst-served groups under it."""
    attributes = list(dict.fromkeys(str(a) for a in disparities["attribute"]))
    cells: dict[tuple[str, str, str], dict[str, str]] = {}
    for r in disparities.to_dict(orient="records"):
        key = (str(r["task"]), str(r["simulator"]), str(r["condition"]))
        value = interval(r["disparity"], r["low"], r["high"])
        groups = f"{r['largest_group']} vs {r['smallest_group']}"
        cells.setdefault(key, {})[str(r["attribute"])] = f"{value}\n{groups}"
    rows: list[list[str]] = []
    baseline: list[int] = []
    for t, sim, cond, base in _arms(data):
        if (t, sim, cond) not in cells:
            continue
        if base:
            baseline.append(len(rows))
        row = cells[(t, sim, cond)]
        rows.append(
            [f"{_task_prefix(data, t)}{arm(sim, cond)}", *(row.get(a, "—") for a in attributes)]
        )
    return table(
        ["arm", *attributes],
        rows,
        numeric=attributes,
        baseline_rows=baseline,
        caption=(
            "Disparity: accuracy of the best-served group minus the worst-served, with its "
            "interval; below it, the two groups (best vs worst)."
        ),
    )


# -- confusion matrices -----------------------------------------------------------------------


def _answered(frame: pd.DataFrame) -> pd.DataFrame:
    """Valid trials with a human and a simulated option answer (numeric questions' answers
    are numbers, not option codes: left out)."""
    valid = option_code_rows(valid_rows(frame))
    return valid.loc[valid["human_answer"].notna() & valid["answer"].notna()]


def _option_sets(
    data: RunData, answered: pd.DataFrame
) -> dict[tuple[str, tuple[str, ...]], list[str]]:
    """(task, option codes) → items with those options, most-answered sets first."""
    sets: dict[tuple[str, tuple[str, ...]], list[str]] = {}
    sizes: dict[tuple[str, tuple[str, ...]], int] = {}
    for (task, item), g in answered.groupby(["task", "item_id"], sort=True):
        seen: list[object] = [*g["human_answer"], *g["answer"]]
        for options in g["options"]:
            if isinstance(options, list | tuple | np.ndarray):
                seen += list(options)
        key = (str(task), tuple(code_order(seen)))
        sets.setdefault(key, []).append(str(item))
        sizes[key] = sizes.get(key, 0) + len(g)
    order = sorted(sets, key=lambda k: -sizes[k])
    return {k: sets[k] for k in order}


def confusion_section(data: RunData) -> Section:
    title = "Confusion matrices"
    answered = _answered(data.frame)
    if answered.empty:
        return Section(
            "confusion",
            title,
            (Paragraph("No scored trial with both a human and a simulated answer.", "missing"),),
        )
    sets = _option_sets(data, answered)
    blocks: list[Block] = []
    for n, ((task, codes), items) in enumerate(sets.items()):
        if n == MAX_CONFUSION_FIGURES:
            blocks.append(
                Paragraph(f"{len(sets) - n} more sets of answer options are not shown.", "note")
            )
            break
        rows = answered.loc[(answered["task"] == task) & answered["item_id"].isin(items)]
        index = {c: i for i, c in enumerate(codes)}
        panels = []
        for t, sim, cond, _ in _arms(data):
            g = rows.loc[
                (rows["task"] == t) & (rows["simulator"] == sim) & (rows["condition"] == cond)
            ]
            if g.empty:
                continue
            counts = np.zeros((len(codes), len(codes)), dtype=int)
            for h, a in zip(g["human_answer"].astype(str), g["answer"].astype(str), strict=True):
                counts[index[h], index[a]] += 1
            panels.append((arm(sim, cond), codes, counts.tolist()))
        if not panels:
            continue
        shown = ", ".join(items[:6]) + (f", … ({len(items)} items)" if len(items) > 6 else "")
        blocks.append(Heading(f"{_task_prefix(data, task)}Options {', '.join(codes)}: {shown}"))
        blocks.append(
            Plot(
                f"plot-confusion-{n}",
                confusion_plot(panels),
                "Rows: the person's answer; columns: the simulated answer; numbers count "
                "trials, colour is the share of the row (a perfect simulator fills the diagonal).",
            )
        )
    return Section("confusion", title, tuple(blocks))


# -- answer distributions per item -------------------------------------------------------------


def _item_table(items: pd.DataFrame) -> pd.DataFrame:
    out = items.copy()
    for c in ("human_share", "sim_share"):
        out[c] = pd.to_numeric(out[c], errors="coerce")
    return out


def _item_groups(items: pd.DataFrame) -> list[tuple[str, str, pd.DataFrame]]:
    out = []
    for key, g in items.groupby(["task", "item_id"], sort=False):
        task, item = cast(tuple[Any, Any], key)
        out.append((str(task), str(item), g))
    return out


def _gap_of(item: pd.DataFrame) -> float:
    """Largest total variation between people and an arm on one item."""
    tv = (
        item.assign(d=(item["human_share"] - item["sim_share"]).abs())
        .groupby(["simulator", "condition"])["d"]
        .sum()
    )
    return float(tv.max() / 2) if len(tv) else 0.0


def distributions_section(data: RunData) -> Section:
    title = "Answer distributions per item"
    items = optional_frame(data.report, "items")
    if items is None:
        return Section(
            "distributions",
            title,
            (Paragraph(f"Per-item answer distributions: {NOT_AVAILABLE}.", "missing"),),
        )
    if items.empty:
        return Section(
            "distributions", title, (Paragraph("No item has scored answers.", "missing"),)
        )
    items = _item_table(items)
    palette = colors((sim, base) for _, sim, _, base in _arms(data))
    conditions = _conditions(data)
    blocks: list[Block] = []
    groups = _item_groups(items)
    groups.sort(key=lambda tg: -_gap_of(tg[2]))
    for n, (task, item, g) in enumerate(groups[:MAX_ITEM_FIGURES]):
        codes = code_order(g["option"])
        sizes = g.groupby(["simulator", "condition"])["n"].sum()
        widest = cast(tuple[Any, Any], sizes.idxmax())
        human = g.loc[(g["simulator"] == widest[0]) & (g["condition"] == widest[1])]
        human_share = human.set_index(human["option"].astype(str))["human_share"]
        people = [float(human_share.get(c, 0.0)) for c in codes]
        series = [BarSeries("people", people, HUMAN_COLOR)]
        for sim, cond in dict.fromkeys(zip(g["simulator"], g["condition"], strict=True)):
            a = g.loc[(g["simulator"] == sim) & (g["condition"] == cond)]
            share = a.set_index(a["option"].astype(str))["sim_share"]
            series.append(
                BarSeries(
                    arm(str(sim), str(cond)),
                    [float(share.get(c, 0.0)) for c in codes],
                    palette.get(str(sim), "#6b7280"),
                    pattern(str(cond), conditions),
                )
            )
        heading = f"{_task_prefix(data, task)}{item} (largest gap: TV {_gap_of(g):.2f})"
        blocks.append(Plot(f"plot-item-{n}", distribution_plot(heading, codes, series)))
    note = "Share of each answer option among the people (black) and in each simulated arm"
    note += " (probability mass when the simulator gives probabilities). Items are ordered by"
    note += " their largest gap (total variation distance)."
    if len(groups) > MAX_ITEM_FIGURES:
        note += f" Showing {MAX_ITEM_FIGURES} of {plural(len(groups), 'item')}."
    blocks.insert(0, Paragraph(note, "note"))
    return Section("distributions", title, tuple(blocks))


# -- item-level agreement ---------------------------------------------------------------------


def _agreement_title(rec: Mapping[Any, Any] | None) -> str:
    if rec is None:
        return ""
    if not (finite(rec.get("pearson")) or finite(rec.get("spearman"))):
        return f"{plural(int(rec.get('n_items') or 0), 'item')}: no correlation"
    r = interval(rec.get("pearson"), rec.get("pearson_low"), rec.get("pearson_high"))
    rho = interval(rec.get("spearman"), rec.get("spearman_low"), rec.get("spearman_high"))
    return f"r = {r} · ρ = {rho}"


def items_section(data: RunData) -> Section:
    title = "Item-level agreement"
    items = optional_frame(data.report, "items")
    agreement = optional_frame(data.report, "item_agreement")
    if items is None:
        return Section(
            "items", title, (Paragraph(f"Item-level comparison: {NOT_AVAILABLE}.", "missing"),)
        )
    if items.empty:
        return Section("items", title, (Paragraph("No item has scored answers.", "missing"),))
    items = _item_table(items)
    palette = colors((sim, base) for _, sim, _, base in _arms(data))
    blocks: list[Block] = []
    by_arm = {}
    if agreement is not None:
        by_arm = {
            (str(r["task"]), str(r["simulator"]), str(r["condition"])): r
            for r in agreement.to_dict(orient="records")
        }
    for task in data.report.tasks:
        panels = []
        for t, sim, cond, _ in _arms(data):
            if t != task:
                continue
            g = items.loc[
                (items["task"] == t) & (items["simulator"] == sim) & (items["condition"] == cond)
            ]
            if g.empty:
                continue
            heading = arm(sim, cond)
            stats = _agreement_title(by_arm.get((t, sim, cond)))
            panels.append(
                (
                    f"{heading}\n{stats}" if stats else heading,
                    g["human_share"].tolist(),
                    g["sim_share"].tolist(),
                    [f"{i} = {o}" for i, o in zip(g["item_id"], g["option"], strict=True)],
                    palette.get(sim, "#6b7280"),
                )
            )
        if panels:
            blocks.append(
                Plot(
                    f"plot-scatter-{_slug(task)}",
                    scatter_plot(panels),
                    f"{_task_prefix(data, task)}One dot per item and answer option: the share of "
                    "people giving it (x) against the simulated share (y); dotted: y = x. "
                    "Titles: Pearson r and Spearman ρ across items, with intervals from a "
                    "bootstrap over items.",
                )
            )
    if agreement is None:
        blocks.append(
            Paragraph(f"Correlations across items and error agreement: {NOT_AVAILABLE}.", "missing")
        )
    elif not agreement.empty:
        blocks += _agreement_blocks(agreement)
    return Section("items", title, tuple(blocks))


def _agreement_blocks(agreement: pd.DataFrame) -> list[Block]:
    """The agreement table (only the columns with numbers), and notes said once."""
    notes = [str(n) for n in agreement["note"] if isinstance(n, str) and n]
    common = notes[0] if notes and len(set(notes)) == 1 and len(notes) == len(agreement) else ""
    numbers = ("pearson", "spearman", "kappa")
    blocks: list[Block] = []
    if any(pd.to_numeric(agreement[c], errors="coerce").notna().any() for c in numbers):
        rows = []
        for r in agreement.to_dict(orient="records"):
            cells = [
                arm(str(r["simulator"]), str(r["condition"])),
                text(r.get("n_items")),
                interval(r.get("pearson"), r.get("pearson_low"), r.get("pearson_high")),
                interval(r.get("spearman"), r.get("spearman_low"), r.get("spearman_high")),
                interval(r.get("kappa"), r.get("kappa_low"), r.get("kappa_high")),
            ]
            if not common:
                note = r.get("note")
                cells.append(note if isinstance(note, str) else "")
            rows.append(cells)
        columns = ["arm", "items", "Pearson r", "Spearman ρ", "error agreement κ"]
        blocks.append(
            table(
                [*columns, *([] if common else ["note"])],
                rows,
                numeric=columns[1:],
                caption=(
                    "Correlation of human and simulated shares across items; κ: Cohen's kappa "
                    "between the items the simulator gets wrong and those most people get wrong."
                ),
            )
        )
    if common:
        blocks.append(Paragraph(f"Across items, for every arm: {common}.", "note"))
    return blocks


# -- position bias ----------------------------------------------------------------------------


def position_section(data: RunData) -> Section:
    title = "Position bias"
    pos = data.report.position
    if pos.empty:
        return Section(
            "position",
            title,
            (
                Paragraph(
                    "No answer carries the position at which its option was shown.", "missing"
                ),
            ),
        )
    palette = colors((sim, base) for _, sim, _, base in _arms(data))
    conditions = _conditions(data)
    blocks: list[Block] = []
    for task, g in pos.groupby("task", sort=False):
        positions = sorted(int(p) for p in g["position"].unique())
        series = []
        for t, sim, cond, _ in _arms(data):
            a = g.loc[(g["simulator"] == sim) & (g["condition"] == cond)].set_index("position")
            if t != task or a.empty:
                continue
            a = a.reindex(positions)
            series.append(
                BarSeries(
                    arm(sim, cond),
                    a["share"].astype(float).tolist(),
                    palette.get(sim, "#6b7280"),
                    pattern(cond, conditions),
                    a["share_low"].astype(float).tolist(),
                    a["share_high"].astype(float).tolist(),
                )
            )
        expected = g.groupby("position")["expected"].mean().reindex(positions).astype(float)
        blocks.append(
            Plot(
                f"plot-position-{_slug(task)}",
                position_plot([p + 1 for p in positions], series, expected.tolist()),
                f"{_task_prefix(data, str(task))}Share of answers at each position in the shown "
                "option order, with intervals over people; the black bar marks the share expected "
                "of a simulator that ignored position. With option order shuffled per trial, "
                "a share clearly above it at the first or last position is a primacy or "
                "recency bias.",
            )
        )
    return Section("position", title, tuple(blocks))
