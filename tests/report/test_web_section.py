"""The "Next-action" section: present for a next_action run (with values from independent
pandas computations), absent for a survey run."""

from __future__ import annotations

from pathlib import Path

import pytest

import behaviorlab as bl
from behaviorlab.data import make_synthetic_opera
from behaviorlab.families.next_action._report import SECTION_ID, next_action_section
from behaviorlab.report import write_report
from behaviorlab.report._collect import collect
from behaviorlab.report._document import Plot, Table
from behaviorlab.report._report import build_document
from behaviorlab.runs import Run

from .conftest import RESAMPLES


@pytest.fixture(scope="module")
def opera_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    root = tmp_path_factory.mktemp("web-section")
    make_synthetic_opera(root / "data")
    spec = {
        "name": "web-section",
        "task": "next_action",
        "data": {"source": "opera", "options": {"path": str(root / "data")}},
        "simulators": [
            {"name": "llm", "backend": "mock", "answer": "generate"},
            {"name": "majority_action"},
            {"name": "markov"},
            {"name": "first_product_link"},
        ],
        "conditions": ["full", "no_history"],
    }
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BEHAVIORLAB_CACHE_DIR", str(root / "cache"))
        return bl.run(spec, out=root / "runs", progress=False)


def _table(tables: list[Table], column: str) -> Table:
    return next(t for t in tables if column in t.columns)


def test_section_values(opera_run: Run) -> None:
    data = collect(opera_run, n_resamples=RESAMPLES)
    section = next_action_section(data)
    assert section is not None and section.section_id == SECTION_ID
    tables = [b for b in section.blocks if isinstance(b, Table)]
    frame = opera_run.to_pandas()
    head = _table(tables, "exact match")
    for row in head.rows:
        sim, cond = row[0].removesuffix(" (baseline)"), row[1]
        arm = frame.loc[(frame["simulator"] == sim) & (frame["condition"] == cond)]
        reach = arm["scores"].map(lambda s: s["reachable"])
        assert row[2].startswith(f"{arm['correct'].mean():.2f}")
        assert row[3].startswith(f"{reach.mean():.2f}")
        assert row[4].startswith(f"{arm['correct'].sum() / reach.sum():.2f}")
    types = _table(tables, "action type")
    markov = next(r for r in types.rows if r[0].startswith("markov") and r[1] == "full")
    arm = frame.loc[(frame["simulator"] == "markov") & (frame["condition"] == "full")]
    expected = arm["scores"].map(lambda s: s["action_type_correct"]).mean()
    assert markov[2].startswith(f"{expected:.2f}")
    # the click types come from the run's data: the F1 and the breakdown are there
    assert markov[5] != "–"
    assert any("purchase" in t.columns for t in tables)
    assert _table(tables, "purchase agrees")
    assert _table(tables, "ROUGE-L")
    cut = _table(tables, "mean [interval]")
    before = arm["meta"].map(lambda m: m["cut"]["tokens_before"]).mean()
    cells = {r[0]: r[1] for r in cut.rows}
    assert cells["prompt tokens before the cut"].startswith(f"{before:.2f}".rstrip("0"))
    ablations = _table(tables, "p (Holm)")
    assert {r[1] for r in ablations.rows} == {"full − no_history"}
    assert len([b for b in section.blocks if isinstance(b, Plot)]) == 2


def test_report_files_have_the_section(opera_run: Run, tmp_path: Path) -> None:
    files = write_report(opera_run, tmp_path, n_resamples=RESAMPLES)
    md = files.markdown.read_text()
    assert "## Next-action" in md and "exact match / ceiling" in md
    assert 'id="plot-next-action-click-types"' in files.html.read_text()


def test_no_section_for_a_survey_run(main_run: Run) -> None:
    data = collect(main_run, n_resamples=RESAMPLES)
    assert next_action_section(data) is None
    doc = build_document(data, n_resamples=RESAMPLES)
    assert SECTION_ID not in {s.section_id for s in doc.sections}
