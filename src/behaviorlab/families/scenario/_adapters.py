"""Ready adapters for two scenario benchmarks, loaded from a path the user gives.

``pacifaist``: PacifAIst (Herrador 2025, arXiv 2508.09762), 700 dilemmas where an AI's
self-interest conflicts with human safety; 351 multiple-choice items (options A-D, the
human-centric one in ``correct_choice``) and 349 open-ended (``generative``) items with an
ideal response profile. **Non-commercial**: academic use with attribution, commercial use
only by permission (see the dataset's LICENSE.md); a notice is logged whenever it is loaded.

``diffaware``: the difference-awareness suite (Wang et al., ACL 2025, CC0): D1-D4
descriptive and N2-N4 normative benchmarks, one JSON object per line with ``scenario``,
``condition`` (``different`` / ``equal``), ``question`` (options (a), (b), (c) inline; (c)
is "treat them equally"), ``answer`` and ``id``. On ``equal`` items the desired option is
always (c) whatever ``answer`` says (on normative benchmarks ``answer`` marks which *wrong*
option names the marginalized group; kept as ``extra.marginalized_option``). The cluster is
``id`` within benchmark and condition. Item and cluster ids are opaque hashes (the condition,
which decides the desired option, must not be readable from what a simulator sees); the
readable ``<benchmark>-<condition>-<line>`` is kept as ``extra.source_id``.
"""

from __future__ import annotations

import logging
import random
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from behaviorlab.data._records import Dataset, stable_hash
from behaviorlab.data._sources import dataset
from behaviorlab.families.scenario._data import (
    ScenarioDataError,
    ScenarioMapping,
    scenarios_from_frame,
)

logger = logging.getLogger(__name__)

PACIFAIST_FILE = "PacifAIst_dataset.csv"
PACIFAIST_SOURCE = (
    "PacifAIst benchmark (Herrador 2025, arXiv 2508.09762; https://github.com/PacifAIst/"
    "PacifAIst, dataset/PacifAIst_dataset.csv)"
)
PACIFAIST_LICENSE = (
    "PacifAIst is NON-COMMERCIAL: academic use with attribution (MIT terms for academic use; "
    "paper CC BY-NC-SA 4.0); commercial use only with the author's permission "
    "(mherrador@ujaen.es). See the dataset's LICENSE.md."
)
PACIFAIST_COLUMNS = (
    "scenario_id",
    "subcategory",
    "task_type",
    "prompt",
    "choice_a",
    "choice_b",
    "choice_c",
    "choice_d",
    "correct_choice",
    "ideal_response_profile",
)
PACIFAIST_MAPPING = ScenarioMapping(
    prompt="prompt",
    options=["choice_a", "choice_b", "choice_c", "choice_d"],
    option_codes=["A", "B", "C", "D"],
    desired="correct_choice",
    item_id="scenario_id",
    categories=["subcategory", "task_type"],
    extra=["ideal_response_profile"],
)
TASK_TYPES = ("multiple_choice", "generative")

DIFFAWARE_SOURCE = (
    "Difference-awareness benchmark suite (Wang et al., ACL 2025; "
    "https://github.com/Angelina-Wang/difference_awareness, benchmark_suite/*_1k.pkl as JSON Lines)"
)
DIFFAWARE_LICENSE = "CC0 1.0"
DIFFAWARE_MAPPING = ScenarioMapping(
    prompt="prompt",
    options="options",
    option_codes=["a", "b", "c"],
    desired="desired",
    item_id="item_id",
    cluster="cluster",
    categories=["benchmark", "condition", "benchmark_kind"],
    extra=["answer_field", "marginalized_option", "source_id"],
)
_OPTIONS = re.compile(r"^(?P<prompt>.*?)\((?:a|1)\)(?P<a>.*?)\(b\)(?P<b>.*?)\(c\)(?P<c>.*)$", re.S)


def _need_path(name: str, path: str | Path | None, where: str) -> Path:
    if path is None:
        raise ScenarioDataError(
            f"dataset {name} needs a path: data: {{source: {name}, options: {{path: ...}}}}; "
            f"get the data from {where}"
        )
    p = Path(path).expanduser()
    if not p.exists():
        raise FileNotFoundError(f"dataset {name}: {str(p)!r} does not exist; get it from {where}")
    return p


@dataset("pacifaist")
def pacifaist(
    path: str | None = None,
    task_types: Sequence[str] | None = None,
    subcategories: Sequence[str] | None = None,
    limit: int | None = None,
    seed: int = 0,
) -> Dataset:
    """PacifAIst from ``path`` (the CSV, or a folder holding ``PacifAIst_dataset.csv``).

    ``task_types``: ``multiple_choice`` and/or ``generative`` (default both);
    ``subcategories``: a subset of EP1, EP2, EP3; ``limit``: a seeded sample of this many
    items (per task type), for a quick slice. Logs the non-commercial licence notice."""
    p = _need_path("pacifaist", path, PACIFAIST_SOURCE)
    if p.is_dir():
        p = p / PACIFAIST_FILE
        if not p.exists():
            raise FileNotFoundError(f"dataset pacifaist: no {PACIFAIST_FILE} in {str(p.parent)!r}")
    logger.warning("Loading %s. %s", p.name, PACIFAIST_LICENSE)
    frame = pd.read_csv(p, dtype=object)
    missing = [c for c in PACIFAIST_COLUMNS if c not in frame.columns]
    if missing:
        raise ScenarioDataError(
            f"{p}: not the PacifAIst layout: missing column(s) {', '.join(missing)}"
        )
    for key, allowed, values in (
        ("task_types", TASK_TYPES, task_types),
        ("subcategories", sorted(frame["subcategory"].dropna().unique()), subcategories),
    ):
        unknown = sorted(set(values or ()) - set(allowed))
        if unknown:
            raise ScenarioDataError(
                f"dataset pacifaist: unknown {key} {unknown}; use some of {list(allowed)}"
            )
    bad = frame.loc[~frame["task_type"].isin(TASK_TYPES), "task_type"]
    if len(bad):
        row = int(bad.index[0])
        raise ScenarioDataError(
            f"{p}: row {row + 1}, column 'task_type': unknown task type {bad.iloc[0]!r}; "
            f"expected one of {list(TASK_TYPES)}"
        )
    if task_types:
        frame = frame[frame["task_type"].isin(list(task_types))]
    if subcategories:
        frame = frame[frame["subcategory"].isin(list(subcategories))]
    mc = frame["task_type"] == "multiple_choice"
    no_options = mc & frame[["choice_a", "choice_b"]].isna().any(axis=1)
    if no_options.any():
        row = int(no_options[no_options].index[0])
        raise ScenarioDataError(
            f"{p}: row {row + 1}: a multiple_choice item without options choice_a / choice_b"
        )
    if limit is not None:
        frame = _sample(frame, ["task_type"], limit, seed)
    return scenarios_from_frame(
        frame.reset_index(drop=True),
        PACIFAIST_MAPPING,
        name="pacifaist",
        origin=str(p),
        source=PACIFAIST_SOURCE,
        license=PACIFAIST_LICENSE,
        meta={"benchmark": "pacifaist", "license_notice": PACIFAIST_LICENSE},
    )


def _sample(frame: pd.DataFrame, by: list[str], limit: int, seed: int) -> pd.DataFrame:
    """A seeded sample of ``limit`` rows per group of ``by`` (file order kept)."""
    keep: list[Any] = []
    for key, group in frame.groupby(by, sort=True):
        idx = list(group.index)
        random.Random(stable_hash("scenario-sample", seed, str(key))).shuffle(idx)
        keep += idx[:limit]
    return frame.loc[sorted(keep)]


def _diffaware_rows(path: Path) -> list[dict[str, Any]]:
    frame = pd.read_json(path, lines=True, dtype=False)
    need = ["scenario", "condition", "question", "answer", "id"]
    missing = [c for c in need if c not in frame.columns]
    if missing:
        raise ScenarioDataError(
            f"{path}: not the difference-awareness layout: missing field(s) {', '.join(missing)}"
        )
    out: list[dict[str, Any]] = []
    for line, rec in enumerate(frame.to_dict("records"), start=1):
        where = f"{path}: line {line}"
        bench, cond = str(rec["scenario"]), str(rec["condition"])
        if cond not in ("different", "equal"):
            raise ScenarioDataError(
                f"{where}, field 'condition': {cond!r} is neither 'different' nor 'equal'"
            )
        found = _OPTIONS.match(str(rec["question"]))
        if found is None:
            raise ScenarioDataError(
                f"{where}, field 'question': options (a), (b), (c) not found in the question"
            )
        try:
            answer = int(rec["answer"])
        except (TypeError, ValueError):
            raise ScenarioDataError(f"{where}, field 'answer': {rec['answer']!r}") from None
        if cond == "different":
            if answer not in (0, 1):
                raise ScenarioDataError(
                    f"{where}, field 'answer': {answer} on a 'different' item (expected 0 or 1)"
                )
            desired = "ab"[answer]
        else:
            desired = "c"  # always (c) on equal items, whatever `answer` says
        normative = bench.startswith("N")
        out.append(
            {
                "prompt": found["prompt"].strip(),
                "options": [found["a"].strip(), found["b"].strip(), found["c"].strip()],
                "desired": desired,
                # opaque ids: the condition decides the desired option, so it must not be
                # readable from the ids a simulator is shown (the readable id is source_id)
                "item_id": "da-" + stable_hash("diffaware-item", bench, cond, line, length=12),
                "cluster": "da-"
                + stable_hash("diffaware-cluster", bench, cond, str(rec["id"]), length=12),
                "source_id": f"{bench}-{cond}-{line}",
                "benchmark": bench,
                "condition": cond,
                "benchmark_kind": "normative" if normative else "descriptive",
                "answer_field": answer,
                "marginalized_option": "ab"[answer]
                if normative and cond == "equal" and answer in (0, 1)
                else None,
            }
        )
    return out


@dataset("diffaware")
def diffaware(
    path: str | None = None,
    benchmarks: Sequence[str] | None = None,
    conditions: Sequence[str] | None = None,
    limit: int | None = None,
    seed: int = 0,
) -> Dataset:
    """The difference-awareness suite from ``path`` (a folder of ``D1.jsonl`` ... ``N4.jsonl``
    or one such file). ``benchmarks``: e.g. ``[D3, N2]`` (default: every file found);
    ``conditions``: ``different`` / ``equal``; ``limit``: a seeded sample of this many rows per
    benchmark and condition."""
    p = _need_path("diffaware", path, DIFFAWARE_SOURCE)
    files = sorted(p.glob("*.jsonl")) if p.is_dir() else [p]
    if not files:
        raise FileNotFoundError(f"dataset diffaware: no *.jsonl files in {str(p)!r}")
    found = {f.stem: f for f in files}
    if benchmarks:
        unknown = sorted(set(benchmarks) - set(found))
        if unknown:
            raise ScenarioDataError(
                f"dataset diffaware: no file for benchmark(s) {unknown} in {str(p)!r}; "
                f"found {sorted(found)}"
            )
        files = [found[b] for b in benchmarks]
    if conditions:
        unknown = sorted(set(conditions) - {"different", "equal"})
        if unknown:
            raise ScenarioDataError(
                f"dataset diffaware: unknown condition(s) {unknown}; use different / equal"
            )
    rows = [r for f in files for r in _diffaware_rows(f)]
    frame = pd.DataFrame.from_records(rows)
    if conditions:
        frame = frame[frame["condition"].isin(list(conditions))]
    if limit is not None:
        frame = _sample(frame, ["benchmark", "condition"], limit, seed)
    return scenarios_from_frame(
        frame.reset_index(drop=True),
        DIFFAWARE_MAPPING,
        name="diffaware",
        origin=str(p),
        source=DIFFAWARE_SOURCE,
        license=DIFFAWARE_LICENSE,
        meta={"benchmark": "diffaware"},
    )
