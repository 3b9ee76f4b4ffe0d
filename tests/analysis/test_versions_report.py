"""The report sections of ``versions`` and ``adjusted_ranking``: what they say when min-ACC is
not reported, the continual table when it is, and labels escaped in the HTML page."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from behaviorlab.analysis import adjusted_ranking, versions
from behaviorlab.report._time_series import series_document, write_series_report
from behaviorlab.report._versions import confounders_section, versions_section

from .conftest import build_frame


def frames(n_versions: int = 3) -> list[pd.DataFrame]:
    out = []
    for v in range(n_versions):
        rows = [
            {"person_id": f"p{p}", "item_id": f"q{i}", "human_answer": "a"}
            | {"answer": "a" if (p + i + v) % 3 else "b"}
            for p in range(12)
            for i in range(6)
        ]
        out.append(build_frame(rows))
    return out


def test_versions_section_says_why_min_acc_is_missing_and_escapes_labels(tmp_path: Path) -> None:
    labels = ["<b>v1</b>", "v2", "v3"]
    result = versions(frames(), labels=labels, n_resamples=100, correction="fdr_bh")
    section = versions_section(result)
    missing = [b for b in section.blocks if getattr(b, "tone", "") == "missing"]
    assert len(missing) == 1 and "min-ACC and WC-ACC are not reported" in missing[0].text  # type: ignore[union-attr]
    assert len(section.plots) == 1
    page = write_series_report(series_document("t", "s", [section]), tmp_path / "r.html")
    text = page.read_text()
    assert "<b>v1</b>" not in text and "&lt;b&gt;v1&lt;/b&gt;" in text


def test_versions_section_with_learned_at_has_the_continual_table() -> None:
    learned = {f"p{p}": ("v1" if p < 6 else "v2") for p in range(12)}
    result = versions(
        frames(), labels=["v1", "v2", "v3"], learned_at=learned, n_resamples=100,
        correction="fdr_bh",
    )  # fmt: skip
    section = versions_section(result)
    tables = [b for b in section.blocks if getattr(b, "kind", "") == "table"]
    continual = [t for t in tables if "min-ACC" in t.columns]  # type: ignore[union-attr]
    assert len(continual) == 1 and len(continual[0].rows) == 3  # type: ignore[union-attr]
    # k counts the groups (units learned at one version each), not the units: 12 people, 2 groups
    columns = continual[0].columns  # type: ignore[union-attr]
    assert columns[1] == "groups learned" and "units learned" not in columns
    assert [row[1] for row in continual[0].rows] == ["1", "2", "2"]  # type: ignore[union-attr]
    assert not any(getattr(b, "tone", "") == "missing" for b in section.blocks)


def test_confounders_section_sets_raw_and_adjusted_side_by_side() -> None:
    rng = np.random.default_rng(0)
    rows = [
        {"simulator": sim, "person_id": f"p{p}", "item_id": f"q{i}", "human_answer": "a"}
        | {"answer": "a" if rng.random() < (0.8 if sim == "llm:x" else 0.5) else "b"}
        for sim in ("llm:x", "llm:y")
        for p in range(10)
        for i in range(6)
    ]
    frame = build_frame(rows).assign(hard=lambda f: f["item_id"].isin(["q0", "q1"]))
    section = confounders_section(adjusted_ranking(frame, ["hard"]))
    lead = section.blocks[0]
    assert "leaves the ranking as it was" in lead.text  # type: ignore[union-attr]
    table = next(b for b in section.blocks if getattr(b, "kind", "") == "table")
    assert table.columns[3].startswith("raw") and table.columns[5].startswith("adjusted")  # type: ignore[union-attr]
