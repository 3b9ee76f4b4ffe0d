"""``behaviorlab sweep design / effects``: a sweep spec on the synthetic survey with the mock
model, planned and run; its effects read back from the stored rows; bad input exits with code
2 and says what to do."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

import behaviorlab as bl
from behaviorlab.cli._app import app

runner = CliRunner()

SPEC = """\
name: sw
data: {source: synthetic-test, people: 20, split: {test: 1.0}}
sweep:
  simulator: {name: llm, backend: mock, answer: sample, n: 2}
  factors:
    model: [a, b]
    prompt: [default, paraphrase]
    seed: [0, 2, 4]
"""


@pytest.fixture(scope="module")
def sweep_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("sweep")
    spec = root / "sweep.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    bl.run(spec, out=root / "runs", progress=False)
    return spec, root / "runs"


def test_design_says_how_many_cells_and_trials(sweep_run: tuple[Path, Path]) -> None:
    spec, _ = sweep_run
    res = runner.invoke(app, ["sweep", "design", str(spec)])
    assert res.exit_code == 0, res.output
    assert "prompt: default (condition full), paraphrase" in res.output
    assert "2 model × 2 prompt × 3 seed = 12 cells × 40 trials = 480 trials" in res.output


def test_effects_reads_the_levels_back_from_the_rows(sweep_run: tuple[Path, Path]) -> None:
    _, runs = sweep_run
    out_json, out_md = runs.parent / "s.json", runs.parent / "s.md"
    res = runner.invoke(
        app,
        [
            "sweep",
            "effects",
            "sw",
            "--out",
            str(runs),
            "--resamples",
            "200",
            "--json",
            str(out_json),
            "--report",
            str(out_md),
        ],
    )
    assert res.exit_code == 0, res.output
    assert "12 cells, 20 people" in res.output
    assert "prompt paraphrase vs default:" in res.output
    assert "seed, any two (RMS):" in res.output
    data = json.loads(out_json.read_text())
    assert data["factors"] == {
        "model": ["a", "b"],
        "prompt": ["default", "paraphrase"],
        "seed": ["0", "2", "4"],
    }
    assert {(e["metric"], e["factor"]) for e in data["effects"]} == {
        (m, f) for m in ("accuracy", "js_distance") for f in ("model", "prompt")
    }
    assert len(data["cells"]) == 12 and {c["n"] for c in data["cells"]} == {40}
    shares = [v["share"] for v in data["variance"] if v["metric"] == "accuracy"]
    assert sum(shares) == pytest.approx(1.0)
    md = out_md.read_text()
    assert "Sensitivity" in md and "share of accuracy" in md and "(the floor)" in md
    # the reference level moves the sign of the prompt effect
    res2 = runner.invoke(
        app,
        [
            "sweep",
            "effects",
            "sw",
            "--out",
            str(runs),
            "--resamples",
            "200",
            "--reference",
            "prompt=paraphrase",
            "--json",
            str(out_json),
        ],
    )
    assert res2.exit_code == 0, res2.output
    flipped = json.loads(out_json.read_text())
    before = {(e["metric"], e["factor"]): e["value"] for e in data["effects"]}
    after = {(e["metric"], e["factor"]): e["value"] for e in flipped["effects"]}
    assert after[("accuracy", "prompt")] == pytest.approx(-before[("accuracy", "prompt")])


def test_bad_input_exits_2_with_what_to_do(sweep_run: tuple[Path, Path], tmp_path: Path) -> None:
    _, runs = sweep_run
    res = runner.invoke(app, ["sweep", "effects", "sw", "--out", str(runs), "--reference", "x"])
    assert res.exit_code == 2 and "FACTOR=LEVEL" in res.output
    res = runner.invoke(
        app, ["sweep", "effects", "sw", "--out", str(runs), "--reference", "prompt=other"]
    )
    assert res.exit_code == 2 and "no level 'other'" in res.output
    plain = tmp_path / "plain.yaml"
    plain.write_text(
        "name: plain\ndata: {source: synthetic-test}\nsimulators: [{name: majority}]\n"
    )
    res = runner.invoke(app, ["sweep", "design", str(plain)])
    assert res.exit_code == 2 and "no sweep: block" in res.output
    bl.run(plain, out=tmp_path / "runs", progress=False)
    res = runner.invoke(app, ["sweep", "effects", "plain", "--out", str(tmp_path / "runs")])
    assert res.exit_code == 2 and "run a spec with a sweep: block" in res.output


def test_effects_of_an_unfinished_run_name_what_is_missing(tmp_path: Path) -> None:
    spec = tmp_path / "sweep.yaml"
    spec.write_text(SPEC.replace("people: 20", "people: 6"), encoding="utf-8")
    bl.run(spec, out=tmp_path / "runs", progress=False, limit=20)  # of 12 cells × 12 trials
    args = ["sweep", "effects", "sw", "--out", str(tmp_path / "runs"), "--resamples", "100"]
    res = runner.invoke(app, args)
    assert res.exit_code == 2, res.output
    flat = " ".join(res.output.split())
    assert re.search(r"unfinished: \d+ of its 12 cells have no results \(sweep\[", flat)
    assert "resume with behaviorlab run SPEC" in flat
    res = runner.invoke(app, [*args, "--partial"])
    assert res.exit_code == 0, res.output
    assert "unfinished" in res.output


def test_the_runs_own_report_has_the_sensitivity_section(sweep_run: tuple[Path, Path]) -> None:
    from behaviorlab.report import write_report

    _, runs = sweep_run
    files = write_report(bl.open_run("sw", out=runs), n_resamples=100)
    md = files.markdown.read_text(encoding="utf-8")
    section = md.split("## Sensitivity", 1)[1].split("\n## ", 1)[0]
    assert "2 model × 2 prompt × 3 seed = 12 cells" in section
    assert md.index("## Sensitivity") < md.index("## Manifest")  # the manifest stays last
