"""A whole run against an endpoint that answers every call with a gzip bomb (about 1 MB on
the wire, 1 GiB once inflated): each trial ends as a stored error naming the limit, the run
finishes, and the peak memory of the process that ran it (its VmHWM, read in the child)
stays far under 1 GiB. Before bounded bodies this took one trial to 8.85 GB and ended the run
in a traceback.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

SUPPORT = Path(__file__).resolve().parents[1] / "support"

CHILD = textwrap.dedent(
    """
    import json, sys
    sys.path.insert(0, SUPPORT)
    import bl_fault_server as fs
    import behaviorlab as bl

    MiB = 2**20
    with fs.serve(fs.FaultServer()) as srv:
        srv.script = lambda key, attempt: "gzipbomb"
        srv.bomb = fs.gzip_bomb(1024 * MiB)
        spec = {
            "name": "bombed",
            "task": "survey",
            "data": {"source": "anes96", "target": "vote", "people": 6,
                     "split": {"test": 0.5, "seed": 0}},
            "simulators": [{
                "name": "llm", "backend": "openai", "answer": "generate",
                "backend_options": {"base_url": srv.url, "model": "fake-model",
                                    "structured": "none", "max_retries": 1,
                                    "timeout_s": 20, "deadline_s": 30},
            }],
            "conditions": ["full"],
            "cache": False,
        }
        run = bl.run(spec, out=OUT, progress=False)
        frame = run.to_pandas()
    # VmHWM: this process image's peak RSS (ru_maxrss would carry the forking pytest's peak
    # across exec, so a big parent makes it read high)
    with open("/proc/self/status") as status:
        hwm_kib = next(int(l.split()[1]) for l in status if l.startswith("VmHWM:"))
    print(json.dumps({
        "peak_mib": hwm_kib / 1024,
        "trials": len(frame),
        "planned": run.manifest["trials_planned"],
        "status": run.manifest["status"],
        "kinds": sorted(set(frame["error_kind"].astype(str))),
        "errors": sorted(set(frame["error"].astype(str)))[:2],
        "bomb_bytes": len(srv.bomb),
    }))
    """
)


@pytest.mark.slow
def test_a_run_against_a_gzip_bomb_finishes_with_bounded_memory(tmp_path: Path) -> None:
    code = f"SUPPORT = {str(SUPPORT)!r}\nOUT = {str(tmp_path / 'runs')!r}\n" + CHILD
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    got = json.loads(done.stdout.strip().splitlines()[-1])
    assert got["bomb_bytes"] < 2 * 2**20  # about a megabyte on the wire
    assert got["status"] == "finished" and got["trials"] == got["planned"] > 0
    assert got["kinds"] == ["backend"]  # a failed call; the reason says which limit and why
    assert "larger than the 16 MiB limit" in got["errors"][0]
    assert "max_response_bytes" in got["errors"][0]
    assert got["peak_mib"] < 1024, f"peak RSS {got['peak_mib']:.0f} MiB"
    print(f"peak RSS of the bombed run: {got['peak_mib']:.0f} MiB")
