"""How much memory and time does the gap of a million stored trials take? (issue 21 §4)

    .venv/bin/python bench/gap_scale.py --out /dev/shm/bl-gap-scale       # 1,000,000 trials
    .venv/bin/python bench/gap_scale.py --n 100000 --out /dev/shm/bl-gap-scale

Fills a results store directly (no run: rows written with ``executemany`` in one
transaction, a few seconds per million) with ``n`` mock survey trials in two arms, an LLM
(``llm:mock-1``) and the ``majority`` baseline with probabilities, over people who answered
1 to 19 questions (10 on average; ``n / 20`` people), about 1% invalid and 0.5% failed
trials; the rows look like the mock backend's (raw output, options, meta, timing). Then, in
two fresh processes each, it computes the gap two ways and reads each one's peak RSS
(``VmHWM``):

* **before**: what ``gap(run.to_pandas())`` does, and what it did for a stored run before
  this change: every column of every row into one frame, then the table from the frame's
  groups;
* **after**: ``gap(open_run(path))``: the table's accuracy, log-loss, Brier and macro-F1 from
  per-person sums read in chunks of 50,000 rows, the rest of the report (distances, items,
  position shares, tests) from a frame without raw output, prompt hash and timing, built
  chunk by chunk.

Both print the same table (checked here: every estimate and interval to 1e-12). A third
process measures the RSS of importing behaviorlab and opening the store, so the gap's own
share shows. The last line reads ``gap rows: <trials> peak RSS MB: <after> seconds:
<after>``; the ratios before / after are printed above it. It measures, it does not assert.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ARMS = (("llm:mock-1", "full"), ("majority", "full"))
QUESTIONS = 20


def fill(path: Path, n: int, seed: int = 0) -> int:
    """Write ``n`` mock survey trials (two arms) to a new store at ``path``; the people."""
    from behaviorlab.store import COLUMNS, ResultStore

    rng = random.Random(seed)
    with ResultStore(path) as store:  # creates the schema, records the run
        store.start_run("scale-0", "scale", {"name": "scale"})
    per_arm, sizes = n // len(ARMS), list[int]()
    while sum(sizes) < per_arm:
        sizes.append(rng.randint(1, QUESTIONS - 1))
    sizes[-1] -= sum(sizes) - per_arm
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA synchronous=OFF")
    insert = f"INSERT INTO trials ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
    start = datetime(2026, 1, 1)
    humans = [[str(rng.randint(1, 4)) for _ in range(QUESTIONS)] for _ in range(len(sizes))]
    db.execute("BEGIN")
    rows: list[tuple[Any, ...]] = []
    for a, (sim, cond) in enumerate(ARMS):
        for p, size in enumerate(sizes):
            pid = f"r{p:07d}"
            for q in range(size):
                rows.append(_trial(rng, a, sim, cond, pid, q, humans[p][q], start, COLUMNS))
                if len(rows) >= 50_000:
                    db.executemany(insert, rows)
                    rows.clear()
    db.executemany(insert, rows)
    db.execute("COMMIT")
    db.close()
    return len(sizes)


def _trial(
    rng: random.Random,
    arm: int,
    sim: str,
    cond: str,
    pid: str,
    q: int,
    human: str,
    t0: datetime,
    columns: tuple[str, ...],
) -> tuple[Any, ...]:
    """One trial row in :data:`behaviorlab.store.COLUMNS` order (JSON columns as text)."""
    options = ["1", "2", "3", "4"]
    rng.shuffle(options)
    roll = rng.random()
    answer: str | None = human if rng.random() < 0.4 else rng.choice(options)
    probs = None
    if sim == "majority":
        w = [rng.random() + (2.0 if c == answer else 0.0) for c in "1234"]
        probs = json.dumps({c: x / sum(w) for c, x in zip("1234", w, strict=True)})
    error = kind = None
    if roll < 0.01:
        error, kind, answer = "no option code in the output", "invalid", None
    elif roll < 0.015:
        error, kind, answer = "backend: connection reset", "backend", None
    letter = "ABCD"[options.index(answer)] if answer else "?"
    correct = None if error else float(answer == human)
    row = {
        "run_id": "scale-0",
        "trial_id": f"{arm}{pid}{q:02d}",
        "task": "survey",
        "simulator": sim,
        "condition": cond,
        "seed": 0,
        "person_id": pid,
        "item_id": f"q{q:02d}",
        "episode_id": f"scale:{pid}",
        "step_index": q,
        "prompt_hash": f"{rng.getrandbits(64):016x}",
        "raw_output": json.dumps({"answer": letter}),
        "answer": answer,
        "answer_json": None if answer is None else json.dumps({"answer": answer}),
        "probabilities": None if error else probs,
        "samples": None,
        "human_answer": human,
        "options": json.dumps(options),
        "answer_position": None if answer is None else options.index(answer),
        "correct": correct,
        "scores": json.dumps({} if correct is None else {"correct": correct}),
        "error": error,
        "error_kind": kind,
        "latency_s": rng.random() / 1000,
        "tokens_in": 69,
        "tokens_out": 2,
        "calls": 1,
        "cache_hits": 0,
        "cost": 0.0,
        "meta": json.dumps({"option_order_seed": f"{rng.getrandbits(64):016x}"}),
        "created_at": (t0 + timedelta(microseconds=rng.randrange(10**9))).isoformat(),
    }
    return tuple(row[c] for c in columns)


def _hwm_mb() -> float:
    """This process's peak resident set size (``VmHWM``), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return math.nan


def child(mode: str, path: Path, resamples: int, table: Path | None) -> None:
    """Compute the gap one way (``before``, ``after``) or only open (``base``); print JSON."""
    import behaviorlab as bl

    run = bl.open_run(path)
    started = time.perf_counter()
    rows = 0
    if mode == "report":  # the report's reading and gap, and its text
        from behaviorlab.report._collect import collect
        from behaviorlab.report._markdown import render_markdown
        from behaviorlab.report._report import build_document

        data = collect(run, n_resamples=resamples)
        render_markdown(build_document(data))
        rows = sum(r.n for r in data.report.rows)
    elif mode != "base":
        results = run.to_pandas() if mode == "before" else run
        report = bl.gap(results, n_resamples=resamples)
        rows = sum(r.n for r in report.rows)
        if table is not None:
            table.write_text(json.dumps([r.to_dict() for r in report.rows]))
    took = time.perf_counter() - started
    print(json.dumps({"mode": mode, "rows": rows, "seconds": took, "rss": _hwm_mb()}))


def _measure(mode: str, path: Path, resamples: int, table: Path | None = None) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child", mode, "--store", str(path)]
    cmd += ["--resamples", str(resamples)] + (["--table", str(table)] if table else [])
    done = subprocess.run(cmd, check=True, capture_output=True, text=True)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12)
    return bool(a == b)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="Trials (default 1,000,000).")
    parser.add_argument("--resamples", type=int, default=200, help="Bootstrap resamples.")
    parser.add_argument("--out", type=Path, default=None, help="Folder (default: a temp one).")
    parser.add_argument(
        "--after-only", action="store_true", help="Skip the whole-frame gap (its memory)."
    )
    parser.add_argument(
        "--child", choices=["base", "before", "after", "report"], help=argparse.SUPPRESS
    )
    parser.add_argument("--store", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--table", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.store, args.resamples, args.table)
        return
    with tempfile.TemporaryDirectory(prefix="bl-gap-scale-") as tmp:
        root = args.out or Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        path = root / f"results-{args.n}.sqlite"
        started = time.perf_counter()
        if not path.exists():
            people = fill(path.with_suffix(".part"), args.n)
            path.with_suffix(".part").rename(path)
            print(f"store: {args.n:,} trials of {people:,} people in 2 arms, ", end="")
        else:
            print(f"store: {args.n:,} trials (reused), ", end="")
        print(f"{path.stat().st_size / 1e6:.0f} MB, in {time.perf_counter() - started:.1f} s")
        base = _measure("base", path, args.resamples)
        print(f"import and open: peak RSS {base['rss']:.0f} MB")
        tables = root / "table-before.json", root / "table-after.json"
        after = _measure("after", path, args.resamples, tables[1])
        report = _measure("report", path, args.resamples)
        if args.after_only:
            for r in (after, report):
                print(
                    f"{r['mode']}: {r['rows']:,} rows in {r['seconds']:.1f} s, "
                    f"peak RSS {r['rss']:.0f} MB"
                )
            print(
                f"gap rows: {after['rows']} peak RSS MB: {after['rss']:.0f} "
                f"seconds: {after['seconds']:.1f} report peak RSS MB: {report['rss']:.0f} "
                f"seconds: {report['seconds']:.1f}"
            )
            return
        before = _measure("before", path, args.resamples, tables[0])
        for r in (before, after, report):
            print(
                f"{r['mode']}: gap of {r['rows']:,} rows in {r['seconds']:.1f} s, "
                f"peak RSS {r['rss']:.0f} MB ({r['rss'] - base['rss']:.0f} MB above opening)"
            )
        same = _same(*(json.loads(t.read_text()) for t in tables))
        print(f"same table (estimates and intervals to 1e-12): {same}")
        print(
            f"before / after: peak RSS {before['rss'] / after['rss']:.2f}x, above opening "
            f"{(before['rss'] - base['rss']) / max(after['rss'] - base['rss'], 1):.2f}x, "
            f"time {before['seconds'] / after['seconds']:.2f}x"
        )
        print(
            f"gap rows: {after['rows']} peak RSS MB: {after['rss']:.0f} "
            f"seconds: {after['seconds']:.1f} report peak RSS MB: {report['rss']:.0f} "
            f"seconds: {report['seconds']:.1f}"
        )


if __name__ == "__main__":
    main()
