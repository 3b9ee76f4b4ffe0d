"""``behaviorlab demo debate`` (issue 18 §4) on the mock backend: the LLM parties move to the
backend, the scripted yardsticks stay, and the report's debate block shows the drift table,
the reference dynamics, the controls and a reading that says when the numbers mean little."""

from __future__ import annotations

import re
import time
from pathlib import Path

from behaviorlab.families.debate import FAMILY
from behaviorlab.plugins import DemoRequest
from behaviorlab.report import write_report
from behaviorlab.runs import run


def test_the_demo_runs_offline_on_the_mock_backend_and_reports_drift(tmp_path: Path) -> None:
    (demo,) = FAMILY.demos
    plan = demo.build(DemoRequest(out=tmp_path, backend="mock"))
    spec = plan.spec
    assert spec["name"] == "debate-demo-mock"
    labels = [p["label"] for p in spec["parties"]]
    assert labels == ["mock", "drift-0.25", "degroot", "stubborn"]
    roles = spec["parties"][0]["roles"]
    assert {r["backend"] for r in roles.values()} == {"mock"}
    assert not any("model" in r or "backend_options" in r for r in roles.values())
    assert any("does not debate" in line for line in plan.outro)
    start = time.perf_counter()
    done = run(spec, out=tmp_path, progress=False)
    assert time.perf_counter() - start < 10
    frame = done.to_pandas()
    assert frame["error"].isna().all()
    assert set(frame["condition"]) == {"full", "same_identity", "retest", "model_default"}
    files = write_report(done, n_resamples=200)
    md = Path(files.markdown).read_text(encoding="utf-8")
    block = md.split("Debates: drift toward the model's default", 1)[1]
    assert "share of the gap to the default closed" in block
    assert "| stubborn | full | (pooled) | 1 | 0.00" in block  # never moves
    # DeGroot agents' observed share equals their own closed-form reference
    degroot = [r for r in block.splitlines() if r.startswith("| degroot | full | (pooled) | 1 ")]
    cells = [c.strip() for c in degroot[0].strip("|").split("|")]
    assert cells[4].split(" ")[0] == cells[6]
    assert "| drift-0.25 | retest |" in block and "The model's default" in block
    # arms against the debate, paired by setup: a retest of drift agents closes less
    paired = block.split("drift minus the debate's", 1)[1]
    assert re.search(r"\| drift-0.25 \| retest \| 1 \| \u22120\.\d\d \\\[\u2212", paired)
    assert "change (paired by debate)" in block
    assert "attitude reports were invalid" in block
    assert re.search(
        r"mock: \d+% of its attitude reports were invalid; 0% of its 48 speeches", block
    )
