"""The worked plugin example (examples/gamble_plugin, docs/plugins.md), installed as a user
would: ``pip install`` into a throwaway target directory (never into the project's .venv,
which would leave its entry point behind for every later test), that directory on the path
of the CLI and of the Ray workers, and ``behaviorlab run`` on the local and the Ray executor.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "gamble_plugin"
BIN = Path(sys.executable).parent

READ = """
import json, sys
import behaviorlab as bl
run = bl.open_run("gamble-example", out="runs")
frame = run.to_pandas()
gap = bl.gap(run).to_pandas()
print(json.dumps({
    "rows": frame[["trial_id", "simulator", "condition", "answer", "human_answer"]]
        .sort_values(["trial_id", "simulator", "condition"]).values.tolist(),
    "gap": gap[["simulator", "condition", "risk_share_gap"]].values.tolist(),
}))
"""


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("site")
    source = tmp_path_factory.mktemp("src") / "gamble_plugin"  # pip builds in the source tree
    shutil.copytree(EXAMPLE, source, ignore=shutil.ignore_patterns("build", "*.egg-info"))
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(target),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    assert (target / "behaviorlab_gamble.py").is_file()
    assert not (EXAMPLE / "build").exists()  # nothing built inside the project's tree
    return target


def _env(site: Path) -> dict[str, str]:
    env = dict(os.environ, COLUMNS="200")  # Rich wraps table cells to the terminal
    env["PYTHONPATH"] = os.pathsep.join([str(site), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def _cli(site: Path, cwd: Path, *args: str, timeout: float = 300) -> str:
    done = subprocess.run(
        [str(BIN / "behaviorlab"), *args],
        cwd=cwd,
        env=_env(site),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


def _read(site: Path, cwd: Path) -> dict[str, list[list[object]]]:
    done = subprocess.run(
        [sys.executable, "-c", READ],
        cwd=cwd,
        env=_env(site),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out: dict[str, list[list[object]]] = json.loads(done.stdout)
    return out


def _run(site: Path, workdir: Path, *extra: str) -> dict[str, list[list[object]]]:
    workdir.mkdir()
    out = _cli(site, workdir, "run", str(EXAMPLE / "spec.yaml"), "--out", "runs", *extra)
    assert "gamble-example" in out
    return _read(site, workdir)


def test_the_install_left_the_project_environment_alone(installed: Path) -> None:
    """The entry point lives only in the throwaway directory: this process (the project's
    .venv) neither sees it nor can import the module."""
    names = {ep.name for ep in metadata.entry_points(group="behaviorlab")}
    assert "gamble" not in names and "survey" in names
    assert not any(Path(p).resolve() == installed.resolve() for p in sys.path if p)
    with pytest.raises(ImportError):
        __import__("behaviorlab_gamble")


def test_the_family_runs_from_its_install_on_the_local_executor(
    installed: Path, tmp_path: Path
) -> None:
    listing = _cli(installed, tmp_path, "families")
    assert "gamble" in listing and "example plugin" in listing

    result = _run(installed, tmp_path / "local")
    rows = result["rows"]
    # 40 people, half tested, 8 situations, 2 conditions, 2 simulators
    assert len(rows) == 20 * 8 * 2 * 2
    assert {r[4] for r in rows} == {"A", "B"} and {r[3] for r in rows} <= {"A", "B"}

    # The plugin's metric is a column of the gap table, with the value its definition gives
    gaps = {(s, c): e for s, c, e in result["gap"]}
    assert set(gaps) == {(s, c) for s in ("llm:mock-1", "majority") for c in ("full", "no_persona")}
    for (sim, cond), value in gaps.items():
        arm = [r for r in rows if r[1] == sim and r[2] == cond]
        want = abs(sum(r[3] == "B" for r in arm) - sum(r[4] == "B" for r in arm)) / len(arm)
        assert value == pytest.approx(want)

    # ... and its report block is in the report the core writes
    _cli(installed, tmp_path / "local", "report", "gamble-example", "--out", "runs")
    report = (tmp_path / "local" / "runs" / "gamble-example" / "report.md").read_text()
    assert "Gambles taken: people against simulated" in report


@pytest.mark.slow
def test_the_family_runs_from_its_install_on_ray_workers(installed: Path, tmp_path: Path) -> None:
    """The Ray workers rebuild the plan from the spec, so they must find the plugin too
    (through the same path); their answers are the local executor's."""
    pytest.importorskip("ray")
    local = _run(installed, tmp_path / "local")
    on_ray = _run(installed, tmp_path / "ray", "--executor", "ray")
    assert on_ray["rows"] == local["rows"]


def test_a_plugin_listed_in_the_spec_is_imported_again_for_the_report(tmp_path: Path) -> None:
    """No entry point here: the module is only on the path and listed under ``plugins:``. A
    later ``behaviorlab report`` (another process) imports it again from the stored spec, so
    its metric and report block are in the report."""
    bare = tmp_path / "bare"
    bare.mkdir()
    shutil.copy(EXAMPLE / "behaviorlab_gamble.py", bare)
    spec = (EXAMPLE / "spec.yaml").read_text() + "plugins: [behaviorlab_gamble]\n"
    (tmp_path / "spec.yaml").write_text(spec)
    _cli(bare, tmp_path, "run", "spec.yaml", "--out", "runs")
    _cli(bare, tmp_path, "report", "gamble-example", "--out", "runs")
    report = (tmp_path / "runs" / "gamble-example" / "report.md").read_text()
    assert "Gambles taken: people against simulated" in report and "risk_share_gap" in report
