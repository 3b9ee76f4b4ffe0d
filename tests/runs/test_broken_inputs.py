"""A broken results file (empty, cut, garbage header) stops `run`, `results` and `report` with
an error naming the file and what to do, never a traceback, and is never overwritten:
earlier results are not lost and paid calls are not made again. `run --restart` moves the
file aside (kept) and starts afresh."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from behaviorlab.cli import app

runner = CliRunner()

SPEC = {
    "name": "fragile",
    "data": {"source": "anes96", "target": "vote", "people": 20},
    "simulators": [{"name": "majority"}],
    "conditions": ["full"],
    "n_resamples": 100,
}


def _damage(path: Path, how: str) -> None:
    data = path.read_bytes()
    if how == "empty":
        path.write_bytes(b"")
    elif how == "cut":
        path.write_bytes(data[: len(data) // 2])
    else:
        path.write_bytes(b"GIF89a not a database".ljust(100, b"\0") + data[100:])


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bytes]:
    """A spec and the bytes of its complete results file."""
    root = tmp_path_factory.mktemp("broken")
    spec = root / "fragile.yaml"
    # enough trials that the file has pages past its first few (so a cut shows)
    spec.write_text(yaml.safe_dump({**SPEC, "data": {**SPEC["data"], "people": 400}}))
    res = runner.invoke(app, ["run", str(spec), "--out", str(root / "runs")])
    assert res.exit_code == 0, res.output
    return spec, (root / "runs" / "fragile" / "results.sqlite").read_bytes()


def _setup(tmp_path: Path, stored: tuple[Path, bytes], how: str) -> tuple[Path, Path, Path]:
    spec, data = stored
    out = tmp_path / "runs"
    db = out / "fragile" / "results.sqlite"
    db.parent.mkdir(parents=True)
    db.write_bytes(data)
    _damage(db, how)
    return spec, out, db


WHY = {"empty": "empty (0 bytes)", "cut": "cut short", "garbage": "not an SQLite file"}


@pytest.mark.parametrize("how", sorted(WHY))
def test_run_results_and_report_refuse_a_broken_file(
    tmp_path: Path, stored: tuple[Path, bytes], how: str
) -> None:
    spec, out, db = _setup(tmp_path, stored, how)
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    commands = {
        "run": ["run", str(spec), "--out", str(out)],
        "results": ["results", "fragile", "--out", str(out), "--format", "csv"],
        "report": ["report", "fragile", "--out", str(out), "--resamples", "100"],
    }
    for name, argv in commands.items():
        res = runner.invoke(app, argv)
        assert res.exit_code == 2, (name, res.output)
        assert res.exception is None or isinstance(res.exception, SystemExit), name
        text = " ".join(res.output.split())  # Rich wraps long lines
        assert "error:" in text and "not a usable behaviorlab store" in text, (name, text)
        assert WHY[how] in text and "results.sqlite" in text and "--restart" in text, name
        assert "already stored" not in text, name  # never taken as an empty run
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before  # never overwritten
    assert not (out / "fragile" / "report.html").exists()


def test_restart_moves_the_broken_file_aside_and_runs_afresh(
    tmp_path: Path, stored: tuple[Path, bytes]
) -> None:
    spec, out, db = _setup(tmp_path, stored, "empty")
    res = runner.invoke(app, ["run", str(spec), "--out", str(out), "--restart"])
    assert res.exit_code == 0, res.output
    text = " ".join(res.output.split())
    assert "moved" in text and "aside" in text and "0 already stored" in text
    aside = sorted(db.parent.glob("results.sqlite.*.aside"))
    assert len(aside) == 1 and aside[0].read_bytes() == b""  # kept as it was
    again = runner.invoke(app, ["run", str(spec), "--out", str(out)])
    assert again.exit_code == 0, again.output
    assert "0 trials answered now" in " ".join(again.output.split())


def test_restart_without_a_results_file_just_runs(tmp_path: Path) -> None:
    spec = tmp_path / "fragile.yaml"
    spec.write_text(yaml.safe_dump(SPEC))
    res = runner.invoke(app, ["run", str(spec), "--out", str(tmp_path / "runs"), "--restart"])
    assert res.exit_code == 0, res.output
    assert "no results file" in " ".join(res.output.split())
