"""A run's own report reads its rows as time series when its spec says how (issue 23):
``report: {time_series: {value, time, unit, treatment, group}}`` adds the early-warning,
within-person and difference-in-differences sections. The runs here are mock runs: trial
rows written to a run store with a planted fidelity process, read back like any run."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from behaviorlab.report._collect import collect
from behaviorlab.report._document import Paragraph, Section, Table
from behaviorlab.report._html import render_html
from behaviorlab.report._markdown import render_markdown
from behaviorlab.report._report import build_document
from behaviorlab.runs import open_run
from behaviorlab.runs._spec import ExperimentSpec, SpecError, load_spec
from behaviorlab.store import ResultStore
from behaviorlab.store._schema import TrialResult

Planted = Callable[[np.random.Generator], Iterator[dict[str, Any]]]


def _spec(report: dict[str, Any] | None) -> ExperimentSpec:
    raw: dict[str, Any] = {
        "name": "twin-over-time",
        "task": "survey",
        "data": {"source": "synthetic-test"},
        "simulators": [{"name": "majority"}],
    }
    if report is not None:
        raw["report"] = report
    return load_spec(raw)


def mock_run(folder: Path, report: dict[str, Any] | None, planted: Planted) -> Path:
    """A stored run whose trial rows ``planted`` yields (simulator, person, step, correct,
    and optionally scores / meta), under a spec with the ``report:`` block given."""
    spec = _spec(report)
    rid = spec.run_id()
    folder.mkdir(parents=True)
    rows = [
        TrialResult(
            run_id=rid,
            trial_id=f"{r['simulator']}-{r['person']}-{r['step']}",
            task="survey",
            simulator=r["simulator"],
            condition="full",
            seed=0,
            person_id=r["person"],
            item_id=f"q{r['step']}",
            episode_id=r["person"],
            step_index=r["step"],
            answer="1" if r["correct"] else "2",
            human_answer="1",
            options=["1", "2"],
            correct=float(r["correct"]),
            scores=r.get("scores", {}),
            meta=r.get("meta", {}),
        )
        for r in planted(np.random.default_rng(0))
    ]
    with ResultStore(folder / "results.sqlite") as store:
        store.start_run(rid, spec.name, spec.model_dump(mode="json"))
        store.set_manifest(rid, {"run_id": rid, "spec": spec.model_dump(mode="json")})
        store.write_many(rows)
        store.finish_run(rid, "finished")
    return folder


def drifting(rng: np.random.Generator) -> Iterator[dict[str, Any]]:
    """Two arms of 4 people over 300 steps; each step's fidelity score is a shared latent
    AR(1) plus a little noise per person, the AR coefficient rising from 0.2 to 0.95 in
    ``twin:drift`` (slowing down before a transition) and staying 0.2 in ``twin:steady``."""
    for arm, rising in (("twin:drift", True), ("twin:steady", False)):
        x = 0.0
        for t in range(300):
            x = (0.2 + (0.75 * t / 300 if rising else 0.0)) * x + rng.normal(0.0, 0.05)
            for u in range(4):
                y = 0.7 + x + rng.normal(0.0, 0.02)
                yield {
                    "simulator": arm,
                    "person": f"p{u}",
                    "step": t,
                    "correct": y > 0.7,
                    "scores": {"fidelity": y},
                }


def tiny(rng: np.random.Generator) -> Iterator[dict[str, Any]]:
    """Two people over 20 steps (for the report's wiring alone)."""
    for u in range(2):
        for t in range(20):
            yield {"simulator": "twin", "person": f"p{u}", "step": t, "correct": rng.random() < 0.7}


def _section(sections: tuple[Section, ...] | list[Section], prefix: str) -> Section:
    found = [s for s in sections if s.section_id.startswith(prefix)]
    assert len(found) == 1, [s.section_id for s in sections]
    return found[0]


def _table(section: Section) -> dict[str, dict[str, str]]:
    tab = next(b for b in section.blocks if isinstance(b, Table))
    return {row[0]: dict(zip(tab.columns, row, strict=True)) for row in tab.rows}


def test_a_runs_report_warns_on_the_arm_whose_fidelity_slows_down(tmp_path: Path) -> None:
    block = {"time_series": {"value": "scores.fidelity", "time": "step_index", "n_surrogates": 99}}
    folder = mock_run(tmp_path / "run", block, drifting)
    doc = build_document(collect(open_run(folder), n_resamples=200), n_resamples=200)
    ids = [s.section_id for s in doc.sections]
    # after the metrics, before the manifest; only the early warnings (no treatment, group)
    assert ids.index("early-warnings") < ids.index("manifest")
    assert not [i for i in ids if i.startswith(("within-person", "staggered-did"))]
    rows = _table(_section(doc.sections, "early-warnings"))
    assert rows["twin:drift · full"]["warns"] == "yes"
    assert rows["twin:steady · full"]["warns"] == "no"
    assert rows["twin:drift · full"]["points"] == "300"
    # and it is rendered like any section
    assert "## Early warnings" in render_markdown(doc)
    assert 'id="early-warnings"' in render_html(doc)


def test_a_run_without_the_block_has_no_time_series_sections(tmp_path: Path) -> None:
    folder = mock_run(tmp_path / "run", None, tiny)
    doc = build_document(collect(open_run(folder), n_resamples=200), n_resamples=200)
    assert "early-warnings" not in [s.section_id for s in doc.sections]


def nudged(rng: np.random.Generator) -> Iterator[dict[str, Any]]:
    """6 people over 120 steps; a nudge shown at random in a step (meta.nudge) raises that
    step's fidelity score by 0.3 and the next's by 0.15 through an AR(1) of 0.5."""
    for u in range(6):
        y = 0.0
        for t in range(120):
            a = float(rng.random() < 0.5)
            y = 0.2 + 0.3 * a + 0.5 * y + rng.normal(0.0, 0.1)
            yield {
                "simulator": "twin",
                "person": f"p{u}",
                "step": t,
                "correct": y > 0.5,
                "scores": {"fidelity": y},
                "meta": {"nudge": a},
            }


def test_a_treatment_column_adds_within_person_effects(tmp_path: Path) -> None:
    block = {"time_series": {"value": "scores.fidelity", "treatment": "meta.nudge", "n_boot": 50}}
    folder = mock_run(tmp_path / "run", block, nudged)
    doc = build_document(collect(open_run(folder), n_resamples=200), n_resamples=200)
    section = _section(doc.sections, "within-person")
    assert section.title == "Within-person effects: twin · full"
    tab = next(b for b in section.blocks if isinstance(b, Table))
    apte = [r for r in tab.rows if r[1].startswith("average period effect")]
    sustained = [r for r in tab.rows if r[1].startswith("always vs never")]
    assert len(apte) == 6 and len(sustained) == 6  # one row per person

    def first(cell: str) -> float:
        return float(re.findall(r"[-+−]?\d+\.\d+", cell)[0].replace("−", "-"))

    # the planted APTE is 0.3 and always-against-never 0.3 / (1 - 0.5) = 0.6
    assert np.mean([first(r[2]) for r in apte]) == pytest.approx(0.3, abs=0.05)
    assert np.mean([first(r[2]) for r in sustained]) == pytest.approx(0.6, abs=0.12)
    # 120 steps are enough for the default window: the fidelity series is analysed too
    assert _table(_section(doc.sections, "early-warnings"))["twin · full"]["points"] == "120"


def cohorts(rng: np.random.Generator) -> Iterator[dict[str, Any]]:
    """30 people over 8 checkpoints; the twin is fine-tuned on a third of them at checkpoint
    4 and on another third at 6 (meta.added_at; never for the rest), which raises its accuracy
    on their items by 0.5 from then on, beside person and checkpoint effects."""
    for u in range(30):
        added = (None, 4, 6)[u % 3]
        level = rng.normal(0.0, 0.5)
        for t in range(8):
            y = level + 0.1 * t + (0.5 if added is not None and t >= added else 0.0)
            meta = {} if added is None else {"added_at": added}
            yield {
                "simulator": "twin",
                "person": f"p{u}",
                "step": t,
                "correct": True,
                "scores": {"acc": y + rng.normal(0.0, 0.1)},
                "meta": meta,
            }


def test_a_group_column_adds_a_staggered_did_and_short_series_say_so(tmp_path: Path) -> None:
    block = {"time_series": {"value": "scores.acc", "group": "meta.added_at", "n_boot": 99}}
    folder = mock_run(tmp_path / "run", block, cohorts)
    doc = build_document(collect(open_run(folder), n_resamples=200), n_resamples=200)
    section = _section(doc.sections, "staggered-did")
    lead = next(b.text for b in section.blocks if isinstance(b, Paragraph) and b.tone == "lead")
    overall = float(re.findall(r"[-+−]?\d+\.\d+", lead)[0].replace("−", "-"))
    assert overall == pytest.approx(0.5, abs=0.08)
    # 8 checkpoints are too short for an early warning: the section says so
    warnings = _section(doc.sections, "early-warnings")
    texts = " ".join(b.text for b in warnings.blocks if isinstance(b, Paragraph))
    assert "Not analysed: twin · full: a series of 8 points is too short" in texts


def test_a_column_the_rows_lack_is_named_in_the_report(tmp_path: Path) -> None:
    block = {"time_series": {"value": "scores.nothing_here", "time": "turn"}}
    folder = mock_run(tmp_path / "run", block, tiny)
    doc = build_document(collect(open_run(folder), n_resamples=200), n_resamples=200)
    blocks = _section(doc.sections, "early-warnings").blocks
    text = " ".join(b.text for b in blocks if isinstance(b, Paragraph))
    assert "no column 'turn'" in text and "step_index" in text


def test_the_report_block_leaves_the_run_id_alone_and_is_checked() -> None:
    plain = _spec(None)
    asked = _spec({"time_series": {"value": "correct", "treatment": "meta.nudge"}})
    assert asked.run_id() == plain.run_id()
    assert asked.report.time_series is not None and plain.report.time_series is None
    with pytest.raises(SpecError, match=r"time_series\.valeu"):
        _spec({"time_series": {"valeu": "correct"}})
