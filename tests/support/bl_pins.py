"""The result rows of ``behaviorlab demo <family> --backend mock``, in a canonical form.

Issue 11 moved every task family into its own folder and promised to change no result: these
rows (run id, trial id, simulator, condition, prompt hash, answer, correct, probabilities
rounded to 1e-9, error) were recorded before the move (``tests/cli/pinned/``) and every later
run of the demos must give them again. The mock backend answers with a hash of the prompt, so
this pins the prompts byte for byte as well.

Regenerate (only when a change of results is intended, and say so in the commit):
``.venv/bin/python tests/support/bl_pins.py [demo ...]``; to regenerate from an older commit,
check it out in a worktree and run this file with ``PYTHONPATH=<worktree>/src``.
"""

from __future__ import annotations

import gzip
import json
import math
import os
import sys
from pathlib import Path
from typing import Any

DEMOS = ("survey", "opera", "scenario", "choice", "game")
PINNED = Path(__file__).resolve().parents[1] / "cli" / "pinned"
COLUMNS = (
    "run_id",
    "trial_id",
    "simulator",
    "condition",
    "prompt_hash",
    "answer",
    "correct",
    "probabilities",
    "error",
)


ROUND_DEMOS = ("game",)
"""Demos whose trials are whole games: their ``prompt_hash`` and ``answer`` are null (the
prompts are asked round by round), so each row also pins every round's move and prediction
(``moves``). The mock answers with a hash of each round's prompt, so these pin the round
prompts (192 rounds x 2 questions of the game demo, recorded at the pre-move commit
8289816 as the other fields were)."""


def _moves(value: Any) -> list[list[Any]] | None:
    rounds = (value or {}).get("rounds") if isinstance(value, dict) else None
    if not isinstance(rounds, list):
        return None
    return [[r.get("move"), r.get("prediction")] for r in rounds]


def _canonical(value: Any) -> Any:
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 9)
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in sorted(value.items())}
    if value is None:
        return None
    return value


def demo_rows(which: str, workdir: Path) -> list[dict[str, Any]]:
    """Run one demo on the mock backend in ``workdir`` (``--out runs``, a relative path: the
    opera demo's spec names its data folder, so an absolute path would change its run id) and
    return its rows, sorted by trial id."""
    from typer.testing import CliRunner

    from behaviorlab.cli import app
    from behaviorlab.store import ResultStore

    workdir.mkdir(parents=True, exist_ok=True)
    here = Path.cwd()
    os.chdir(workdir)
    try:
        res = CliRunner().invoke(app, ["demo", which, "--backend", "mock", "--out", "runs"])
    finally:
        os.chdir(here)
    if res.exit_code != 0:
        raise AssertionError(f"demo {which} failed:\n{res.output}")
    rows: list[dict[str, Any]] = []
    for path in sorted((workdir / "runs").glob("*/results.sqlite")):
        store = ResultStore(path, readonly=True)
        try:
            frame = store.to_pandas()
        finally:
            store.close()
        for rec in frame.to_dict(orient="records"):
            row = {c: _canonical(rec.get(c)) for c in COLUMNS}
            if which in ROUND_DEMOS:
                row["moves"] = _moves(rec.get("answer_json"))
            rows.append(row)
    return sorted(rows, key=lambda r: str(r["trial_id"]))


def pinned_path(which: str) -> Path:
    return PINNED / f"demo-{which}.jsonl.gz"


def read_pinned(which: str) -> list[dict[str, Any]]:
    with gzip.open(pinned_path(which), "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def write_pinned(which: str, rows: list[dict[str, Any]]) -> None:
    PINNED.mkdir(parents=True, exist_ok=True)
    # mtime=0: the same rows give the same bytes
    with (
        open(pinned_path(which), "wb") as raw,
        gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz,
    ):
        for row in rows:
            gz.write((json.dumps(row, sort_keys=True) + "\n").encode())


if __name__ == "__main__":
    import tempfile

    for name in sys.argv[1:] or DEMOS:
        with tempfile.TemporaryDirectory() as tmp:
            os.environ["BEHAVIORLAB_CACHE_DIR"] = str(Path(tmp) / "cache")
            rows = demo_rows(name, Path(tmp) / "work")
        write_pinned(name, rows)
        print(f"{name}: {len(rows)} rows -> {pinned_path(name)}")
