"""The simulated-patients part of the report: only for runs of the ``patient_session`` task.

One table reads the judges and the patients alike: first each judge on planted transcripts
(explicit, paraphrased, implicit statements whose labels are known: the judge's own
accuracy), then each arm of patients under each judge (full cognitive model, the baseline
given only a name and a style, any other condition), each with its permutation chance line.
Then the per-label F1, the consistency between two sessions of the same model, the judges'
models and prompts as recorded, and a reading that flags a judge running the patient's own
model.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from typing import Any

import pandas as pd

from behaviorlab.analysis import Estimate
from behaviorlab.families.patient._metrics import (
    FIELDS,
    consistency,
    fidelity,
    judgements,
    planted_rows,
)
from behaviorlab.families.patient._rating import HUMAN, RATINGS_FILE, human_judgements
from behaviorlab.families.patient._task import PATIENT
from behaviorlab.report import Block, Heading, Paragraph, RunData
from behaviorlab.report._document import table
from behaviorlab.report._terminal import format_estimate

BOOT: dict[str, Any] = {"n_resamples": 1000, "seed": 0, "permutations": 200}
NOT_CLINICAL = (
    "A training and research simulator, not a clinical tool: these patients are language "
    "models playing cognitive models; nothing here assesses or treats a person."
)
SHORT = {"core_beliefs": "beliefs", "emotions": "emotions", "style": "style"}


def _same(value: Any) -> str:
    return {True: "same", False: "other"}.get(value, "—")


def _fidelity_rows(group: pd.DataFrame, first: list[str]) -> tuple[list[str], dict[str, Any]]:
    cells = list(first)
    found: dict[str, Any] = {}
    for field in FIELDS:
        fid = fidelity(group, field, **BOOT)
        found[field] = fid
        cells.append(format_estimate(fid["jaccard"]))
        chance = fid["chance"]
        cells.append(f"{chance['mean']:.2f} / {chance['q95']:.2f}" if fid["sessions"] else "—")
    cells.append(str(int(group["person_id"].nunique())))
    return cells, found


def fidelity_groups(table_: pd.DataFrame) -> Iterator[tuple[dict[str, Any], pd.DataFrame]]:
    """The rows of the main table, in order: each judge on planted transcripts per level
    (``who`` "judge check"), then each (parties entry, condition, judge) of sessions; with
    ``who``, ``arm`` (shown), ``judge``, ``model`` (shown) and ``level`` or ``condition`` and
    ``same``."""
    planted = planted_rows(table_)
    for (judge, level), g in planted.groupby(["judge", "level"], sort=True):
        model = str(g["judge_model"].iloc[0])
        yield (
            {
                "who": "judge check",
                "arm": f"planted: {level}",
                "judge": judge,
                "model": model,
                "level": level,
            },
            g,
        )
    sessions = table_.loc[table_["kind"] == "patient_session"]
    keys = ["simulator", "condition", "judge"]
    for (sim, cond, judge), g in sessions.groupby(keys, sort=True):
        same = _same(g["same_model_as_patient"].iloc[0])
        model = str(g["judge_model"].iloc[0])
        shown = f"{model} ({same})" if same != "—" else model
        yield (
            {"who": sim, "arm": cond, "judge": judge, "model": shown, "condition": cond}
            | {"same": same},
            g,
        )


def _main_table(table_: pd.DataFrame) -> tuple[list[Block], list[dict[str, Any]]]:
    cols = ["who", "arm", "judge", "judge model"]
    for field in FIELDS:
        what = "right" if field == "style" else "Jaccard"
        cols += [f"{SHORT[field]} {what}", f"{SHORT[field]} chance"]
    cols.append("models")
    rows: list[list[str]] = []
    found: list[dict[str, Any]] = []
    for key, g in fidelity_groups(table_):
        first = [str(key["who"]), str(key["arm"]), str(key["judge"]), str(key["model"])]
        cells, fid = _fidelity_rows(g, first)
        rows.append(cells)
        kept = {k: v for k, v in key.items() if k not in ("arm", "model")}
        found.append({**kept, **fid})
    caption = (
        "What a judge reads from the transcript alone, against the true cognitive model: mean "
        "Jaccard of the core-belief categories, of the emotions, and the share of styles "
        "judged right, 95% interval over cognitive models. Chance: the mean / 95th percentile "
        "with the models permuted across sessions (200 draws). Judge check rows: the judge on "
        "planted transcripts (labels known); patient rows: sessions played by the parties; "
        "judge model 'same' runs the patient's own model (it flatters the patient)."
    )
    return [table(cols, rows, numeric=cols[4:], caption=caption)], found


def _unread(table_: pd.DataFrame) -> list[Block]:
    """A warning per judge that could not read some transcripts (off-format replies)."""
    out: list[Block] = []
    for judge, g in table_.groupby("judge", sort=True):
        bad = g.loc[g["error"].notna()].drop_duplicates(subset=["trial_id"])
        if len(bad):
            first = str(bad["error"].iloc[0])[:160]
            out.append(
                Paragraph(
                    f"Judge {judge} could not read {len(bad)} of {g['trial_id'].nunique()} "
                    f"transcripts (first: {first}); they are left out of its rows.",
                    tone="warning",
                )
            )
    return out


def _constant(table_: pd.DataFrame) -> list[Block]:
    """A warning per judge that gives one reading for 80% or more of the transcripts: it reads
    nothing from them, whatever its row says (its rows then sit on their chance lines)."""
    out: list[Block] = []
    read = table_.loc[table_["judged_core_beliefs"].notna()].drop_duplicates(["trial_id", "judge"])
    for judge, g in read.groupby("judge", sort=True):
        said = g[[f"judged_{f}" for f in FIELDS]].apply(
            lambda r: json.dumps([sorted(x) for x in r]), axis=1
        )
        top = int(said.value_counts().iloc[0]) if len(said) else 0
        if len(said) >= 5 and top >= 0.8 * len(said):
            out.append(
                Paragraph(
                    f"Judge {judge} gave the same reading for {top} of {len(said)} transcripts "
                    "(planted ones included): it reads nothing from them, so its rows sit on "
                    "their chance lines.",
                    tone="warning",
                )
            )
    return out


def _per_label(found: list[dict[str, Any]]) -> list[Block]:
    rows = []
    for f in found:
        where = f"planted: {f['level']}" if f["who"] == "judge check" else str(f["condition"])
        for field in ("core_beliefs", "emotions"):
            labels = f[field]["per_label"]
            rows.append(
                [
                    str(f["who"]),
                    where,
                    str(f["judge"]),
                    SHORT[field],
                    format_estimate(f[field]["macro_f1"]),
                    ", ".join(f"{k} {v.value:.2f}" for k, v in labels.items()),
                ]
            )
    cols = ["who", "arm", "judge", "labels", "macro-F1", "F1 per label"]
    return [
        table(
            cols,
            rows,
            numeric=["macro-F1"],
            caption="Per-label F1 (2TP / (2TP + FP + FN) over sessions) and their mean over "
            "the labels that occur, 95% interval over cognitive models.",
        )
    ]


def _consistency(table_: pd.DataFrame) -> list[Block]:
    sessions = table_.loc[table_["kind"] == "patient_session"]
    rows = []
    for (sim, cond, judge), g in sessions.groupby(["simulator", "condition", "judge"], sort=True):
        c = consistency(g, n_resamples=int(BOOT["n_resamples"]), seed=int(BOOT["seed"]))
        if not c["models"]:
            continue
        rows.append(
            [
                str(sim),
                str(cond),
                str(judge),
                format_estimate(c["same"]),
                f"{c['different']:.2f}",
                str(c["models"]),
            ]
        )
    if not rows:
        return [
            Paragraph(
                "No consistency table: it needs two or more sessions of a model (data option "
                "sessions: 2).",
                tone="missing",
            )
        ]
    cols = ["who", "arm", "judge", "same model", "different models", "models"]
    return [
        table(
            cols,
            rows,
            numeric=cols[3:],
            caption="Consistency: the Jaccard between a judge's readings (beliefs, emotions "
            "and style together) of two sessions of the same cognitive model, 95% interval "
            "over models, beside the mean between sessions of different models.",
        )
    ]


def _judges(data: RunData, table_: pd.DataFrame) -> list[Block]:
    info = (data.manifest.get("task_info") or {}).get("judges") or []
    rows = []
    people = table_.loc[table_["judge_model"] == HUMAN]
    for judge, g in people.groupby("judge", sort=True):
        rows.append(
            [
                str(judge),
                HUMAN,
                f"a person in behaviorlab view ({g['trial_id'].nunique()} "
                f"transcripts rated, {RATINGS_FILE})",
                "",
            ]
        )
    for j in info:
        model = j.get("model") or {}
        what = (
            f"{model.get('backend')}:{model.get('model')}" if model else "keywords of the lexicon"
        )
        rows.append(
            [str(j.get("label")), str(j.get("kind")), what, str(j.get("template_hash", ""))]
        )
    if not rows:
        return []
    return [
        table(
            ["judge", "kind", "model", "prompt hash"],
            rows,
            code=["prompt hash"],
            caption="The judges as recorded in the run's manifest (task_info.judges: model "
            "identity, system prompt and template); each judgement stores its messages as sent. "
            "A human:NAME judge is a person who rated transcripts at /rate in behaviorlab view "
            "(read from the run's ratings.sqlite; a rater's last rating of a transcript).",
        )
    ]


def _reading(found: list[dict[str, Any]]) -> list[Block]:
    out: list[Block] = []
    by: dict[tuple[str, str], dict[str, Estimate]] = {}
    for f in found:
        if f["who"] != "judge check" and f.get("same") in ("same", "other"):
            by.setdefault((str(f["who"]), str(f["condition"])), {})[f["same"]] = f["core_beliefs"][
                "jaccard"
            ]
    for (who, cond), pair in sorted(by.items()):
        if "same" in pair and "other" in pair and pair["same"].ok and pair["other"].ok:
            diff = pair["same"].value - pair["other"].value
            out.append(
                Paragraph(
                    f"{who} ({cond}): the judge on the patient's own model reads a core-belief "
                    f"Jaccard {diff:+.2f} from the judge on another model; read the other "
                    "judge's row.",
                    tone="warning" if diff > 0.05 else "plain",
                )
            )
    return out


def patient_blocks(data: RunData) -> list[Block]:
    """The simulated-patient blocks of a run's report (none when it holds no session)."""
    frame = data.frame
    if "task" not in frame.columns:
        return []
    refused: list[Block] = []
    try:
        people = human_judgements(data.folder, data.run_id)
    except (ValueError, sqlite3.Error) as exc:  # a link, another schema, a locked file
        people = {}
        refused.append(Paragraph(f"People's ratings left out: {exc}", tone="warning"))
    table_ = judgements(frame.loc[frame["task"].astype(str) == PATIENT], people)
    if table_.empty:
        return []
    main, found = _main_table(table_)
    failed = frame.loc[(frame["task"].astype(str) == PATIENT) & frame["error"].notna()]
    blocks: list[Block] = [
        Heading("Simulated patients: fidelity to the cognitive model"),
        Paragraph(NOT_CLINICAL, tone="note"),
        *refused,
        *_reading(found),
        *_unread(table_),
        *_constant(table_),
        *main,
        *_per_label(found),
        *_consistency(table_),
        *_judges(data, table_),
    ]
    if len(failed):
        blocks.append(
            Paragraph(
                f"{len(failed)} sessions failed (a party that never answered) and are left out.",
                tone="warning",
            )
        )
    return blocks


WIDTH = 80
"""The terminal width the demo's table keeps to."""


def _short(value: float) -> str:
    return "—" if value != value else f"{value:.2f}".removeprefix("0")


def compact_lines(frame: pd.DataFrame, *, n_resamples: int = 20) -> list[str]:
    """The main table for a terminal: per row the mean Jaccard (share right for the style)
    and, in brackets, its permutation chance mean, within :data:`WIDTH` columns (no
    intervals: they are in report.html / report.md). Plain text, no Rich markup."""
    table_ = judgements(frame.loc[frame["task"].astype(str) == PATIENT])
    rows: list[list[str]] = []
    for key, g in fidelity_groups(table_):
        arm = str(key.get("level") or key["arm"])
        cells = [str(key["who"]), arm, str(key["judge"])]
        for field in FIELDS:
            fid = fidelity(g, field, n_resamples=n_resamples, seed=0, permutations=200)
            value = fid["jaccard"].value
            cells.append(
                "—" if value != value else f"{value:.2f} ({_short(fid['chance']['mean'])})"
            )
        rows.append(cells)
    if not rows:
        return []
    head = ["who", "arm", "judge", *(SHORT[f] for f in FIELDS)]
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]

    def line(r: list[str]) -> str:  # two spaces after the labels, one between readings
        labels = "  ".join(c.ljust(w) for c, w in zip(r[:3], widths[:3], strict=True))
        return (
            labels + "  " + " ".join(c.ljust(w) for c, w in zip(r[3:], widths[3:], strict=True))
        ).rstrip()

    if sum(widths) + 2 * 3 + (len(widths) - 4) <= WIDTH:
        return [line(r) for r in [head, *rows]]
    # too wide: who / arm on one line, the judge and its readings indented below
    lines = []
    last = None
    low = widths[2:]
    for r in [head, *rows]:
        if (r[0], r[1]) != last:
            lines.append(f"{r[0]}  {r[1]}")
            last = (r[0], r[1])
        lines.append("  " + "  ".join(c.ljust(w) for c, w in zip(r[2:], low, strict=True)))
    return [line.rstrip() for line in lines]
