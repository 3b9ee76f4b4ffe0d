"""``behaviorlab demo patient`` on the mock backend: the LLM patient and the same-model judge
move to the backend, the other-model judge to another mock model, and the report's patient
block puts the judge check on planted statements next to the patients' fidelity, each with
its chance line; the scripted yardsticks come out as built."""

from __future__ import annotations

import time
from pathlib import Path

from rich.text import Text

from behaviorlab.families.patient import FAMILY
from behaviorlab.families.patient._report import compact_lines
from behaviorlab.plugins import DemoRequest
from behaviorlab.report import write_report
from behaviorlab.runs import run


def _row(block: str, start: str) -> list[str]:
    (line,) = [r for r in block.splitlines() if r.startswith(start)]
    return [c.strip() for c in line.strip("|").split("|")]


def test_the_demo_runs_offline_and_reports_the_judges_beside_the_patients(tmp_path: Path) -> None:
    (demo,) = FAMILY.demos
    plan = demo.build(DemoRequest(out=tmp_path, backend="mock"))
    spec = plan.spec
    assert spec["name"] == "patient-demo-mock"
    assert [p["label"] for p in spec["parties"]] == [
        "mock",
        "scripted-explicit",
        "scripted-implicit",
    ]
    judges = {j["label"]: j for j in spec["task_options"]["judges"]}
    assert judges["same-model"] == {"label": "same-model", "kind": "llm", "backend": "mock"}
    assert judges["other-model"]["model"] == "mock-judge"
    assert any("not a clinical tool" in line for line in plan.outro)
    start = time.perf_counter()
    done = run(spec, out=tmp_path, progress=False)
    assert time.perf_counter() - start < 20
    frame = done.to_pandas()
    assert frame["error"].isna().all()
    assert set(frame["condition"]) == {"full", "name_and_style"}
    md = Path(write_report(done, n_resamples=200).markdown).read_text(encoding="utf-8")
    block = md.split("Simulated patients: fidelity to the cognitive model", 1)[1]
    assert "not a clinical tool" in block
    # the keyword yardstick on planted statements: explicit read whole, implicit not at all
    explicit = _row(block, "| judge check | planted: explicit | keywords | keywords |")
    implicit = _row(block, "| judge check | planted: implicit | keywords | keywords |")
    assert explicit[4].startswith("1.00") and implicit[4].startswith("0.00")
    # scripted patients: explicit statements read whole, far above the chance line
    cells = _row(block, "| scripted-explicit | full | keywords | keywords |")
    assert cells[4].startswith("1.00") and float(cells[5].split(" / ")[1]) < 1.0
    assert _row(block, "| scripted-explicit | name_and_style | keywords | keywords |")[
        4
    ].startswith("0.00")
    assert "| mock | full | other-model | mock-judge (other) |" in block
    assert "| mock | full | same-model | mock-1 (same) |" in block
    assert "Consistency" in block and "task_info.judges" in block
    # the terminal gets the same table, compactly, within 80 columns; the outro sends the
    # reader to the report for the rest
    assert plan.finish is not None
    shown = [Text.from_markup(line).plain for line in plan.finish(done)]
    start = next(i for i, line in enumerate(shown) if line.startswith("who "))
    tab = [line for line in shown[start:] if line]  # the heading above is prose, it wraps
    assert len(tab) == 1 + 9 + 18 and max(len(line) for line in tab) <= 80
    rows = [line.split() for line in tab]
    assert ["judge", "check", "explicit", "keywords", "1.00"] in [r[:5] for r in rows]
    assert ["scripted-explicit", "full", "keywords", "1.00"] in [r[:4] for r in rows]
    assert ["scripted-implicit", "full", "keywords", "0.00"] in [r[:4] for r in rows]
    assert "report.html" in " ".join(plan.outro)
    longer = frame.assign(simulator=frame["simulator"] + "-with-a-much-longer-label-here")
    narrow = compact_lines(longer)
    assert max(len(line) for line in narrow) <= 80
    assert "scripted-explicit-with-a-much-longer-label-here  full" in narrow
