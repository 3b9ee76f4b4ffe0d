"""A debate run killed with SIGKILL half-way resumes (issue 18, done when: "debates resume
after kill -9"): the rerun stores every debate once, pays no model call twice (the debate cut
off is replayed from the call cache) and stores what an uninterrupted run stores."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import behaviorlab as bl

SUPPORT = Path(__file__).resolve().parents[1] / "support"
Spec = Callable[..., dict[str, Any]]


def _logged(path: Path) -> list[str]:
    if not path.exists():
        return []
    lines = [json.loads(line) for line in path.read_text().splitlines() if line]
    return [f"{c['model']} {c['kind']} {c['prompt']}" for c in lines]


def _spec(make_spec: Spec, tmp_path: Path, tag: str) -> tuple[dict[str, Any], Path]:
    log = tmp_path / f"calls-{tag}.jsonl"
    llm = {
        "name": "llm",
        "backend": "logging_mock",
        "answer": "score",  # reports scored on the scale's points (the mock delays scoring)
        "open_answers": "generate",
        "backend_options": {"log": str(log), "delay_s": 0.05},
    }
    spec = make_spec(llm, agents=2, rounds=2, repeats=1, attitude_options=True)
    # four distinct debates (repeats of one line-up would ask the same calls: cache hits)
    spec["data"]["options"]["identities"] = [[f"a{i}", f"b{i}"] for i in range(4)]
    spec.update(name="killdebate", plugins=["bl_exchange"], cache=str(tmp_path / f"{tag}.sqlite"))
    return spec, log


def test_kill_9_half_way_through_debates_then_rerun_pays_no_call_twice(
    tmp_path: Path, make_spec: Spec
) -> None:
    spec, log = _spec(make_spec, tmp_path, "killed")
    out = tmp_path / "runs"
    code = (
        "import json, sys, behaviorlab as bl; "
        f"bl.run(json.loads(sys.argv[1]), out={str(out)!r}, progress=False)"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SUPPORT), *sys.path])}
    proc = subprocess.Popen([sys.executable, "-c", code, json.dumps(spec)], env=env)
    deadline = time.monotonic() + 60
    # 10 calls a debate (3 x 2 reports, 2 x 2 speeches), 40 in all: kill in the second or later
    while len(_logged(log)) < 15 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.005)
    assert proc.poll() is None, "the run ended before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert len(_logged(log)) >= 15
    assert len(bl.open_run("killdebate", out=out).to_pandas()) < 4

    bl.run(spec, out=out, progress=False)
    calls = _logged(log)
    assert len(calls) == len(set(calls)), "a call made before the kill was paid again"
    frame = bl.open_run("killdebate", out=out).to_pandas()
    assert len(frame) == 4 and frame["trial_id"].is_unique and frame["error"].isna().all()

    fresh_spec, fresh_log = _spec(make_spec, tmp_path, "fresh")
    fresh = bl.run(fresh_spec, out=tmp_path / "fresh", progress=False).to_pandas()
    assert sorted(_logged(fresh_log)) == sorted(calls)
    cols = ["episode_id", "answer_json", "scores"]
    got = frame[cols].sort_values("episode_id").to_dict("records")
    assert got == fresh[cols].sort_values("episode_id").to_dict("records")
