"""How the run went and what to measure it against: failures with their raw output, the
LLM-call cache, the yardsticks (noise floor, human ceiling, equivalence tests), the manifest."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

import pandas as pd

from behaviorlab.report._collect import RunData, optional_frame
from behaviorlab.report._document import Block, Bullets, Code, Heading, Paragraph, Section, table
from behaviorlab.report._format import arm, interval, label, number, percent, pvalue, text
from behaviorlab.report._terminal import DASH, format_estimate

EXAMPLES_PER_KIND = 3
"""Failed trials shown per (arm, error kind)."""
RAW_CHARS = 400
"""Raw model output is cut to this many characters in the examples."""
KINDS = ("backend", "timeout", "invalid")
_ABSENT = object()
NO_CEILING = (
    "No human ceiling: the data hold one answer per person and item, so there is no "
    "within-person consistency to bound accuracy with. The noise floor is the yardstick for "
    "distributions; for accuracy, compare with the baselines."
)


def _sentence(note: str) -> str:
    """A note as a sentence: capitalised, with a full stop."""
    note = note.strip()
    if not note:
        return note
    note = note[0].upper() + note[1:]
    return note if note.endswith((".", "!", "?")) else note + "."


def _cut(value: Any, limit: int = RAW_CHARS) -> str:
    s = "" if value is None else str(value)
    return s if len(s) <= limit else s[:limit] + f"… ({len(s)} characters)"


def _failed(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.loc[frame["error"].notna() | frame["error_kind"].notna()]


def _failure_counts(data: RunData) -> list[list[str]]:
    failed = _failed(data.frame)
    rows = []
    for r in data.report.rows:
        g = failed.loc[
            (failed["task"] == r.task)
            & (failed["simulator"] == r.simulator)
            & (failed["condition"] == r.condition)
        ]
        kinds = g["error_kind"].fillna("other").astype(str)
        counts = [int((kinds == k).sum()) for k in KINDS]
        other = len(g) - sum(counts)
        rows.append([arm(r.simulator, r.condition), str(r.n), *map(str, counts), str(other)])
    return rows


def _examples(data: RunData) -> list[list[str]]:
    failed = _failed(data.frame)
    rows = []
    kind = failed["error_kind"].fillna("other").astype(str)
    for (sim, cond, k), g in failed.assign(kind=kind).groupby(
        ["simulator", "condition", "kind"], sort=True
    ):
        for rec in g.head(EXAMPLES_PER_KIND).to_dict(orient="records"):
            rows.append(
                [
                    arm(str(sim), str(cond)),
                    str(k),
                    f"{rec['person_id']} / {rec['item_id']}",
                    _cut(rec.get("error"), 200),
                    _cut(rec.get("raw_output")),
                ]
            )
    return rows


def _cache_rows(frame: pd.DataFrame) -> list[list[str]]:
    def row(name: str, g: pd.DataFrame) -> list[str]:
        calls, hits = int(g["calls"].sum()), int(g["cache_hits"].sum())
        rate = percent(hits / calls) if calls else DASH
        latency = pd.to_numeric(g["latency_s"], errors="coerce").mean()
        return [
            name,
            str(len(g)),
            str(calls),
            str(hits),
            rate,
            str(int(g["tokens_in"].sum())),
            str(int(g["tokens_out"].sum())),
            number(latency, 3),
        ]

    rows = [row(str(sim), g) for sim, g in frame.groupby("simulator", sort=True)]
    return [*rows, row("all", frame)] if len(rows) > 1 else rows


def failures_section(data: RunData) -> Section:
    blocks: list[Block] = []
    failed = _failed(data.frame)
    if failed.empty:
        blocks.append(Paragraph(f"No trial failed: all {len(data.frame)} were scored."))
    else:
        blocks.append(
            table(
                ["arm", "trials", *KINDS, "other"],
                _failure_counts(data),
                numeric=["trials", *KINDS, "other"],
                caption=(
                    "Failed trials by kind: backend (the model call raised), timeout, invalid "
                    "(an answer outside the options); they are stored rows, left out of metrics."
                ),
            )
        )
        blocks.append(Heading("Examples of raw output"))
        blocks.append(
            table(
                ["arm", "kind", "person / item", "error", "raw output"],
                _examples(data),
                code=["raw output"],
                caption=f"Up to {EXAMPLES_PER_KIND} failed trials per arm and kind, verbatim.",
            )
        )
    blocks.append(Heading("Model calls and the cache"))
    blocks.append(
        table(
            [
                "simulator",
                "trials",
                "model calls",
                "cache hits",
                "hit rate",
                "tokens in",
                "tokens out",
                "mean latency (s)",
            ],
            _cache_rows(data.frame),
            numeric=[
                "trials",
                "model calls",
                "cache hits",
                "hit rate",
                "tokens in",
                "tokens out",
                "mean latency (s)",
            ],
            caption="Calls count cache hits too; baselines make no model calls.",
        )
    )
    cache = data.manifest.get("cache") or {}
    if cache:
        blocks.append(
            Paragraph(
                f"LLM-call cache over the whole run (manifest): {cache.get('hits', 0)} hits, "
                f"{cache.get('misses', 0)} misses.",
                "note",
            )
        )
    return Section("failures", "Failures and cache", tuple(blocks))


# -- yardsticks -------------------------------------------------------------------------------


def _noise_floor_rows(data: RunData) -> list[list[str]]:
    rows = []
    for task, floors in data.report.noise_floors.items():
        for metric, est in floors.items():
            rows.append(
                [
                    task,
                    label(metric),
                    format_estimate(est),
                    str(est.n_clusters),
                    number(est.value / 2) if est.ok else DASH,
                ]
            )
    return rows


def _ceiling_blocks(ceiling: Any) -> list[Block]:
    """The human ceiling: within-person consistency per task and each arm's accuracy as a
    share of it (the analysis' ``HumanCeiling``), or its fields as a table for other shapes."""
    consistency = getattr(ceiling, "consistency", None)
    relative = getattr(ceiling, "relative", None)
    if isinstance(consistency, Mapping) and isinstance(relative, pd.DataFrame):
        blocks: list[Block] = [
            Paragraph(
                f"{getattr(ceiling, 'n_people', '?')} people answered "
                f"{getattr(ceiling, 'n_cells', '?')} items more than once: how often they "
                "agree with themselves bounds how well anyone can predict their answers."
            ),
            table(
                ["task", "within-person consistency", "people"],
                [[t, format_estimate(e), str(e.n_clusters)] for t, e in consistency.items()],
                numeric=["within-person consistency", "people"],
            ),
        ]
        if not relative.empty:
            rows = [
                [
                    arm(str(r["simulator"]), str(r["condition"])),
                    number(r["accuracy"]),
                    number(r["ceiling"]),
                    interval(r["share"], r["low"], r["high"]),
                    text(r.get("n_people")),
                    text(r.get("n")),
                ]
                for r in relative.to_dict(orient="records")
            ]
            blocks.append(
                table(
                    ["arm", "accuracy", "ceiling", "share of ceiling", "people", "trials"],
                    rows,
                    numeric=["accuracy", "ceiling", "share of ceiling", "people", "trials"],
                    caption="Accuracy on the repeated (person, item) trials, over the ceiling.",
                )
            )
        return blocks
    if dataclasses.is_dataclass(ceiling) and not isinstance(ceiling, type):
        fields = dataclasses.asdict(ceiling)
    elif hasattr(ceiling, "to_dict"):
        fields = dict(ceiling.to_dict())
    else:
        return [Paragraph(f"Human ceiling: {ceiling}")]
    rows = [[str(k), _field(v)] for k, v in fields.items()]
    return [table(["", ""], rows, caption="Human ceiling (within-person consistency)")]


def _field(value: Any) -> str:
    if isinstance(value, dict) and {"value", "low", "high"} <= set(value):
        return interval(value["value"], value["low"], value["high"])
    if isinstance(value, list | dict):
        return json.dumps(value, default=str)
    return text(value)


def yardsticks_section(data: RunData) -> Section:
    report = data.report
    blocks: list[Block] = []
    floors = _noise_floor_rows(data)
    if floors:
        blocks.append(Heading("Human split-half noise floor"))
        blocks.append(
            table(
                ["task", "distance", "split-half value [range]", "people", "≈ perfect simulator"],
                floors,
                numeric=["split-half value [range]", "people", "≈ perfect simulator"],
                caption=(
                    "The distance between the answer distributions of two random halves of the "
                    "people, over many splits. A simulator that knew the true distribution would "
                    "sit about half of it away from all the people."
                ),
            )
        )
    else:
        blocks.append(
            Paragraph("No distribution distance was computed, so no noise floor.", "missing")
        )
    tests = optional_frame(report, "distribution_tests")
    blocks.append(Heading("Equivalence tests"))
    if tests is None:
        blocks.append(
            Paragraph(
                "Equivalence tests (TOST): not available from this version of the analysis.",
                "missing",
            )
        )
    elif tests.empty:
        blocks.append(
            Paragraph("No equivalence test applies (no simulated answer distributions).", "missing")
        )
    else:
        rows = [
            [
                arm(str(r["simulator"]), str(r["condition"])),
                label(str(r["distance"])),
                interval(r["value"], r["low"], r["high"]),
                number(r.get("epsilon")),
                pvalue(r.get("p_tost")),
                text(bool(r["equivalent"])) if r.get("equivalent") is not None else DASH,
                number(r.get("noise_floor")),
            ]
            for r in tests.to_dict(orient="records")
        ]
        blocks.append(
            table(
                ["arm", "distance", "value", "ε", "p (TOST)", "equivalent", "noise floor"],
                rows,
                numeric=["value", "ε", "p (TOST)", "noise floor"],
                caption=(
                    "Two one-sided tests of 'the simulated distribution is within ε of the "
                    "human one': equivalent when p (TOST) is below 0.05."
                ),
            )
        )
    blocks.append(Heading("Human ceiling"))
    ceiling = getattr(report, "ceiling", _ABSENT)
    notes = [str(n) for n in getattr(report, "yardstick_notes", None) or ()]
    about_ceiling = [n for n in notes if "ceiling" in n.lower()]
    if ceiling is _ABSENT:
        blocks.append(
            Paragraph("Human ceiling: not available from this version of the analysis.", "missing")
        )
    elif ceiling is None:
        blocks.append(Paragraph(_sentence(about_ceiling[0]) if about_ceiling else NO_CEILING))
    else:
        blocks += _ceiling_blocks(ceiling)
    others = [n for n in notes if n not in about_ceiling]
    if others:
        blocks += [Heading("Notes"), Bullets(tuple(_sentence(n) for n in others))]
    return Section("yardsticks", "Yardsticks", tuple(blocks))


def manifest_section(data: RunData) -> Section:
    pretty = json.dumps(data.manifest, indent=2, default=str, ensure_ascii=False)
    blocks: list[Block] = [
        Paragraph(
            "Everything needed to rebuild the run: the spec, the data hash, each model's "
            "identity (file hash, parameters), prompt template hashes, seeds, package versions.",
            "note",
        ),
        Code(pretty, f"manifest.json ({len(pretty.splitlines())} lines)", "json"),
    ]
    return Section("manifest", "Manifest", tuple(blocks))
